// Close frame bodies (RFC 6455 §5.5.1, §7.4).
#include "upshift/ws/close_payload.hpp"

#include <cstring>

#include "upshift/ws/error.hpp"
#include "upshift/ws/utf8.hpp"

namespace upshift::ws {

close_info parse_close_payload(std::string_view payload) noexcept {
    close_info out;
    if (payload.empty()) return out;  // §7.1.5: no status code -> 1005 for the application
    if (payload.size() == 1) {
        // §5.5.1: "If there is a body, the first two bytes of the body MUST be a 2-byte unsigned integer".
        out.ec = error::close_payload_too_short;
        return out;
    }
    auto const code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                                 static_cast<unsigned char>(payload[1]));
    out.code = static_cast<close_code>(code);
    out.reason = payload.substr(2);
    if (!is_valid_close_code_on_wire(code)) {
        out.ec = error::invalid_close_code;  // §7.4.1, §7.4.2
        return out;
    }
    // §5.5.1: the reason's "interpretation ... is not defined by this specification. This data ... MUST be UTF-8".
    if (!is_valid_utf8(out.reason)) out.ec = error::invalid_close_reason;
    return out;
}

close_payload make_close_payload(close_code code, std::string_view reason) noexcept {
    close_payload out;
    if (!is_valid_close_code_on_wire(code)) return out;
    auto const c = static_cast<std::uint16_t>(code);
    out.bytes[0] = static_cast<char>(c >> 8);
    out.bytes[1] = static_cast<char>(c & 0xFF);
    out.size = 2;
    if (!is_valid_utf8(reason)) return out;
    constexpr std::size_t room = max_control_payload - 2;
    if (reason.size() > room) {
        // Cut before the first byte that does not fit; if that byte continues a
        // code point (10xxxxxx), back up to the code point's lead byte.
        std::size_t cut = room;
        while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80) --cut;
        reason = reason.substr(0, cut);
    }
    if (!reason.empty()) std::memcpy(out.bytes.data() + 2, reason.data(), reason.size());
    out.size += reason.size();
    return out;
}

} // namespace upshift::ws
