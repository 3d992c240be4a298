#pragma once
// The body of a Close frame (RFC 6455 §5.5.1): empty, or a 2-byte status code
// in network byte order followed by a UTF-8 reason, 125 bytes in all.
#include <array>
#include <cstddef>
#include <string_view>
#include <system_error>

#include "upshift/ws/close_code.hpp"
#include "upshift/ws/frame.hpp"

namespace upshift::ws {

/// A received Close frame's body, checked.
struct close_info {
    /// The status code; no_status (1005) when the body is empty (§7.1.5).
    close_code code = close_code::no_status;
    /// The reason, a view into the payload; "" when absent.
    std::string_view reason;
    /// Empty, or error::close_payload_too_short (1 byte), error::invalid_close_code
    /// (not valid on the wire, §7.4), error::invalid_close_reason (not UTF-8, §5.5.1).
    std::error_code ec;
};

/// Checks an (unmasked) Close payload of at most 125 bytes.
close_info parse_close_payload(std::string_view payload) noexcept;

/// A Close body to send, held inline (no allocation).
struct close_payload {
    std::array<char, max_control_payload> bytes{};
    std::size_t size = 0;
    std::string_view view() const noexcept { return {bytes.data(), size}; }
};

/// Builds a Close body: the code, then `reason` cut to the 123 bytes that fit
/// (§5.5: 125 bytes for the whole body), at a UTF-8 code point boundary so the
/// peer never sees a split character.
/// @note Empty when `code` is not valid on the wire (is_valid_close_code_on_wire);
/// that is how to send a Close without a status (close_code::no_status), which
/// §5.5.1 allows. The reason is dropped if it is not valid UTF-8 (§5.5.1: the
/// peer would fail the connection with 1007).
close_payload make_close_payload(close_code code, std::string_view reason = {}) noexcept;

} // namespace upshift::ws
