// The Opossum attack (CVE-2025-49812, docs/security.md) end to end on loopback, and the rules
// that stop it. A victim expects implicit TLS (it verifies the certificate for "localhost" and
// sends GET /index.html); the attacker in the middle connects to the RFC 2817 upgrade port,
// sends a plaintext upgrade request of its own, then relays the victim's bytes both ways. RFC
// 2817 §3.3 ("the server MUST continue with the response to the original request") would give
// the victim the answer to the attacker's request: that is what the unsafe mode shows, and what
// the default mode (only OPTIONS * switches, answered by a fixed body-less 200) prevents. Plus
// the start-up refusal of one certificate for both the upgrade and an HTTPS listener.
#include <gtest/gtest.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>

#include <atomic>
#include <string>
#include <thread>

#include "tls_upgrade_helpers.hpp"
#include "upshift/server/server.hpp"
#include "upshift/tls/context.hpp"

namespace upshift::test {
namespace {

/// What the victim, an implicit-TLS client, experienced.
struct victim_view {
    bool handshake_ok = false;
    std::string error;                   ///< the handshake's failure reason
    std::vector<http_response> responses;  ///< the responses read over TLS, in order
};

/// A listening socket on 127.0.0.1 (the port the victim was redirected to) and its port.
struct attacker_port {
    int fd = -1;
    std::uint16_t port = 0;
    attacker_port() {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd, 1) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
            port = ntohs(a.sin_port);
    }
    ~attacker_port() { ::close(fd); }
};

/// Copies bytes both ways between a and b until either side closes.
void relay(int a, int b) {
    pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    char buf[16 * 1024];
    for (;;) {
        if (::poll(p, 2, 10'000) <= 0) return;
        for (int i = 0; i < 2; ++i) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            auto const n = ::recv(p[i].fd, buf, sizeof buf, 0);
            if (n <= 0) return;
            if (::send(p[1 - i].fd, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) return;
        }
    }
}

/// The man in the middle: accepts the victim, connects to the upgrade port, sends `attack`
/// (a plaintext upgrade request of its choice) and reads the plaintext answer's head, then relays.
/// `seen` gets that head.
std::thread run_attacker(attacker_port& listener, std::uint16_t upgrade_port, std::string attack, std::string& seen) {
    return std::thread([&listener, upgrade_port, attack = std::move(attack), &seen] {
        int victim = ::accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC);
        int server = connect_blocking(upgrade_port);
        if (victim >= 0 && server >= 0 && ::send(server, attack.data(), attack.size(), MSG_NOSIGNAL) > 0) {
            while (!seen.ends_with("\r\n\r\n")) {
                char c;
                if (::recv(server, &c, 1, 0) != 1) break;
                seen.push_back(c);
            }
            relay(victim, server);  // after the 101 (or whatever came), everything goes through
        }
        if (victim >= 0) ::close(victim);
        if (server >= 0) ::close(server);
    });
}

/// The victim: implicit TLS to `port`, certificate verified for "localhost" against `ca`, then
/// GET /index.html and up to `want` responses.
victim_view run_victim(std::uint16_t port, std::string const& ca, std::size_t want) {
    victim_view v;
    socket_guard s{connect_blocking(port)};
    timeval tv{10, 0};
    ::setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, s.fd);
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>("localhost"));
    SSL_set1_host(ssl, "localhost");
    ERR_clear_error();
    if (SSL_connect(ssl) == 1) {
        v.handshake_ok = true;
        std::string const get = "GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n";
        std::size_t n = 0;
        SSL_write_ex(ssl, get.data(), get.size(), &n);
        std::string buf;
        while (v.responses.size() < want) {
            auto o = parse_response(buf);
            if (o.what == parse_outcome::kind::complete) {
                v.responses.push_back(o.response);
                buf.erase(0, o.consumed);
                continue;
            }
            if (o.what == parse_outcome::kind::error) break;
            char tmp[16 * 1024];
            if (SSL_read_ex(ssl, tmp, sizeof tmp, &n) != 1) break;
            buf.append(tmp, n);
        }
    } else {
        char e[256] = "handshake failed";
        if (auto code = ERR_get_error()) ERR_error_string_n(code, e, sizeof e);
        v.error = e;
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return v;
}

/// What both ends of one attack saw: the plaintext head the attacker read, and the victim's view.
struct attack_outcome {
    std::string attacker_saw;
    victim_view victim;
};

class Opossum : public tls_upgrade_server {
protected:
    /// The whole scenario against the server start() ran: a man in the middle sends
    /// `attacker_request` to the upgrade port, then relays a victim that expects implicit TLS
    /// and reads up to `victim_wants` responses.
    attack_outcome attack(std::string const& attacker_request, std::size_t victim_wants) {
        attack_outcome out;
        attacker_port mitm;
        EXPECT_NE(mitm.port, 0);
        if (mitm.port == 0) return out;
        auto attacker = run_attacker(mitm, port(), attacker_request, out.attacker_saw);
        out.victim = run_victim(mitm.port, cert(), victim_wants);
        attacker.join();
        return out;
    }
};

std::string const attacker_get =
    "GET /attacker.html HTTP/1.1\r\nHost: localhost\r\nUpgrade: TLS/1.2\r\nConnection: Upgrade\r\n\r\n";
std::string const attacker_options =
    "OPTIONS * HTTP/1.1\r\nHost: localhost\r\nUpgrade: TLS/1.2\r\nConnection: Upgrade\r\n\r\n";

TEST_F(Opossum, UnsafeAnyRequestModeHandsTheVictimTheAttackersResponse) {
    // Why any_request is not the default: RFC 2817 §3.3 followed to the letter.
    start({"--tls-upgrade-any-request-unsafe"});
    ASSERT_TRUE(server_->ready()) << server_->error();
    auto const [seen, v] = attack(attacker_get, 1);
    EXPECT_EQ(seen.rfind("HTTP/1.1 101 ", 0), 0u) << seen;
    ASSERT_TRUE(v.handshake_ok) << v.error;  // a valid certificate for the name it asked for
    ASSERT_EQ(v.responses.size(), 1u);
    // The victim asked for /index.html and got the attacker-chosen resource.
    EXPECT_EQ(v.responses[0].body, attacker_body);
    EXPECT_NE(v.responses[0].body, site_.index_html);
}

TEST_F(Opossum, DefaultModeAnswersTheAttackersRequestInPlaintextAndTheVictimsHandshakeFails) {
    // Only OPTIONS * switches: the attacker's GET gets its answer in plaintext (no 101), the
    // victim's ClientHello then reaches an HTTP parser (400, close), and the victim's TLS
    // client sees plaintext instead of a ServerHello.
    start();
    ASSERT_TRUE(server_->ready()) << server_->error();
    auto const [seen, v] = attack(attacker_get, 1);
    EXPECT_EQ(seen.rfind("HTTP/1.1 200 ", 0), 0u) << seen;
    EXPECT_FALSE(v.handshake_ok);
    EXPECT_TRUE(v.responses.empty());
    // What the victim gets instead: a TLS error (OpenSSL reads plaintext HTTP as a bad record).
    EXPECT_FALSE(v.error.empty());
    RecordProperty("victim_error", v.error);
    EXPECT_TRUE(healthy(port()));
}

TEST_F(Opossum, DefaultModeWithOptionsStarGivesTheVictimOnlyTheFixedEmptyAnswer) {
    // The attacker's best move in the default mode: OPTIONS * does switch. The victim's first
    // response is the fixed, body-less 200 to OPTIONS * (nothing the attacker can choose), and
    // the next one is the answer to its own GET /index.html (docs/security.md: residual risk).
    start();
    ASSERT_TRUE(server_->ready()) << server_->error();
    auto const [seen, v] = attack(attacker_options, 2);
    EXPECT_EQ(seen.rfind("HTTP/1.1 101 ", 0), 0u) << seen;
    ASSERT_TRUE(v.handshake_ok) << v.error;
    ASSERT_EQ(v.responses.size(), 2u);
    EXPECT_EQ(v.responses[0].status, 200);
    EXPECT_TRUE(v.responses[0].body.empty());
    EXPECT_EQ(v.responses[0].header("Content-Length"), "0");
    EXPECT_EQ(v.responses[1].body, site_.index_html);
    for (auto const& r : v.responses) EXPECT_EQ(r.body.find("ATTACKER"), std::string::npos);
}

TEST_F(Opossum, SameCertificateForUpgradeAndHttpsListenerRefusesToStart) {
    // The attack against our own implicit-TLS port: an HTTPS client of this server could be
    // redirected to the upgrade port and would accept its certificate.
    auto out = run_command({app_path(), "serve", "--listen", "127.0.0.1:0", "--root", site_.root(), "--tls-cert",
                            cert(), "--tls-key", key(), "--tls-listen", "127.0.0.1:0", "--tls-upgrade"});
    ASSERT_TRUE(out.exit && out.exit->exited) << out;
    EXPECT_EQ(out.exit->code, 1) << out;
    EXPECT_NE(out.err.find("--tls-upgrade-same-cert-unsafe"), std::string::npos) << out.err;
    EXPECT_EQ(out.out.find("listening"), std::string::npos) << out.out;
}

TEST_F(Opossum, SameCertificateOverrideStartsBothListeners) {
    spawn_options so;
    so.argv = {app_path(), "serve", "--listen", "127.0.0.1:0", "--root", site_.root(), "--tls-cert", cert(),
               "--tls-key", key(), "--tls-listen", "127.0.0.1:0", "--tls-upgrade", "--tls-upgrade-same-cert-unsafe"};
    so.ready_line = [](std::string_view line) -> std::optional<std::uint16_t> {
        if (line.find("https://") == std::string_view::npos) return std::nullopt;
        return parse_url_port("http://" + std::string{line.substr(line.find("https://") + 8)});
    };
    server_process p{std::move(so)};
    ASSERT_TRUE(p.ready()) << p.error();
    auto const http_port = parse_url_port(p.output());
    ASSERT_TRUE(http_port);
    socket_guard s{connect_blocking(*http_port)};
    tls::upgrade_client c{client_options()};
    auto r = c.upgrade(s.fd);
    EXPECT_TRUE(r.switched) << r.error;
}

TEST_F(Opossum, UpgradeWithoutTlsListenServesNoHttpsPort) {
    // --tls-upgrade alone: the certificate serves the upgrade only (no implicit-TLS port to attack).
    start();
    ASSERT_TRUE(server_->ready()) << server_->error();
    EXPECT_EQ(server_->output().find("https://"), std::string::npos) << server_->output();
}

TEST(OpossumLibrary, ListenComparesTheLeafCertificatesNotTheContextObjects) {
    // server::options: two contexts loaded from the same files are refused, different certificates
    // are fine, and tls_upgrade_allow_same_certificate overrides.
    auto openssl = find_program("openssl");
    ASSERT_TRUE(openssl);
    temp_dir dir;
    ASSERT_TRUE(made_certificate(*openssl, dir, "a"));
    ASSERT_TRUE(made_certificate(*openssl, dir, "b"));
    std::string err;
    auto a1 = tls::server_context::load(dir.file("a-cert.pem"), dir.file("a-key.pem"), err);
    auto a2 = tls::server_context::load(dir.file("a-cert.pem"), dir.file("a-key.pem"), err);
    auto b = tls::server_context::load(dir.file("b-cert.pem"), dir.file("b-key.pem"), err);
    ASSERT_TRUE(a1 && a2 && b) << err;
    auto try_listen = [](auto https, auto upgrade, bool allow) {
        server::options o;
        o.listen = {"127.0.0.1", 0};
        o.tls_listen = {"127.0.0.1", 0};
        o.tls = https;
        o.tls_upgrade = upgrade;
        o.tls_upgrade_allow_same_certificate = allow;
        server::server s{o, [](server::exchange& ex) { ex.respond(http1::status::ok); }};
        return s.listen();
    };
    EXPECT_EQ(try_listen(a1, a2, false), server::error::tls_upgrade_same_certificate);
    EXPECT_EQ(try_listen(a1, a1, false), server::error::tls_upgrade_same_certificate);
    EXPECT_FALSE(try_listen(a1, b, false));
    EXPECT_FALSE(try_listen(a1, a2, true));
    EXPECT_FALSE(try_listen(nullptr, a1, false));  // no HTTPS listener: nothing to redirect from
}

} // namespace
} // namespace upshift::test
