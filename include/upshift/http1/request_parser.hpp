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
#include <string_view>
#include <system_error>
#include <vector>

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

private:
    limits limits_;
    request_head head_;
    std::vector<field> fields_;
    std::size_t scanned_ = 0;  ///< bytes already known not to contain the end of the head
};

} // namespace upshift::http1
