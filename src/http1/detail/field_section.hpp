#pragma once
// The field-section scanner shared by both parsers and the chunked trailer
// section (RFC 9112 §5, §7.1.2). It validates every byte once, in order, and
// can stop at any byte (need_more) and resume there on the next call, so a
// head fed one byte at a time still costs O(n).
//
// Errors are reported at the first offending byte in input order; a limit is
// "offending" at the first byte past it: the scan never examines bytes beyond
// the limit, it fails when such a byte exists. Hence the result never depends
// on how the input was split into reads.
#include <cstddef>
#include <string_view>
#include <system_error>

#include "http1/detail/char_class.hpp"
#include "upshift/http1/detail/head_state.hpp"
#include "upshift/http1/error.hpp"

namespace upshift::http1::detail {

struct section_limits {
    std::size_t byte_limit;     ///< absolute input offset; a scan reaching past it fails with too_large
    error too_large;            ///< header_too_large or trailer_too_large
    std::size_t max_fields;     ///< the (max_fields + 1)th field line fails with too_many
    error too_many;
    error whitespace_first;     ///< a first line starting with whitespace (RFC 9112 §2.2)
};

/// Continues scanning the field section of `in` at `pos` (updated on return).
/// `on_field(raw_field const&, name, value)` runs as each line completes and
/// may return an error to stop. Returns {} after the empty line, need_more, or
/// the first error.
template <class OnField>
std::error_code scan_field_section(field_cursor& cur, std::string_view in, std::size_t& pos,
                                   section_limits const& lim, OnField&& on_field) {
    using phase = field_cursor::phase;
    char const* const b = in.data();
    // Only bytes inside the limit are examined; reaching `n` with more input
    // beyond it means the section is too large.
    std::size_t const n = in.size() < lim.byte_limit ? in.size() : lim.byte_limit;
    std::size_t p = pos;

    auto const need_more = [&]() -> std::error_code {
        if (in.size() > n) return lim.too_large;
        pos = p;
        return error::need_more;
    };

    for (;;) {
        switch (cur.at) {
        case phase::line_start: {
            if (p == n) return need_more();
            char const c = b[p];
            if (c == '\r') {
                ++p;
                cur.at = phase::final_lf;
                break;
            }
            if (c == '\n') return error::bare_lf;  // RFC 9112 §2.2
            if (c == ' ' || c == '\t')
                // RFC 9112 §5.2: obs-fold is rejected; before the first field
                // line it is whitespace after the start line (§2.2).
                return cur.first_line ? lim.whitespace_first : error::obs_fold;
            if (cur.count >= lim.max_fields) return lim.too_many;
            cur.line_start = p;
            cur.at = phase::name;
            [[fallthrough]];
        }
        case phase::name: {
            p = static_cast<std::size_t>(scan_token(b + p, b + n) - b);
            if (p == n) return need_more();
            char const c = b[p];
            if (c != ':') {
                // RFC 9112 §5.1: no whitespace between field name and colon.
                if (c == ' ' || c == '\t') return error::whitespace_before_colon;
                return error::bad_field_name;  // RFC 9110 §5.1: name is a token
            }
            if (p == cur.line_start) return error::bad_field_name;  // empty name
            cur.name_end = p;
            ++p;
            cur.at = phase::value_ows;
            [[fallthrough]];
        }
        case phase::value_ows:
            while (p != n && (b[p] == ' ' || b[p] == '\t')) ++p;
            if (p == n) return need_more();
            cur.value_start = p;
            cur.at = phase::value;
            [[fallthrough]];
        case phase::value: {
            p = static_cast<std::size_t>(scan_value(b + p, b + n) - b);
            if (p == n) return need_more();
            char const c = b[p];
            if (c == '\n') return error::bare_lf;
            if (c != '\r') return error::bad_field_value;  // RFC 9110 §5.5: CTL/NUL/DEL
            std::size_t e = p;
            while (e > cur.value_start && (b[e - 1] == ' ' || b[e - 1] == '\t')) --e;  // trailing OWS
            cur.value_end = e;
            ++p;
            cur.at = phase::value_lf;
            [[fallthrough]];
        }
        case phase::value_lf: {
            if (p == n) return need_more();
            if (b[p] != '\n') return error::bare_cr;  // RFC 9112 §2.2
            ++p;
            raw_field const f{cur.line_start, cur.name_end - cur.line_start, cur.value_start,
                              cur.value_end - cur.value_start};
            ++cur.count;
            cur.first_line = false;
            cur.at = phase::line_start;
            if (auto ec = on_field(f, in.substr(f.name_off, f.name_len), in.substr(f.value_off, f.value_len))) {
                pos = p;
                return ec;
            }
            break;
        }
        case phase::final_lf:
            if (p == n) return need_more();
            if (b[p] != '\n') return error::bare_cr;
            ++p;
            cur.at = phase::done;
            pos = p;
            return {};
        case phase::done:
            pos = p;
            return {};
        }
    }
}

} // namespace upshift::http1::detail
