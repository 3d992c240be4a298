#pragma once
// The first stage of a connection on the HTTPS listener: it drives the TLS
// handshake (which must finish within options::header_timeout), then passes the
// stream on by the protocol ALPN chose (RFC 7301): "h2" to HTTP/2 through
// options::h2_over_tls (RFC 9113 §3.2), anything else ("http/1.1", or no ALPN from
// the client) to an HTTP/1.1 connection that knows it is secure.
//
// Application bytes that arrived with the client's last handshake flight (TLS 1.3
// clients often send their first request right behind Finished) are read here,
// decrypted, and go with the stream: upgraded::leftover for HTTP/2, a replay in
// front of the stream for HTTP/1.1.
#include <cstdint>
#include <memory>
#include <string>

#include "upshift/net/loop.hpp"
#include "upshift/tls/stream.hpp"

namespace upshift::server::detail {

class worker;

class tls_handshake final : public net::io_handler {
public:
    tls_handshake(worker& w, std::unique_ptr<tls::stream> s, std::string remote);

    /// Registers with the loop (readable) and arms the handshake timeout.
    void start();
    /// Drops the connection (timeout, failed handshake, server shutdown).
    void close_now();

    // intrusive list of a worker's handshakes
    tls_handshake* prev = nullptr;
    tls_handshake* next = nullptr;

    void on_io(std::uint32_t events) override;

private:
    /// The handshake is done; `early` holds application bytes already decrypted.
    void finish(std::string early);

    worker& worker_;
    std::unique_ptr<tls::stream> stream_;
    std::string remote_;
    net::timer timer_;
    bool done_ = false; // closed or handed on
};

} // namespace upshift::server::detail
