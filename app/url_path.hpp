#pragma once
// Request-target path -> a relative file path that cannot leave the document
// root by construction (the realpath check in static_files is the second line
// of defence, against symlinks). Pure string work, no file system access.
#include <string>
#include <string_view>

namespace upshift::app {

/// The path of a request-target, without the query: origin-form as is; absolute-form
/// (RFC 9112 §3.2.2, which a server MUST accept) without scheme and authority. Other forms
/// (authority-form, asterisk-form) are returned unchanged and never name a file.
std::string_view target_path(std::string_view target) noexcept;

enum class path_error {
    none,
    bad_encoding,  ///< '%' not followed by two hex digits -> 400
    forbidden,     ///< "..", NUL, an encoded '/', a hidden name, not absolute -> 404
};

struct decoded_path {
    std::string relative;         ///< decoded segments joined by '/', no leading '/'; "" = the root
    bool trailing_slash = false;  ///< the raw path ended in '/' (directories need it, see static_files)
};

/// Percent-decodes `raw` (RFC 3986 §2.1) segment by segment and checks each segment:
/// "." and empty segments are dropped; "..", NUL and '/' inside a segment (sent as %2F) are
/// refused, because they would change which directory a later segment names; names starting
/// with '.' are refused (".git", ".env"), except ".well-known" (RFC 8615).
path_error decode_path(std::string_view raw, decoded_path& out);

/// Percent-encodes a relative path from decode_path() for use in a Location field: '/' stays a
/// separator, unreserved characters and sub-delims stay as they are (RFC 3986 §3.3).
std::string encode_path(std::string_view relative);

} // namespace upshift::app
