#pragma once
// One event loop with its own SO_REUSEPORT listener and the connections it
// accepted. Everything here runs on the worker's thread, except request_stop().
#include <atomic>
#include <cstddef>
#include <memory>

#include "server/detail/date_cache.hpp"
#include "upshift/base/byte_buffer.hpp"
#include "upshift/net/loop.hpp"
#include "upshift/net/socket.hpp"
#include "upshift/net/stream.hpp"
#include "upshift/server/exchange.hpp"
#include "upshift/server/options.hpp"

namespace upshift::net { class acceptor; }
namespace upshift::tls { class stream; }

namespace upshift::server::detail {

class connection;
class tls_handshake;

class worker {
public:
    worker(options const& opts, handler const& h, std::atomic<std::size_t>& total_connections);
    ~worker();

    /// Takes ownership of a bound listening socket.
    void attach_listener(net::fd listener);
    /// Takes ownership of a bound listening socket whose connections speak TLS.
    void attach_tls_listener(net::fd listener, std::shared_ptr<tls::server_context> ctx);
    /// Runs until a stop is requested and the graceful drain is over.
    void run();
    /// Async-signal-safe.
    void request_stop() noexcept { loop_.stop(); }

    net::loop& loop() noexcept { return loop_; }
    options const& opts() const noexcept { return opts_; }
    handler const& app() const noexcept { return handler_; }
    std::string_view date() noexcept { return dates_.get(loop_.unix_now()); }
    bool shutting_down() const noexcept { return shutting_down_; }
    /// Scratch space for serialising heads (one loop thread, so one buffer).
    byte_buffer& scratch() noexcept { return scratch_; }

    /// Called by a connection once it is closed; frees it after the dispatch phase.
    void release(connection* c) noexcept;
    /// The same for a TLS handshake that ended (handed on or closed).
    void release(tls_handshake* h) noexcept;

    /// Starts an HTTP/1.1 connection on `s`; null when over max_connections or stopping
    /// (the stream is closed then). `secure`: `s` is TLS. `registered`: `s`'s fd was detach()ed
    /// from this loop and stayed open since (a TLS handshake handing on), so it is taken over.
    connection* accept_connection(std::unique_ptr<net::stream> s, std::string remote, bool secure,
                                  bool registered = false);

private:
    void accept_tls(std::unique_ptr<tls::stream> s, std::string remote);
    bool full() const noexcept;
    void drain();

    options const& opts_;
    handler const& handler_;
    std::atomic<std::size_t>& total_;
    net::loop loop_;
    std::unique_ptr<net::acceptor> acceptor_;
    std::unique_ptr<net::acceptor> tls_acceptor_;
    std::shared_ptr<tls::server_context> tls_;
    date_cache dates_;
    byte_buffer scratch_{4096};
    connection* head_ = nullptr;  // intrusive list of open connections
    std::size_t count_ = 0;
    tls_handshake* handshakes_ = nullptr;  // intrusive list of TLS handshakes under way
    std::size_t handshake_count_ = 0;
    bool shutting_down_ = false;
};

} // namespace upshift::server::detail
