#pragma once
// File name -> Content-Type (RFC 9110 §8.3), by extension.
#include <string_view>

namespace upshift::app {

/// The media type for `filename`'s extension (case-insensitive), e.g. "text/css; charset=utf-8".
/// Textual types carry charset=utf-8 so browsers do not guess; unknown extensions (and names
/// without one) get application/octet-stream, which browsers download instead of rendering.
std::string_view content_type_for(std::string_view filename) noexcept;

} // namespace upshift::app
