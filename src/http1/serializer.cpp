// Message-head and chunk framing writers. Everything that could let user data
// change the framing (CR, LF, NUL, a name that is not a token) is refused.
#include "upshift/http1/serializer.hpp"

#include <charconv>

#include "upshift/base/ascii.hpp"

namespace upshift::http1 {
namespace {

void append_decimal(byte_buffer& out, std::uint64_t n) {
    char buf[24];
    auto const r = std::to_chars(buf, buf + sizeof buf, n);
    out.append({buf, static_cast<std::size_t>(r.ptr - buf)});
}

void append_hex(byte_buffer& out, std::uint64_t n) {
    char buf[24];
    auto const r = std::to_chars(buf, buf + sizeof buf, n, 16);
    out.append({buf, static_cast<std::size_t>(r.ptr - buf)});
}

/// reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ) (RFC 9112 §4)
bool is_safe_reason(std::string_view s) noexcept {
    for (char c : s) {
        auto const u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7F) return false;
    }
    return true;
}

} // namespace

bool is_safe_field(std::string_view name, std::string_view value) noexcept {
    if (!ascii::is_token(name)) return false;
    for (char c : value)
        if (c == '\r' || c == '\n' || c == '\0') return false;
    return true;
}

void write_status_line(byte_buffer& out, unsigned code, std::string_view reason) {
    // A status code is 3 digits (RFC 9110 §15); anything else cannot be framed.
    if (code < 100 || code > 999) code = 500;
    // An empty or unsafe reason falls back to the registry phrase: the reason
    // is informational only, and a caller-supplied CR/LF must not split the head.
    if (reason.empty() || !is_safe_reason(reason)) reason = reason_phrase(code);
    out.append("HTTP/1.1 ");
    append_decimal(out, code);
    out.append(" ");
    out.append(reason);
    out.append("\r\n");
}

bool write_request_line(byte_buffer& out, std::string_view method, std::string_view target) {
    // RFC 9112 §3: method is a token; the target has no whitespace, CTL or non-ASCII.
    if (!ascii::is_token(method) || target.empty()) return false;
    for (char c : target) {
        auto const u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7F) return false;
    }
    out.append(method);
    out.append(" ");
    out.append(target);
    out.append(" HTTP/1.1\r\n");
    return true;
}

bool write_field(byte_buffer& out, std::string_view name, std::string_view value) {
    if (!is_safe_field(name, value)) return false;
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
    return true;
}

bool write_fields(byte_buffer& out, fields const& f) {
    bool all = true;
    for (auto const& [name, value] : f) all = write_field(out, name, value) && all;
    return all;
}

void write_content_length(byte_buffer& out, std::uint64_t n) {
    out.append("Content-Length: ");
    append_decimal(out, n);
    out.append("\r\n");
}

void write_chunk(byte_buffer& out, std::string_view data) {
    if (data.empty()) return;  // a zero-size chunk would end the body
    write_chunk_header(out, data.size());
    out.append(data);
    out.append("\r\n");
}

void write_chunk_header(byte_buffer& out, std::size_t size) {
    append_hex(out, size);
    out.append("\r\n");
}

void write_last_chunk(byte_buffer& out, fields const& trailers) {
    out.append("0\r\n");
    write_fields(out, trailers);
    out.append("\r\n");
}

} // namespace upshift::http1
