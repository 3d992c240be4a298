#include "url_path.hpp"

#include <algorithm>

#include "upshift/base/ascii.hpp"

namespace upshift::app {
namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// pchar minus pct-encoded (RFC 3986 §3.3): what may appear in a segment unescaped.
bool is_pchar(char c) noexcept {
    if (ascii::is_alpha(c) || ascii::is_digit(c)) return true;
    switch (c) {
    case '-': case '.': case '_': case '~':                      // unreserved
    case '!': case '$': case '&': case '\'': case '(': case ')':  // sub-delims
    case '*': case '+': case ',': case ';': case '=':
    case ':': case '@':
        return true;
    default:
        return false;
    }
}

path_error decode_segment(std::string_view raw, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        if (c == '%') {
            if (i + 2 >= raw.size()) return path_error::bad_encoding;
            int const hi = hex_value(raw[i + 1]);
            int const lo = hex_value(raw[i + 2]);
            if (hi < 0 || lo < 0) return path_error::bad_encoding;
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        }
        out += c;
    }
    return path_error::none;
}

} // namespace

std::string_view target_path(std::string_view target) noexcept {
    if (!target.starts_with('/')) {
        // absolute-form: scheme "://" authority path-abempty [ "?" query ]
        auto const scheme_end = target.find("://");
        if (scheme_end == std::string_view::npos) return target;
        auto const path_start = target.find_first_of("/?", scheme_end + 3);
        if (path_start == std::string_view::npos || target[path_start] == '?') return "/";
        target.remove_prefix(path_start);
    }
    return target.substr(0, target.find('?'));
}

path_error decode_path(std::string_view raw, decoded_path& out) {
    out = {};
    if (!raw.starts_with('/')) return path_error::forbidden;
    out.trailing_slash = raw.ends_with('/');
    out.relative.reserve(raw.size());
    std::string decoded; // only for segments with a '%': most have none and are checked in place
    std::size_t pos = 1;
    while (pos <= raw.size()) {
        auto const end = std::min(raw.find('/', pos), raw.size());
        std::string_view segment = raw.substr(pos, end - pos);
        pos = end + 1;
        if (segment.find('%') != std::string_view::npos) {
            auto const err = decode_segment(segment, decoded);
            if (err != path_error::none) return err;
            segment = decoded;
        }
        if (segment.empty() || segment == ".") continue;
        if (segment == "..") return path_error::forbidden;
        if (segment.find('/') != std::string_view::npos || segment.find('\0') != std::string_view::npos)
            return path_error::forbidden;
        if (segment.front() == '.' && segment != ".well-known") return path_error::forbidden;
        if (!out.relative.empty()) out.relative += '/';
        out.relative += segment;
    }
    return path_error::none;
}

std::string encode_path(std::string_view relative) {
    constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(relative.size());
    for (char c : relative) {
        if (c == '/' || is_pchar(c)) {
            out += c;
        } else {
            auto const b = static_cast<unsigned char>(c);
            out += '%';
            out += digits[b >> 4];
            out += digits[b & 0x0f];
        }
    }
    return out;
}

} // namespace upshift::app
