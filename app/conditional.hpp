#pragma once
// Validators (ETag, Last-Modified) and conditional requests (RFC 9110 §13) for
// static files. Pure: the caller supplies the file's size and times.
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "upshift/http1/message.hpp"

namespace upshift::app {

/// A strong entity tag (RFC 9110 §8.8.3) from size and modification time, e.g. "\"1a2b-7f3c...\"".
/// Any change that touches the file changes the nanosecond mtime, so equal tags mean equal bytes
/// in practice, which is what a strong validator promises.
std::string make_etag(std::uint64_t size, timespec mtime);

/// The answer preconditions call for, if not the normal one.
enum class precondition_result {
    proceed,              ///< send the representation (200)
    not_modified,         ///< 304 (§13.1.2, §13.1.3; GET and HEAD only)
    precondition_failed,  ///< 412 (§13.1.1, §13.1.4)
};

/// Evaluates If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since in the
/// order of RFC 9110 §13.2.2, for a GET or HEAD of an existing file whose current validators
/// are `etag` and `last_modified` (unix seconds).
precondition_result evaluate_preconditions(http1::request_head const& req, std::string_view etag,
                                           long long last_modified);

/// True if the If-None-Match / If-Match list `value` is "*" or contains `etag`
/// (weak comparison when `weak`, else strong; RFC 9110 §8.8.3.2).
bool etag_list_matches(std::string_view value, std::string_view etag, bool weak);

} // namespace upshift::app
