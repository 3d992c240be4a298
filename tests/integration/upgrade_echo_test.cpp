// The echo demo protocol end to end against `upshift serve`: protocol switching with raw sockets
// (RFC 9110 §7.8 Upgrade, §15.2.2 101 Switching Protocols, §15.5.22 426 Upgrade Required), and the
// same from a second, independent peer: a python3 client using only the socket module.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "integration_helpers.hpp"

namespace upshift::test {
namespace {

class UpgradeEchoTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(server_.ready()) << server_.error(); }

    /// An upgrade request for /echo offering `upgrade`.
    static std::string upgrade_request(std::string_view upgrade, std::string_view target = "/echo") {
        return request("GET", target, {"Upgrade: " + std::string(upgrade), "Connection: Upgrade"});
    }

    /// Reads one response head (bytes after it stay in c.received()).
    static std::optional<http_response> read_head(raw_client& c) {
        auto head = c.read_until("\r\n\r\n");
        if (!head) return std::nullopt;
        auto o = parse_response(*head, /*head_request=*/true);
        if (o.what != parse_outcome::kind::complete) return std::nullopt;
        return o.response;
    }

    server_process server_{std::vector<std::string>{"--access-log"}};
};

// RFC 9110 §7.8: the client may send its first bytes in the new protocol right behind the request;
// after the 101 the echo protocol returns them, then everything else (binary data included).
TEST_F(UpgradeEchoTest, RequestAndDataInOneWriteEchoBack) {
    raw_client c{server_.port()};
    ASSERT_TRUE(c.connected()) << c.error();
    ASSERT_TRUE(c.send_all(upgrade_request("echo") + "hello, echo\r\n\r\nGET / HTTP/1.1\r\n\r\n"));
    auto r = read_head(c);
    ASSERT_TRUE(r) << c.error() << c.received();
    EXPECT_EQ(r->status, 101);
    EXPECT_EQ(r->header("Upgrade"), "echo") << *r;
    EXPECT_TRUE(r->has_token("Connection", "upgrade")) << *r;
    EXPECT_EQ(r->header_count("Content-Length"), 0u) << *r; // RFC 9110 §8.6
    std::string_view const first = "hello, echo\r\n\r\nGET / HTTP/1.1\r\n\r\n";
    EXPECT_EQ(c.read_exactly(first.size()).value_or("<none>"), first);

    std::string const blob = random_bytes(256 * 1024, 99);
    ASSERT_TRUE(c.send_all(blob));
    auto back = c.read_exactly(blob.size(), 10s);
    ASSERT_TRUE(back) << c.error();
    EXPECT_TRUE(*back == blob) << "echoed bytes differ";

    // The switched request is in the access log with status 101.
    EXPECT_TRUE(server_.wait_output("\"GET /echo HTTP/1.1\" 101", 5s)) << server_.output();
    c.close();
    EXPECT_TRUE(healthy(server_.port()));
}

// RFC 9110 §7.8: the client lists protocols in descending preference and the server switches to
// the first it supports: h2c is not registered, so echo wins and the 101 names only echo.
TEST_F(UpgradeEchoTest, FirstSupportedOfferWins) {
    raw_client c{server_.port()};
    ASSERT_TRUE(c.connected()) << c.error();
    ASSERT_TRUE(c.send_all(upgrade_request("h2c, echo") + "ping"));
    auto r = read_head(c);
    ASSERT_TRUE(r) << c.error() << c.received();
    EXPECT_EQ(r->status, 101);
    EXPECT_EQ(r->header("Upgrade"), "echo") << *r;
    EXPECT_EQ(c.read_exactly(4).value_or("<none>"), "ping");
}

