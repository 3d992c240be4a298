#include "server/detail/tls_handshake.hpp"

#include <algorithm>
#include <cstring>

#include "server/detail/connection.hpp"
#include "server/detail/worker.hpp"
#include "upshift/upgrade/upgraded.hpp"

namespace upshift::server::detail {
namespace {

// One TLS record's worth of plaintext (RFC 8446 §5.1): the read that completes the
// handshake may also return the first application record, whole.
constexpr std::size_t record_size = 16 * 1024;
// More than a client can send before it hears from the server: the first HTTP/2
// flight is bounded by the initial 64 KiB window (RFC 9113 §6.9.2).
constexpr std::size_t max_early = 256 * 1024;

/// The HTTP/1.1 connection reads `held` (decrypted here, during the handshake)
/// before anything from the TLS stream. tls::stream offers no way to finish the
/// handshake without reading application data, hence this replay.
class replay_stream final : public net::stream {
public:
    replay_stream(std::string held, std::unique_ptr<net::stream> inner)
        : held_(std::move(held)), inner_(std::move(inner)) {}

    net::io_result read(std::span<char> buf) override {
        if (used_ == held_.size()) return inner_->read(buf);
        std::size_t const n = std::min(buf.size(), held_.size() - used_);
        std::memcpy(buf.data(), held_.data() + used_, n);
        used_ += n;
        if (used_ == held_.size()) std::string().swap(held_), used_ = 0;
        return {n, {}, false};
    }
    net::io_result writev(std::span<iovec const> bufs) override { return inner_->writev(bufs); }
    std::size_t pending() const noexcept override { return held_.size() - used_ + inner_->pending(); }
    int native_handle() const noexcept override { return inner_->native_handle(); }
    void shutdown_write() noexcept override { inner_->shutdown_write(); }
    void close() noexcept override { inner_->close(); }

private:
    std::string held_;
    std::size_t used_ = 0;
    std::unique_ptr<net::stream> inner_;
};

} // namespace

tls_handshake::tls_handshake(worker& w, std::unique_ptr<tls::stream> s, std::string remote)
    : worker_(w), stream_(std::move(s)), remote_(std::move(remote)), timer_(w.loop()) {}

void tls_handshake::start() {
    // Readable only: the server's flights are small, so a write that would block
    // during the handshake is theoretical (docs/decisions/0009-tls-stream.md).
    worker_.loop().add(stream_->native_handle(), this, net::loop::readable);
    // Like a request head, a handshake that does not finish in time costs a
    // socket and memory for nothing: the same bound applies.
    timer_.start(worker_.opts().header_timeout, [this] { close_now(); });
}

void tls_handshake::on_io(std::uint32_t) {
    if (done_) return;
    // The handshake runs inside read(); once it is done, read() goes on to any
    // application data already received. Everything OpenSSL holds (it reads ahead)
    // comes out now: readiness on the socket announces only what is still in the
    // kernel, and that is what the next owner waits for.
    char buf[record_size];
    std::string early;
    for (;;) {
        auto r = stream_->read({buf, sizeof buf});
        if (r.bytes > 0) {
            early.append(buf, r.bytes);
            // Bounded against a client that keeps sending: past this the next owner
            // reads on while pending() says so (the net::stream contract).
            if (stream_->pending() == 0 || early.size() >= max_early) break;
            continue;
        }
        if (r.ec == std::errc::operation_would_block) {
            if (!stream_->handshake_done()) return; // more of the handshake to come
            break;
        }
        if (!early.empty()) break; // the end follows the bytes: the next owner reads it
        // EOF, a reset, or a failed handshake (e.g. RFC 7301 §3.2: no protocol in
        // common, the no_application_protocol alert is already on its way).
        close_now();
        return;
    }
    finish(std::move(early));
}

void tls_handshake::close_now() {
    if (done_) return;
    done_ = true;
    timer_.cancel();
    worker_.loop().forget_before_close(stream_->native_handle());
    stream_->close();
    worker_.release(this);
}

void tls_handshake::finish(std::string early) {
    done_ = true;
    timer_.cancel();
    // The next owner (HTTP/2 or HTTP/1.1) takes the fd over without a system call (loop::detach,
    // loop::take_over).
    worker_.loop().detach(stream_->native_handle());
    auto const& hook = worker_.opts().h2_over_tls;
    bool const h2 = hook && stream_->alpn() == "h2";
    std::unique_ptr<net::stream> s = std::move(stream_);
    worker_.release(this);
    if (h2) {
        // RFC 9113 §3.2: "h2" chosen by ALPN means HTTP/2 from the first byte: no
        // Upgrade, no 101; the client preface is in `early` or on its way.
        upgrade::upgraded u;
        u.stream = std::move(s);
        u.leftover = std::move(early);
        u.protocol = "h2";
        u.remote = std::move(remote_);
        u.loop = &worker_.loop();
        u.secure = true;
        u.registered = true;
        hook(std::move(u));
        return;
    }
    bool const replay = !early.empty();
    if (replay) s = std::make_unique<replay_stream>(std::move(early), std::move(s));
    auto* c = worker_.accept_connection(std::move(s), std::move(remote_), true, true);
    // The first bytes are here already: no readiness would announce them.
    if (c && replay) c->on_io(net::loop::readable);
}

} // namespace upshift::server::detail
