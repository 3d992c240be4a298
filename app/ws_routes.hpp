#pragma once
// The demo's WebSocket routes (RFC 6455), switched per route with server::accept_upgrade.
// Without a WebSocket upgrade both answer 426 with Upgrade: websocket and
// Sec-WebSocket-Version: 13. permessage-deflate (RFC 7692) is accepted when offered.
//
// /ws/echo: every message comes back with the same kind (text or binary); up to 64 MiB.
//
// /ws/chat/<room>: a chat room per name ([A-Za-z0-9_-]{1,64}, anything else 404), on a
// ws::hub shared by every worker loop (--threads N). Each connection gets a name
// ("guest-7") and the topic "chat/<room>". Text messages (up to 64 KiB) go to everyone in
// the room, the sender included, as JSON lines:
//   {"type":"welcome","you":"guest-7","room":"lobby","count":2}   to the newcomer only
//   {"type":"join","who":"guest-7","count":2}                     to everyone, newcomer included
//   {"type":"message","from":"guest-7","text":"hi"}
//   {"type":"leave","who":"guest-7","count":1}
// A binary message closes the connection with 1003 (unsupported data, RFC 6455 §7.4.1).
// Slow readers get the session's policy: more than 4 MiB queued closes them with 1008.
#include <memory>
#include <optional>
#include <string_view>

#include "upshift/server/exchange.hpp"
#include "upshift/upgrade/protocol.hpp"

namespace upshift::app {

/// The registry /ws/echo switches with (the echo WebSocket protocol only).
std::shared_ptr<upgrade::registry const> make_ws_echo_registry();

/// Answers /ws/echo: switches to WebSocket, or refuses the handshake, or 426.
void ws_echo(server::exchange& ex, upgrade::registry const& registry);

/// The registry /ws/chat/<room> switches with; its sessions share one hub.
std::shared_ptr<upgrade::registry const> make_ws_chat_registry();

/// The room of a "/ws/chat/<room>" path, if the name is valid ([A-Za-z0-9_-]{1,64}).
std::optional<std::string_view> chat_room(std::string_view path) noexcept;

/// Answers /ws/chat/...: 404 for a bad room name, else like ws_echo.
void ws_chat(server::exchange& ex, std::string_view path, upgrade::registry const& registry);

} // namespace upshift::app
