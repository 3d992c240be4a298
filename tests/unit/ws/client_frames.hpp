#pragma once
// Client-to-server frames for the parser and session tests, with upshift's own opcode type: thin
// adapters over the one masked-frame builder, client_frame() in tests/support/ws_test_client.hpp
// (masked, minimal length encoding unless told otherwise, built byte by byte from RFC 6455 §5.2).
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "support/ws_test_client.hpp"
#include "upshift/ws/frame.hpp"

namespace upshift::ws::test {

inline constexpr masking_key rfc_key = upshift::test::rfc_mask_key;  // the key of RFC 6455 §5.7's examples

/// fin, rsv (RSV1..3 as bits 2..0), masked, key, length_bytes (-1: minimal; 0, 2 or 8: forced form).
using frame_spec = upshift::test::frame_spec;

/// One frame with opcode bits `op` (any 4-bit value) and `payload` (masked with spec.key).
inline std::string raw_frame(std::uint8_t op, std::string_view payload, frame_spec const& spec = {}) {
    return upshift::test::client_frame(op, payload, spec);
}

inline std::string frame(opcode op, std::string_view payload, frame_spec const& spec = {}) {
    return raw_frame(static_cast<std::uint8_t>(op), payload, spec);
}

/// Raw bytes from a list of values, for hand-written headers.
inline std::string bytes(std::initializer_list<int> b) {
    std::string out;
    for (int x : b) out += static_cast<char>(x);
    return out;
}

} // namespace upshift::ws::test
