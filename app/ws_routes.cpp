#include "ws_routes.hpp"

#include "upshift/ws/server.hpp"

namespace upshift::app {

std::shared_ptr<upgrade::registry const> make_ws_echo_registry() {
    ws::behaviour b;
    b.on_message = [](ws::session& s, std::string_view data, ws::message_kind kind) {
        // Above the high-water mark send() still queues and the session stops reading until the
        // peer takes what is queued: backpressure reaches a fast sender through TCP.
        s.send(data, kind);
    };
    auto r = std::make_shared<upgrade::registry>();
    ws::options opt;
    opt.max_message_size = std::size_t{64} << 20;
    // RFC 7692: compress when the client offers it (browsers and python websockets do).
    opt.permessage_deflate = true;
    opt.max_inflated_message_size = std::size_t{64} << 20;
    r->add(ws::make_protocol(std::move(opt), std::move(b)));
    return r;
}

void ws_echo(server::exchange& ex, upgrade::registry const& registry) {
    // A WebSocket offer is switched, or refused with the handshake's own status (400, 426).
    if (server::accept_upgrade(ex, registry)) return;
    // RFC 9110 §15.5.22: a 426 MUST carry Upgrade; RFC 6455 §4.2.2 item 4: name the version.
    ex.respond(http1::status::upgrade_required,
               {{"Upgrade", "websocket"},
                {"Sec-WebSocket-Version", "13"},
                {"Content-Type", "text/plain; charset=utf-8"}},
               "This resource speaks WebSocket (RFC 6455).\n");
}

} // namespace upshift::app
