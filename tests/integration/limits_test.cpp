// Requests the server must refuse: each gets its precise status, then the connection is closed
// (the rest of the stream can no longer be framed), while other connections are unaffected.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "integration_helpers.hpp"

namespace upshift::test {
namespace {

// Sends `bad` on a new connection; expects one response with `status`, then the close.
void expect_rejected(std::uint16_t port, std::string const& bad, int status) {
    raw_client c{port};
    ASSERT_TRUE(c.connected()) << c.error();
    // The server may answer and close before reading everything; send_all keeps what it received.
    c.send_all(bad);
    auto r = c.read_response(5s);
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, status) << *r;
    // RFC 9112 §9.6: a server that will close after this response SHOULD send "close".
    EXPECT_TRUE(r->has_token("Connection", "close")) << *r;
    EXPECT_TRUE(c.wait_closed(5s)) << "connection left open after " << status;
}

class LimitsTest : public ::testing::Test {
protected:
    void SetUp() override {
        server_ = std::make_unique<server_process>(std::vector<std::string>{"--max-body-bytes", "4096"});
        ASSERT_TRUE(server_->ready()) << server_->error();
    }
    std::uint16_t port() const { return server_->port(); }
    std::unique_ptr<server_process> server_;
};

// RFC 6585 §5: 431 when the header section is too large; other connections keep working.
TEST_F(LimitsTest, HugeHeaderSectionIs431AndOthersUnaffected) {
    raw_client before{port()};
    ASSERT_TRUE(before.connected()) << before.error();
    ASSERT_TRUE(before.send_all(request("GET", "/healthz")));
    ASSERT_TRUE(before.read_response()) << before.error();

    std::vector<std::string> pad;
    for (int i = 0; i < 64; ++i) pad.push_back("X-Pad-" + std::to_string(i) + ": " + std::string(1000, 'p'));
    expect_rejected(port(), request("GET", "/healthz", pad), 431);

    // The connection opened before still works, and so does a new one.
    ASSERT_TRUE(before.send_all(request("GET", "/healthz")));
    auto again = before.read_response();
    ASSERT_TRUE(again) << before.error();
    EXPECT_EQ(again->status, 200);
    EXPECT_TRUE(healthy(port()));
}

// --max-header-bytes lowers the limit.
TEST(LimitsFlags, MaxHeaderBytesFlag) {
    server_process server{{"--max-header-bytes", "1024"}};
    ASSERT_TRUE(server.ready()) << server.error();
    expect_rejected(server.port(), request("GET", "/healthz", {"X-Pad: " + std::string(2000, 'p')}), 431);
    EXPECT_TRUE(healthy(server.port()));
}

// RFC 9112 §3: a server that receives a request-target longer than it wishes to parse MUST respond
// with 414 (RFC 9110 §15.5.15).
TEST_F(LimitsTest, LongRequestLineIs414) {
    expect_rejected(port(), request("GET", "/" + std::string(9000, 'a')), 414);
    EXPECT_TRUE(healthy(port()));
}

// RFC 9110 §15.5.14: content larger than the server is willing to process -> 413.
TEST_F(LimitsTest, ContentLengthAboveLimitIs413) {
    std::string head = "POST /echo-body HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n";
    expect_rejected(port(), head, 413);
    // Just below the limit is fine.
    std::string body(4096, 'b');
    auto ok = fetch(port(), request("POST", "/echo-body", {}, body));
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
    EXPECT_EQ(ok->body, body);
}

// A chunked body that grows past the limit is refused too (no Content-Length to check up front).
TEST_F(LimitsTest, ChunkedBodyAboveLimitIs413) {
    std::string req = "POST /echo-body HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 10; ++i) req += "400\r\n" + std::string(1024, 'c') + "\r\n";
    req += "0\r\n\r\n";
    expect_rejected(port(), req, 413);
}

// RFC 9112 §6.1: a server that receives a transfer coding it does not understand SHOULD respond 501.
TEST_F(LimitsTest, UnknownTransferCodingIs501) {
    std::string req =
        "POST /echo-body HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n";
    expect_rejected(port(), req, 501);
}

// RFC 9112 §6.1: a request with both Content-Length and Transfer-Encoding may be rejected, and the
// server MUST close the connection after responding (request smuggling defence).
TEST_F(LimitsTest, ContentLengthWithTransferEncodingIs400AndClose) {
    std::string req = "POST /echo-body HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
                      "5\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "5\r\nhello\r\n0\r\n\r\n";
    expect_rejected(port(), req, 400);
}

// RFC 9110 §15.6.6: 505 for a major version the server does not support.
TEST_F(LimitsTest, Http2RequestLineIs505) {
    expect_rejected(port(), "GET / HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n", 505);
}

// RFC 9112 §5.1: no whitespace is allowed between the field name and colon; a server MUST reject
// such a request with 400.
TEST_F(LimitsTest, WhitespaceBeforeColonIs400) {
    expect_rejected(port(), "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Bad : v\r\n\r\n", 400);
}

// RFC 9112 §3.2: a server MUST respond 400 to an HTTP/1.1 request without Host, or with two.
TEST_F(LimitsTest, MissingOrDuplicateHostIs400) {
    expect_rejected(port(), "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400);
    expect_rejected(port(), "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
}

// RFC 9112 §6.3 item 5: an invalid Content-Length is unrecoverable: 400 and close.
TEST_F(LimitsTest, InvalidContentLengthIs400) {
    expect_rejected(port(), "POST /echo-body HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1x\r\n\r\n", 400);
}

// Garbage instead of a request line.
TEST_F(LimitsTest, GarbageIs400) {
    expect_rejected(port(), "\x16\x03\x01 not http at all\r\n\r\n", 400);
    EXPECT_TRUE(healthy(port()));
}

} // namespace
} // namespace upshift::test
