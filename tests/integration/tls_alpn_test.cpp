// ALPN on the HTTPS listener of `upshift serve` (RFC 7301) and HTTP/2 over TLS (RFC 9113 §3.2),
// checked with curl, nghttp and openssl s_client: the server prefers "h2" and also speaks
// "http/1.1"; a client offering neither gets the no_application_protocol alert; a client offering
// no ALPN gets HTTP/1.1; and over TLS the h2c routes are closed (RFC 9113 §3.1, §3.3).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tls_test_helpers.hpp"

namespace upshift::test {
namespace {

class TlsAlpn : public ::testing::Test {
protected:
    void SetUp() override {
        auto curl = find_program("curl");
        auto openssl = find_program("openssl");
        if (!curl || !openssl) {
            if (in_ci()) FAIL() << "curl and openssl must be on PATH under CI";
            GTEST_SKIP() << "curl or openssl is not on PATH";
        }
        curl_ = *curl;
        openssl_ = *openssl;
        ASSERT_TRUE(dir_.ok());
        ASSERT_TRUE(made_certificate(openssl_, dir_, "a"));
    }

    void start(std::vector<std::string> extra = {}) {
        std::vector<std::string> args{"--tls-cert", dir_.file("a-cert.pem"), "--tls-key",
                                      dir_.file("a-key.pem")};
        args.insert(args.end(), extra.begin(), extra.end());
        server_ = std::make_unique<server_process>(https_server(args));
        ASSERT_TRUE(server_->ready()) << server_->error();
    }

    /// curl against the HTTPS port, trusting the test certificate; prints the body, then
    /// " <HTTP version>".
    command_result curl(std::vector<std::string> args, std::string_view path = "/healthz") {
        std::vector<std::string> argv{
            curl_, "-sS", "--max-time", "20", "--cacert", dir_.file("a-cert.pem"), "-w", " %{http_version}"};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back(https(path));
        return run_command(argv);
    }
    std::string https(std::string_view path) const {
        return "https://127.0.0.1:" + std::to_string(server_->port()) + std::string{path};
    }

