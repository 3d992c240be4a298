#pragma once
// WebSocket base framing (RFC 6455 §5.2):
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-------+-+-------------+-------------------------------+
//  |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//  |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//  |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//  | |1|2|3|       |K|             |                               |
//  +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//  |  Extended payload length continued, if payload len == 127    |
//  + - - - - - - - - - - - - - - - +-------------------------------+
//  |                               | Masking-key, if MASK set to 1 |
//  +-------------------------------+-------------------------------+
//  | Masking-key (continued)       |          Payload Data         |
//  +-------------------------------- - - - - - - - - - - - - - - - +
#include <array>
#include <cstddef>
#include <cstdint>

namespace upshift::ws {

/// Frame opcodes (RFC 6455 §5.2, §11.8). 0x3-0x7 and 0xB-0xF are reserved.
enum class opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

/// Control frames have the most significant opcode bit set (§5.5).
constexpr bool is_control(opcode op) noexcept { return (static_cast<std::uint8_t>(op) & 0x8) != 0; }

/// True for the opcodes RFC 6455 defines; any other 4-bit value is reserved (§5.2).
constexpr bool is_defined(opcode op) noexcept {
    switch (op) {
    case opcode::continuation: case opcode::text: case opcode::binary:
    case opcode::close: case opcode::ping: case opcode::pong:
        return true;
    }
    return false;
}

/// A masking key (§5.3), in wire order: payload byte i is XORed with key[i % 4].
using masking_key = std::array<std::uint8_t, 4>;

/// One frame's header, as received or as to be sent.
struct frame_header {
    bool fin = true;              ///< final fragment of a message (§5.4)
    bool rsv1 = false;            ///< "Per-Message Compressed" with permessage-deflate (RFC 7692 §6)
    bool rsv2 = false;            ///< reserved, no extension defines it here
    bool rsv3 = false;            ///< reserved, no extension defines it here
    opcode op = opcode::text;     ///< what the payload is
    bool masked = false;          ///< MASK bit: client-to-server frames are always masked (§5.3)
    masking_key mask{};           ///< valid when masked
    std::uint64_t length = 0;     ///< payload length in bytes (63 bits at most, §5.2)
};

/// Largest control frame payload (§5.5): "All control frames MUST have a payload length of 125 bytes or less".
inline constexpr std::size_t max_control_payload = 125;
/// Largest frame header: 2 + 8 (64-bit length) + 4 (masking key).
inline constexpr std::size_t max_header_size = 14;

} // namespace upshift::ws
