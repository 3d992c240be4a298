#pragma once
// Client-to-server frames for parser tests: masked, minimal length encoding
// unless told otherwise, built byte by byte from RFC 6455 §5.2.
#include <cstdint>
#include <string>
#include <string_view>

#include "upshift/ws/frame.hpp"

namespace upshift::ws::test {

inline constexpr masking_key rfc_key{0x37, 0xfa, 0x21, 0x3d};  // the key of RFC 6455 §5.7's examples

struct frame_spec {
    bool fin = true;
    std::uint8_t rsv = 0;          ///< bits 0x40 (RSV1), 0x20 (RSV2), 0x10 (RSV3)
    bool masked = true;
    masking_key key = rfc_key;
    int length_bytes = -1;         ///< -1: minimal; 0, 2 or 8: force the 7-bit, 16-bit or 64-bit form
};

/// One frame with opcode bits `op` (any 4-bit value) and `payload` (masked with spec.key).
inline std::string raw_frame(std::uint8_t op, std::string_view payload, frame_spec spec = {}) {
    std::string out;
    out += static_cast<char>((spec.fin ? 0x80 : 0) | spec.rsv | (op & 0x0F));
    std::uint64_t const n = payload.size();
    int form = spec.length_bytes;
    if (form < 0) form = n <= 125 ? 0 : n <= 0xFFFF ? 2 : 8;
    char const mask_bit = static_cast<char>(spec.masked ? 0x80 : 0);
    if (form == 0) {
        out += static_cast<char>(mask_bit | static_cast<char>(n));
    } else {
        out += static_cast<char>(mask_bit | (form == 2 ? 126 : 127));
        for (int i = form - 1; i >= 0; --i) out += static_cast<char>((n >> (8 * i)) & 0xFF);
    }
    if (spec.masked)
        for (auto k : spec.key) out += static_cast<char>(k);
    for (std::size_t i = 0; i < payload.size(); ++i)
        out += spec.masked ? static_cast<char>(payload[i] ^ static_cast<char>(spec.key[i % 4])) : payload[i];
    return out;
}

inline std::string frame(opcode op, std::string_view payload, frame_spec spec = {}) {
    return raw_frame(static_cast<std::uint8_t>(op), payload, spec);
}

/// Raw bytes from a list of values, for hand-written headers.
inline std::string bytes(std::initializer_list<int> b) {
    std::string out;
    for (int x : b) out += static_cast<char>(x);
    return out;
}

} // namespace upshift::ws::test
