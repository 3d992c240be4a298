// RFC 2817 (Upgrading to TLS Within HTTP/1.1) against `upshift serve --tls-upgrade`: the seed's
// request (`GET /example` with `Upgrade: TLS/1.2`) from a raw socket then OpenSSL on the same
// socket (tls::upgrade_client) and Python's ssl, in the default (Opossum-resistant) mode and with
// --tls-upgrade-any-request-unsafe; OPTIONS * (§3.2); 426 for TLS-only resources (§4.2); bytes
// after the upgrade request never answered as HTTP; a failed handshake closing cleanly; and the
// hand-off of the bytes read after the request into the handshake at every split point.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "tls_upgrade_helpers.hpp"

namespace upshift::test {
namespace {

// The seed's example request, as RFC 2817 §3.1 shows it (with the TLS version of today).
constexpr std::string_view seed_request =
    "GET /example HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: TLS/1.2\r\n\r\n";

using TlsUpgrade = tls_upgrade_server;

/// Checks an RFC 2817 §3.3 101: `Upgrade: TLS/1.2, HTTP/1.1` (bottom-up) and `Connection: Upgrade`.
void expect_tls_101(std::string_view head) {
    auto o = parse_response(head, true);
    ASSERT_EQ(o.what, parse_outcome::kind::complete) << head;
    EXPECT_EQ(o.response.status, 101) << head;
    EXPECT_EQ(o.response.header("Upgrade"), "TLS/1.2, HTTP/1.1") << head;
    EXPECT_TRUE(o.response.has_token("Connection", "upgrade")) << head;
}

TEST_F(TlsUpgrade, AnyRequestModeAnswersTheSeedRequestOverTlsAfter101) {
    // RFC 2817 §3.3: 101, the handshake on the same socket, then "the server MUST continue with
    // the response to the original request" over TLS.
    start({"--tls-upgrade-any-request-unsafe"});
    ASSERT_TRUE(server_->ready()) << server_->error();
    socket_guard s{connect_blocking(port())};
    ASSERT_GE(s.fd, 0);
    auto o = client_options();
    o.method = "GET";
    o.target = "/example";
    tls::upgrade_client c{o};
    auto r = c.upgrade(s.fd);
    ASSERT_TRUE(r.switched) << r.error << "\n" << r.head;
    expect_tls_101(r.head);
    EXPECT_TRUE(c.tls_version() == "TLSv1.3" || c.tls_version() == "TLSv1.2") << c.tls_version();
    auto responses = read_tls_responses(c, 1);
    ASSERT_EQ(responses.size(), 1u) << c.error();
    EXPECT_EQ(responses[0].status, 200);
    EXPECT_EQ(responses[0].body, example_body);
    // HTTP/1.1 carries on over TLS (§3.3), and a TLS-only resource is served there.
    ASSERT_TRUE(c.write("GET /secure/hello HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    responses = read_tls_responses(c, 1);
    ASSERT_EQ(responses.size(), 1u) << c.error();
    EXPECT_EQ(responses[0].status, 200);
    EXPECT_EQ(responses[0].body, "served over TLS: /secure/hello\n");
}

TEST_F(TlsUpgrade, DefaultModeAnswersTheSeedRequestInPlaintextWithout101) {
    // RFC 2817 §3.1: the offer is optional and the server may ignore it; the default mode
    // switches only OPTIONS * (docs/security.md), so GET /example is answered as if no
    // Upgrade had been sent.
    start();
    ASSERT_TRUE(server_->ready()) << server_->error();
    raw_client c{port()};
    ASSERT_TRUE(c.connected()) << c.error();
    ASSERT_TRUE(c.send_all(seed_request));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200) << *r;
    EXPECT_EQ(r->body, example_body);
    EXPECT_FALSE(r->header("Upgrade")) << *r;
    // Still plaintext HTTP/1.1 on the same connection.
    ASSERT_TRUE(c.send_all(request("GET", "/healthz")));
    auto again = c.read_response();
    ASSERT_TRUE(again) << c.error();
    EXPECT_EQ(again->body, "ok\n");
}

TEST_F(TlsUpgrade, OptionsStarSwitchesInDefaultModeAndGetsTheFixedAnswerFirst) {
    // RFC 2817 §3.2: OPTIONS * upgrades the connection without naming a resource; §3.3: its
    // response comes first over TLS, then the requests sent over TLS.
    start();
    ASSERT_TRUE(server_->ready()) << server_->error();
    socket_guard s{connect_blocking(port())};
    ASSERT_GE(s.fd, 0);
    tls::upgrade_client c{client_options()};
    auto r = c.upgrade(s.fd);
    ASSERT_TRUE(r.switched) << r.error << "\n" << r.head;
    expect_tls_101(r.head);
    ASSERT_TRUE(c.write("GET /secure/hello HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    auto responses = read_tls_responses(c, 2);
    ASSERT_EQ(responses.size(), 2u) << c.error();
    EXPECT_EQ(responses[0].status, 200);
    EXPECT_EQ(responses[0].header("Content-Length"), "0");
    EXPECT_TRUE(responses[0].body.empty());
    EXPECT_EQ(responses[1].status, 200);
    EXPECT_EQ(responses[1].body, "served over TLS: /secure/hello\n");
}

TEST_F(TlsUpgrade, TheUpgradeTokenEchoesTheVersionTheClientOffered) {
    // RFC 2817 §3.3 / RFC 9110 §7.8: the 101 names the protocol switched to, as offered.
    start();
    ASSERT_TRUE(server_->ready()) << server_->error();
    socket_guard s{connect_blocking(port())};
    ASSERT_GE(s.fd, 0);
    auto o = client_options();
    o.upgrade = "TLS/1.3";
    tls::upgrade_client c{o};
    auto r = c.upgrade(s.fd);
    ASSERT_TRUE(r.switched) << r.error << "\n" << r.head;
    auto head = parse_response(r.head, true);
    EXPECT_EQ(head.response.header("Upgrade"), "TLS/1.3, HTTP/1.1");
}

TEST_F(TlsUpgrade, TlsOnlyRouteAnswers426WithTheUpgradeFields) {
    // RFC 2817 §4.2: "426 Upgrade Required", "Upgrade: TLS/1.2, HTTP/1.1", "Connection: Upgrade".
    start();
    ASSERT_TRUE(server_->ready()) << server_->error();
    for (auto const& extra : {std::vector<std::string>{}, std::vector<std::string>{"Upgrade: TLS/1.2", "Connection: Upgrade"}}) {
        SCOPED_TRACE(extra.empty() ? "no offer" : "offering TLS (default mode: not switched)");
        auto r = fetch(port(), request("GET", "/secure/hello", extra));
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 426) << *r;
        EXPECT_EQ(r->header("Upgrade"), "TLS/1.2, HTTP/1.1");
        EXPECT_TRUE(r->has_token("Connection", "upgrade")) << *r;
        EXPECT_EQ(r->body.find("served over TLS: "), std::string::npos) << r->body;
    }
}

/// Sends `bytes` in one write, reads the 101, then everything until the server closes; returns
/// what came after the 101's blank line (nullopt if there was no 101 or no close).
std::optional<std::string> after_101_until_close(std::uint16_t port, std::string_view bytes) {
    raw_client c{port};
    if (!c.connected() || !c.send_all(bytes)) return std::nullopt;
    auto head = c.read_until("\r\n\r\n");
    if (!head || !head->starts_with("HTTP/1.1 101 ")) {
        ADD_FAILURE() << "no 101: " << head.value_or(c.error());
        return std::nullopt;
    }
    if (!c.wait_closed(10s)) {
        ADD_FAILURE() << "the server did not close";
        return std::nullopt;
    }
    return c.received();
}

TEST_F(TlsUpgrade, PlaintextPipelinedBehindTheUpgradeRequestIsNeverAnswered) {
    // RFC 2817 §3.3: after the 101's blank line the connection speaks TLS; a plaintext request sent
    // in the same write is handshake input, fails it ("MUST lead to disconnection"), and gets no
    // HTTP response. Both modes, both upgrade requests.
    start({"--tls-upgrade-any-request-unsafe"});
    ASSERT_TRUE(server_->ready()) << server_->error();
    std::string const second = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
    std::string const options_star =
        "OPTIONS * HTTP/1.1\r\nHost: localhost\r\nUpgrade: TLS/1.2\r\nConnection: Upgrade\r\n\r\n";
    for (auto const& first : {std::string{seed_request}, options_star}) {
        auto rest = after_101_until_close(port(), first + second);
        ASSERT_TRUE(rest);
        EXPECT_EQ(rest->find("HTTP/1.1"), std::string::npos) << *rest;
        EXPECT_EQ(rest->find("ok\n"), std::string::npos) << *rest;
        // What comes, if anything, is a TLS alert record (content type 21), not HTTP.
        if (!rest->empty()) {
            EXPECT_EQ(static_cast<unsigned char>((*rest)[0]), 21u);
        }
    }
    EXPECT_TRUE(healthy(port()));
}

TEST_F(TlsUpgrade, DefaultModeNeverParsesBytesBehindADeclinedTlsOffer) {
    // The offer is declined (§3.1), but the client may already have sent its ClientHello behind
    // the request: the answer closes the connection and nothing after the request is answered.
    start();
    ASSERT_TRUE(server_->ready()) << server_->error();
    raw_client c{port()};
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send_all(std::string{seed_request} + "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, example_body);
    EXPECT_TRUE(r->has_token("Connection", "close")) << *r;
    EXPECT_TRUE(c.wait_closed(10s));
    EXPECT_EQ(c.received().find("HTTP/1.1"), std::string::npos) << c.received();
}

TEST_F(TlsUpgrade, BadHandshakeAfter101ClosesAndTheServerCarriesOn) {
    // RFC 2817 §3.3: "Any TLS handshake failure MUST lead to disconnection". Garbage, a TLS record
    // header with nonsense, and a plaintext request, each sent after the 101 arrived.
    start();
    ASSERT_TRUE(server_->ready()) << server_->error();
    std::string const upgrade =
        "OPTIONS * HTTP/1.1\r\nHost: localhost\r\nUpgrade: TLS/1.2\r\nConnection: Upgrade\r\n\r\n";
    for (std::string const& garbage : {random_bytes(600), std::string("\x16\x03\x01\x00\x05hello", 10),
                                      std::string("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")}) {
        raw_client c{port()};
        ASSERT_TRUE(c.connected());
        ASSERT_TRUE(c.send_all(upgrade));
        auto head = c.read_until("\r\n\r\n");
        ASSERT_TRUE(head) << c.error();
        expect_tls_101(*head);
        ASSERT_TRUE(c.send_all(garbage) || c.peer_closed());
        EXPECT_TRUE(c.wait_closed(10s));
        EXPECT_EQ(c.received().find("HTTP/1.1"), std::string::npos) << c.received();
    }
    // The peer that goes away in the middle of the handshake.
    {
        raw_client c{port()};
        ASSERT_TRUE(c.send_all(upgrade));
        ASSERT_TRUE(c.read_until("\r\n\r\n"));
        c.close();
    }
    EXPECT_TRUE(healthy(port()));
}

TEST_F(TlsUpgrade, AHandshakeThatNeverStartsIsClosedAfterTheHeaderTimeout) {
    // After the 101 the server waits for the ClientHello no longer than for a request head.
    start({"--header-timeout", "0.3"});
    ASSERT_TRUE(server_->ready()) << server_->error();
    raw_client c{port()};
    ASSERT_TRUE(c.send_all("OPTIONS * HTTP/1.1\r\nHost: localhost\r\nUpgrade: TLS/1.2\r\nConnection: Upgrade\r\n\r\n"));
    auto head = c.read_until("\r\n\r\n");
    ASSERT_TRUE(head) << c.error();
    expect_tls_101(*head);
    EXPECT_TRUE(c.wait_closed(20s));
    EXPECT_TRUE(c.received().empty()) << c.received();
}

TEST_F(TlsUpgrade, ClientHelloSplitAtEveryOffsetBehindTheRequestCompletesTheHandshake) {
    // The leftover hand-off (RFC 2817 §3.3): the request and the ClientHello leave in one buffer
    // (an optimistic client), and arrive split at every offset, so the server's TLS layer starts
    // from a seed that holds none, part, or all of the ClientHello.
    start();
    ASSERT_TRUE(server_->ready()) << server_->error();
    // Learn the length of request + ClientHello once.
    std::size_t total = 0;
    {
        socket_guard s{connect_blocking(port())};
        auto o = client_options();
        o.optimistic = true;
        o.send_first = [&total](int fd, std::string_view bytes) {
            total = bytes.size();
            return ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
        };
        tls::upgrade_client c{o};
        auto r = c.upgrade(s.fd);
        ASSERT_TRUE(r.switched) << r.error;
    }
    ASSERT_GT(total, 200u);
    std::size_t failures = 0;
    for (std::size_t k = 1; k < total && failures < 5; ++k) {
        SCOPED_TRACE("split at " + std::to_string(k) + " of " + std::to_string(total));
        socket_guard s{connect_blocking(port())};
        ASSERT_GE(s.fd, 0);
        auto o = client_options();
        o.optimistic = true;
        o.send_first = [k](int fd, std::string_view bytes) {
            if (k >= bytes.size()) return false;  // a ClientHello of another length: fail loudly
            auto const a = bytes.substr(0, k), b = bytes.substr(k);
            if (::send(fd, a.data(), a.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(a.size())) return false;
            // Give the server a chance to read the first piece on its own (not a timing assertion:
            // either way the bytes must end up in the handshake).
            std::this_thread::sleep_for(std::chrono::microseconds(300));
            return ::send(fd, b.data(), b.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(b.size());
        };
        tls::upgrade_client c{o};
        auto r = c.upgrade(s.fd);
        if (!r.switched) {
            ++failures;
            ADD_FAILURE() << r.error << "\n" << r.head;
            continue;
        }
        auto responses = read_tls_responses(c, 1);
        if (responses.size() != 1 || responses[0].status != 200) {
            ++failures;
            ADD_FAILURE() << "no answer to OPTIONS * over TLS: " << c.error();
        }
    }
    EXPECT_EQ(failures, 0u);
}

TEST_F(TlsUpgrade, PythonSslWrapsTheSameSocketAfter101) {
    // An independent client: Python's socket + ssl. RFC 2817 §3.3 in the unsafe mode (the seed's
    // request answered over TLS) and §3.2 in the default one (OPTIONS *, then GET over TLS).
    std::string const python = "/usr/bin/python3";
    ASSERT_EQ(::access(python.c_str(), X_OK), 0) << python;
    start({"--tls-upgrade-any-request-unsafe"});
    ASSERT_TRUE(server_->ready()) << server_->error();
    std::string const script = R"(
import socket, ssl, sys
port, cafile, first = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode().decode("unicode_escape").encode()
ctx = ssl.create_default_context(cafile=cafile)
if sys.argv[4] == "1.2": ctx.maximum_version = ssl.TLSVersion.TLSv1_2
s = socket.create_connection(("127.0.0.1", port))
s.sendall(first)
head = b""
while not head.endswith(b"\r\n\r\n"):
    b = s.recv(1)
    if not b: sys.exit("closed before the 101")
    head += b
print(head.decode().split("\r\n")[0])
t = ctx.wrap_socket(s, server_hostname="localhost")
print(t.version())
t.sendall(b"GET /secure/hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
data = b""
while True:
    b = t.recv(65536)
    if not b: break
    data += b
sys.stdout.write(data.decode())
)";
    for (std::string const version : {"1.3", "1.2"}) {
        SCOPED_TRACE("TLS " + version);
        auto out = run_command({python, "-c", script, std::to_string(port()), cert(),
                                "GET /example HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: Upgrade\\r\\nUpgrade: TLS/1.2\\r\\n\\r\\n",
                                version});
        ASSERT_TRUE(out.exit && out.exit->success()) << out;
        EXPECT_EQ(out.out.rfind("HTTP/1.1 101 Switching Protocols\nTLSv" + version + "\n", 0), 0u) << out.out;
        auto const tls_part = out.out.substr(out.out.find('\n', out.out.find('\n') + 1) + 1);
        auto responses = parse_responses(tls_part, false);
        ASSERT_TRUE(responses) << out.out;
        ASSERT_EQ(responses->size(), 2u) << out.out;
        EXPECT_EQ((*responses)[0].body, example_body);  // the seed's request, answered over TLS
        EXPECT_EQ((*responses)[1].body, "served over TLS: /secure/hello\n");
    }
}

TEST_F(TlsUpgrade, ServeHelpShowsAWorkingWayToTryItByHand) {
    // `upshift serve --help` explains --tls-upgrade with a python3 command; run that very command
    // (port and certificate substituted) against a default-mode server.
    auto help = run_command({app_path(), "serve", "--help"});
    ASSERT_TRUE(help.exit && help.exit->success()) << help;
    for (auto flag : {"--tls-upgrade ", "--tls-upgrade-any-request-unsafe", "--tls-upgrade-same-cert-unsafe"})
        EXPECT_NE(help.out.find(flag), std::string::npos) << flag;
    auto const at = help.out.find("python3 -c '");
    ASSERT_NE(at, std::string::npos) << help.out;
    std::string cmd = help.out.substr(at, help.out.find('\n', at) - at);
    start();
    ASSERT_TRUE(server_->ready()) << server_->error();
    auto replace = [&cmd](std::string_view from, std::string const& to) {
        auto p = cmd.find(from);
        ASSERT_NE(p, std::string::npos) << from;
        cmd.replace(p, from.size(), to);
    };
    replace("8080", std::to_string(port()));
    replace("\"cert.pem\"", "\"" + cert() + "\"");
    auto out = run_command({"/bin/sh", "-c", cmd});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    EXPECT_EQ(out.out.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << out.out;
    EXPECT_NE(out.out.find("served over TLS: /secure/hello"), std::string::npos) << out.out;
}

TEST(TlsUpgradeCli, FlagsThatNeedTheirPrerequisitesAreUsageErrors) {
    struct { std::vector<std::string> args; std::string_view message; } const cases[] = {
        {{"--tls-upgrade"}, "--tls-upgrade needs --tls-cert and --tls-key"},
        {{"--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-upgrade-any-request-unsafe"}, "need --tls-upgrade"},
        {{"--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-upgrade-same-cert-unsafe"}, "need --tls-upgrade"},
    };
    for (auto const& c : cases) {
        std::vector<std::string> argv{app_path(), "serve"};
        argv.insert(argv.end(), c.args.begin(), c.args.end());
        auto out = run_command(argv);
        ASSERT_TRUE(out.exit && out.exit->exited) << out;
        EXPECT_EQ(out.exit->code, 2) << out;
        EXPECT_NE(out.err.find(c.message), std::string::npos) << out.err;
    }
}

} // namespace
} // namespace upshift::test
