// libFuzzer target: arbitrary bytes after the HTTP/2 client preface, into a real
// h2c session (nghttp2 underneath) on a real loop over a socketpair, served by a
// handler that uses the whole exchange API (bodies, streaming, trailers, 103).
// The session must never crash, leak or hang the loop, whatever the frames say.
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "upshift/h2c/service.hpp"
#include "upshift/h2c/upgrade_request.hpp"
#include "upshift/net/loop.hpp"
#include "upshift/net/stream.hpp"

using namespace upshift;

namespace {

void handle(server::exchange& ex) {
    auto const path = ex.request().path();
    char const kind = path.size() > 1 ? path[1] : 'r';
    switch (kind) {
        case 'b': // the body (after a 100 if the request expects one), then an answer with it and its trailers
            ex.read_body_all(64 * 1024, [&ex](std::error_code ec, std::string body) {
                if (ec) return;
                for (auto const& f : ex.request_trailers()) {
                    body += f.name;
                    body += f.value;
                }
                ex.respond(http1::status::ok, {}, std::move(body));
            });
            break;
        case 's': { // streamed, with trailers, after a 103
            ex.send_interim(http1::status::early_hints, {{"Link", "</a.css>; rel=preload"}});
            auto& w = ex.start_response(http1::status::ok, {{"Content-Type", "text/plain"}});
            w.write("stream");
            w.write(std::string(20000, 'x'));
            w.finish({{"X-Trailer", "1"}});
            break;
        }
        case 'p': { // paused body reader, answered at its end
            // Work deferred by the application must not outlive the exchange: a reset or a lost
            // connection ends it (on_abort), and so may the end of the body, which is not held
            // back by the pause when the piece that paused was the last one (then the response
            // completes and the stream goes) before the deferred resume runs.
            auto alive = std::make_shared<bool>(true);
            ex.on_abort([alive] { *alive = false; });
            server::body_reader r;
            r.on_data = [&ex, alive](std::string_view) {
                ex.pause_body();
                ex.loop().defer([&ex, alive] {
                    if (*alive) ex.resume_body();
                });
            };
            r.on_end = [&ex, alive](std::error_code ec) {
                *alive = false;
                if (!ec) ex.respond(http1::status::no_content);
            };
            ex.read_body(std::move(r));
            break;
        }
        default: ex.respond(http1::status::ok, {{"Content-Type", "text/plain"}}, "ok"); break;
    }
}

void drain(int fd) {
    char buf[64 * 1024];
    while (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {}
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    // One loop and service for the process: each input gets its own connection.
    static auto* loop = new net::loop();
    static auto* service = [] {
        h2c::options o;
        o.idle_timeout = std::chrono::milliseconds{60'000};
        return new h2c::service(handle, o);
    }();

    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0) return 0;
    upgrade::upgraded u;
    u.stream = std::make_unique<net::tcp_stream>(net::fd(sv[0]));
    u.loop = loop;
    u.remote = "fuzz";
    u.protocol = "h2c";
    u.leftover.assign(h2c::client_preface);
    u.leftover.append(reinterpret_cast<char const*>(data), size);
    loop->defer([u = std::move(u)]() mutable { service->prior_knowledge()(std::move(u)); });
    for (int i = 0; i < 8; ++i) {
        loop->run_once(std::chrono::milliseconds{0});
        drain(sv[1]);
    }
    // The client goes away: the session must close and free everything it holds.
    ::close(sv[1]);
    for (int i = 0; i < 4; ++i) loop->run_once(std::chrono::milliseconds{0});
    // Closed means gone: no session still watching the loop (and so no fd or timer left behind).
    if (loop->shutdown_listeners() != 0 || loop->active_timers() != 0) std::abort();
    return 0;
}
