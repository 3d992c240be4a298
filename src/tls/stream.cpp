#include "upshift/tls/stream.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>

#include "tls/stream_bio.hpp"

namespace upshift::tls {
namespace {

constexpr std::size_t max_record = 16 * 1024;  // TLS plaintext record limit (RFC 8446 §5.1)

/// SSL_get_error() needs the thread's error queue empty before each TLS call. It nearly
/// always is; looking costs less than ERR_clear_error(), which resets all 16 slots
/// (about 1 % of the server's CPU per keep-alive request when called unconditionally).
void clear_errors() {
    if (ERR_peek_error() != 0) ERR_clear_error();
}

/// Gathers small iovecs into one record. Per thread rather than per stream: it is
/// only needed during one SSL_write, and a retried write gathers the same bytes again
/// from the owner's buffers (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER), so idle
/// connections hold no copy of it (the per-stream string kept up to 16 KiB each).
std::string& staging_buffer() {
    thread_local std::string buffer;
    return buffer;
}

} // namespace

stream::stream(std::shared_ptr<server_context> ctx, std::unique_ptr<net::stream> inner, std::string_view seed)
    : ctx_(std::move(ctx)) {
    transport_.inner = std::move(inner);
    transport_.held.assign(seed);
    ssl_ = SSL_new(ctx_->native());
    BIO* bio = ssl_ ? detail::make_stream_bio(transport_) : nullptr;
    if (!bio) {
        failed_ = true;
        last_error_ = "out of memory creating the TLS session";
        return;
    }
    SSL_set_bio(ssl_, bio, bio);  // the SSL owns the BIO from here
    SSL_set_accept_state(ssl_);
    // No SSL_set_read_ahead(): OpenSSL would take up to its whole 16 KiB buffer from
    // the socket whatever the caller's room, and keep what does not fit where readiness
    // does not announce it. The BIO reads ahead instead, within read()'s budget.
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

namespace {

/// The length of the record at the front of `bytes` (its header, RFC 8446 §5.1), if known.
std::size_t record_length(std::string_view bytes) {
    constexpr std::size_t header = 5;
    if (bytes.size() < header) return 0;
    auto const byte = [&](std::size_t i) { return std::size_t{static_cast<unsigned char>(bytes[i])}; };
    return header + (byte(3) << 8 | byte(4));
}

/// An AEAD record's plaintext is at least its 16-byte tag shorter than its ciphertext.
constexpr std::size_t min_record_overhead = 5 + 16;

} // namespace

net::io_result stream::read(std::span<char> buf) {
    net::io_result r;
    if (has_held_back_ && !closed_) {
        has_held_back_ = false;
        return held_back_;
    }
    if (closed_ || failed_) {
        r.ec = std::make_error_code(closed_ ? std::errc::bad_file_descriptor : std::errc::protocol_error);
        return r;
    }
    if (buf.empty()) return r;
    starved_ = false;
    clear_errors();
    std::size_t total = 0;
    for (;;) {
        // One read of the socket may take what fits the room left (more ciphertext than
        // plaintext, so whole records taken that way fit it too).
        std::size_t const room = buf.size() - total;
        std::size_t const unread = transport_.unread().size();
        transport_.read_budget = room > unread ? room - unread : 0;
        std::size_t got = 0;
        int rc = SSL_read_ex(ssl_, buf.data() + total, room, &got);
        transport_.read_budget = 0;
        if (rc == 1) {
            total += got;
            if (total == buf.size()) break;
            // SSL_read_ex returns one record at most. Go on while the next one was
            // received with it, so a short read means "all that has arrived", as on a
            // socket. A record whose start only is here goes on only if it can fit
            // (its rest is in the kernel, where readiness announces it).
            auto const next = transport_.unread();
            if (next.empty()) break;
            std::size_t const len = record_length(next);
            bool const whole = len > 0 && next.size() >= len;
            if (!whole && (len == 0 || len > buf.size() - total + min_record_overhead)) break;
            continue;
        }
        auto f = fail(SSL_get_error(ssl_, rc));
        if (f.ec == std::errc::operation_would_block) starved_ = true;
        if (total == 0) return f;
        if (f.ec != std::errc::operation_would_block) {
            held_back_ = f;  // the bytes first; the end of the stream next time
            has_held_back_ = true;
        }
        break;
    }
    r.bytes = total;
    return r;
}

std::size_t stream::pending() const noexcept {
    if (closed_) return 0;
    if (has_held_back_) return 1;
    if (failed_ || !ssl_) return 0;
    if (int n = SSL_pending(ssl_); n > 0) return static_cast<std::size_t>(n);
    auto const unread = transport_.unread();
    if (unread.empty() || starved_) return 0;
    // Before the handshake: the seed, whatever it holds. After: only a whole record
    // is worth a read; the rest of a partial one comes with readiness.
    if (!SSL_is_init_finished(ssl_)) return unread.size();
    std::size_t const len = record_length(unread);
    return len > 0 && unread.size() >= len ? unread.size() : 0;
}

net::io_result stream::writev(std::span<iovec const> bufs) {
    net::io_result r;
    if (closed_ || failed_) {
        r.ec = std::make_error_code(closed_ ? std::errc::bad_file_descriptor : std::errc::protocol_error);
        return r;
    }
    // A write may read too (the rest of a handshake): let pending() look again.
    starved_ = false;
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
            auto& staging = staging_buffer();
            staging.clear();
            while (staging.size() < len) {
                std::size_t take = std::min(len - staging.size(), bufs[vi].iov_len - voff);
                staging.append(static_cast<char const*>(bufs[vi].iov_base) + voff, take);
                voff += take;
                if (voff == bufs[vi].iov_len) ++vi, voff = 0;
            }
            data = staging.data();
        }
        if (vi < bufs.size() && voff == bufs[vi].iov_len) ++vi, voff = 0;
        clear_errors();
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
