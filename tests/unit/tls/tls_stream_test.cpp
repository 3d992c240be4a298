// tls::stream against a real OpenSSL client on 127.0.0.1: the handshake runs inside the
// non-blocking read()/writev(), data flows both ways, the first bytes can be handed in as a
// seed (RFC 2817 §3.3 in-place upgrade: the ClientHello may already sit in the HTTP read
// buffer), and a handshake that is not TLS fails cleanly.
#include <gtest/gtest.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "upshift/net/socket.hpp"
#include "upshift/net/stream.hpp"
#include "upshift/tls/context.hpp"
#include "upshift/tls/stream.hpp"

namespace net = upshift::net;
namespace tls = upshift::tls;

namespace {

std::filesystem::path cert_dir;

void wait_for(int s, short events) {
    pollfd p{s, events, 0};
    ASSERT_EQ(::poll(&p, 1, 10000), 1) << "no readiness within 10 s";
}

/// The server's listening socket and one accepted connection per call.
struct loopback {
    net::fd listener;
    std::uint16_t port = 0;

    loopback() {
        std::error_code ec;
        net::endpoint bound;
        listener = net::listen_tcp({"127.0.0.1", 0}, {}, ec, &bound);
        EXPECT_FALSE(ec) << ec.message();
        port = bound.port;
    }

    /// A blocking client socket (for the client thread), connected to the listener.
    /// `rcvbuf` > 0: a small receive buffer, so the server's writes soon meet a full socket.
    int connect_blocking(int rcvbuf = 0) const {
        int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (rcvbuf > 0) ::setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        return s;
    }

    net::fd accept() const {
        wait_for(listener.get(), POLLIN);
        std::error_code ec;
        auto s = net::accept_tcp(listener.get(), ec);
        EXPECT_FALSE(ec) << ec.message();
        return s;
    }
};

/// A real OpenSSL client that verifies the test certificate for "localhost".
struct client_config {
    int min_version = TLS1_2_VERSION;
    int max_version = 0;  // highest available
    int security_level = -1;
};

SSL_CTX* make_client_ctx(client_config const& c) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (c.security_level >= 0) SSL_CTX_set_security_level(ctx, c.security_level);
    SSL_CTX_set_min_proto_version(ctx, c.min_version);
    SSL_CTX_set_max_proto_version(ctx, c.max_version);
    SSL_CTX_load_verify_locations(ctx, (cert_dir / "cert.pem").c_str(), nullptr);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    return ctx;
}

/// Runs `body(ssl)` after a successful SSL_connect on its own thread; records what happened.
struct client_thread {
    std::thread thread;
    bool connected = false;
    std::string version;
    std::string error;

    template <class Body>
    void start(int sock, client_config cfg, Body body) {
        thread = std::thread([this, sock, cfg, body] {
            SSL_CTX* ctx = make_client_ctx(cfg);
            SSL* ssl = SSL_new(ctx);
            SSL_set_fd(ssl, sock);
            // SNI; SSL_set_tlsext_host_name is a macro with an old-style cast.
            SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>("localhost"));
            SSL_set1_host(ssl, "localhost");
            if (SSL_connect(ssl) == 1) {
                connected = true;
                version = SSL_get_version(ssl);
                body(ssl);
            } else {
                char buf[256] = "";
                ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
                error = buf;
            }
            SSL_free(ssl);
            SSL_CTX_free(ctx);
            ::close(sock);
        });
    }
    void join() {
        if (thread.joinable()) thread.join();
    }
    ~client_thread() { join(); }
};

std::string ssl_read_exactly(SSL* ssl, std::size_t n) {
    std::string out(n, '\0');
    std::size_t have = 0;
    while (have < n) {
        std::size_t got = 0;
        if (SSL_read_ex(ssl, out.data() + have, n - have, &got) != 1) break;
        have += got;
    }
    out.resize(have);
    return out;
}

bool ssl_write_all(SSL* ssl, std::string_view data) {
    std::size_t written = 0;
    return data.empty() || (SSL_write_ex(ssl, data.data(), data.size(), &written) == 1 && written == data.size());
}

