// WebSocket over TLS ("wss", RFC 6455 §3, §11.1.2) on the HTTPS listener of `upshift serve`: the
// same /ws/echo route as over ws://, driven by two independent clients that verify the server's
// certificate against the test's own: python3's websockets and the npm `ws` client (Node.js).
// The opening handshake is HTTP/1.1 (RFC 6455 §4.1), so these clients offer no ALPN or
// "http/1.1", and the 101 hands the TLS stream to the WebSocket session.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tls_test_helpers.hpp"

namespace upshift::test {
namespace {

class TlsWss : public ::testing::Test {
protected:
    void SetUp() override {
        UPSHIFT_REQUIRE_TOOL(openssl, "openssl");
        ASSERT_TRUE(dir_.ok());
        ASSERT_TRUE(made_certificate(*openssl, dir_, "wss"));
        server_ = std::make_unique<server_process>(
            https_server({"--tls-cert", dir_.file("wss-cert.pem"), "--tls-key", dir_.file("wss-key.pem"),
                          "--access-log"}));
        ASSERT_TRUE(server_->ready()) << server_->error();
    }
    std::string wss_url() const { return "wss://127.0.0.1:" + std::to_string(server_->port()) + "/ws/echo"; }

    temp_dir dir_;
    std::unique_ptr<server_process> server_;
};

TEST_F(TlsWss, PythonWebsocketsEchoesOverTls) {
    std::string const python = "/usr/bin/python3";
    auto have = ::access(python.c_str(), X_OK) == 0 ? run_command({python, "-c", "import websockets"})
                                                    : command_result{};
    if (!(have.exit && have.exit->success())) {
        if (in_ci()) FAIL() << python << " with the websockets package is missing but CI is set";
        GTEST_SKIP() << python << " with the websockets package is missing";
    }
    static constexpr char const* script = R"PY(
import asyncio, ssl, sys, websockets

async def main(url, ca):
    ctx = ssl.create_default_context(cafile=ca)  # verifies the chain and the name (IP 127.0.0.1)
    async with websockets.connect(url, ssl=ctx, max_size=4 * 2**20, open_timeout=10, close_timeout=10) as ws:
        tls = ws.transport.get_extra_info("ssl_object")
        print("OK tls " + tls.version())
        await ws.send("h\u00e9llo over tls")
        got = await asyncio.wait_for(ws.recv(), 10)
        assert got == "h\u00e9llo over tls", got
        print("OK text")
        blob = bytes((i * 7 + i // 251) % 256 for i in range(1 << 20))
        await ws.send(blob)
        got = await asyncio.wait_for(ws.recv(), 30)
        assert got == blob, "1 MiB echo: %d bytes back" % len(got)
        print("OK 1MiB")
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 10)
        print("OK ping")
        await ws.close(1000, "done")
        assert ws.close_code == 1000, ws.close_code
        print("OK close")

asyncio.run(main(sys.argv[1], sys.argv[2]))
)PY";
    auto out =
        run_command({python, "-c", script, wss_url(), dir_.file("wss-cert.pem")}, std::chrono::seconds{60});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    for (auto const* line : {"OK tls TLSv1.3\n", "OK text\n", "OK 1MiB\n", "OK ping\n", "OK close\n"})
        EXPECT_NE(out.out.find(line), std::string::npos) << line << "\n" << out;
    EXPECT_TRUE(server_->wait_output("\"GET /ws/echo HTTP/1.1\" 101", 5s)) << server_->output();
}

// The npm ws client with permessage-deflate off and on (RFC 7692) over TLS; the script checks that
// the certificate verified against --ca (tls authorized) before the echo checks.
TEST_F(TlsWss, NodeWsEchoesOverTlsWithAndWithoutDeflate) {
    UPSHIFT_REQUIRE_NODE_WS(node, clients_dir);
    for (bool deflate : {false, true}) {
        std::vector<std::string> argv{*node, clients_dir + "/ws_echo_client.mjs", wss_url(), "--ca",
                                      dir_.file("wss-cert.pem")};
        if (deflate) argv.emplace_back("--deflate");
        auto out = run_command(argv, std::chrono::seconds{90});
        ASSERT_TRUE(out.exit && out.exit->success()) << out;
        EXPECT_NE(out.out.find("\"ok\":true"), std::string::npos) << out;
        for (auto const* check : {"\"tls authorized\"", "\"text\"", "\"1 MiB binary\"", "\"fragmented text\"",
                                  "\"ping\"", "\"close 1000\""})
            EXPECT_NE(out.out.find(check), std::string::npos) << check << "\n" << out;
    }
}

// Without the test's certificate as trust anchor the same client refuses the server: the
// verification above is real.
TEST_F(TlsWss, NodeWsRefusesTheServerWithoutItsCertificate) {
    UPSHIFT_REQUIRE_NODE_WS(node, clients_dir);
    auto out = run_command({*node, clients_dir + "/ws_echo_client.mjs", wss_url()}, std::chrono::seconds{60});
    ASSERT_TRUE(out.exit) << out;
    EXPECT_FALSE(out.exit->success()) << out;
    EXPECT_NE(out.out.find("self-signed certificate"), std::string::npos) << out;
}

} // namespace
} // namespace upshift::test
