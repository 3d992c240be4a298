#include "upshift/h2c/service.hpp"

#include "h2c/detail/config.hpp"
#include "h2c/detail/session.hpp"
#include "upshift/h2c/upgrade_request.hpp"
#include "upshift/server/server.hpp"

namespace upshift::h2c {

service::service(server::handler app, options o)
    : cfg_(std::make_shared<detail::config const>(detail::config{std::move(app), std::move(o)})) {}

options const& service::settings() const noexcept { return cfg_->opts; }

std::string service::advertisement() const { return cfg_->opts.advertise ? "h2c" : ""; }

std::function<void(upgrade::upgraded)> service::prior_knowledge() const {
    return [cfg = cfg_](upgrade::upgraded u) { detail::session::start_prior_knowledge(cfg, std::move(u)); };
}

server::handler service::http1_handler() const {
    return [cfg = cfg_](server::exchange& ex) {
        // RFC 9113 §3.1: "h2c" is HTTP/2 over cleartext TCP; over TLS the offer is ignored
        // (HTTP/2 there is chosen by ALPN, §3.2).
        auto const* offer = ex.secure() ? nullptr : find_h2c_offer(ex.upgrade_offers());
        auto settings = offer ? upgrade_settings(ex.request()) : std::nullopt;
        if (!settings) {
            // Not an h2c upgrade (or one RFC 7540 §3.2.1 forbids): plain HTTP/1.1.
            cfg->app(ex);
            return;
        }
        auto switch_now = [&ex, cfg, chosen = *offer,
                           settings = std::move(*settings)](std::string body) mutable {
            ex.switch_protocols(
                chosen, {},
                [cfg, settings = std::move(settings), body = std::move(body)](upgrade::upgraded u) mutable {
                    detail::session::start_upgraded(cfg, std::move(u), settings, std::move(body));
                });
        };
        if (!ex.has_body()) {
            switch_now({});
            return;
        }
        // RFC 7540 §3.2: the body is sent in HTTP/1.1 before the switch; it
        // belongs to stream 1, so it is kept (the switch would drop it).
        ex.read_body_all(cfg->opts.max_upgrade_body, [&ex, switch_now = std::move(switch_now)](
                                                         std::error_code ec, std::string body) mutable {
            if (!ec) {
                switch_now(std::move(body));
                return;
            }
            if (ex.responded() || ec == server::error::connection_lost) return;
            if (ec == server::error::body_too_large)
                ex.respond(http1::status::content_too_large, {{"Content-Type", "text/plain"}},
                           "Content Too Large\n");
            // Other body errors (malformed, timeout) are answered by the connection.
        });
    };
}

} // namespace upshift::h2c
