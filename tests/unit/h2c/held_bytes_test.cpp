// An HTTP/2 session on a stream that holds bytes the socket's readiness does not announce, as
// tls::stream does (decrypted records beyond what one read returns, records read ahead; see
// net::stream::pending() and docs/decisions/0011-tls-performance.md). The session reads at
// most a few times per wakeup and stops reading under back-pressure; whenever it stops while
// pending() is nonzero, it must read again on its own, or requests already received are never
// answered. The session runs on a loop of the test's own, started through h2c::service's prior
// knowledge hook (as tls_handshake.cpp starts HTTP/2 chosen by ALPN) on a holding stream.
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <set>
#include <thread>

#include "h2c_fixture.hpp"
#include "support/piecewise_reader.hpp"
#include "upshift/net/socket.hpp"
#include "upshift/net/stream.hpp"

namespace upshift::test {
namespace {

/// Behaves like TLS with many records in one segment: a read drains the socket into the stream
/// and hands out at most `piece` bytes; pending() tells what it still holds.
struct holding_stream final : net::stream {
    holding_stream(net::fd s, std::size_t piece_size, std::string seed)
        : inner(std::move(s)), holder(piece_size, std::move(seed)) {}
    net::io_result read(std::span<char> buf) override {
        if (++reads == fail_at_read) {
            net::io_result failed{};
            failed.ec = std::make_error_code(std::errc::connection_reset);
            return failed;
        }
        return holder.read(inner, buf);
    }
    std::size_t pending() const noexcept override { return holder.pending(); }
    net::io_result writev(std::span<iovec const> bufs) override { return inner.writev(bufs); }
    int native_handle() const noexcept override { return inner.native_handle(); }
    void shutdown_write() noexcept override { inner.shutdown_write(); }
    void close() noexcept override { inner.close(); }

    net::tcp_stream inner;
    piecewise_reader holder;
    int reads = 0;
    int fail_at_read = 0; // > 0: that read fails (a reset), whatever is held
};

std::string be32(std::uint32_t v) {
    std::string s;
    for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xff));
    return s;
}

constexpr std::uint8_t end_stream = 0x1, end_headers = 0x4, frame_window_update = 0x8;

/// GET http://test/ (RFC 7541 §6.1, §6.2.2): :method GET, :scheme http, :path /, :authority test.
std::string get_root() { return "\x82\x86\x84\x01\x04test"; }

/// `n` GET requests on streams 1, 3, 5, ... in one write.
std::string requests(int n) {
    std::string out;
    for (int i = 0; i < n; ++i)
        out += frame(frame_headers, end_stream | end_headers, static_cast<std::uint32_t>(2 * i + 1), get_root());
    return out;
}

/// How many streams have ended (END_STREAM on HEADERS or DATA) in the whole frames of `bytes`.
/// Reads frame headers only (RFC 9113 §4.1): it runs on every read of megabytes of responses.
std::size_t ended_streams(std::string_view bytes) {
    auto u8 = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])); };
    std::set<std::uint32_t> ended;
    while (bytes.size() >= 9) {
        std::size_t const length = (u8(0) << 16) | (u8(1) << 8) | u8(2);
        if (bytes.size() < 9 + length) break;
        auto const type = static_cast<std::uint8_t>(u8(3));
        if ((type == frame_headers || type == frame_data) && (u8(4) & end_stream))
            ended.insert(((u8(5) << 24) | (u8(6) << 16) | (u8(7) << 8) | u8(8)) & 0x7fffffffu);
        bytes.remove_prefix(9 + length);
    }
    return ended.size();
}

class H2cHeldBytes : public ::testing::Test {
protected:
    void SetUp() override {
        std::error_code ec;
        net::endpoint bound;
        listener_ = net::listen_tcp(net::endpoint{"127.0.0.1", 0}, {}, ec, &bound);
        ASSERT_FALSE(ec) << ec.message();
        port_ = bound.port;
        thread_ = std::thread([this] { loop_.run(); });
    }

    void TearDown() override {
        loop_.post([this] {
            loop_.notify_shutdown(true);
            loop_.stop();
        });
        if (thread_.joinable()) thread_.join();
    }

    /// Accepts the client's connection; a test may shrink its send buffer or read from it first.
    net::fd accept_one() {
        pollfd p{listener_.get(), POLLIN, 0};
        EXPECT_EQ(::poll(&p, 1, 5000), 1) << "no connection to accept";
        std::error_code ec;
        auto accepted = net::accept_tcp(listener_.get(), ec);
        EXPECT_TRUE(accepted) << ec.message();
        return accepted;
    }

    /// Starts a session on `s` on the loop, as the prior knowledge hook is called after a TLS handshake.
    void start_session(std::unique_ptr<net::stream> s, std::string leftover, h2c::options o = {},
                       std::size_t body_size = 2) {
        h2c::service const svc{[body_size](exchange& ex) {
                                   ex.respond(status::ok, {{"Content-Type", "text/plain"}},
                                              std::string(body_size, 'x'));
                               },
                               o};
        loop_.post([this, pk = svc.prior_knowledge(), s = std::move(s), leftover = std::move(leftover)]() mutable {
            upgrade::upgraded u;
            u.stream = std::move(s);
            u.leftover = std::move(leftover);
            u.remote = "127.0.0.1:1";
            u.loop = &loop_;
            u.secure = true;
            pk(std::move(u));
        });
    }