// A version the echo protocol does not speak is declined; the request is then ordinary HTTP, and
// /echo answers 426 naming the protocol it requires (RFC 9110 §15.5.22: MUST send Upgrade; §7.8:
// with the "upgrade" connection option). Nothing followed the request, so the connection stays
// open and carries the next request.
TEST_F(UpgradeEchoTest, UnsupportedVersionGets426) {
    raw_client c{server_.port()};
    ASSERT_TRUE(c.connected()) << c.error();
    ASSERT_TRUE(c.send_all(upgrade_request("echo/2")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error() << c.received();
    EXPECT_EQ(r->status, 426);
    EXPECT_EQ(r->header("Upgrade"), "echo") << *r;
    EXPECT_TRUE(r->has_token("Connection", "upgrade")) << *r;
    EXPECT_FALSE(r->has_token("Connection", "close")) << *r;
    ASSERT_TRUE(c.send_all(request("GET", "/healthz")));
    auto h = c.read_response();
    ASSERT_TRUE(h) << c.error() << c.received();
    EXPECT_EQ(h->status, 200);
    EXPECT_EQ(h->body, "ok\n");

    // Without any Upgrade: the same 426.
    auto plain = fetch(server_.port(), request("GET", "/echo"));
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->status, 426);
    EXPECT_EQ(plain->header("Upgrade"), "echo") << *plain;
    EXPECT_TRUE(plain->has_token("Connection", "upgrade")) << *plain;
}

// RFC 9110 §7.8: a server MUST ignore Upgrade in an HTTP/1.0 request: /echo answers 426 like any
// ordinary request, no 101.
TEST_F(UpgradeEchoTest, Http10UpgradeIsIgnored) {
    auto r = fetch(server_.port(),
                   request("GET", "/echo", {"Upgrade: echo", "Connection: upgrade"}, {}, "HTTP/1.0"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 426) << *r;
}

// The same conversations from python3's socket module: an independent HTTP/1.1 client
// implementation. It also half-closes after sending (RFC 9293 §3.6) and expects the whole echo
// before the server's FIN.
TEST_F(UpgradeEchoTest, Python3SocketClient) {
    std::string const python = "/usr/bin/python3";
    if (::access(python.c_str(), X_OK) != 0) {
        if (in_ci()) FAIL() << python << " is missing but CI is set";
        GTEST_SKIP() << python << " is missing";
    }
    static constexpr char const* script = R"PY(
import socket, sys
port = int(sys.argv[1])

def connect():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s

def read_head(s, buf):
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit("closed before the response head: %r" % buf)
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    version, status = lines[0].split(" ", 2)[:2]
    fields = {}
    for line in lines[1:]:
        name, value = line.split(":", 1)
        fields.setdefault(name.strip().lower(), []).append(value.strip())
    return version, int(status), fields, rest

def read_n(s, buf, n):
    while len(buf) < n:
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit("closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf[:n], buf[n:]

def tokens(fields, name):
    return [t.strip().lower() for v in fields.get(name, []) for t in v.split(",")]

def upgrade(offer, first):
    s = connect()
    s.sendall(b"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: " + offer +
              b"\r\nConnection: Upgrade\r\n\r\n" + first)
    return s, read_head(s, b"")

# 1. request + first bytes in one write
s, (version, status, fields, rest) = upgrade(b"echo", b"one write")
assert status == 101, status
assert fields.get("upgrade") == ["echo"], fields
assert "upgrade" in tokens(fields, "connection"), fields
got, rest = read_n(s, rest, 9)
assert got == b"one write", got
print("OK one-write")

# 2. a larger binary message, then half-close: the whole echo, then EOF
blob = bytes((i * 7 + i // 251) % 256 for i in range(512 * 1024))
s.sendall(blob)
s.shutdown(socket.SHUT_WR)
data = rest
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
s.close()
assert data == blob, "echo: %d bytes back of %d" % (len(data), len(blob))
print("OK half-close")

# 3. h2c is not registered: echo wins
s, (version, status, fields, rest) = upgrade(b"h2c, echo", b"x")
assert status == 101 and fields.get("upgrade") == ["echo"], (status, fields)
got, rest = read_n(s, rest, 1)
assert got == b"x"
s.close()
print("OK h2c-echo")

# 4. echo/2 is declined: 426 with Upgrade: echo and Connection: upgrade
s, (version, status, fields, rest) = upgrade(b"echo/2", b"")
assert status == 426, status
assert fields.get("upgrade") == ["echo"], fields
assert "upgrade" in tokens(fields, "connection"), fields
length = int(fields["content-length"][0])
body, rest = read_n(s, rest, length)
s.close()
print("OK declined")
)PY";
    auto out = run_command({python, "-c", script, std::to_string(server_.port())}, std::chrono::seconds{60});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    for (auto const* line : {"OK one-write\n", "OK half-close\n", "OK h2c-echo\n", "OK declined\n"})
        EXPECT_NE(out.out.find(line), std::string::npos) << line << out;
    EXPECT_TRUE(healthy(server_.port()));
}

} // namespace
} // namespace upshift::test
