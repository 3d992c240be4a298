#include "http1/detail/field_facts.hpp"

#include "upshift/base/ascii.hpp"
#include "upshift/base/token_list.hpp"
#include "upshift/http1/error.hpp"

namespace upshift::http1::detail {
namespace {

/// RFC 9110 §8.6: Content-Length = 1*DIGIT. A recipient may see a list of
/// identical values ("5, 5") from a repeated field: we accept identical values
/// and reject differing ones. Empty elements are not allowed here because the
/// grammar has no list at all.
std::error_code note_content_length(field_facts& f, std::string_view value) noexcept {
    std::size_t start = 0;
    for (;;) {
        auto const comma = value.find(',', start);
        auto const elem = ascii::trim_ows(value.substr(start, comma == std::string_view::npos ? value.npos : comma - start));
        if (elem.empty()) return error::bad_content_length;
        std::uint64_t n = 0;
        for (char c : elem) {
            if (!ascii::is_digit(c)) return error::bad_content_length;
            auto const d = static_cast<std::uint64_t>(c - '0');
            if (n > (UINT64_MAX - d) / 10) return error::bad_content_length;  // overflow
            n = n * 10 + d;
        }
        if (f.has_content_length && n != f.content_length) return error::multiple_content_length;
        f.has_content_length = true;
        f.content_length = n;
        if (comma == std::string_view::npos) return {};
        start = comma + 1;
    }
}

/// RFC 9112 §6.1: Transfer-Encoding = #transfer-coding. We only implement
/// chunked, so codings with parameters are reported as malformed.
std::error_code note_transfer_encoding(field_facts& f, std::string_view value) noexcept {
    f.has_transfer_encoding = true;
    std::error_code ec;
    for_each_list_element(value, [&](std::string_view coding) {
        if (!ascii::is_token(coding)) {
            ec = error::bad_transfer_encoding;
            return false;
        }
        ++f.te_codings;
        if (ascii::iequals(coding, "chunked")) {
            ++f.te_chunked;
            f.te_last_chunked = true;
        } else {
            f.te_other = true;
            f.te_last_chunked = false;
        }
        return true;
    });
    return ec;
}

void note_connection(field_facts& f, std::string_view value) noexcept {
    // RFC 9110 §7.6.1: Connection = #connection-option, case-insensitive.
    for_each_list_element(value, [&](std::string_view opt) {
        if (ascii::iequals(opt, "close")) f.connection_close = true;
        else if (ascii::iequals(opt, "keep-alive")) f.connection_keep_alive = true;
        else if (ascii::iequals(opt, "upgrade")) f.connection_upgrade = true;
    });
}

void note_expect(field_facts& f, std::string_view value) noexcept {
    // RFC 9110 §10.1.1: the only expectation defined is "100-continue" (case-insensitive).
    for_each_list_element(value, [&](std::string_view e) {
        if (ascii::iequals(e, "100-continue")) f.expect_continue = true;
        else f.expect_unknown = true;
    });
}

constexpr bool is_hex(char c) noexcept {
    return ascii::is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// RFC 3986 §2.3 unreserved / §2.2 sub-delims.
constexpr bool is_reg_name_char(char c) noexcept {
    if (ascii::is_alpha(c) || ascii::is_digit(c)) return true;
    switch (c) {
    case '-': case '.': case '_': case '~':
    case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+': case ',': case ';': case '=':
        return true;
    default:
        return false;
    }
}

bool is_port(std::string_view s) noexcept {
    for (char c : s)
        if (!ascii::is_digit(c)) return false;
    return true;
}

} // namespace

bool is_valid_host(std::string_view host) noexcept {
    std::string_view port;
    if (!host.empty() && host.front() == '[') {
        // IP-literal (RFC 3986 §3.2.2): IPv6address or IPvFuture inside brackets.
        auto const close = host.find(']');
        if (close == std::string_view::npos || close == 1) return false;
        for (char c : host.substr(1, close - 1))
            if (!is_hex(c) && c != ':' && c != '.' && !is_reg_name_char(c)) return false;
        auto const rest = host.substr(close + 1);
        if (rest.empty()) return true;
        if (rest.front() != ':') return false;
        return is_port(rest.substr(1));
    }
    auto const colon = host.find(':');
    auto const name = host.substr(0, colon);
    if (colon != std::string_view::npos) port = host.substr(colon + 1);
    for (std::size_t i = 0; i < name.size(); ++i) {
        char const c = name[i];
        if (c == '%') {  // pct-encoded
            if (i + 2 >= name.size()) return false;
            if (!is_hex(name[i + 1]) || !is_hex(name[i + 2])) return false;
            i += 2;
            continue;
        }
        if (!is_reg_name_char(c)) return false;
    }
    return is_port(port);
}

std::error_code note_field(field_facts& f, std::string_view name, std::string_view value,
                           std::size_t value_off, role r) noexcept {
    // Dispatch on length first: most field lines match none of these names.
    switch (name.size()) {
    case 4:
        if (r == role::request && ascii::iequals(name, "host")) {
            // RFC 9112 §3.2: more than one Host line, or an invalid value: 400.
            if (++f.host_count > 1) return error::multiple_host;
            if (!is_valid_host(value)) return error::bad_host;
            f.host_off = value_off;
            f.host_len = value.size();
        }
        break;
    case 6:
        if (r == role::request && ascii::iequals(name, "expect")) note_expect(f, value);
        break;
    case 7:
        if (ascii::iequals(name, "upgrade")) f.has_upgrade = true;
        else if (ascii::iequals(name, "trailer")) f.has_trailer = true;
        break;
    case 10:
        if (ascii::iequals(name, "connection")) note_connection(f, value);
        break;
    case 14:
        if (ascii::iequals(name, "content-length")) return note_content_length(f, value);
        break;
    case 17:
        if (ascii::iequals(name, "transfer-encoding")) return note_transfer_encoding(f, value);
        break;
    default:
        break;
    }
    return {};
}

std::error_code check_transfer_encoding(field_facts const& f, int major, int minor, role r) noexcept {
    if (!f.has_transfer_encoding) return {};
    // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
    if (major == 1 && minor == 0) return error::transfer_encoding_in_http10;
    // RFC 9112 §6.3 item 3: both present is the request-smuggling shape; we
    // always reject (the server MAY; a client/proxy must not forward it anyway).
    if (f.has_content_length) return error::content_length_with_transfer_encoding;
    if (f.te_codings == 0) return error::bad_transfer_encoding;
    if (r == role::request) {
        // RFC 9112 §6.3 item 4: in a request, chunked not final -> MUST 400.
        if (!f.te_last_chunked) return error::bad_transfer_encoding;
    }
    // RFC 9112 §6.1: we understand only chunked (501 for a request), and only once.
    if (f.te_other || f.te_chunked != 1) return error::unsupported_transfer_encoding;
    return {};
}

} // namespace upshift::http1::detail