    /// Reads until `n` streams have ended; false (with what arrived) on timeout.
    static ::testing::AssertionResult answered(raw_client& c, std::size_t n) {
        auto r = c.read_until([n](std::string_view buf) -> std::size_t { return ended_streams(buf) >= n ? buf.size() : 0; },
                              10s);
        if (r) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << ended_streams(c.received()) << " of " << n
                                             << " streams answered: " << c.error();
    }

    std::uint16_t port_ = 0;

private:
    net::fd listener_;
    net::loop loop_;
    std::thread thread_;
};

// RFC 9113 §5: a client may send many requests at once on one connection; each is answered.
// Here they all arrive in one segment and the stream hands them out 7 bytes at a time: the
// session's bounded reads per wakeup end long before the stream is empty, and the socket has
// nothing more to announce.
TEST_F(H2cHeldBytes, RequestsHeldInTheStreamAreAllAnswered) {
    raw_client c{port_};
    ASSERT_TRUE(c.connected()) << c.error();
    auto accepted = accept_one();
    ASSERT_TRUE(accepted);
    start_session(std::make_unique<holding_stream>(std::move(accepted), 7, ""), "");
    ASSERT_TRUE(c.send_all(std::string(h2c::client_preface) + empty_settings_frame() + requests(10)));
    EXPECT_TRUE(answered(c, 10));
}

// RFC 9113 §3.4: the preface comes first (the hand-off's leftover bytes, upgrade contract §3);
// the requests behind it were already taken from the socket into the stream (as a TLS
// handshake reads the first records with its last flight), so no readiness ever comes for them.
TEST_F(H2cHeldBytes, RequestsHeldAtTheStartAreAnswered) {
    raw_client c{port_};
    ASSERT_TRUE(c.connected()) << c.error();
    auto accepted = accept_one();
    ASSERT_TRUE(accepted);
    std::string const rest = empty_settings_frame() + requests(3);
    ASSERT_TRUE(c.send_all(std::string(h2c::client_preface) + rest));
    // Everything the client sent is read here, before the session starts.
    std::string got;
    while (got.size() < h2c::client_preface.size() + rest.size()) {
        pollfd p{accepted.get(), POLLIN, 0};
        ASSERT_EQ(::poll(&p, 1, 5000), 1) << "only " << got.size() << " bytes arrived";
        char buf[4096];
        auto const r = net::read_some(accepted.get(), buf);
        if (r.bytes == 0 && r.ec == std::errc::operation_would_block) continue;
        ASSERT_GT(r.bytes, 0u) << "the client closed";
        got.append(buf, r.bytes);
    }
    std::string leftover = got.substr(0, h2c::client_preface.size());
    std::string held = got.substr(h2c::client_preface.size());
    start_session(std::make_unique<holding_stream>(std::move(accepted), 4096, std::move(held)), std::move(leftover));
    EXPECT_TRUE(answered(c, 3));
}

// RFC 9113 §5: every request is answered, also when the session stops reading because the
// client does not read its responses (output_high_water) while the stream still holds requests:
// when the client reads and the queue drains, reading resumes without readiness on the socket.
TEST_F(H2cHeldBytes, RequestsHeldAcrossBackPressureAreAnswered) {
    raw_client c{port_};
    ASSERT_TRUE(c.connected()) << c.error();
    auto accepted = accept_one();
    ASSERT_TRUE(accepted);
    // A small socket send buffer: the responses soon wait in the session's own queue.
    int const sndbuf = 16 * 1024;
    ::setsockopt(accepted.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    h2c::options o;
    o.output_high_water = 16 * 1024;
    start_session(std::make_unique<holding_stream>(std::move(accepted), 7, ""), "", o, 256 * 1024);
    // Windows wide open (RFC 9113 §6.5.2, §6.9): only the client's reading limits the responses.
    std::string const settings = frame(frame_settings, 0, 0, std::string("\x00\x04", 2) + be32(0x7fffffff));
    std::string const window = frame(frame_window_update, 0, 0, be32(0x7fffffff - 65535));
    int const n = 4;
    ASSERT_TRUE(c.send_all(std::string(h2c::client_preface) + settings + window + requests(n)));
    EXPECT_TRUE(answered(c, n));
}

// The session's lifetime: a read it deferred for held bytes may still be queued when the session
// closes in the same dispatch, behind the deferred reap of a stream that just ended. Here the first
// read brings the preface and request 1, whose response ends stream 1 (a reap is queued) while
// request 3 stays held (a read is queued); the next read fails, which closes the session. It must
// be freed once, after the queued read (AddressSanitizer checks this in the sanitized build).
TEST_F(H2cHeldBytes, SessionClosedWithAReadQueuedIsFreedAfterIt) {
    raw_client c{port_};
    ASSERT_TRUE(c.connected()) << c.error();
    auto accepted = accept_one();
    ASSERT_TRUE(accepted);
    std::string const first = std::string(h2c::client_preface) + empty_settings_frame() + requests(1);
    std::string const second = frame(frame_headers, end_stream | end_headers, 3, get_root());
    auto s = std::make_unique<holding_stream>(std::move(accepted), first.size(), first + second);
    s->fail_at_read = 2;
    start_session(std::move(s), "");
    EXPECT_TRUE(answered(c, 1));
    // The failed read ends the connection.
    EXPECT_TRUE(c.wait_closed(5s)) << c.error();
}

} // namespace
} // namespace upshift::test
