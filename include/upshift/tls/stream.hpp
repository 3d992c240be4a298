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
// from the inner stream. After construction with a seed, call read() at once
// (pending() says so): the seed may already hold the whole ClientHello, so the
// socket may never become readable again on its own.
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

    /// Decrypted application data, as much as fits of what has arrived: records
    /// received together are decrypted into one call's buffer. Errors: the inner
    /// stream's error, or errc::protocol_error for a failed handshake or a bad record
    /// (see last_error()). eof on close_notify or when the peer closes the TCP
    /// connection. An eof or error met after some bytes comes with the next call.
    net::io_result read(std::span<char> buf) override;
    /// Nonzero when read() has something to return without the socket becoming
    /// readable: decrypted bytes that did not fit the last buffer, a whole record
    /// received with an earlier one, an unread seed, an eof or error held back
    /// behind bytes.
    ///
    /// One recv per batch of records, not two per record: a read of the socket
    /// takes up to the room left in the caller's buffer, so records received
    /// together normally all fit it. Hence, for owners that do not call pending():
    /// a short read leaves nothing complete inside the stream, and a read of at
    /// least 16 KiB leaves no decrypted remainder (as before read-ahead), except
    /// records without application data (an alert, a key update) queued behind
    /// data that filled the buffer exactly.
    std::size_t pending() const noexcept override;
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
        /// Bytes received but not yet given to OpenSSL, served before the inner stream's:
        /// the seed, then what a read took beyond the record OpenSSL asked for. Between
        /// records it starts at a record boundary (OpenSSL itself never reads ahead).
        std::string held;
        std::size_t held_used = 0;
        /// How many bytes one read of the inner stream may take beyond what OpenSSL asked
        /// for: set by stream::read() to the room left in the caller's buffer, 0 otherwise.
        std::size_t read_budget = 0;
        std::error_code inner_error;  ///< a real error from the inner stream

        std::string_view unread() const noexcept { return std::string_view(held).substr(held_used); }
    };

private:
    /// Maps SSL_get_error() to an io_result; marks the stream failed on real errors.
    net::io_result fail(int ssl_error);

    std::shared_ptr<server_context> ctx_;
    transport transport_;
    ssl_st* ssl_ = nullptr;
    std::size_t pending_write_ = 0;  ///< length of an SSL_write that must be retried as is
    std::string last_error_;
    net::io_result held_back_;       ///< eof or error met after bytes, returned by the next read()
    bool has_held_back_ = false;
    bool starved_ = false;           ///< the last read() ended wanting bytes from the socket
    bool failed_ = false;
    bool closed_ = false;
};

} // namespace upshift::tls
