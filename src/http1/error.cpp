// The http1 error category and the one table mapping parse errors to the
// status a server answers with.
#include "upshift/http1/error.hpp"

#include <string>

namespace upshift::http1 {
namespace {

class category final : public std::error_category {
public:
    char const* name() const noexcept override { return "upshift.http1"; }

    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
        case error::need_more: return "need more input";
        case error::bad_request_line: return "malformed request line";
        case error::bad_method: return "method is not a token";
        case error::method_too_long: return "method too long";
        case error::bad_target: return "invalid request-target";
        case error::uri_too_long: return "request line too long";
        case error::bad_version: return "malformed HTTP version";
        case error::unsupported_version: return "unsupported HTTP major version";
        case error::bad_status_line: return "malformed status line";
        case error::bad_status_code: return "invalid status code";
        case error::header_too_large: return "header section too large";
        case error::too_many_headers: return "too many header fields";
        case error::bad_field_name: return "invalid field name";
        case error::whitespace_before_colon: return "whitespace between field name and colon";
        case error::bad_field_value: return "invalid character in field value";
        case error::obs_fold: return "obsolete line folding";
        case error::bare_cr: return "CR not followed by LF";
        case error::bare_lf: return "LF not preceded by CR";
        case error::missing_host: return "HTTP/1.1 request without Host";
        case error::multiple_host: return "more than one Host field";
        case error::bad_host: return "invalid Host value";
        case error::bad_content_length: return "invalid Content-Length";
        case error::multiple_content_length: return "conflicting Content-Length values";
        case error::content_length_with_transfer_encoding: return "both Content-Length and Transfer-Encoding";
        case error::bad_transfer_encoding: return "invalid Transfer-Encoding";
        case error::unsupported_transfer_encoding: return "unsupported transfer coding";
        case error::transfer_encoding_in_http10: return "Transfer-Encoding in an HTTP/1.0 message";
        case error::body_too_large: return "body too large";
        case error::bad_chunk_size: return "invalid chunk size";
        case error::chunk_size_overflow: return "chunk size overflows";
        case error::bad_chunk_extension: return "invalid chunk extension";
        case error::chunk_line_too_long: return "chunk size line too long";
        case error::bad_chunk_terminator: return "chunk data not followed by CRLF";
        case error::bad_trailer: return "invalid trailer field";
        case error::trailer_too_large: return "trailer section too large";
        }
        return "unknown http1 error " + std::to_string(ev);
    }
};

} // namespace

std::error_category const& error_category() noexcept {
    static category const instance;
    return instance;
}

status status_for(std::error_code ec) noexcept {
    if (ec.category() != error_category()) return status::bad_request;
    switch (static_cast<error>(ec.value())) {
    case error::uri_too_long: return status::uri_too_long;
    case error::header_too_large:
    case error::too_many_headers:
    case error::trailer_too_large: return status::request_header_fields_too_large;
    case error::body_too_large: return status::content_too_large;
    case error::unsupported_transfer_encoding:
    case error::method_too_long: return status::not_implemented;
    case error::unsupported_version: return status::http_version_not_supported;
    default: return status::bad_request;
    }
}

} // namespace upshift::http1
