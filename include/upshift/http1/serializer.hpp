#pragma once
// Writes HTTP/1.1 message heads and chunked framing into a byte_buffer.
// The caller decides framing; these functions only format bytes, and refuse
// (return false) to emit a field that would break framing (CR, LF or NUL in a
// name or value, or a name that is not a token), so user data can never
// inject a header or split a response.
#include <cstdint>
#include <string_view>

#include "upshift/base/byte_buffer.hpp"
#include "upshift/http1/fields.hpp"
#include "upshift/http1/message.hpp"
#include "upshift/http1/status.hpp"

namespace upshift::http1 {

/// True if name is a token and value has no CR, LF or NUL (RFC 9110 §5.5).
bool is_safe_field(std::string_view name, std::string_view value) noexcept;

/// "HTTP/1.1 <code> <reason>\r\n". An empty reason, or one with CR, LF or another
/// CTL, is replaced by reason_phrase(code); a code outside 100..999 is written as 500.
void write_status_line(byte_buffer& out, unsigned code, std::string_view reason = {});
/// "<method> <target> HTTP/1.1\r\n"; returns false (and writes nothing) when the
/// method is not a token or the target is empty or has whitespace, CTL or non-ASCII.
bool write_request_line(byte_buffer& out, std::string_view method, std::string_view target);
/// "<name>: <value>\r\n"; returns false (and writes nothing) for an unsafe field.
bool write_field(byte_buffer& out, std::string_view name, std::string_view value);
/// Writes every safe field of `f`; returns false if any was dropped.
bool write_fields(byte_buffer& out, fields const& f);
/// "Content-Length: <n>\r\n"
void write_content_length(byte_buffer& out, std::uint64_t n);
/// Terminates a head: "\r\n".
inline void write_end_of_head(byte_buffer& out) { out.append("\r\n"); }

/// One chunk: "<hex size>\r\n<data>\r\n" (nothing for empty data: that would end the body).
void write_chunk(byte_buffer& out, std::string_view data);
/// Chunk header only ("<hex size>\r\n") for callers that write the data themselves (writev).
void write_chunk_header(byte_buffer& out, std::size_t size);
/// The last chunk and optional trailers: "0\r\n<trailers>\r\n".
void write_last_chunk(byte_buffer& out, fields const& trailers = {});

/// RFC 9110 §5.6.7 IMF-fixdate for a time_t, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (29 chars).
std::string_view format_http_date(long long unix_seconds, char (&buf)[32]) noexcept;
/// Parses IMF-fixdate (and the two obsolete forms RFC 9110 §5.6.7 requires recipients to accept).
/// Returns -1 on failure.
long long parse_http_date(std::string_view s) noexcept;

} // namespace upshift::http1