/// Reads `n` bytes from the server stream, waiting for readability on would_block.
/// Stops early on eof or an error (returned in `last`).
std::string server_read(net::stream& s, std::size_t n, net::io_result* last = nullptr) {
    std::string out;
    std::vector<char> buf(16384);
    while (out.size() < n) {
        auto r = s.read(buf);
        if (r.bytes > 0) {
            out.append(buf.data(), r.bytes);
            continue;
        }
        if (r.ec == std::errc::operation_would_block) {
            wait_for(s.native_handle(), POLLIN);
            if (::testing::Test::HasFatalFailure()) break;
            continue;
        }
        if (last) *last = r;
        break;
    }
    return out;
}

/// Writes all of `pieces` (as several iovecs), waiting for writability on would_block;
/// counts the would_blocks in `*blocked` and raises `*on_block` at the first.
bool server_write(net::stream& s, std::vector<std::string> const& pieces, std::size_t* blocked = nullptr,
                  std::atomic<bool>* on_block = nullptr) {
    std::vector<iovec> iov;
    for (auto const& p : pieces) iov.push_back({const_cast<char*>(p.data()), p.size()});
    std::size_t first = 0;
    while (first < iov.size()) {
        auto r = s.writev(std::span<iovec const>(iov).subspan(first));
        if (r.ec == std::errc::operation_would_block) {
            if (blocked) ++*blocked;
            if (on_block) *on_block = true;
            wait_for(s.native_handle(), POLLOUT);
            if (::testing::Test::HasFatalFailure()) return false;
            continue;
        }
        if (r.ec) return false;
        // Drop what was written, as a send queue would.
        std::size_t left = r.bytes;
        while (left > 0 && left >= iov[first].iov_len) left -= iov[first++].iov_len;
        if (left > 0) {
            iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
            iov[first].iov_len -= left;
        }
        while (first < iov.size() && iov[first].iov_len == 0) ++first;
    }
    return true;
}

class TlsStream : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        char tmpl[] = "/tmp/upshift-tls-test-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        cert_dir = tmpl;
        // P-256 keeps generation and the handshakes fast.
        std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
                          " -subj /CN=localhost -addext subjectAltName=DNS:localhost -days 1"
                          " -keyout '" + (cert_dir / "key.pem").string() + "' -out '" +
                          (cert_dir / "cert.pem").string() + "' 2>/dev/null";
        ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
        std::string error;
        context() = tls::server_context::load(cert_dir / "cert.pem", cert_dir / "key.pem", error);
        ASSERT_TRUE(context()) << error;
    }
    static void TearDownTestSuite() {
        context().reset();
        std::filesystem::remove_all(cert_dir);
    }
    static std::shared_ptr<tls::server_context>& context() {
        static std::shared_ptr<tls::server_context> ctx;
        return ctx;
    }

    /// Accepts one connection and wraps it; `seed_len` bytes are first read raw from the
    /// socket (after the whole first TLS record has arrived) and handed in as the seed.
    std::unique_ptr<tls::stream> accept_tls(std::size_t seed_len = 0, std::size_t* record_len = nullptr) {
        net::fd s = server.accept();
        std::string seed;
        if (seed_len > 0 || record_len) {
            std::size_t want = 5;
            std::string peek;
            for (;;) {  // wait until the whole first record (the ClientHello) is in the kernel
                peek.assign(want, '\0');
                auto n = ::recv(s.get(), peek.data(), want, MSG_PEEK);
                if (n == static_cast<ssize_t>(want)) {
                    std::size_t body = std::size_t{static_cast<unsigned char>(peek[3])} << 8 |
                                       std::size_t{static_cast<unsigned char>(peek[4])};
                    if (want == 5 + body) break;
                    want = 5 + body;
                    continue;
                }
                wait_for(s.get(), POLLIN);
                if (HasFatalFailure()) return nullptr;
            }
            if (record_len) *record_len = want;
            seed_len = std::min(seed_len, want);
            seed.assign(seed_len, '\0');
            EXPECT_EQ(::recv(s.get(), seed.data(), seed_len, 0), static_cast<ssize_t>(seed_len));
        }
        return std::make_unique<tls::stream>(context(), std::make_unique<net::tcp_stream>(std::move(s)), seed);
    }

    loopback server;
};

/// One ping/pong exchange: the client sends "ping", the server answers "pong", the client
/// closes with close_notify and the server sees the end of the stream.
void ping_pong(tls::stream& s, client_thread& c) {
    EXPECT_EQ(server_read(s, 4), "ping");
    EXPECT_TRUE(s.handshake_done());
    EXPECT_TRUE(server_write(s, {"po", "ng"}));
    net::io_result last;
    EXPECT_EQ(server_read(s, 1, &last), "");
    EXPECT_TRUE(last.eof) << last.ec.message();
    c.join();
    EXPECT_TRUE(c.connected) << c.error;
}

