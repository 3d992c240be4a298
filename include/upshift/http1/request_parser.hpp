#pragma once
// Incremental, zero-copy, strict HTTP/1.1 request-head parser (RFC 9112).
//
//   request_parser p(limits);
//   auto r = p.parse(buffer.data());
//   if (r.ec == error::need_more) -> read more, call again with the whole unconsumed input
//   else if (r.ec) -> answer status_for(r.ec) and close
//   else -> p.head() is valid; r.consumed bytes are the head; the body (if any) follows
//
// The parser remembers how far it has scanned, so feeding a head one byte at a
// time costs O(n) overall, not O(n^2). It never reads past the given input.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>
#include <vector>

#include "upshift/http1/detail/head_state.hpp"
#include "upshift/http1/error.hpp"
#include "upshift/http1/limits.hpp"
#include "upshift/http1/message.hpp"

namespace upshift::http1 {

struct parse_result {
    std::size_t consumed = 0;  ///< bytes of the head (including the final CRLF CRLF) when ec is empty
    std::error_code ec;        ///< empty, error::need_more, or a fatal error
};

class request_parser {
public:
    explicit request_parser(limits const& l = {});

    /// Parses a request head at the start of `input`. Input must start at the
    /// same byte on every call for one message (pass the whole unconsumed buffer).
    /// Leading empty lines before the request line are skipped (RFC 9112 §2.2)
    /// and counted in `consumed`.
    parse_result parse(std::string_view input);

    /// The parsed head; valid after a successful parse() while the input lives.
    request_head const& head() const noexcept { return head_; }

    /// Prepares for the next message (keeps allocated storage).
    void reset() noexcept;

    limits const& get_limits() const noexcept { return limits_; }

    /// Longest method accepted; a longer token fails with error::method_too_long (501).
    static constexpr std::size_t max_method_length = 32;

private:
    enum class phase : std::uint8_t { skip_empty, skip_lf, method, target, version, line_cr, line_lf, fields, done, failed };

    parse_result fail(std::error_code ec) noexcept;
    std::size_t window(std::size_t n, error& err) const noexcept;
    std::error_code finish(std::string_view input) noexcept;

    limits limits_;
    request_head head_;
    std::vector<field> fields_;
    std::vector<detail::raw_field> raw_;
    detail::field_cursor cursor_;
    detail::field_facts facts_;
    std::error_code error_;            ///< sticky after a failure
    std::size_t scanned_ = 0;          ///< every byte before this offset has been validated
    std::size_t line_start_ = 0;       ///< offsets of the request-line parts in the input
    std::size_t method_end_ = 0;
    std::size_t target_start_ = 0;
    std::size_t target_end_ = 0;
    std::size_t version_start_ = 0;
    phase phase_ = phase::skip_empty;
};

} // namespace upshift::http1
