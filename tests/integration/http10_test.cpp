// Connection persistence by protocol version and the Connection header (RFC 9112 §9.3).
#include <gtest/gtest.h>

#include <string>

#include "integration_helpers.hpp"

namespace upshift::test {
namespace {

class Http10Test : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(server_.ready()) << server_.error(); }
    server_process server_{};
};

// RFC 9112 §9.3: an HTTP/1.0 request without the keep-alive option: the connection closes after
// the response.
TEST_F(Http10Test, Http10WithoutKeepAliveCloses) {
    raw_client c{server_.port()};
    ASSERT_TRUE(c.connected()) << c.error();
    ASSERT_TRUE(c.send_all("GET /healthz HTTP/1.0\r\n\r\n"));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "ok\n");
    // RFC 9110 §2.5 / RFC 9112 §2.3: the server answers with its own version, HTTP/1.1.
    EXPECT_EQ(r->version_major, 1);
    // RFC 9112 §6.1: no chunked coding towards an HTTP/1.0 recipient.
    EXPECT_FALSE(r->chunked);
    EXPECT_TRUE(c.wait_closed(5s));
}

// RFC 9112 §9.3 and Appendix C.2.2: HTTP/1.0 with "Connection: keep-alive" persists, and the server
// must say "keep-alive" back, since an HTTP/1.0 client only persists when the response does.
TEST_F(Http10Test, Http10WithKeepAliveStaysOpen) {
    raw_client c{server_.port()};
    ASSERT_TRUE(c.connected()) << c.error();
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(c.send_all("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")) << c.error();
        auto r = c.read_response();
        ASSERT_TRUE(r) << "request " << i << ": " << c.error();
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body, "ok\n");
        EXPECT_TRUE(r->has_token("Connection", "keep-alive")) << *r;
        EXPECT_TRUE(r->header("Content-Length")) << "a persistent HTTP/1.0 response needs a length\n" << *r;
        EXPECT_FALSE(c.peer_closed());
    }
    EXPECT_FALSE(c.wait_closed(std::chrono::milliseconds{300}));
}

// An HTTP/1.0 POST echoes too (the body is framed by Content-Length).
TEST_F(Http10Test, Http10PostEcho) {
    auto r = fetch(server_.port(), "POST /echo-body HTTP/1.0\r\nContent-Length: 4\r\n\r\nabcd");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "abcd");
}

// RFC 9112 §9.3: HTTP/1.1 persists by default.
TEST_F(Http10Test, Http11PersistsByDefault) {
    raw_client c{server_.port()};
    ASSERT_TRUE(c.connected()) << c.error();
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(c.send_all(request("GET", "/healthz"))) << c.error();
        auto r = c.read_response();
        ASSERT_TRUE(r) << c.error();
        EXPECT_EQ(r->status, 200);
        EXPECT_FALSE(r->has_token("Connection", "close")) << *r;
    }
    EXPECT_FALSE(c.wait_closed(std::chrono::milliseconds{300}));
}

// RFC 9112 §9.6: a server that receives "close" MUST close after the final response, and SHOULD
// send "close" in it.
TEST_F(Http10Test, Http11ConnectionCloseCloses) {
    raw_client c{server_.port()};
    ASSERT_TRUE(c.connected()) << c.error();
    ASSERT_TRUE(c.send_all(request("GET", "/healthz", {"Connection: close"})));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "ok\n");
    EXPECT_TRUE(r->has_token("Connection", "close")) << *r;
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_TRUE(c.received().empty()) << c.received();
}

// A client that half-closes after its request still gets the whole response (RFC 9112 §9.6:
// the server reads the request, answers, then closes).
TEST_F(Http10Test, HalfClosedClientStillGetsResponse) {
    raw_client c{server_.port()};
    ASSERT_TRUE(c.connected()) << c.error();
    ASSERT_TRUE(c.send_all(request("POST", "/echo-body", {}, "half-closed")));
    c.shutdown_write();
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->body, "half-closed");
    EXPECT_TRUE(c.wait_closed(5s));
}

} // namespace
} // namespace upshift::test
