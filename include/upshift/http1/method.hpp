#pragma once
#include <cstdint>
#include <string_view>

namespace upshift::http1 {

/// Request methods known to the server; anything else that is a valid token is `other`
/// and keeps its text in request_head::method_text (methods are case-sensitive, RFC 9110 §9.1).
enum class method : std::uint8_t { other, get, head, post, put, delete_, connect, options, trace, patch };

method parse_method(std::string_view token) noexcept;
std::string_view to_string(method m) noexcept;

} // namespace upshift::http1
