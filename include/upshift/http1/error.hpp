#pragma once
// Errors of the HTTP/1.1 parsers. `need_more` is not a failure: the parser is
// restartable and wants more bytes. Every other code is fatal for the message
// (framing can no longer be trusted) and maps to one status via status_for().
#include <system_error>

#include "upshift/http1/status.hpp"

namespace upshift::http1 {

enum class error {
    need_more = 1,             ///< incomplete input; call again with more bytes

    // start line
    bad_request_line,          ///< not `method SP request-target SP HTTP-version CRLF` (RFC 9112 §3)
    bad_method,                ///< method is not a token (RFC 9110 §9.1)
    method_too_long,           ///< method longer than any we accept -> 501
    bad_target,                ///< request-target has a forbidden octet or form (RFC 9112 §3.2)
    uri_too_long,              ///< request line exceeds limits::max_request_line -> 414
    bad_version,               ///< not `HTTP/` DIGIT `.` DIGIT (RFC 9112 §2.3)
    unsupported_version,       ///< major version other than 1 -> 505
    bad_status_line,           ///< response: not `HTTP-version SP 3DIGIT SP reason CRLF` (RFC 9112 §4)
    bad_status_code,           ///< response: status code not 3 digits in 100..599

    // field section
    header_too_large,          ///< head exceeds limits::max_header_bytes -> 431
    too_many_headers,          ///< more than limits::max_header_count fields -> 431
    bad_field_name,            ///< field name is empty or not a token (RFC 9110 §5.1)
    whitespace_before_colon,   ///< whitespace between name and colon (RFC 9112 §5.1: MUST reject)
    bad_field_value,           ///< control character or NUL in a value (RFC 9110 §5.5)
    obs_fold,                  ///< line folding (RFC 9112 §5.2: reject in requests)
    bare_cr,                   ///< CR not followed by LF (RFC 9112 §2.2)
    bare_lf,                   ///< LF not preceded by CR; strict mode rejects (RFC 9112 §2.2)
    missing_host,              ///< HTTP/1.1 request without Host (RFC 9112 §3.2: MUST 400)
    multiple_host,             ///< more than one Host field line (RFC 9112 §3.2: MUST 400)
    bad_host,                  ///< Host value is not a valid authority

    // framing
    bad_content_length,        ///< not 1*DIGIT, or overflows (RFC 9110 §8.6, RFC 9112 §6.3)
    multiple_content_length,   ///< repeated or list-valued Content-Length with differing values
                               ///< (identical values, "5, 5" or two lines of 5, are accepted: RFC 9110 §8.6)
    content_length_with_transfer_encoding, ///< both present: smuggling shape (RFC 9112 §6.3 item 3)
    bad_transfer_encoding,     ///< malformed Transfer-Encoding list, or (request) chunked not final:
                               ///< RFC 9112 §6.3 item 4 says MUST 400 for that, so it is not 501
    unsupported_transfer_encoding, ///< a coding other than chunked before the final chunked, chunked
                                   ///< twice, or (response) anything but a single chunked -> 501 (RFC 9112 §6.1)
    transfer_encoding_in_http10,   ///< Transfer-Encoding in an HTTP/1.0 message (RFC 9112 §6.1)
    body_too_large,            ///< declared or decoded body exceeds limits::max_body_bytes -> 413

    // chunked coding (RFC 9112 §7.1)
    bad_chunk_size,            ///< chunk-size is not 1*HEXDIG
    chunk_size_overflow,       ///< chunk-size does not fit 64 bits
    bad_chunk_extension,       ///< malformed chunk-ext
    chunk_line_too_long,       ///< chunk-size line exceeds limits::max_chunk_line
    bad_chunk_terminator,      ///< chunk-data not followed by CRLF
    bad_trailer,               ///< malformed trailer field
    trailer_too_large,         ///< trailer section exceeds limits::max_trailer_bytes -> 431
};

std::error_category const& error_category() noexcept;
inline std::error_code make_error_code(error e) noexcept { return {static_cast<int>(e), error_category()}; }

/// The status a server answers a request parse error with (400, 413, 414, 431, 501, 505).
status status_for(std::error_code ec) noexcept;

} // namespace upshift::http1

template <>
struct std::is_error_code_enum<upshift::http1::error> : std::true_type {};
