#include "upshift/tls/stream.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>

#include "tls/stream_bio.hpp"

namespace upshift::tls {
namespace {

constexpr std::size_t max_record = 16 * 1024;  // TLS plaintext record limit (RFC 8446 §5.1)

} // namespace

stream::stream(std::shared_ptr<server_context> ctx, std::unique_ptr<net::stream> inner, std::string_view seed)
    : ctx_(std::move(ctx)) {
    transport_.inner = std::move(inner);
    transport_.seed.assign(seed);
    ssl_ = SSL_new(ctx_->native());
    BIO* bio = ssl_ ? detail::make_stream_bio(transport_) : nullptr;
    if (!bio) {
        failed_ = true;
        last_error_ = "out of memory creating the TLS session";
        return;
    }
    SSL_set_bio(ssl_, bio, bio);  // the SSL owns the BIO from here
    SSL_set_accept_state(ssl_);
}

stream::~stream() { SSL_free(ssl_); }

net::io_result stream::fail(int ssl_error) {
    net::io_result r;
    switch (ssl_error) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        r.ec = std::make_error_code(std::errc::operation_would_block);
        return r;
    case SSL_ERROR_ZERO_RETURN:  // close_notify, or TCP EOF (SSL_OP_IGNORE_UNEXPECTED_EOF)
        r.eof = true;
        return r;
    case SSL_ERROR_SYSCALL:
        if (transport_.inner_error) {
            failed_ = true;
            r.ec = transport_.inner_error;
        } else {
            r.eof = true;  // the transport ended (e.g. during the handshake)
        }
        return r;
    default: {
        failed_ = true;
        char buf[256] = "TLS failure";
        if (unsigned long e = ERR_peek_last_error()) ERR_error_string_n(e, buf, sizeof buf);
        last_error_ = buf;
        r.ec = std::make_error_code(std::errc::protocol_error);
        return r;
    }
    }
}

net::io_result stream::read(std::span<char> buf) {
    net::io_result r;
    if (closed_ || failed_) {
        r.ec = std::make_error_code(closed_ ? std::errc::bad_file_descriptor : std::errc::protocol_error);
        return r;
    }
    if (buf.empty()) return r;
    ERR_clear_error();
    std::size_t got = 0;
    int rc = SSL_read_ex(ssl_, buf.data(), buf.size(), &got);
    if (rc == 1) {
        r.bytes = got;
        return r;
    }
    return fail(SSL_get_error(ssl_, rc));
}

net::io_result stream::writev(std::span<iovec const> bufs) {
    net::io_result r;
    if (closed_ || failed_) {
        r.ec = std::make_error_code(closed_ ? std::errc::bad_file_descriptor : std::errc::protocol_error);
        return r;
    }
    std::size_t total = 0;
    for (auto const& v : bufs) total += v.iov_len;
    std::size_t done = 0;  // bytes of bufs accepted so far
    std::size_t vi = 0, voff = 0;  // position in bufs
    while (done < total) {
        // One SSL_write of `len` bytes; a retried write must repeat its length exactly.
        std::size_t len = pending_write_ ? pending_write_ : std::min(max_record, total - done);
        if (len > total - done) {
            r.ec = std::make_error_code(std::errc::invalid_argument);  // fewer bytes than the retried write
            return r;
        }
        char const* data;
        if (bufs[vi].iov_len - voff >= len) {
            data = static_cast<char const*>(bufs[vi].iov_base) + voff;
            voff += len;
        } else {  // gather small iovecs into one record rather than one record each
            staging_.clear();
            while (staging_.size() < len) {
                std::size_t take = std::min(len - staging_.size(), bufs[vi].iov_len - voff);
                staging_.append(static_cast<char const*>(bufs[vi].iov_base) + voff, take);
                voff += take;
                if (voff == bufs[vi].iov_len) ++vi, voff = 0;
            }
            data = staging_.data();
        }
        if (vi < bufs.size() && voff == bufs[vi].iov_len) ++vi, voff = 0;
        ERR_clear_error();
        std::size_t written = 0;
        int rc = SSL_write_ex(ssl_, data, len, &written);
        if (rc != 1) {
            auto f = fail(SSL_get_error(ssl_, rc));
            if (f.ec == std::errc::operation_would_block) {
                pending_write_ = len;
                if (done > 0) return {done, {}, false};
                return f;
            }
            if (f.eof) f = {0, std::make_error_code(std::errc::broken_pipe), false};
            if (done > 0 && !failed_) return {done, {}, false};
            return f;
        }
        pending_write_ = 0;
        done += written;
    }
    r.bytes = done;
    return r;
}

int stream::native_handle() const noexcept { return transport_.inner->native_handle(); }

void stream::shutdown_write() noexcept {
    if (closed_) return;
    if (!failed_ && SSL_is_init_finished(ssl_)) {
        ERR_clear_error();
        (void)SSL_shutdown(ssl_);  // queues close_notify; a full socket just drops it
        ERR_clear_error();
    }
    transport_.inner->shutdown_write();
}

void stream::close() noexcept {
    if (closed_) return;
    closed_ = true;
    transport_.inner->close();
}

bool stream::handshake_done() const noexcept { return ssl_ && SSL_is_init_finished(ssl_); }

std::string_view stream::alpn() const noexcept {
    unsigned char const* p = nullptr;
    unsigned n = 0;
    if (ssl_) SSL_get0_alpn_selected(ssl_, &p, &n);
    return {reinterpret_cast<char const*>(p), n};
}

} // namespace upshift::tls
