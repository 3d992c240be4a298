// Methods are case-sensitive tokens (RFC 9110 §9.1): "get" is not GET.
#include "upshift/http1/method.hpp"

namespace upshift::http1 {

method parse_method(std::string_view t) noexcept {
    switch (t.size()) {
    case 3:
        if (t == "GET") return method::get;
        if (t == "PUT") return method::put;
        break;
    case 4:
        if (t == "HEAD") return method::head;
        if (t == "POST") return method::post;
        break;
    case 5:
        if (t == "TRACE") return method::trace;
        if (t == "PATCH") return method::patch;
        break;
    case 6:
        if (t == "DELETE") return method::delete_;
        break;
    case 7:
        if (t == "CONNECT") return method::connect;
        if (t == "OPTIONS") return method::options;
        break;
    default:
        break;
    }
    return method::other;
}

std::string_view to_string(method m) noexcept {
    switch (m) {
    case method::get: return "GET";
    case method::head: return "HEAD";
    case method::post: return "POST";
    case method::put: return "PUT";
    case method::delete_: return "DELETE";
    case method::connect: return "CONNECT";
    case method::options: return "OPTIONS";
    case method::trace: return "TRACE";
    case method::patch: return "PATCH";
    case method::other: break;
    }
    return "";
}

} // namespace upshift::http1
