#pragma once
// The application handler: a few fixed routes, everything else is a static file.
//   GET|HEAD /healthz    200 "ok\n"
//   POST     /echo-body  200 with the request body (Content-Type copied), 413 above the limit
//   any      /echo       426 Upgrade Required (requests offering "echo" never get here:
//                        the server switches them, on any path, before the handler)
//   GET      /ws/echo    WebSocket echo (RFC 6455, ws_routes.hpp); 426 without an upgrade
//   GET      /ws/chat/<room>  WebSocket chat room (ws_routes.hpp); 404 for a bad room name
//   GET|HEAD /secure/... TLS only: 426 Upgrade Required in plaintext (RFC 2817 §4.2), else
//                        "served over TLS: <path>"
//   GET|HEAD anything    the file under the document root (static_files)
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "static_files.hpp"
#include "upshift/server/exchange.hpp"

namespace upshift::app {

struct route_config {
    std::shared_ptr<static_files const> files;
    std::uint64_t max_body_bytes = 1 << 20;  ///< /echo-body limit -> 413
    /// Link values to send in a 103 Early Hints before answering a path (RFC 8297).
    std::vector<std::pair<std::string, std::string>> early_hints;
};

server::handler make_handler(route_config config);

} // namespace upshift::app
