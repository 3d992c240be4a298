#pragma once
// /ws/echo: a WebSocket echo (RFC 6455) switched per route with
// server::accept_upgrade. Every message comes back with the same kind (text or
// binary); messages up to 64 MiB. Without a WebSocket upgrade: 426 with
// Upgrade: websocket and Sec-WebSocket-Version: 13.
#include <memory>

#include "upshift/server/exchange.hpp"
#include "upshift/upgrade/protocol.hpp"

namespace upshift::app {

/// The registry /ws/echo switches with (the echo WebSocket protocol only).
std::shared_ptr<upgrade::registry const> make_ws_echo_registry();

/// Answers /ws/echo: switches to WebSocket, or refuses the handshake, or 426.
void ws_echo(server::exchange& ex, upgrade::registry const& registry);

} // namespace upshift::app
