#pragma once
// A small, blocking RFC 2817 client: on an already connected TCP socket it sends
// a request offering `Upgrade: TLS/1.2`, reads the plaintext answer, and after a
// `101 Switching Protocols` runs the TLS handshake on the same socket (verifying
// the server's certificate against a CA file and a host name), then carries
// application data over TLS. The tests use it; a full client library comes later.
//
//   upgrade_client c{{.ca_file = "cert.pem", .host = "localhost"}};
//   auto r = c.upgrade(fd);          // OPTIONS * by default (RFC 2817 §3.2)
//   if (r.switched) { c.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"); auto bytes = c.read_some(); }
//
// Over TLS the server first answers the upgrade request itself (§3.3), then
// whatever was written after it. Not thread-safe; one upgrade per object.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct ssl_st;      // OpenSSL's SSL
struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace upshift::tls {

struct upgrade_client_options {
    /// PEM file of the certificates to trust; empty: the system's default trust store.
    std::string ca_file;
    /// Host: field, SNI, and the name the certificate must carry.
    std::string host = "localhost";
    std::string method = "OPTIONS";
    std::string target = "*";                  ///< "*" with OPTIONS: no resource (RFC 2817 §3.2)
    std::string upgrade = "TLS/1.2";           ///< the Upgrade field's value
    std::vector<std::string> extra_fields;     ///< more "Name: value" lines for the request
    /// Send the ClientHello in the same write as the request, before the 101 arrives (one round
    /// trip less; the server must hand the bytes read after the request to TLS). If the server
    /// answers in plaintext instead, those bytes were sent for nothing.
    bool optimistic = false;
    /// Each socket operation's limit (SO_RCVTIMEO / SO_SNDTIMEO).
    std::chrono::milliseconds timeout{10'000};
    /// How the bytes of the first write (request, plus the ClientHello when optimistic) go out;
    /// empty: one send of everything. Tests use it to split the bytes. Returns false on failure.
    std::function<bool(int fd, std::string_view bytes)> send_first;
};

struct upgrade_result {
    bool switched = false;  ///< 101 received and the TLS handshake succeeded
    int status = 0;         ///< the plaintext response's status (101 when the server switched)
    std::string head;       ///< the plaintext response head as received, through the blank line
    std::string error;      ///< what failed (transport, malformed response, TLS handshake), else ""
};

class upgrade_client {
public:
    explicit upgrade_client(upgrade_client_options opts);
    ~upgrade_client();
    upgrade_client(upgrade_client const&) = delete;
    upgrade_client& operator=(upgrade_client const&) = delete;

    /// Runs the upgrade on `fd`, a connected blocking TCP socket (not owned: close it after this
    /// object is gone). The plaintext response is read byte by byte up to its blank line, so when
    /// the server answers without switching, its body is still on the socket for the caller.
    upgrade_result upgrade(int fd);

    /// After a switch: writes all of `data` over TLS. False on error (see error()).
    bool write(std::string_view data);
    /// After a switch: up to `max` decrypted bytes, blocking (up to the timeout) for at least one;
    /// "" at the end of the stream; nullopt on error or timeout (see error()).
    std::optional<std::string> read_some(std::size_t max = 16 * 1024);
    /// After a switch: everything until the end of the stream (nullopt on error or timeout).
    std::optional<std::string> read_to_end();

    /// The TLS version negotiated ("TLSv1.3"), "" before a switch.
    std::string tls_version() const;
    std::string const& error() const noexcept { return error_; }

private:
    bool fail(std::string what);

    upgrade_client_options opts_;
    ssl_ctx_st* ctx_ = nullptr;
    ssl_st* ssl_ = nullptr;
    int fd_ = -1;
    bool switched_ = false;
    std::string error_;
};

} // namespace upshift::tls
