#pragma once
// Incremental, zero-copy HTTP/1.1 response-head parser (RFC 9112 §4, §6.3),
// for the client and the proxy. 1xx heads parse like any other; the caller
// loops over them (101 is final for the exchange).
//
// Strictness matches the request parser: CRLF only, no obs-fold (RFC 9112
// §5.2 lets a user agent unfold instead; we reject, which is simpler and
// keeps one scanner), Content-Length with Transfer-Encoding rejected, and any
// transfer coding other than a single final "chunked" is
// error::unsupported_transfer_encoding (we cannot decode it). The status line
// is bounded by limits::max_header_bytes only.
#include <cstdint>
#include <string_view>
#include <vector>

#include "upshift/http1/request_parser.hpp"

namespace upshift::http1 {

struct response_context {
    http1::method request_method = http1::method::get;  ///< HEAD: no body; CONNECT 2xx: tunnel
};

class response_parser {
public:
    explicit response_parser(limits const& l = {});

    /// Same contract as request_parser::parse. Body framing follows RFC 9112 §6.3:
    /// 1xx, 204, 304 and responses to HEAD have no body; a 2xx to CONNECT is a tunnel
    /// (body none); chunked; Content-Length; otherwise until_close.
    parse_result parse(std::string_view input, response_context ctx = {});

    response_head const& head() const noexcept { return head_; }
    void reset() noexcept;

private:
    enum class phase : std::uint8_t { version, code, reason, line_lf, fields, done, failed };

    parse_result fail(std::error_code ec) noexcept;
    std::error_code finish(std::string_view input, response_context ctx) noexcept;

    limits limits_;
    response_head head_;
    std::vector<field> fields_;
    std::vector<detail::raw_field> raw_;
    detail::field_cursor cursor_;
    detail::field_facts facts_;
    std::error_code error_;        ///< sticky after a failure
    std::size_t scanned_ = 0;      ///< every byte before this offset has been validated
    std::size_t reason_start_ = 0;
    std::size_t reason_end_ = 0;
    phase phase_ = phase::version;
};

} // namespace upshift::http1
