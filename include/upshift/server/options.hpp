#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "upshift/http1/limits.hpp"
#include "upshift/net/socket.hpp"
#include "upshift/tls/context.hpp"
#include "upshift/upgrade/protocol.hpp"

namespace upshift::server {

/// One line of the access log, handed to options::access_log after each response.
struct access_entry {
    std::string_view remote;     ///< peer address "ip:port"
    std::string_view method;
    std::string_view target;
    int version_major = 1;       ///< 2 for an HTTP/2 stream (then version_minor is 0)
    int version_minor = 1;
    unsigned status = 0;
    std::uint64_t body_bytes = 0;  ///< response body bytes sent
    std::chrono::microseconds duration{0};
};

/// options::tls_upgrade_policy: which requests may switch to TLS in place (RFC 2817).
enum class tls_upgrade_mode : std::uint8_t {
    options_only,  ///< only `OPTIONS *` (§3.2); Opossum-resistant, the default
    any_request,   ///< any request, answered over TLS (§3.3); unsafe, see docs/security.md
};

struct options {
    net::endpoint listen{"127.0.0.1", 8080};
    unsigned threads = 1;               ///< event loops, each with its own SO_REUSEPORT listener
    http1::limits limits;               ///< parser limits (414/431/413/...)

    std::chrono::milliseconds header_timeout{10'000};  ///< whole request head must arrive within -> 408 + close
    std::chrono::milliseconds idle_timeout{60'000};    ///< keep-alive connection with no request -> close
    std::chrono::milliseconds body_timeout{30'000};    ///< no body progress for this long -> close
    std::chrono::milliseconds write_timeout{30'000};   ///< no write progress for this long -> close
    std::chrono::milliseconds shutdown_grace{10'000};  ///< graceful stop: in-flight work gets this long
    /// While a handler has not started its final response, send "102 Processing"
    /// this often so clients and proxies know the request is alive (RFC 2518
    /// §10.1; never to HTTP/1.0 clients). 0 disables it.
    std::chrono::milliseconds processing_interval{0};

    std::size_t read_buffer_size = 16 * 1024;   ///< bytes read per read() call
    std::size_t send_high_water = 1 << 20;      ///< streamed response: write() returns false above this
    std::size_t max_pipelined_bytes = 1 << 20;  ///< unprocessed pipelined input held before we stop reading
    /// Per loop: HTTP/1.1 connections, TLS handshakes and upgraded connections (WebSocket, HTTP/2,
    /// custom protocols) together; beyond it new connections are closed at once.
    std::size_t max_connections = 100'000;

    std::string server_header = "upshift";      ///< "" to omit
    bool date_header = true;

    /// Protocols the server switches to on its own: a request offering one of
    /// them is upgraded before the handler sees it (the handler sees the rest).
    /// A 426 without an Upgrade field gets `Upgrade: <these>` (RFC 9110 §15.5.22).
    std::shared_ptr<upgrade::registry const> protocols;

    /// RFC 9113 §3.3 (HTTP/2 with prior knowledge): when set, a connection whose
    /// first bytes are the HTTP/2 client preface ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
    /// is handed over as it is, no 101, with those bytes in upgraded::leftover
    /// (h2c::service::prior_knowledge() provides one). Empty: the preface is
    /// parsed as HTTP/1.1 and rejected like any other unsupported version.
    std::function<void(upgrade::upgraded)> prior_knowledge;

    /// RFC 9110 §7.8: a server MAY advertise in any response the protocols it
    /// would switch to. When set (e.g. "h2c", h2c::service::advertisement()),
    /// every final response to an HTTP/1.1 request gets `Upgrade: <this>` and the
    /// "upgrade" connection option, unless the handler set an Upgrade field itself
    /// (a 426). Empty: nothing is advertised.
    std::string advertise_upgrade;

    /// HTTPS: when set, the server also listens on tls_listen and serves the same
    /// handler over TLS there (tls::server_context::load reads the certificate and
    /// key, so the caller can report OpenSSL's reason when they do not load).
    std::shared_ptr<tls::server_context> tls;
    net::endpoint tls_listen{"127.0.0.1", 8443};
    /// HTTP/2 over TLS (RFC 9113 §3.2): when set, the server makes `tls` offer ALPN "h2"
    /// before "http/1.1" (RFC 7301; without it, "http/1.1" only), and a connection that
    /// chose "h2" is handed over once its handshake is done: no 101, protocol "h2",
    /// secure = true, any bytes already decrypted in upgraded::leftover (the client
    /// preface starts them or follows). h2c::service::prior_knowledge() serves it.
    /// The handshake itself must finish within header_timeout.
    std::function<void(upgrade::upgraded)> h2_over_tls;

    /// RFC 2817 in-place upgrade to TLS on the plaintext listener: when set, a request offering
    /// `Upgrade: TLS/1.x` (with Connection: upgrade, no body) may get `101`, then the TLS handshake
    /// on the same socket, then its response over TLS (docs/security.md). Give it a context of
    /// its own: the upgraded connection speaks HTTP/1.1 only, so no ALPN "h2" there.
    std::shared_ptr<tls::server_context> tls_upgrade;
    /// Which requests switch (docs/security.md, "Opossum"). options_only (the default): only
    /// `OPTIONS *` (RFC 2817 §3.2), answered over TLS by a fixed body-less 200 that nobody can
    /// choose; other requests offering TLS are answered in plaintext as if they had not offered
    /// it (§3.1). any_request: any request switches and is answered over TLS by the handler
    /// (§3.3), which lets a man-in-the-middle choose the first response a TLS client sees.
    tls_upgrade_mode tls_upgrade_policy = tls_upgrade_mode::options_only;
    /// listen() refuses (error::tls_upgrade_same_certificate) a tls_upgrade context whose leaf
    /// certificate is the one of `tls`: an attacker could redirect HTTPS clients of this very
    /// server to the upgrade port. true: the operator accepts that risk.
    bool tls_upgrade_allow_same_certificate = false;

    /// Called on the loop thread after each response; empty = no access log.
    std::function<void(access_entry const&)> access_log;
};

} // namespace upshift::server
