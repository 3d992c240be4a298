#include "server/detail/worker.hpp"

#include "server/detail/connection.hpp"
#include "server/detail/tls_handshake.hpp"
#include "upshift/net/listener.hpp"
#include "upshift/net/stream.hpp"
#include "upshift/tls/stream.hpp"

namespace upshift::server::detail {

worker::worker(options const& opts, handler const& h, std::atomic<std::size_t>& total_connections)
    : opts_(opts), handler_(h), total_(total_connections) {}

worker::~worker() {
    // Close whatever is left and let the loop free it.
    while (head_) head_->close_now();
    while (handshakes_) handshakes_->close_now();
    loop_.notify_shutdown(true);
    acceptor_.reset();
    tls_acceptor_.reset();
    loop_.run_once(std::chrono::milliseconds(0));
}

void worker::attach_listener(net::fd listener) {
    acceptor_ = std::make_unique<net::acceptor>(
        loop_, std::move(listener),
        [this](net::fd s, net::endpoint const& peer) {
            accept_connection(std::make_unique<net::tcp_stream>(std::move(s)), peer.to_string(), false);
        });
}

void worker::attach_tls_listener(net::fd listener, std::shared_ptr<tls::server_context> ctx) {
    tls_ = std::move(ctx);
    tls_acceptor_ = std::make_unique<net::acceptor>(
        loop_, std::move(listener), [this](net::fd s, net::endpoint const& peer) {
            accept_tls(std::make_unique<tls::stream>(tls_, std::make_unique<net::tcp_stream>(std::move(s))),
                       peer.to_string());
        });
}

bool worker::full() const noexcept {
    // Upgraded connections (WebSocket, HTTP/2, custom protocols) left the connection list at their
    // switch, but each still holds a socket and memory: every one of them watches the loop for
    // shutdown, so the loop's count of shutdown listeners counts them at no cost per connection.
    return count_ + handshake_count_ + loop_.shutdown_listeners() >= opts_.max_connections;
}

void worker::accept_tls(std::unique_ptr<tls::stream> s, std::string remote) {
    if (full() || shutting_down_) return;  // the socket closes here
    // ALPN picks HTTP/1.1 or HTTP/2 during the handshake, so it runs before either exists.
    auto* h = new tls_handshake(*this, std::move(s), std::move(remote));
    h->next = handshakes_;
    if (handshakes_) handshakes_->prev = h;
    handshakes_ = h;
    ++handshake_count_;
    total_.fetch_add(1, std::memory_order_relaxed);
    h->start();
}

void worker::release(tls_handshake* h) noexcept {
    if (h->prev) h->prev->next = h->next;
    else handshakes_ = h->next;
    if (h->next) h->next->prev = h->prev;
    h->prev = h->next = nullptr;
    --handshake_count_;
    total_.fetch_sub(1, std::memory_order_relaxed);
    loop_.defer([h] { delete h; });
}

connection* worker::accept_connection(std::unique_ptr<net::stream> s, std::string remote, bool secure,
                                      bool registered) {
    if (full() || shutting_down_) return nullptr;  // the socket closes here
    auto* c = new connection(*this, std::move(s), std::move(remote), secure);
    c->next = head_;
    if (head_) head_->prev = c;
    head_ = c;
    ++count_;
    total_.fetch_add(1, std::memory_order_relaxed);
    c->start(registered);
    return c;
}

void worker::release(connection* c) noexcept {
    if (c->prev) c->prev->next = c->next;
    else head_ = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = nullptr;
    --count_;
    total_.fetch_sub(1, std::memory_order_relaxed);
    // Freed after the dispatch phase: events for it may still be pending.
    loop_.defer([c] { delete c; });
}

void worker::run() {
    loop_.run();
    drain();
}

void worker::drain() {
    // Graceful stop: no new connections; idle ones close now, busy ones after
    // their current response, all within shutdown_grace.
    shutting_down_ = true;
    if (acceptor_) acceptor_->close();
    if (tls_acceptor_) tls_acceptor_->close();
    // A handshake under way has no request yet: like an idle connection, it closes now.
    while (handshakes_) handshakes_->close_now();
    for (auto* c = head_; c;) {
        auto* next = c->next;
        c->shutdown_gracefully();
        c = next;
    }
    // Upgraded connections left the list at their 101; their protocols hear it here.
    loop_.notify_shutdown(false);
    auto const deadline = net::clock::now() + opts_.shutdown_grace;
    while ((head_ || loop_.shutdown_listeners() > 0) && net::clock::now() < deadline)
        loop_.run_once(std::chrono::milliseconds(50));
    while (head_) head_->close_now();
    while (handshakes_) handshakes_->close_now();
    loop_.notify_shutdown(true);
    loop_.run_once(std::chrono::milliseconds(0));
}

} // namespace upshift::server::detail
