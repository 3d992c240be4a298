#pragma once
// Small canned responses shared by the routes and the static file server.
#include <string_view>

#include "upshift/server/exchange.hpp"

namespace upshift::app {

/// `s` with its reason phrase as a text/plain body ("Not Found\n").
void respond_text(server::exchange& ex, http1::status s, http1::fields headers = {});
/// 405 with the Allow field it MUST carry (RFC 9110 §15.5.6).
void respond_method_not_allowed(server::exchange& ex, std::string_view allow);

} // namespace upshift::app
