// The /ws/echo WebSocket route of `upshift serve` against an independent client: python3's
// `websockets` package (Debian 12 ships 10.4, asyncio API only). Text, binary and a 1 MiB message
// echo, ping/pong, and the closing handshake with 1000 (RFC 6455 §5.6, §5.5.2, §7.1.2). The client
// offers permessage-deflate by default ("permessage-deflate; client_max_window_bits"); /ws/echo
// accepts it (RFC 7692 §5.1, §7.1), so the 101 names the extension, every message from either side
// may be compressed (§6), and everything still echoes byte for byte.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "integration_helpers.hpp"

namespace upshift::test {
namespace {

class WsPythonTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(server_.ready()) << server_.error(); }

    /// Skips (or fails under CI) when /usr/bin/python3 lacks the websockets package.
    bool have_websockets() {
        if (::access(python.c_str(), X_OK) != 0) return false;
        auto r = run_command({python, "-c", "import websockets"}, std::chrono::seconds{30});
        return r.exit && r.exit->success();
    }

    std::string const python = "/usr/bin/python3";
    server_process server_{std::vector<std::string>{"--access-log"}};
};

TEST_F(WsPythonTest, EchoAndCleanClose) {
    if (!have_websockets()) {
        if (in_ci()) FAIL() << python << " with the websockets package is missing but CI is set";
        GTEST_SKIP() << python << " with the websockets package is missing";
    }
    static constexpr char const* script = R"PY(
import asyncio, sys, websockets

async def main(port):
    uri = "ws://127.0.0.1:%d/ws/echo" % port
    async with websockets.connect(uri, max_size=4 * 2**20, open_timeout=10, close_timeout=10) as ws:
        ext = ws.response_headers.get("Sec-WebSocket-Extensions")
        assert ext is not None and ext.startswith("permessage-deflate"), ws.response_headers
        assert [e.name for e in ws.extensions] == ["permessage-deflate"], ws.extensions
        print("OK deflate " + ext)
        await ws.send("h\u00e9llo, w\u00f6rld")
        got = await asyncio.wait_for(ws.recv(), 10)
        assert got == "h\u00e9llo, w\u00f6rld", got
        print("OK text")
        await ws.send(bytes(range(256)))
        got = await asyncio.wait_for(ws.recv(), 10)
        assert got == bytes(range(256)), got
        print("OK binary")
        blob = bytes((i * 7 + i // 251) % 256 for i in range(1 << 20))
        await ws.send(blob)
        got = await asyncio.wait_for(ws.recv(), 30)
        assert got == blob, "1 MiB echo: %d bytes back" % len(got)
        text = "\u20ac" * ((1 << 20) // 3)
        await ws.send(text)
        got = await asyncio.wait_for(ws.recv(), 30)
        assert got == text
        print("OK 1MiB")
        # A fragmented message (websockets sends an iterable as fragments).
        await ws.send(["frag", "mented"])
        got = await asyncio.wait_for(ws.recv(), 10)
        assert got == "fragmented", got
        print("OK fragmented")
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 10)
        print("OK ping")
        await ws.close(code=1000, reason="done")
        assert ws.close_code == 1000, ws.close_code
        print("OK close %d" % ws.close_code)

asyncio.run(main(int(sys.argv[1])))
)PY";
    auto out = run_command({python, "-c", script, std::to_string(server_.port())}, std::chrono::seconds{120});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    for (auto const* line : {"OK deflate permessage-deflate\n", "OK text\n", "OK binary\n", "OK 1MiB\n", "OK fragmented\n", "OK ping\n", "OK close 1000\n"})
        EXPECT_NE(out.out.find(line), std::string::npos) << line << out;
    EXPECT_TRUE(server_.wait_output("\"GET /ws/echo HTTP/1.1\" 101", 5s)) << server_.output();
    EXPECT_TRUE(healthy(server_.port()));
}

// Without a WebSocket upgrade /ws/echo answers 426 naming what it speaks (RFC 9110 §15.5.22,
// RFC 6455 §4.2.2 item 4); a version the server does not speak is refused the same way.
TEST_F(WsPythonTest, NotWebSocketGets426) {
    auto plain = fetch(server_.port(), request("GET", "/ws/echo"));
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->status, 426) << *plain;
    EXPECT_EQ(plain->header("Upgrade"), "websocket") << *plain;
    EXPECT_EQ(plain->header("Sec-WebSocket-Version"), "13") << *plain;

    auto v8 = fetch(server_.port(), request("GET", "/ws/echo",
                                            {"Upgrade: websocket", "Connection: Upgrade",
                                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                                             "Sec-WebSocket-Version: 8"}));
    ASSERT_TRUE(v8);
    EXPECT_EQ(v8->status, 426) << *v8;
    EXPECT_EQ(v8->header("Sec-WebSocket-Version"), "13") << *v8;
}

} // namespace
} // namespace upshift::test
