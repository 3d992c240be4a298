#include "routes.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "responses.hpp"
#include "upshift/server/server.hpp"
#include "url_path.hpp"
#include "ws_routes.hpp"

namespace upshift::app {
namespace {

void healthz(server::exchange& ex) {
    auto const m = ex.request().method;
    if (m != http1::method::get && m != http1::method::head) {
        respond_method_not_allowed(ex, "GET, HEAD");
        return;
    }
    // no-store: a cached "ok" would hide an outage from whoever polls this.
    ex.respond(http1::status::ok, {{"Content-Type", "text/plain; charset=utf-8"}, {"Cache-Control", "no-store"}},
               "ok\n");
}

// A Content-Length body streams straight back with the same length, so memory stays bounded
// whatever the limit. The response starts on the first piece, not before read_body():
// read_body() sends the "100 Continue" an Expect: 100-continue request is owed
// (RFC 9110 §10.1.1), and no 1xx may follow the start of the final response.
void echo_streamed(server::exchange& ex, http1::fields headers, std::uint64_t length) {
    struct state {
        http1::fields headers;
        server::response_writer* out = nullptr;
    };
    auto st = std::make_shared<state>(state{std::move(headers), nullptr});
    server::body_reader reader;
    reader.on_data = [&ex, st, length](std::string_view piece) {
        if (!st->out) st->out = &ex.start_response(http1::status::ok, std::move(st->headers), length);
        if (!st->out->write(piece)) {
            // Backpressure: a client that uploads faster than it reads stops being read.
            ex.pause_body();
            st->out->on_drain([&ex] { ex.resume_body(); });
        }
    };
    reader.on_end = [&ex, st](std::error_code ec) {
        if (ec == server::error::connection_lost) return;  // `ex` is going away: touch nothing
        if (st->out) {
            // On an error (body timeout) the body is short of its Content-Length; finish()
            // then closes the connection, which tells the client it is incomplete.
            st->out->finish();
        } else if (!ec) {
            ex.respond(http1::status::ok, std::move(st->headers));
        }
        // An error before any byte: the library answers it (408, 400) itself.
    };
    ex.read_body(std::move(reader));
}

// A chunked body has no length to announce and may turn out too large only at its end; it is
// collected (up to the limit) so that an oversized one still gets its 413.
void echo_collected(server::exchange& ex, http1::fields headers, std::uint64_t max) {
    auto const limit = static_cast<std::size_t>(std::min<std::uint64_t>(max, std::numeric_limits<std::size_t>::max()));
    ex.read_body_all(limit, [&ex, headers = std::move(headers)](std::error_code ec, std::string body) mutable {
        if (ec == server::error::body_too_large) {
            // RFC 9110 §15.5.14. The rest of the body is never read, so the connection cannot
            // carry another request.
            ex.close_after_response();
            respond_text(ex, http1::status::content_too_large);
            return;
        }
        if (ec) return;  // framing error or timeout: the library answers; connection lost: nothing to do
        ex.respond(http1::status::ok, std::move(headers), std::move(body));
    });
}

void echo_body(server::exchange& ex, std::uint64_t max_body_bytes) {
    auto const& req = ex.request();
    if (req.method != http1::method::post) {
        respond_method_not_allowed(ex, "POST");
        return;
    }
    auto const type = req.find("Content-Type");
    http1::fields headers{{"Content-Type", type.empty() ? "application/octet-stream" : type}};
    if (!ex.has_body()) {
        ex.respond(http1::status::ok, std::move(headers));
        return;
    }
    if (req.body == http1::body_kind::length) {
        // The parser already answered 413 for a declared length above limits::max_body_bytes,
        // which main() sets to the same value; this guards against the two drifting apart.
        if (req.content_length > max_body_bytes) {
            ex.close_after_response();
            respond_text(ex, http1::status::content_too_large);
            return;
        }
        echo_streamed(ex, std::move(headers), req.content_length);
        return;
    }
    echo_collected(ex, std::move(headers), max_body_bytes);
}

// RFC 8297: a 103 lets the client start fetching what the final response will
// need. Only for GET/HEAD (what a browser navigates with); send_interim drops it
// for HTTP/1.0 clients (RFC 9110 §15.2).
void send_early_hints(server::exchange& ex, std::string_view path,
                      std::vector<std::pair<std::string, std::string>> const& hints) {
    if (hints.empty()) return;
    auto const m = ex.request().method;
    if (m != http1::method::get && m != http1::method::head) return;
    http1::fields links;
    for (auto const& [p, link] : hints)
        if (p == path) links.add("Link", link);
    if (!links.empty()) ex.send_interim(http1::status::early_hints, links);
}

// /echo speaks only the echo protocol. Requests that offer it were switched by
// the server before reaching here (options::protocols); the rest learn how to
// ask (RFC 9110 §15.5.22: a 426 MUST carry Upgrade; the library adds
// Connection: upgrade).
void echo_upgrade_required(server::exchange& ex) {
    ex.respond(http1::status::upgrade_required, {{"Upgrade", "echo"}, {"Content-Type", "text/plain; charset=utf-8"}},
               "This resource speaks the echo protocol: send Connection: Upgrade and Upgrade: echo.\n");
}

// /secure/...: the demo of a TLS-only resource. In plaintext, RFC 2817 §4.2's mandatory upgrade
// (426, Upgrade: TLS/1.2, HTTP/1.1); over HTTPS or a connection upgraded in place, a small text
// that names the path, so a test can tell which request an answer belongs to.
void secure_only(server::exchange& ex, std::string_view path) {
    if (server::require_tls(ex)) return;
    auto const m = ex.request().method;
    if (m != http1::method::get && m != http1::method::head) {
        respond_method_not_allowed(ex, "GET, HEAD");
        return;
    }
    ex.respond(http1::status::ok, {{"Content-Type", "text/plain; charset=utf-8"}, {"Cache-Control", "no-store"}},
               "served over TLS: " + std::string(path) + "\n");
}

} // namespace

server::handler make_handler(route_config config) {
    return [config = std::move(config), ws = make_ws_echo_registry(),
            chat = make_ws_chat_registry()](server::exchange& ex) {
        auto const path = target_path(ex.request().target);
        send_early_hints(ex, path, config.early_hints);
        if (path == "/healthz") healthz(ex);
        else if (path == "/echo-body") echo_body(ex, config.max_body_bytes);
        else if (path == "/echo") echo_upgrade_required(ex);
        else if (path == "/ws/echo") ws_echo(ex, *ws);
        else if (path.starts_with("/ws/chat/")) ws_chat(ex, path, *chat);
        else if (path.starts_with("/secure/")) secure_only(ex, path);
        else config.files->serve(ex);
    };
}

} // namespace upshift::app
