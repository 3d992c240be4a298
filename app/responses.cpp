#include "responses.hpp"

#include <string>

namespace upshift::app {

void respond_text(server::exchange& ex, http1::status s, http1::fields headers) {
    headers.set("Content-Type", "text/plain; charset=utf-8");
    std::string body{http1::reason_phrase(s)};
    body += '\n';
    ex.respond(s, std::move(headers), std::move(body));
}

void respond_method_not_allowed(server::exchange& ex, std::string_view allow) {
    respond_text(ex, http1::status::method_not_allowed, {{"Allow", allow}});
}

} // namespace upshift::app
