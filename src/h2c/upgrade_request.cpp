#include "upshift/h2c/upgrade_request.hpp"

#include <array>
#include <cstdint>

#include "upshift/base/ascii.hpp"
#include "upshift/base/token_list.hpp"

namespace upshift::h2c {
namespace {

// base64url alphabet (RFC 4648 §5): value of each character, or -1.
constexpr std::array<std::int8_t, 256> make_decode_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) v = -1;
    constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (std::size_t i = 0; i < alphabet.size(); ++i)
        t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return t;
}
constexpr auto decode_table = make_decode_table();

std::uint32_t read_u32(std::string_view p) noexcept {
    auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(p[i])); };
    return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

// RFC 9113 §6.5 / §6.5.2: a SETTINGS payload is whole 6-octet entries, and the
// values below have bounds whose violation is a connection error. Checked here
// so a bad HTTP2-Settings is refused before the 101, not after it.
bool valid_settings_payload(std::string_view p) noexcept {
    if (p.size() % 6 != 0) return false;
    for (std::size_t i = 0; i < p.size(); i += 6) {
        auto const id = static_cast<unsigned>((static_cast<unsigned char>(p[i]) << 8) |
                                              static_cast<unsigned char>(p[i + 1]));
        auto const value = read_u32(p.substr(i + 2, 4));
        switch (id) {
            case 0x2: // SETTINGS_ENABLE_PUSH
            case 0x8: // SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441)
                if (value > 1) return false;
                break;
            case 0x4: // SETTINGS_INITIAL_WINDOW_SIZE
                if (value > 0x7fffffffu) return false;
                break;
            case 0x5: // SETTINGS_MAX_FRAME_SIZE
                if (value < 16384 || value > 16777215) return false;
                break;
            default: // unknown settings MUST be ignored (RFC 9113 §6.5.2)
                break;
        }
    }
    return true;
}

} // namespace

preface_match match_preface(std::string_view bytes) noexcept {
    if (bytes.size() >= client_preface.size())
        return bytes.substr(0, client_preface.size()) == client_preface ? preface_match::full
                                                                        : preface_match::no;
    return client_preface.substr(0, bytes.size()) == bytes ? preface_match::partial : preface_match::no;
}

std::optional<std::string> decode_base64url(std::string_view text) {
    while (!text.empty() && text.back() == '=') text.remove_suffix(1);
    // A single character left over cannot encode a whole octet.
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        auto const v = decode_table[static_cast<unsigned char>(c)];
        if (v < 0) return std::nullopt;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xffu));
        }
    }
    // Leftover bits must be zero (canonical encoding, RFC 4648 §3.5).
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
    return out;
}

upgrade::offer const* find_h2c_offer(std::span<upgrade::offer const> offers) noexcept {
    for (auto const& o : offers)
        if (o.is("h2c", "")) return &o;
    return nullptr;
}

std::optional<std::string> upgrade_settings(http1::request_head const& req) {
    // RFC 7540 §3.2.1: "A server MUST NOT upgrade the connection to HTTP/2 if
    // this header field is not present or if more than one is present."
    std::string_view value;
    int count = 0;
    req.for_each("HTTP2-Settings", [&](std::string_view v) {
        ++count;
        value = v;
    });
    if (count != 1) return std::nullopt;
    // RFC 7540 §3.2.1: the client MUST also send HTTP2-Settings as a connection
    // option; without it the field may have been forwarded by an intermediary.
    bool listed = false;
    req.for_each("Connection", [&](std::string_view v) {
        if (list_contains_token(v, "HTTP2-Settings")) listed = true;
    });
    if (!listed) return std::nullopt;
    auto payload = decode_base64url(value);
    if (!payload || !valid_settings_payload(*payload)) return std::nullopt;
    return payload;
}

} // namespace upshift::h2c
