#include "upshift/server/server.hpp"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <optional>
#include <thread>
#include <vector>

#include "server/detail/worker.hpp"

namespace upshift::server {
namespace {

using fingerprint = std::array<unsigned char, EVP_MAX_MD_SIZE>;

/// SHA-256 of the DER of the context's leaf certificate, if it has one.
std::optional<fingerprint> leaf_fingerprint(tls::server_context const& ctx) {
    X509* leaf = SSL_CTX_get0_certificate(ctx.native());
    if (!leaf) return std::nullopt;
    fingerprint fp{};
    unsigned len = 0;
    if (X509_digest(leaf, EVP_sha256(), fp.data(), &len) != 1) return std::nullopt;
    return fp;
}

/// RFC 2817 upgrade and implicit TLS sharing one certificate: a man-in-the-middle can redirect
/// an HTTPS client of this server to the upgrade port (the Opossum attack, docs/security.md).
bool same_certificate(tls::server_context const& a, tls::server_context const& b) {
    if (&a == &b) return true;
    auto fa = leaf_fingerprint(a), fb = leaf_fingerprint(b);
    return fa && fb && *fa == *fb;
}

} // namespace

struct server::impl {
    options opts;
    handler app;
    std::atomic<std::size_t> connections{0};
    std::vector<std::unique_ptr<detail::worker>> workers;
    std::uint16_t port = 0;
    std::uint16_t tls_port = 0;
};

server::server(options opts, handler h) : impl_(std::make_unique<impl>()) {
    impl_->opts = std::move(opts);
    if (impl_->opts.threads == 0) impl_->opts.threads = 1;
    impl_->app = std::move(h);
    // A decrypted TLS record (up to 16 KiB) that does not fit the read buffer stays inside
    // OpenSSL, where readiness on the socket cannot announce it; a full-record buffer never
    // leaves such a remainder behind (see docs/decisions/0009-tls-stream.md).
    if ((impl_->opts.tls || impl_->opts.tls_upgrade) && impl_->opts.read_buffer_size < 16 * 1024)
        impl_->opts.read_buffer_size = 16 * 1024;
    // RFC 7301 / RFC 9113 §3.2: offer "h2" only when something serves it; the server's
    // preference comes first.
    if (impl_->opts.tls) {
        if (impl_->opts.h2_over_tls) impl_->opts.tls->set_alpn({"h2", "http/1.1"});
        else impl_->opts.tls->set_alpn({"http/1.1"});
    }
}

server::~server() = default;

std::error_code server::listen() {
    if (!impl_->workers.empty()) return {};
    auto const& o = impl_->opts;
    if (o.tls && o.tls_upgrade && !o.tls_upgrade_allow_same_certificate && same_certificate(*o.tls, *o.tls_upgrade))
        return make_error_code(error::tls_upgrade_same_certificate);
    auto ep = impl_->opts.listen;
    auto tls_ep = impl_->opts.tls_listen;
    net::listen_options lo;
    // One listener per loop on the same port; the kernel spreads connections.
    lo.reuse_port = impl_->opts.threads > 1;
    std::vector<std::unique_ptr<detail::worker>> workers;
    for (unsigned i = 0; i < impl_->opts.threads; ++i) {
        std::error_code ec;
        net::endpoint bound;
        auto l = net::listen_tcp(ep, lo, ec, &bound);
        if (ec) return ec;
        ep.port = bound.port;  // port 0: the others join the port the first one got
        auto w = std::make_unique<detail::worker>(impl_->opts, impl_->app, impl_->connections);
        w->attach_listener(std::move(l));
        if (impl_->opts.tls) {
            auto tl = net::listen_tcp(tls_ep, lo, ec, &bound);
            if (ec) return ec;
            tls_ep.port = bound.port;
            w->attach_tls_listener(std::move(tl), impl_->opts.tls);
        }
        workers.push_back(std::move(w));
    }
    impl_->port = ep.port;
    impl_->tls_port = impl_->opts.tls ? tls_ep.port : 0;
    impl_->workers = std::move(workers);
    return {};
}

std::uint16_t server::port() const noexcept { return impl_->port; }
std::uint16_t server::tls_port() const noexcept { return impl_->tls_port; }

void server::run() {
    if (impl_->workers.empty()) {
        if (listen()) return;
    }
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < impl_->workers.size(); ++i)
        threads.emplace_back([w = impl_->workers[i].get()] { w->run(); });
    impl_->workers[0]->run();
    for (auto& t : threads) t.join();
}

void server::stop() noexcept {
    for (auto& w : impl_->workers) w->request_stop();
}

std::size_t server::connection_count() const noexcept {
    // HTTP/1.1 connections and TLS handshakes, plus the upgraded connections (WebSocket, HTTP/2,
    // custom protocols) that left a worker's list at their switch: each watches its loop for shutdown.
    auto n = impl_->connections.load(std::memory_order_relaxed);
    for (auto const& w : impl_->workers) n += w->loop().shutdown_listeners();
    return n;
}

} // namespace upshift::server
