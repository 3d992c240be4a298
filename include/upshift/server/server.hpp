#pragma once
// The server facade: binds listeners, runs one event loop per thread, serves
// HTTP/1.1 with the given handler, and stops gracefully.
#include <memory>
#include <system_error>

#include "upshift/server/exchange.hpp"
#include "upshift/server/options.hpp"

namespace upshift::server {

enum class error {
    interim_after_final = 1,  ///< send_interim after the final response started
    interim_to_http10,        ///< 1xx not sent: the client speaks HTTP/1.0 (RFC 9110 §15.2)
    bad_interim_status,       ///< not 1xx, or 101 (101 only through switch_protocols)
    connection_lost,          ///< the peer went away
    body_too_large,           ///< request body above the limit
    timeout,                  ///< header, body, idle or write timeout
    /// listen(): options::tls_upgrade carries the same leaf certificate as options::tls
    /// (the Opossum attack against our own HTTPS port; options::tls_upgrade_allow_same_certificate)
    tls_upgrade_same_certificate,
};
std::error_category const& error_category() noexcept;
inline std::error_code make_error_code(error e) noexcept { return {static_cast<int>(e), error_category()}; }

class server {
public:
    server(options opts, handler h);
    ~server();
    server(server const&) = delete;
    server& operator=(server const&) = delete;

    /// Binds the listeners. After success, port() is the bound port (useful with port 0).
    std::error_code listen();
    std::uint16_t port() const noexcept;
    /// The bound HTTPS port (options::tls set), else 0.
    std::uint16_t tls_port() const noexcept;

    /// Runs the loops (the calling thread runs the first one) until stop() and the
    /// graceful drain completes.
    void run();

    /// Thread-safe and async-signal-safe: stop accepting, finish in-flight
    /// responses (up to options::shutdown_grace), close idle connections, return from run().
    void stop() noexcept;

    /// Connections currently open across all loops, upgraded ones (WebSocket, HTTP/2, custom
    /// protocols) included (approximate, for tests and metrics). Call it after listen().
    std::size_t connection_count() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace upshift::server

template <>
struct std::is_error_code_enum<upshift::server::error> : std::true_type {};
