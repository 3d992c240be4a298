#pragma once
// net::stream over TLS: the server side of a TLS connection on top of an
// existing (plain) stream, usually a net::tcp_stream. Non-blocking like every
// net::stream: OpenSSL's WANT_READ / WANT_WRITE come back as
// operation_would_block, and the handshake runs inside read() and writev()
// until it is done, so the owner drives it with the same readiness loop it
// uses for plaintext.
//
// Seeding (RFC 2817 in-place upgrade): bytes the owner already read from the
// socket (the ClientHello may sit in the HTTP read buffer behind the upgrade
// request) are handed to the constructor; OpenSSL reads them before anything
// from the inner stream. After construction with a seed, call read() at once:
// the seed may already hold the whole ClientHello, so the socket may never
// become readable again on its own.
#include <memory>
#include <string>
#include <string_view>

#include "upshift/net/stream.hpp"
#include "upshift/tls/context.hpp"

struct ssl_st;  // OpenSSL's SSL

namespace upshift::tls {

class stream final : public net::stream {
public:
    stream(std::shared_ptr<server_context> ctx, std::unique_ptr<net::stream> inner, std::string_view seed = {});
    ~stream() override;
    stream(stream const&) = delete;
    stream& operator=(stream const&) = delete;

    /// Decrypted application data. Errors: the inner stream's error, or
    /// errc::protocol_error for a failed handshake or a bad record (see last_error()).
    /// eof on close_notify or when the peer closes the TCP connection.
    net::io_result read(std::span<char> buf) override;
    /// Encrypts up to one record (16 KiB) per SSL_write. After operation_would_block the
    /// owner must offer the same bytes again (more may follow), as with a plain socket.
    net::io_result writev(std::span<iovec const> bufs) override;
    int native_handle() const noexcept override;
    /// Sends close_notify (best effort, once the handshake is done), then half-closes TCP.
    void shutdown_write() noexcept override;
    void close() noexcept override;

    bool handshake_done() const noexcept;
    /// The application protocol ALPN selected in the handshake ("h2", "http/1.1"),
    /// empty before the handshake is done or when the client offered none (RFC 7301).
    std::string_view alpn() const noexcept;
    /// OpenSSL's reason for the last protocol_error, for logs.
    std::string const& last_error() const noexcept { return last_error_; }

    /// What the custom BIO reads from and writes to (src/tls/stream_bio.cpp).
    struct transport {
        std::unique_ptr<net::stream> inner;
        std::string seed;           ///< bytes served before the inner stream's
        std::size_t seed_used = 0;
        std::error_code inner_error;  ///< a real error from the inner stream
    };

private:
    /// Maps SSL_get_error() to an io_result; marks the stream failed on real errors.
    net::io_result fail(int ssl_error);

    std::shared_ptr<server_context> ctx_;
    transport transport_;
    ssl_st* ssl_ = nullptr;
    std::size_t pending_write_ = 0;  ///< length of an SSL_write that must be retried as is
    std::string staging_;            ///< gathers small iovecs into one record
    std::string last_error_;
    bool failed_ = false;
    bool closed_ = false;
};

} // namespace upshift::tls
