// Strict request-head parser (RFC 9112 §2-§6). The request line is scanned by a
// small state machine that, like the field-section scanner, can stop at any
// byte and resume there, so each byte is examined exactly once however the
// input arrives.
#include "upshift/http1/request_parser.hpp"

#include <algorithm>

#include "http1/detail/char_class.hpp"
#include "http1/detail/field_facts.hpp"
#include "http1/detail/field_section.hpp"
#include "http1/detail/start_line.hpp"

namespace upshift::http1 {
namespace {

constexpr bool is_scheme_char(char c) noexcept {
    return ascii::is_alpha(c) || ascii::is_digit(c) || c == '+' || c == '-' || c == '.';
}

/// RFC 9112 §3.2: which request-target forms each method may use.
std::error_code check_target(method m, std::string_view t) noexcept {
    if (m == method::connect) {
        // §3.2.3: CONNECT uses authority-form only: uri-host ":" port.
        auto const colon = t.rfind(':');
        if (t.front() == '[' ? t.find("]:") == std::string_view::npos : colon == std::string_view::npos)
            return error::bad_target;
        if (colon == 0 || colon + 1 == t.size()) return error::bad_target;
        return detail::is_valid_host(t) ? std::error_code{} : make_error_code(error::bad_target);
    }
    if (t.front() == '/') return {};  // §3.2.1 origin-form
    if (t == "*")                     // §3.2.4 asterisk-form: OPTIONS only
        return m == method::options ? std::error_code{} : make_error_code(error::bad_target);
    // §3.2.2 absolute-form: scheme "://" authority ... (RFC 3986 §3). We require
    // the authority part: the http and https schemes have it (RFC 9110 §4.2),
    // and without it "host:80" would read as scheme "host".
    if (!ascii::is_alpha(t.front())) return error::bad_target;
    std::size_t i = 1;
    while (i < t.size() && is_scheme_char(t[i])) ++i;
    if (t.substr(i, 3) != "://") return error::bad_target;
    return {};
}

} // namespace

request_parser::request_parser(limits const& l) : limits_(l) {}

void request_parser::reset() noexcept {
    head_ = request_head{};
    fields_.clear();
    raw_.clear();
    cursor_ = {};
    facts_ = {};
    error_ = {};
    scanned_ = line_start_ = method_end_ = target_start_ = target_end_ = version_start_ = 0;
    phase_ = phase::skip_empty;
}

parse_result request_parser::fail(std::error_code ec) noexcept {
    if (ec != error::need_more) {
        error_ = ec;
        phase_ = phase::failed;
    }
    return {0, ec};
}

// How far the current phase may look: the first of the limits that apply to it
// (method length -> 501, request line -> 414, whole head -> 431). Bytes past
// it are never examined; if the input has any, the phase fails with `err`.
// This makes the verdict independent of how the input was split.
std::size_t request_parser::window(std::size_t n, error& err) const noexcept {
    std::size_t end = limits_.max_header_bytes;
    err = error::header_too_large;
    // The CRLF is not part of the request line's length.
    bool const in_line = phase_ == phase::method || phase_ == phase::target || phase_ == phase::version;
    if (in_line && line_start_ + limits_.max_request_line < end) {
        end = line_start_ + limits_.max_request_line;
        err = error::uri_too_long;
    }
    // The SP after a method of exactly max_method_length bytes is still fine.
    if (phase_ == phase::method && line_start_ + max_method_length + 1 <= end) {
        end = line_start_ + max_method_length + 1;
        err = error::method_too_long;
    }
    return n < end ? n : end;
}

parse_result request_parser::parse(std::string_view input) {
    if (phase_ == phase::failed) return {0, error_};
    if (phase_ == phase::done) return {scanned_, {}};

    char const* const b = input.data();
    std::size_t p = scanned_;
    error over = error::header_too_large;
    std::size_t n = window(input.size(), over);  // recomputed when the phase changes

    auto const need_more = [&]() -> parse_result {
        if (input.size() > n) return fail(over);
        scanned_ = p;
        return {0, error::need_more};
    };

    for (;;) {
        switch (phase_) {
        case phase::skip_empty:
            // RFC 9112 §2.2: ignore empty lines (CRLF) before the request-line.
            if (p == n) return need_more();
            if (b[p] == '\r') {
                ++p;
                phase_ = phase::skip_lf;
                break;
            }
            if (b[p] == '\n') return fail(error::bare_lf);
            line_start_ = p;
            phase_ = phase::method;
            n = window(input.size(), over);
            break;
        case phase::skip_lf:
            if (p == n) return need_more();
            if (b[p] != '\n') return fail(error::bare_cr);
            ++p;
            phase_ = phase::skip_empty;
            break;
        case phase::method: {
            // RFC 9112 §3: method SP request-target SP HTTP-version, exactly one SP each.
            p = static_cast<std::size_t>(detail::scan_token(b + p, b + n) - b);
            // max_method_length + 1 token bytes: too long, whatever follows.
            if (p - line_start_ > max_method_length) return fail(error::method_too_long);
            if (p == n) return need_more();
            char const c = b[p];
            if (c != ' ' || p == line_start_) {
                bool const structural = c == ' ' || c == '\t' || c == '\r' || c == '\n';
                return fail(structural ? error::bad_request_line : error::bad_method);  // RFC 9110 §9.1
            }
            method_end_ = p++;
            target_start_ = p;
            phase_ = phase::target;
            n = window(input.size(), over);
            [[fallthrough]];
        }
        case phase::target: {
            p = static_cast<std::size_t>(detail::scan_target(b + p, b + n) - b);
            if (p == n) return need_more();
            char const c = b[p];
            if (c != ' ' || p == target_start_) {
                // RFC 9112 §3.2: no whitespace, CTL or non-ASCII in the target;
                // a second SP, or CR/LF here (HTTP/0.9 shape), breaks the line.
                bool const structural = c == ' ' || c == '\t' || c == '\r' || c == '\n';
                return fail(structural ? error::bad_request_line : error::bad_target);
            }
            target_end_ = p++;
            version_start_ = p;
            phase_ = phase::version;
            [[fallthrough]];
        }
        case phase::version:
            // RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT.
            while (p - version_start_ < detail::version_length) {
                if (p == n) return need_more();
                if (!detail::version_byte_ok(p - version_start_, b[p]))
                    return fail(p == version_start_ && (b[p] == ' ' || b[p] == '\t') ? error::bad_request_line
                                                                                      : error::bad_version);
                ++p;
            }
            phase_ = phase::line_cr;
            n = window(input.size(), over);
            [[fallthrough]];
        case phase::line_cr: {
            if (p == n) return need_more();
            char const c = b[p];
            if (c == '\n') return fail(error::bare_lf);
            if (c == ' ' || c == '\t') return fail(error::bad_request_line);  // trailing whitespace
            if (c != '\r') return fail(error::bad_version);                    // e.g. HTTP/1.10
            ++p;
            phase_ = phase::line_lf;
            [[fallthrough]];
        }
        case phase::line_lf: {
            if (p == n) return need_more();
            if (b[p] != '\n') return fail(error::bare_cr);
            ++p;
            // RFC 9112 §2.3 / RFC 9110 §6.2: only major version 1 is HTTP/1.x -> 505.
            if (b[version_start_ + 5] != '1') return fail(error::unsupported_version);
            // Views are taken in finish(): the input may move before the head is complete.
            head_.method = parse_method(input.substr(line_start_, method_end_ - line_start_));
            if (auto ec = check_target(head_.method, input.substr(target_start_, target_end_ - target_start_)))
                return fail(ec);
            phase_ = phase::fields;
            // Most requests have at most 8 fields: one allocation for them on a connection's
            // first request, where growing one at a time would take four.
            if (raw_.capacity() == 0) raw_.reserve(8);
            [[fallthrough]];
        }
        case phase::fields: {
            detail::section_limits const lim{limits_.max_header_bytes, error::header_too_large,
                                             limits_.max_header_count, error::too_many_headers,
                                             error::bad_field_name};
            auto ec = detail::scan_field_section(
                cursor_, input, p, lim,
                [this](detail::raw_field const& f, std::string_view name, std::string_view value) {
                    raw_.push_back(f);
                    return detail::note_field(facts_, name, value, f.value_off, detail::role::request);
                });
            if (ec == error::need_more) {
                scanned_ = p;
                return {0, ec};
            }
            if (ec) return fail(ec);
            if (auto fin = finish(input)) return fail(fin);
            scanned_ = p;
            phase_ = phase::done;
            return {p, {}};
        }
        case phase::done:
            return {scanned_, {}};
        case phase::failed:
            return {0, error_};
        }
    }
}

// Everything that needs the whole head: views, Host presence, body framing.
std::error_code request_parser::finish(std::string_view input) noexcept {
    auto& h = head_;
    h.method_text = input.substr(line_start_, method_end_ - line_start_);
    h.target = input.substr(target_start_, target_end_ - target_start_);
    h.version_major = detail::digit_value(input[version_start_ + 5]);
    h.version_minor = detail::digit_value(input[version_start_ + 7]);
    detail::build_fields(fields_, raw_, input);
    h.fields = fields_;
    detail::apply_common_facts(h, facts_);
    h.expect_continue = facts_.expect_continue;
    h.expect_unknown = facts_.expect_unknown;
    if (facts_.host_count != 0) h.host = input.substr(facts_.host_off, facts_.host_len);
    // RFC 9112 §3.2: an HTTP/1.1 request without Host MUST be answered with 400.
    if (facts_.host_count == 0 && h.is_http11_or_later()) return error::missing_host;

    if (auto ec = detail::check_transfer_encoding(facts_, h.version_major, h.version_minor, detail::role::request))
        return ec;
    if (facts_.has_transfer_encoding) {
        h.body = body_kind::chunked;  // RFC 9112 §6.3 item 4
    } else if (facts_.has_content_length) {
        // RFC 9112 §6.3 item 6; the declared size is checked against our limit now (413).
        if (facts_.content_length > limits_.max_body_bytes) return error::body_too_large;
        h.content_length = facts_.content_length;
        h.body = body_kind::length;
    } else {
        h.body = body_kind::none;  // RFC 9112 §6.3 item 7: a request without either has no body
    }
    return {};
}

} // namespace upshift::http1
