// Unmasked frame headers (RFC 6455 §5.2).
#include "upshift/ws/frame_writer.hpp"

namespace upshift::ws {

header_bytes server_frame_header(opcode op, std::uint64_t payload_length, frame_flags flags) noexcept {
    header_bytes out;
    bool const control = is_control(op);
    if (!is_defined(op)) return out;
    if (control && (!flags.fin || payload_length > max_control_payload)) return out;
    if (flags.rsv1 && (control || op == opcode::continuation)) return out;
    if ((payload_length >> 63) != 0) return out;

    auto byte = [&](std::size_t i, std::uint64_t v) { out.bytes[i] = static_cast<char>(v & 0xFF); };
    byte(0, (flags.fin ? 0x80u : 0u) | (flags.rsv1 ? 0x40u : 0u) | static_cast<std::uint8_t>(op));
    if (payload_length <= 125) {
        byte(1, payload_length);
        out.size = 2;
    } else if (payload_length <= 0xFFFF) {
        byte(1, 126);
        byte(2, payload_length >> 8);
        byte(3, payload_length);
        out.size = 4;
    } else {
        byte(1, 127);
        for (std::size_t i = 0; i < 8; ++i) byte(2 + i, payload_length >> (8 * (7 - i)));
        out.size = 10;
    }
    return out;
}

} // namespace upshift::ws
