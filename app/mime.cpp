#include "mime.hpp"

#include <array>
#include <utility>

#include "upshift/base/ascii.hpp"

namespace upshift::app {
namespace {

// Small and linear on purpose: a few dozen entries are faster to scan than to hash.
// Types follow the IANA media type registry; JavaScript is text/javascript (RFC 9239).
// JSON, XML and SVG declare their encoding themselves, so they get no charset parameter.
constexpr std::array<std::pair<std::string_view, std::string_view>, 36> types{{
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"webmanifest", "application/manifest+json"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/x-icon"},
    {"bmp", "image/bmp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tar", "application/x-tar"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},
    {"wav", "audio/wav"},
    {"bin", "application/octet-stream"},
}};

} // namespace

std::string_view content_type_for(std::string_view filename) noexcept {
    auto const slash = filename.rfind('/');
    if (slash != std::string_view::npos) filename.remove_prefix(slash + 1);
    auto const dot = filename.rfind('.');
    // ".bashrc" is a name without an extension, not an extension without a name.
    if (dot != std::string_view::npos && dot > 0) {
        auto const ext = filename.substr(dot + 1);
        for (auto const& [e, type] : types)
            if (ascii::iequals(e, ext)) return type;
    }
    return "application/octet-stream";
}

} // namespace upshift::app
