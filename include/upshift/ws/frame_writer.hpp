#pragma once
// Frame headers a server sends (RFC 6455 §5.2). Server frames are never
// masked (§5.1: "A server MUST NOT mask any frames that it sends to the
// client"), so a header is 2, 4 or 10 bytes and the payload follows as is:
// the session writes header().view() and the payload in one gathered write.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "upshift/ws/frame.hpp"

namespace upshift::ws {

/// Largest header of an unmasked frame: 2 bytes + a 64-bit length.
inline constexpr std::size_t max_server_header_size = 10;

/// Per-frame bits besides the opcode.
struct frame_flags {
    bool fin = true;    ///< last fragment of the message (§5.4); always true for control frames
    bool rsv1 = false;  ///< "Per-Message Compressed" on a message's first frame (RFC 7692 §6)
};

/// A serialized header, held inline (no allocation).
struct header_bytes {
    std::array<char, max_server_header_size> bytes{};
    std::size_t size = 0;  ///< 0 when the header was refused (see server_frame_header)
    std::string_view view() const noexcept { return {bytes.data(), size}; }
};

/// Size of an unmasked header for `payload_length`: 2 (up to 125), 4 (up to
/// 65535) or 10 bytes, the minimal encoding §5.2 requires.
constexpr std::size_t header_size(std::uint64_t payload_length) noexcept {
    return payload_length <= 125 ? 2 : payload_length <= 0xFFFF ? 4 : 10;
}

/// Serializes an unmasked header for a frame of `payload_length` bytes.
/// @return size 0 (nothing to send) for what no endpoint may send: a reserved
/// opcode (§5.2), a control frame that is fragmented or longer than 125 bytes
/// (§5.5), RSV1 on a control or continuation frame (RFC 7692 §6), or a length
/// with the most significant bit set (§5.2).
header_bytes server_frame_header(opcode op, std::uint64_t payload_length, frame_flags flags = {}) noexcept;

} // namespace upshift::ws
