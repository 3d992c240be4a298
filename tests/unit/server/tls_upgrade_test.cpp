// The library side of RFC 2817 (options::tls_upgrade) on an in-process server: what the handler
// sees after the switch (exchange::secure(), the original request), that the default mode never
// hands OPTIONS * to the handler, server::require_tls (§4.2), and that requests with a body or
// over an already upgraded connection do not switch.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "server_fixture.hpp"
#include "upshift/tls/context.hpp"
#include "upshift/tls/upgrade_client.hpp"

namespace upshift::test {
namespace {

std::filesystem::path cert_dir;

class TlsUpgradeLibrary : public server_fixture {
protected:
    static void SetUpTestSuite() {
        char tmpl[] = "/tmp/upshift-tls-upgrade-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        cert_dir = tmpl;
        std::string const cmd = "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -addext "
                                "subjectAltName=DNS:localhost -days 1 -keyout " +
                                (cert_dir / "key.pem").string() + " -out " + (cert_dir / "cert.pem").string() +
                                " >/dev/null 2>&1";
        ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl req failed";
    }
    static void TearDownTestSuite() {
        std::error_code ec;
        std::filesystem::remove_all(cert_dir, ec);
    }

    /// Starts a server whose handler records "METHOD target secure=0|1" and answers with that text.
    ::testing::AssertionResult start_recording(server::tls_upgrade_mode mode) {
        std::string err;
        auto ctx = tls::server_context::load((cert_dir / "cert.pem").string(), (cert_dir / "key.pem").string(), err);
        if (!ctx) return ::testing::AssertionFailure() << err;
        return start(
            [this](exchange& ex) {
                if (ex.request().target == "/tls-only" && server::require_tls(ex)) {
                    events.add("426");
                    return;
                }
                std::string what = std::string(ex.request().method_text) + " " + std::string(ex.request().target) +
                                   " secure=" + (ex.secure() ? "1" : "0");
                events.add(what);
                ex.respond(status::ok, {}, what);
            },
            [ctx, mode](server::options& o) {
                o.tls_upgrade = ctx;
                o.tls_upgrade_policy = mode;
            });
    }

    int connect_fd() {
        int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port());
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        return s;
    }

    tls::upgrade_client_options client(std::string method, std::string target) {
        tls::upgrade_client_options o;
        o.ca_file = (cert_dir / "cert.pem").string();
        o.method = std::move(method);
        o.target = std::move(target);
        return o;
    }

    /// Reads one complete response over TLS.
    static std::optional<http_response> read_one(tls::upgrade_client& c) {
        std::string buf;
        for (;;) {
            auto o = parse_response(buf);
            if (o.what == parse_outcome::kind::complete) return o.response;
            if (o.what == parse_outcome::kind::error) return std::nullopt;
            auto piece = c.read_some();
            if (!piece || piece->empty()) return std::nullopt;
            buf += *piece;
        }
    }
};

TEST_F(TlsUpgradeLibrary, AnyRequestModeCallsTheHandlerAfterTheHandshakeWithSecureTrue) {
    // RFC 2817 §3.3: the original request is answered after the handshake, over TLS.
    ASSERT_TRUE(start_recording(server::tls_upgrade_mode::any_request));
    int fd = connect_fd();
    {
        tls::upgrade_client c{client("GET", "/example")};
        auto r = c.upgrade(fd);
        ASSERT_TRUE(r.switched) << r.error;
        auto resp = read_one(c);
        ASSERT_TRUE(resp) << c.error();
        EXPECT_EQ(resp->body, "GET /example secure=1");
        // The handler never saw the request in plaintext.
        EXPECT_FALSE(events.contains("GET /example secure=0"));
        ASSERT_TRUE(c.write("GET /next HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        resp = read_one(c);
        ASSERT_TRUE(resp) << c.error();
        EXPECT_EQ(resp->body, "GET /next secure=1");
    }
    ::close(fd);
}

TEST_F(TlsUpgradeLibrary, DefaultModeAnswersOptionsStarItselfAndDeclinesOtherRequests) {
    ASSERT_TRUE(start_recording(server::tls_upgrade_mode::options_only));
    int fd = connect_fd();
    {
        tls::upgrade_client c{client("OPTIONS", "*")};
        auto r = c.upgrade(fd);
        ASSERT_TRUE(r.switched) << r.error;
        auto resp = read_one(c);
        ASSERT_TRUE(resp) << c.error();
        EXPECT_EQ(resp->status, 200);
        EXPECT_TRUE(resp->body.empty());
        ASSERT_TRUE(c.write("GET /tls-only HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        resp = read_one(c);
        ASSERT_TRUE(resp) << c.error();
        EXPECT_EQ(resp->body, "GET /tls-only secure=1");  // require_tls let it through
    }
    ::close(fd);
    EXPECT_TRUE(events.with_prefix("OPTIONS").empty());  // the fixed answer: no handler
    // A GET offering TLS: plaintext, handled as if not offered (RFC 2817 §3.1).
    fd = connect_fd();
    {
        tls::upgrade_client c{client("GET", "/example")};
        auto r = c.upgrade(fd);
        EXPECT_FALSE(r.switched);
        EXPECT_EQ(r.status, 200) << r.head;
        EXPECT_TRUE(events.wait_for("GET /example secure=0"));
    }
    ::close(fd);
}

TEST_F(TlsUpgradeLibrary, RequireTlsAnswers426InPlaintext) {
    // RFC 2817 §4.2.
    ASSERT_TRUE(start_recording(server::tls_upgrade_mode::options_only));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/tls-only")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 426);
    EXPECT_EQ(r->header("Upgrade"), "TLS/1.2, HTTP/1.1");
    EXPECT_EQ(r->header("Connection"), "Upgrade");
}

TEST_F(TlsUpgradeLibrary, RequestWithABodyDoesNotSwitch) {
    ASSERT_TRUE(start_recording(server::tls_upgrade_mode::any_request));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("POST", "/upload", "Upgrade: TLS/1.2\r\nConnection: Upgrade\r\n", "body")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "POST /upload secure=0");
}

TEST_F(TlsUpgradeLibrary, NonTlsOrUnknownVersionOffersDoNotSwitch) {
    // Only TLS/1.0..TLS/1.3 (RFC 2817 §3.4 tokens) switch; HTTP/1.0 requests never (RFC 9110 §7.8).
    ASSERT_TRUE(start_recording(server::tls_upgrade_mode::any_request));
    for (std::string offer : {"TLS/2.0", "TLS", "tls/1.2x", "SSL/3.0"}) {
        auto c = connect();
        ASSERT_TRUE(c.send_all(get("/x", "Upgrade: " + offer + "\r\nConnection: Upgrade\r\n")));
        auto r = c.read_response();
        ASSERT_TRUE(r) << c.error();
        EXPECT_EQ(r->status, 200) << offer;
    }
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("GET", "/x", "Upgrade: TLS/1.2\r\nConnection: Upgrade\r\n", {}, "HTTP/1.0")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
}

} // namespace
} // namespace upshift::test