    std::string curl_;
    std::string openssl_;
    temp_dir dir_;
    std::unique_ptr<server_process> server_;
};

// RFC 9113 §3.2: HTTP/2 over TLS is chosen with the ALPN identifier "h2".
TEST_F(TlsAlpn, CurlHttp2NegotiatesH2) {
    start();
    auto out = curl({"--http2"});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    EXPECT_EQ(out.out, "ok\n 2");
}

// RFC 7301 §3.2: a client offering only "http/1.1" gets it.
TEST_F(TlsAlpn, CurlHttp11NegotiatesHttp11) {
    start();
    auto out = curl({"--http1.1"});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    EXPECT_EQ(out.out, "ok\n 1.1");
}

// RFC 9113 §3.2 over TLS: request and response bodies travel in DATA frames, many of them.
TEST_F(TlsAlpn, Http2OverTlsRoundTripsABody) {
    start();
    std::string body(300 * 1024, 'x');
    for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
    ASSERT_TRUE(dir_.write("up.txt", body));
    auto out = curl({"--http2", "--data-binary", "@" + dir_.file("up.txt"), "-H", "Content-Type: text/plain",
                     "-o", dir_.file("down.txt")},
                    "/echo-body");
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    EXPECT_EQ(out.out, " 2");
    EXPECT_TRUE(read_file(dir_.file("down.txt")) == body);
}

// RFC 7301 §3.2: the server selects by its own preference ("h2" first) among what the client
// offers, whatever the client's order; s_client prints the protocol the server chose.
TEST_F(TlsAlpn, ServerPrefersH2WhateverTheClientsOrder) {
    start();
    auto out = s_client(openssl_, server_->port(), "-alpn http/1.1,h2");
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    EXPECT_NE(out.out.find("ALPN protocol: h2\n"), std::string::npos) << out.out;
}

TEST_F(TlsAlpn, SClientOfferingHttp11GetsHttp11AndAnHttp11Response) {
    start();
    auto out = s_client(openssl_, server_->port(), "-alpn http/1.1",
                        "GET /healthz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n");
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    EXPECT_NE(out.out.find("ALPN protocol: http/1.1\n"), std::string::npos) << out.out;
    EXPECT_NE(out.out.find("HTTP/1.1 200 OK\r\n"), std::string::npos) << out.out;
}

// RFC 7301 §3.2: "In the event that the server supports no protocols that the client advertises,
// then the server SHALL respond with a fatal 'no_application_protocol' alert" (alert 120).
TEST_F(TlsAlpn, ClientOfferingOnlyUnknownProtocolsGetsNoApplicationProtocolAlert) {
    start();
    auto out = s_client(openssl_, server_->port(), "-alpn spdy/3,foo");
    EXPECT_FALSE(out.exit && out.exit->success()) << out;
    EXPECT_NE(out.out.find("no application protocol"), std::string::npos) << out.out;
    EXPECT_NE(out.out.find("alert number 120"), std::string::npos) << out.out;
    // Only that handshake failed.
    auto ok = curl({"--http1.1"});
    ASSERT_TRUE(ok.exit && ok.exit->success()) << ok;
    EXPECT_EQ(ok.out, "ok\n 1.1");
}

// RFC 7301 §3.1: ALPN is optional for the client; without it the server answers in HTTP/1.1.
TEST_F(TlsAlpn, ClientWithoutAlpnGetsHttp11) {
    start();
    auto out = s_client(openssl_, server_->port(), "",
                        "GET /healthz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n");
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    EXPECT_NE(out.out.find("No ALPN negotiated"), std::string::npos) << out.out;
    EXPECT_NE(out.out.find("HTTP/1.1 200 OK\r\n"), std::string::npos) << out.out;
    EXPECT_NE(out.out.find("\r\n\r\nok\n"), std::string::npos) << out.out;
}

// RFC 9113 §3.2: after "h2" both sides send their connection preface; nghttp checks ours (a
// SETTINGS frame) and sends several requests at once, multiplexed on one TLS connection.
TEST_F(TlsAlpn, NghttpMultiplexesRequestsOnOneTlsConnection) {
    UPSHIFT_REQUIRE_TOOL(nghttp, "nghttp");
    start();
    auto out = run_command(
        {*nghttp, "-v", "-n", "-t", "20", https("/healthz"), https("/index.html"), https("/healthz?again")});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    EXPECT_NE(out.out.find("The negotiated protocol: h2"), std::string::npos) << out.out;
    EXPECT_NE(out.out.find("recv SETTINGS frame"), std::string::npos) << out.out;
    // One connection, three streams (nghttp numbers its requests 13, 15, 17), all answered.
    std::size_t connects = 0;
    for (auto at = out.out.find("] Connected"); at != std::string::npos;
         at = out.out.find("] Connected", at + 1))
        ++connects;
    EXPECT_EQ(connects, 1u) << out.out;
    for (auto id : {"13", "15", "17"})
        EXPECT_NE(out.out.find("recv (stream_id=" + std::string{id} + ") :status: 200"), std::string::npos)
            << id << "\n"
            << out.out;
}

// RFC 9113 §3.3: prior knowledge is for cleartext TCP; over TLS HTTP/2 is chosen by ALPN only
// (§3.2). A client that chose "http/1.1" and then sends the HTTP/2 preface is talking HTTP/1.1,
// so it gets an HTTP/1.1 error response, not an HTTP/2 SETTINGS frame.
TEST_F(TlsAlpn, Http2PrefaceAfterChoosingHttp11IsAnHttp11Error) {
    start();
    auto out =
        s_client(openssl_, server_->port(), "-alpn http/1.1", "PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n");
    ASSERT_TRUE(out.exit) << out;
    EXPECT_NE(out.out.find("ALPN protocol: http/1.1\n"), std::string::npos) << out.out;
    auto const status = out.out.find("HTTP/1.1 ");
    ASSERT_NE(status, std::string::npos) << out.out;
    EXPECT_TRUE(out.out[status + 9] == '4' || out.out[status + 9] == '5') << out.out;
    // An HTTP/2 server preface would start with a SETTINGS frame header: type 0x04 at offset 3.
    EXPECT_EQ(out.out.find(std::string("\x00\x00\x04\x00\x00\x00\x00\x00", 8)), std::string::npos);
}

// RFC 9113 §3.1: "h2c" names HTTP/2 over cleartext only; over TLS no response advertises it and
// a request offering it is not switched.
TEST_F(TlsAlpn, H2cUpgradeIsNotOfferedOrTakenOverTls) {
    start({"--h2c-advertise"});
    auto out =
        run_command({curl_, "-sS", "--max-time", "20", "--cacert", dir_.file("a-cert.pem"), "--http1.1", "-i",
                     "-H", "Connection: Upgrade, HTTP2-Settings", "-H", "Upgrade: h2c", "-H",
                     "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA", https("/healthz")});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    EXPECT_EQ(out.out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << out.out;
    EXPECT_EQ(out.out.find("101"), std::string::npos) << out.out;
    EXPECT_EQ(out.out.find("h2c"), std::string::npos) << out.out;
}

// --no-h2c turns HTTP/2 off everywhere: the HTTPS listener then offers only "http/1.1", so curl
// asking for HTTP/2 gets HTTP/1.1, and a client offering only "h2" gets the alert (RFC 7301 §3.2).
TEST_F(TlsAlpn, NoH2cOffersHttp11Only) {
    start({"--no-h2c"});
    auto out = curl({"--http2"});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    EXPECT_EQ(out.out, "ok\n 1.1");
    auto h2_only = s_client(openssl_, server_->port(), "-alpn h2");
    EXPECT_FALSE(h2_only.exit && h2_only.exit->success()) << h2_only;
    EXPECT_NE(h2_only.out.find("no application protocol"), std::string::npos) << h2_only.out;
}

// The handshake has the request head's deadline (--header-timeout): a client that connects to the
// HTTPS port and sends nothing is disconnected, and one that sends half a ClientHello too.
TEST_F(TlsAlpn, StalledHandshakeIsClosedAfterTheHeaderTimeout) {
    start({"--header-timeout", "0.3"});
    raw_client silent{server_->port()};
    ASSERT_TRUE(silent.connected()) << silent.error();
    raw_client partial{server_->port()};
    ASSERT_TRUE(partial.connected()) << partial.error();
    // A TLS record header announcing a 512-byte handshake message, then only 4 bytes of it.
    ASSERT_TRUE(partial.send_all(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc", 9)));
    EXPECT_TRUE(silent.wait_closed(10s));
    EXPECT_TRUE(partial.wait_closed(10s));
    auto out = curl({"--http2"});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    EXPECT_EQ(out.out, "ok\n 2");
}

} // namespace
} // namespace upshift::test
