// The upshift side of the echo load run: the library's WebSocket session on one event loop, set
// up like the demo's /ws/echo (same limits, echo of every message with its kind) except that
// permessage-deflate is off, as it is for the Beast and Node servers it is compared with.
// Its own binary rather than `upshift serve` so the comparison is server against server: no
// static-file routes, access log or Early Hints set-up in the process whose memory and CPU are measured.
//
//   upshift_echo_server PORT      -> prints "listening on 127.0.0.1:PORT" once it accepts
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "upshift/server/server.hpp"
#include "upshift/ws/server.hpp"

namespace {

upshift::server::server* running = nullptr;

extern "C" void on_signal(int) {
    if (running) running->stop();  // async-signal-safe
}

} // namespace

int main(int argc, char** argv) {
    using namespace upshift;
    char* end = nullptr;
    long const port = argc == 2 ? std::strtol(argv[1], &end, 10) : -1;
    if (argc != 2 || end == argv[1] || *end != '\0' || port < 0 || port > 65535) {
        std::fputs("usage: upshift_echo_server PORT   (0 picks a free port; prints \"listening on 127.0.0.1:PORT\")\n",
                   stderr);
        return 2;
    }
    ws::behaviour b;
    b.on_message = [](ws::session& s, std::string_view data, ws::message_kind kind) { s.send(data, kind); };
    ws::options opt;
    opt.max_message_size = std::size_t{64} << 20;
    opt.permessage_deflate = false;
    auto registry = std::make_shared<upgrade::registry>();
    registry->add(ws::make_protocol(std::move(opt), std::move(b)));

    server::options so;
    so.listen = net::endpoint{"127.0.0.1", static_cast<std::uint16_t>(port)};
    so.threads = 1;
    so.max_connections = 1'000'000;
    so.server_header = "";
    // The server switches a WebSocket offer on any path before a handler runs.
    so.protocols = registry;
    server::server srv{std::move(so), [](server::exchange& ex) {
                           ex.respond(http1::status::upgrade_required, {{"Upgrade", "websocket"}}, "WebSocket only\n");
                       }};
    if (auto ec = srv.listen()) {
        std::fprintf(stderr, "upshift_echo_server: listen: %s\n", ec.message().c_str());
        return 1;
    }
    running = &srv;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGPIPE, SIG_IGN);
    std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(srv.port()));
    std::fflush(stdout);
    srv.run();
    return 0;
}