void client_ping_pong(SSL* ssl) {
    ssl_write_all(ssl, "ping");
    if (ssl_read_exactly(ssl, 4) == "pong") SSL_shutdown(ssl);
}

} // namespace

TEST_F(TlsStream, HandshakeInsideReadThenDataBothWaysOverTls13) {
    client_thread c;
    c.start(server.connect_blocking(), {}, client_ping_pong);
    auto s = accept_tls();
    ASSERT_TRUE(s);
    EXPECT_FALSE(s->handshake_done());
    ping_pong(*s, c);
    EXPECT_EQ(c.version, "TLSv1.3");
}

TEST_F(TlsStream, Tls12IsAccepted) {
    client_thread c;
    c.start(server.connect_blocking(), {TLS1_2_VERSION, TLS1_2_VERSION}, client_ping_pong);
    auto s = accept_tls();
    ASSERT_TRUE(s);
    ping_pong(*s, c);
    EXPECT_EQ(c.version, "TLSv1.2");
}

TEST_F(TlsStream, Tls11IsRefused) {
    client_thread c;
    // Security level 0: allow the client to offer TLS 1.1 at all (OpenSSL 3 forbids it otherwise).
    c.start(server.connect_blocking(), {TLS1_1_VERSION, TLS1_1_VERSION, 0}, [](SSL*) {});
    auto s = accept_tls();
    ASSERT_TRUE(s);
    net::io_result last;
    EXPECT_EQ(server_read(*s, 1, &last), "");
    EXPECT_TRUE(last.ec || last.eof);
    EXPECT_FALSE(s->handshake_done());
    c.join();
    EXPECT_FALSE(c.connected) << c.version;
}

