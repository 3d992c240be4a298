#pragma once
// Incremental, zero-copy HTTP/1.1 response-head parser (RFC 9112 §4, §6.3),
// for the client and the proxy. 1xx heads parse like any other; the caller
// loops over them (101 is final for the exchange).
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
    limits limits_;
    response_head head_;
    std::vector<field> fields_;
    std::size_t scanned_ = 0;
};

} // namespace upshift::http1
