#pragma once
// Resumable state shared by the request parser, the response parser and the
// chunked decoder's trailer section. Not part of the public API: it lives in a
// public header only because the parsers hold it by value.
#include <cstddef>
#include <cstdint>

namespace upshift::http1::detail {

/// One field line as offsets from the start of the parser's input. The input
/// buffer may move between calls (only its contents are stable), so views are
/// built once the whole head is there.
struct raw_field {
    std::size_t name_off;
    std::size_t name_len;
    std::size_t value_off;
    std::size_t value_len;
};

/// Where a field-section scan stopped (RFC 9112 §5), so it can resume at the
/// exact byte without rescanning.
struct field_cursor {
    enum class phase : std::uint8_t { line_start, name, value_ows, value, value_lf, final_lf, done };
    phase at = phase::line_start;
    bool first_line = true;       ///< no field line seen yet (whitespace here is §2.2, not obs-fold)
    std::size_t count = 0;        ///< complete field lines
    std::size_t line_start = 0;
    std::size_t name_end = 0;
    std::size_t value_start = 0;
    std::size_t value_end = 0;
};

/// Facts about framing and connection management, gathered as each field line
/// completes so no caller re-derives them from the raw fields.
struct field_facts {
    std::uint64_t content_length = 0;
    bool has_content_length = false;
    bool has_transfer_encoding = false;
    bool te_last_chunked = false;   ///< the final coding so far is chunked
    bool te_other = false;          ///< a coding other than chunked was listed
    unsigned te_chunked = 0;        ///< how many times chunked was listed
    unsigned te_codings = 0;        ///< codings listed over all Transfer-Encoding lines
    bool connection_close = false;
    bool connection_keep_alive = false;
    bool connection_upgrade = false;
    bool has_upgrade = false;
    bool has_trailer = false;
    bool expect_continue = false;
    bool expect_unknown = false;
    unsigned host_count = 0;
    std::size_t host_off = 0;
    std::size_t host_len = 0;
};

} // namespace upshift::http1::detail