TEST_F(TlsStream, LargeTransfersBothWaysWithManyIovecsAndFullSocketBuffers) {
    // Larger than loopback socket buffers, so writes hit would_block and are retried.
    std::string up(3 * 1024 * 1024 + 17, '\0');
    for (std::size_t i = 0; i < up.size(); ++i) up[i] = static_cast<char>('a' + i % 23);
    std::vector<std::string> down;  // odd sizes: some gathered, some larger than a record
    std::string down_all;
    for (std::size_t i = 0; down_all.size() < 3 * 1024 * 1024; ++i) {
        std::size_t len = (i * 7919) % 40000 + 1;
        down.emplace_back(len, static_cast<char>('A' + i % 26));
        down_all += down.back();
    }
    std::string client_got;
    std::atomic<bool> server_blocked{false};
    client_thread c;
    c.start(server.connect_blocking(64 * 1024), {}, [&](SSL* ssl) {
        ssl_write_all(ssl, up);
        // Read only once the server's writes have hit a full socket, so the retry path runs.
        while (!server_blocked.load()) std::this_thread::yield();
        client_got = ssl_read_exactly(ssl, down_all.size());
        SSL_shutdown(ssl);
    });
    auto s = accept_tls();
    ASSERT_TRUE(s);
    int sndbuf = 64 * 1024;
    ::setsockopt(s->native_handle(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    std::string got = server_read(*s, up.size());
    EXPECT_TRUE(got == up) << "received " << got.size() << " of " << up.size() << " bytes";
    // The first would_block lets the client start reading; from then on the writes race it.
    std::size_t blocked = 0;
    EXPECT_TRUE(server_write(*s, down, &blocked, &server_blocked));
    server_blocked = true;  // also when it never blocked, so the client does not wait forever
    c.join();
    EXPECT_GT(blocked, 0u) << "the socket never filled: the retried-write path was not exercised";
    EXPECT_TRUE(client_got == down_all) << "client received " << client_got.size() << " of " << down_all.size();
}

// RFC 2817 §3.3: after 101 the TLS handshake starts on the same connection; the ClientHello
// may have been read together with the upgrade request. Every split of the ClientHello between
// the seed and the socket must give the same handshake.
TEST_F(TlsStream, SeededClientHelloAtEveryOffset) {
    std::size_t record = 0;
    {
        client_thread c;
        c.start(server.connect_blocking(), {}, client_ping_pong);
        auto s = accept_tls(0, &record);  // measures the ClientHello, seeds nothing
        ASSERT_TRUE(s);
        ping_pong(*s, c);
    }
    ASSERT_GT(record, 5u);
    for (std::size_t k = 1; k <= record; ++k) {
        SCOPED_TRACE("seed of " + std::to_string(k) + " of " + std::to_string(record) + " bytes");
        client_thread c;
        c.start(server.connect_blocking(), {}, client_ping_pong);
        std::size_t this_record = 0;
        auto s = accept_tls(k, &this_record);
        ASSERT_TRUE(s);
        ASSERT_EQ(this_record, record);  // same client, same ClientHello size
        ping_pong(*s, c);
        if (HasFailure()) break;  // one failing offset is enough to report
    }
}

TEST_F(TlsStream, PlaintextHttpInsteadOfAHandshakeFailsCleanly) {
    int sock = server.connect_blocking();
    std::string_view request = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    ASSERT_EQ(::send(sock, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
    auto s = accept_tls();
    ASSERT_TRUE(s);
    net::io_result last;
    EXPECT_EQ(server_read(*s, 1, &last), "");
    EXPECT_EQ(last.ec, std::errc::protocol_error);
    EXPECT_FALSE(s->last_error().empty());
    EXPECT_FALSE(s->handshake_done());
    // Failed for good: no retry turns the connection into something else.
    std::vector<char> buf(16);
    EXPECT_EQ(s->read(buf).ec, std::errc::protocol_error);
    iovec v{buf.data(), buf.size()};
    EXPECT_EQ(s->writev({&v, 1}).ec, std::errc::protocol_error);
    s->shutdown_write();
    s->close();
    ::close(sock);
}

TEST_F(TlsStream, GarbageInsideAHandshakeRecordFailsCleanly) {
    int sock = server.connect_blocking();
    std::string record = "\x16\x03\x01\x00\x10";  // handshake record of 16 bytes
    record.append(16, '\xff');
    ASSERT_EQ(::send(sock, record.data(), record.size(), 0), static_cast<ssize_t>(record.size()));
    auto s = accept_tls();
    ASSERT_TRUE(s);
    net::io_result last;
    EXPECT_EQ(server_read(*s, 1, &last), "");
    EXPECT_EQ(last.ec, std::errc::protocol_error);
    EXPECT_FALSE(s->handshake_done());
    ::close(sock);
}

TEST_F(TlsStream, GarbageSeedFailsWithoutReadingTheSocket) {
    int sock = server.connect_blocking();  // sends nothing: the seed alone must fail
    net::fd accepted = server.accept();
    tls::stream s(context(), std::make_unique<net::tcp_stream>(std::move(accepted)), "PRI * HTTP/2.0\r\n\r\n");
    std::vector<char> buf(16);
    auto r = s.read(buf);
    EXPECT_EQ(r.ec, std::errc::protocol_error);
    ::close(sock);
}

TEST_F(TlsStream, PeerClosingMidHandshakeEndsTheStream) {
    int sock = server.connect_blocking();
    std::string partial = "\x16\x03\x01\x02\x00\x01";  // a record header and one byte of 512
    ASSERT_EQ(::send(sock, partial.data(), partial.size(), 0), static_cast<ssize_t>(partial.size()));
    ::close(sock);
    auto s = accept_tls();
    ASSERT_TRUE(s);
    net::io_result last;
    EXPECT_EQ(server_read(*s, 1, &last), "");
    EXPECT_TRUE(last.eof || last.ec == std::errc::protocol_error) << last.ec.message();
    EXPECT_FALSE(s->handshake_done());
}

namespace {

/// Reads `n` bytes `chunk` at a time the way a strict event-loop owner does: after bytes it
/// reads again at once only while pending() says the stream holds more; otherwise it waits
/// for readiness on the socket. Bytes kept inside the stream that pending() does not report
/// would never be announced by the socket: the wait fails (no readiness within 10 s).
std::string owner_read(net::stream& s, std::size_t n, std::size_t chunk,
                       std::size_t* without_wait = nullptr) {
    std::string out;
    std::vector<char> buf(chunk);
    while (out.size() < n) {
        auto r = s.read(buf);
        if (r.bytes > 0) {
            out.append(buf.data(), r.bytes);
            if (out.size() == n) break;
            if (s.pending() > 0) {
                if (without_wait) ++*without_wait;
                continue;
            }
            wait_for(s.native_handle(), POLLIN);
        } else if (r.ec == std::errc::operation_would_block) {
            EXPECT_EQ(s.pending(), 0u) << "would_block, yet the stream claims to hold bytes";
            wait_for(s.native_handle(), POLLIN);
        } else {
            ADD_FAILURE() << "read ended after " << out.size() << " of " << n << " bytes: "
                          << (r.eof ? "eof" : r.ec.message());
            break;
        }
        if (::testing::Test::HasFatalFailure()) break;
    }
    return out;
}

std::string pattern(std::size_t n, std::size_t salt) {
    std::string out(n, '\0');
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<char>('a' + (i * 7 + salt) % 26);
    return out;
}

} // namespace

// A record holds up to 16 KiB of plaintext (RFC 8446 §5.1); an owner reading less at a time
// leaves the rest decrypted inside OpenSSL, where no socket readiness announces it.
TEST_F(TlsStream, SmallReadsOfOneLargeRecordLoseNothing) {
    std::string const data = pattern(16 * 1024, 1);  // one SSL_write: one full record
    std::atomic<bool> done{false};
    client_thread c;
    c.start(server.connect_blocking(), {}, [&](SSL* ssl) {
        ssl_write_all(ssl, data);
        // Stay connected and silent until the server has everything: no later readiness.
        while (!done.load()) std::this_thread::yield();
        SSL_shutdown(ssl);
    });
    auto s = accept_tls();
    ASSERT_TRUE(s);
    std::size_t without_wait = 0;
    std::string got = owner_read(*s, data.size(), 100, &without_wait);
    done = true;
    c.join();
    EXPECT_TRUE(got == data) << "received " << got.size() << " of " << data.size() << " bytes";
    // 16 KiB in 100-byte reads: nearly all of them served from inside the stream.
    EXPECT_GT(without_wait, data.size() / 100 / 2);
}

// Several records sent back to back arrive together; OpenSSL reads ahead and holds the ones
// the owner's buffer did not take, complete or not.
TEST_F(TlsStream, SmallReadsOfManyRecordsReceivedTogetherLoseNothing) {
    std::vector<std::string> records;
    std::string all;
    for (std::size_t i = 0; i < 40; ++i) {
        records.push_back(pattern(1 + (i * 613) % 1500, i));
        all += records.back();
    }
    for (std::size_t chunk : {std::size_t{700}, std::size_t{1}}) {
        SCOPED_TRACE("reads of " + std::to_string(chunk) + " bytes");
        std::atomic<bool> done{false};
        client_thread c;
        c.start(server.connect_blocking(), {}, [&](SSL* ssl) {
            for (auto const& r : records) ssl_write_all(ssl, r);  // one record each
            while (!done.load()) std::this_thread::yield();
            SSL_shutdown(ssl);
        });
        auto s = accept_tls();
        ASSERT_TRUE(s);
        std::string got = owner_read(*s, all.size(), chunk);
        done = true;
        c.join();
        EXPECT_TRUE(got == all) << "received " << got.size() << " of " << all.size() << " bytes";
    }
}

namespace {

/// Waits until at least `n` bytes are queued on the socket.
void wait_queued(int s, std::size_t n) {
    for (int i = 0; i < 10000; ++i) {
        int queued = 0;
        ASSERT_EQ(::ioctl(s, FIONREAD, &queued), 0);
        if (static_cast<std::size_t>(queued) >= n) return;
        ::usleep(1000);
    }
    FAIL() << "fewer than " << n << " bytes arrived within 10 s";
}

} // namespace

// What owners written before pending() rely on (the HTTP connection reads 2 KiB, then up to
// three times 16 KiB, and waits for readiness after a short read or the fourth full one): a
// short read leaves nothing complete inside the stream, and reads of 16 KiB leave no
// decrypted remainder, so whatever is left is still in the kernel, where readiness announces
// it. A burst of records already queued on the socket must arrive whole through that owner.
TEST_F(TlsStream, BoundedReaderThatIgnoresPendingStillGetsABurstWhole) {
    std::vector<std::string> records;
    std::string all;
    std::size_t wire = 0;
    // Full records: the first 2 KiB read leaves most of one decrypted, and each later 16 KiB
    // read ends inside the next record; 64 KiB fits in the loopback socket buffers.
    for (std::size_t i = 0; i < 4; ++i) {
        records.push_back(pattern(16 * 1024, i));
        all += records.back();
        wire += 5 + records.back().size() + 1 + 16;  // TLS 1.3 AEAD record (RFC 8446 §5.2)
    }
    std::atomic<bool> go{false}, done{false};
    client_thread c;
    c.start(server.connect_blocking(), {TLS1_3_VERSION, TLS1_3_VERSION}, [&](SSL* ssl) {
        ssl_write_all(ssl, "x");  // lets the server finish the handshake first
        while (!go.load()) std::this_thread::yield();
        for (auto const& r : records) ssl_write_all(ssl, r);  // one record each
        while (!done.load()) std::this_thread::yield();
        SSL_shutdown(ssl);
    });
    auto s = accept_tls();
    ASSERT_TRUE(s);
    EXPECT_EQ(owner_read(*s, 1, 16), "x");
    go = true;
    wait_queued(s->native_handle(), wire);  // the whole burst is in the kernel before any read
    std::string got;
    std::vector<char> buf(16 * 1024);
    bool first = true;
    while (got.size() < all.size() && !HasFatalFailure()) {
        for (int i = 0; i < 4; ++i) {
            std::size_t const chunk = first ? 2048 : buf.size();
            first = false;
            auto r = s->read({buf.data(), chunk});
            if (r.bytes == 0) {
                ASSERT_EQ(r.ec, std::errc::operation_would_block) << (r.eof ? "eof" : r.ec.message());
                break;
            }
            got.append(buf.data(), r.bytes);
            if (r.bytes < chunk) break;
        }
        if (got.size() < all.size()) wait_for(s->native_handle(), POLLIN);
    }
    done = true;
    c.join();
    EXPECT_TRUE(got == all) << "received " << got.size() << " of " << all.size() << " bytes";
}

// The close_notify right behind the last bytes is read ahead with them: read() returns the
// bytes first and the end of the stream next, and pending() says that the next read() has
// something to return, so the owner does not wait for readiness first.
TEST_F(TlsStream, EndOfStreamBehindBytesComesNextAndIsPending) {
    std::string const data = pattern(300, 3);
    std::atomic<bool> go{false}, done{false};
    client_thread c;
    c.start(server.connect_blocking(), {TLS1_3_VERSION, TLS1_3_VERSION}, [&](SSL* ssl) {
        ssl_write_all(ssl, "x");  // lets the server finish the handshake first
        while (!go.load()) std::this_thread::yield();
        ssl_write_all(ssl, data);
        SSL_shutdown(ssl);  // close_notify right behind the data
        while (!done.load()) std::this_thread::yield();  // no RST before the server has read
    });
    auto s = accept_tls();
    ASSERT_TRUE(s);
    EXPECT_EQ(owner_read(*s, 1, 16), "x");
    go = true;
    // TLS 1.3 AEAD records: 5-byte header + content type + 16-byte tag around the plaintext
    // (RFC 8446 §5.2); the alert's plaintext is 2 bytes (§6).
    wait_queued(s->native_handle(), (5 + data.size() + 1 + 16) + (5 + 2 + 1 + 16));
    std::vector<char> buf(1000);
    auto r = s->read(buf);
    EXPECT_EQ(std::string(buf.data(), r.bytes), data);
    EXPECT_FALSE(r.eof);
    EXPECT_GT(s->pending(), 0u) << "the close_notify read with the data is not announced";
    r = s->read(buf);
    EXPECT_TRUE(r.eof) << r.bytes << " bytes, " << r.ec.message();
    done = true;
    c.join();
}

// RFC 2817 §3.3 hand-off: the seed is data the socket will not announce again.
TEST_F(TlsStream, UnreadSeedIsPending) {
    int sock = server.connect_blocking();
    net::fd accepted = server.accept();
    tls::stream s(context(), std::make_unique<net::tcp_stream>(std::move(accepted)), "\x16\x03\x01");
    EXPECT_EQ(s.pending(), 3u);
    std::vector<char> buf(16);
    EXPECT_EQ(s.read(buf).ec, std::errc::operation_would_block);  // a record header's start only
    EXPECT_EQ(s.pending(), 0u);
    net::tcp_stream plain{net::fd{}};
    EXPECT_EQ(plain.pending(), 0u);
    ::close(sock);
}

TEST(TlsContext, MissingOrMismatchedFilesAreReported) {
    std::string error;
    EXPECT_EQ(tls::server_context::load("/nonexistent/cert.pem", "/nonexistent/key.pem", error), nullptr);
    EXPECT_NE(error.find("/nonexistent/cert.pem"), std::string::npos) << error;
}
