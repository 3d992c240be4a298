// Response-head parser: status line (RFC 9112 §4) + the shared field-section
// scanner, then body framing per RFC 9112 §6.3.
#include "upshift/http1/response_parser.hpp"

#include "http1/detail/char_class.hpp"
#include "http1/detail/field_facts.hpp"
#include "http1/detail/field_section.hpp"
#include "http1/detail/start_line.hpp"

namespace upshift::http1 {
namespace {
// status-line = HTTP-version SP status-code SP [ reason-phrase ]
constexpr std::size_t code_start = detail::version_length + 1;
constexpr std::size_t reason_start = code_start + 4;
} // namespace

response_parser::response_parser(limits const& l) : limits_(l) {}

void response_parser::reset() noexcept {
    head_ = response_head{};
    fields_.clear();
    raw_.clear();
    cursor_ = {};
    facts_ = {};
    error_ = {};
    scanned_ = reason_start_ = reason_end_ = 0;
    phase_ = phase::version;
}

parse_result response_parser::fail(std::error_code ec) noexcept {
    error_ = ec;
    phase_ = phase::failed;
    return {0, ec};
}

parse_result response_parser::parse(std::string_view input, response_context ctx) {
    if (phase_ == phase::failed) return {0, error_};
    if (phase_ == phase::done) return {scanned_, {}};

    char const* const b = input.data();
    std::size_t const max_head = limits_.max_header_bytes;
    // Bytes past the head limit are never examined (see field_section.hpp).
    std::size_t const n = input.size() < max_head ? input.size() : max_head;
    std::size_t p = scanned_;

    auto const need_more = [&]() -> parse_result {
        if (input.size() > n) return fail(error::header_too_large);
        scanned_ = p;
        return {0, error::need_more};
    };

    for (;;) {
        switch (phase_) {
        case phase::version:
            // RFC 9112 §4: HTTP-version SP.
            while (p < detail::version_length) {
                if (p == n) return need_more();
                if (!detail::version_byte_ok(p, b[p])) return fail(error::bad_version);
                ++p;
            }
            if (p == n) return need_more();
            if (b[p] != ' ') return fail(ascii::is_digit(b[p]) ? error::bad_version : error::bad_status_line);
            ++p;
            phase_ = phase::code;
            [[fallthrough]];
        case phase::code:
            // status-code = 3DIGIT, then the SP that must be there even when
            // the reason phrase is empty.
            while (p < reason_start) {
                if (p == n) return need_more();
                char const c = b[p];
                if (p < reason_start - 1) {
                    if (!ascii::is_digit(c)) return fail(error::bad_status_code);
                } else if (c != ' ') {
                    return fail(ascii::is_digit(c) ? error::bad_status_code : error::bad_status_line);
                }
                ++p;
            }
            reason_start_ = p;
            phase_ = phase::reason;
            [[fallthrough]];
        case phase::reason: {
            // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
            p = static_cast<std::size_t>(detail::scan_value(b + p, b + n) - b);
            if (p == n) return need_more();
            if (b[p] == '\n') return fail(error::bare_lf);
            if (b[p] != '\r') return fail(error::bad_status_line);
            reason_end_ = p++;
            phase_ = phase::line_lf;
            [[fallthrough]];
        }
        case phase::line_lf: {
            if (p == n) return need_more();
            if (b[p] != '\n') return fail(error::bare_cr);
            ++p;
            if (b[5] != '1') return fail(error::unsupported_version);
            unsigned const code = static_cast<unsigned>(detail::digit_value(b[code_start])) * 100 +
                                  static_cast<unsigned>(detail::digit_value(b[code_start + 1])) * 10 +
                                  static_cast<unsigned>(detail::digit_value(b[code_start + 2]));
            // RFC 9110 §15: status codes are 100..599.
            if (code < 100 || code > 599) return fail(error::bad_status_code);
            head_.status_code = code;
            phase_ = phase::fields;
            [[fallthrough]];
        }
        case phase::fields: {
            detail::section_limits const lim{max_head, error::header_too_large, limits_.max_header_count,
                                             error::too_many_headers, error::bad_field_name};
            auto ec = detail::scan_field_section(
                cursor_, input, p, lim,
                [this](detail::raw_field const& f, std::string_view name, std::string_view value) {
                    raw_.push_back(f);
                    return detail::note_field(facts_, name, value, f.value_off, detail::role::response);
                });
            if (ec == error::need_more) {
                scanned_ = p;
                return {0, ec};
            }
            if (ec) return fail(ec);
            if (auto fin = finish(input, ctx)) return fail(fin);
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

std::error_code response_parser::finish(std::string_view input, response_context ctx) noexcept {
    auto& h = head_;
    h.version_major = detail::digit_value(input[5]);
    h.version_minor = detail::digit_value(input[7]);
    h.reason = input.substr(reason_start_, reason_end_ - reason_start_);
    detail::build_fields(fields_, raw_, input);
    h.fields = fields_;
    detail::apply_common_facts(h, facts_);
    h.content_length = facts_.content_length;

    // Framing errors are checked even when the status says "no body": a
    // smuggling-shaped head is rejected whatever it is attached to.
    if (auto ec = detail::check_transfer_encoding(facts_, h.version_major, h.version_minor, detail::role::response))
        return ec;

    unsigned const code = h.status_code;
    bool const tunnel = ctx.request_method == method::connect && code >= 200 && code < 300;
    if (ctx.request_method == method::head || is_informational(code) || code == 204 || code == 304 || tunnel) {
        h.body = body_kind::none;  // RFC 9112 §6.3 items 1 and 2
    } else if (facts_.has_transfer_encoding) {
        h.body = body_kind::chunked;  // item 4
    } else if (facts_.has_content_length) {
        if (facts_.content_length > limits_.max_body_bytes) return error::body_too_large;
        h.body = body_kind::length;  // item 6
    } else {
        h.body = body_kind::until_close;  // item 8
    }
    return {};
}

} // namespace upshift::http1
