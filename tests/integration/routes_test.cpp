// The fixed routes of `upshift serve`: GET|HEAD /healthz and POST /echo-body (bodies streamed back
// with backpressure, 100-continue, the --max-body-bytes limit).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "integration_helpers.hpp"

namespace upshift::test {
namespace {

class RoutesTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(server_.ready()) << server_.error(); }
    std::uint16_t port() const { return server_.port(); }
    server_process server_{};
};

TEST_F(RoutesTest, HealthzGetAndHead) {
    auto r = fetch(port(), request("GET", "/healthz?probe=1"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "ok\n");
    EXPECT_EQ(r->header("Content-Type").value_or("").rfind("text/plain", 0), 0U) << *r;
    // RFC 9110 §9.3.2: HEAD has GET's Content-Length and no content; the pipelined request behind
    // it shows no body bytes were sent.
    raw_client c{port()};
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send_all(request("HEAD", "/healthz") + request("GET", "/healthz")));
    auto h = c.read_response(5s, true);
    ASSERT_TRUE(h) << c.error();
    EXPECT_EQ(h->status, 200);
    EXPECT_EQ(h->header("Content-Length"), "3");
    auto g = c.read_response();
    ASSERT_TRUE(g) << c.error();
    EXPECT_EQ(g->body, "ok\n");
}

// RFC 9110 §15.5.6: a 405 MUST carry Allow, listing the methods the resource supports.
TEST_F(RoutesTest, WrongMethodsAre405WithAllow) {
    auto post_health = fetch(port(), request("POST", "/healthz", {}, "x"));
    ASSERT_TRUE(post_health);
    EXPECT_EQ(post_health->status, 405);
    EXPECT_TRUE(post_health->has_token("Allow", "GET")) << *post_health;
    EXPECT_TRUE(post_health->has_token("Allow", "HEAD")) << *post_health;
    for (auto method : {"GET", "HEAD", "PUT"}) {
        auto r = fetch(port(), request(method, "/echo-body"), method == std::string_view{"HEAD"});
        ASSERT_TRUE(r) << method;
        EXPECT_EQ(r->status, 405) << method;
        EXPECT_EQ(r->header("Allow"), "POST") << method << "\n" << *r;
    }
}

TEST_F(RoutesTest, EchoCopiesContentType) {
    auto typed = fetch(port(), request("POST", "/echo-body", {"Content-Type: application/json"}, "{\"a\":1}"));
    ASSERT_TRUE(typed);
    EXPECT_EQ(typed->status, 200);
    EXPECT_EQ(typed->body, "{\"a\":1}");
    EXPECT_EQ(typed->header("Content-Type"), "application/json");
    auto untyped = fetch(port(), request("POST", "/echo-body", {}, "raw"));
    ASSERT_TRUE(untyped);
    EXPECT_EQ(untyped->header("Content-Type"), "application/octet-stream");
    EXPECT_EQ(untyped->body, "raw");
}

TEST_F(RoutesTest, EchoEmptyBody) {
    auto none = fetch(port(), request("POST", "/echo-body"));
    ASSERT_TRUE(none);
    EXPECT_EQ(none->status, 200);
    EXPECT_EQ(none->header("Content-Length"), "0");
    auto zero = fetch(port(), request("POST", "/echo-body", {"Content-Length: 0"}));
    ASSERT_TRUE(zero);
    EXPECT_EQ(zero->status, 200);
    EXPECT_TRUE(zero->body.empty());
    auto chunked_empty =
        fetch(port(), "POST /echo-body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    ASSERT_TRUE(chunked_empty);
    EXPECT_EQ(chunked_empty->status, 200);
    EXPECT_TRUE(chunked_empty->body.empty());
}

TEST_F(RoutesTest, EchoBinaryBodyAndKeepAlive) {
    raw_client c{port()};
    ASSERT_TRUE(c.connected());
    for (std::uint32_t i = 0; i < 3; ++i) {
        std::string body = random_bytes(64 * 1024 + i, i);
        ASSERT_TRUE(c.send_all(request("POST", "/echo-body", {}, body)));
        auto r = c.read_response();
        ASSERT_TRUE(r) << c.error();
        EXPECT_EQ(r->status, 200);
        EXPECT_TRUE(r->body == body) << "echo " << i << " differs";
        EXPECT_FALSE(r->has_token("Connection", "close"));
    }
}

// RFC 9110 §10.1.1: the server sends 100 (Continue) before reading a body the client is holding
// back, and the final response after it.
TEST_F(RoutesTest, EchoAnswersExpectContinue) {
    raw_client c{port()};
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send_all("POST /echo-body HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
    auto interim = c.read_response();
    ASSERT_TRUE(interim) << c.error();
    EXPECT_EQ(interim->status, 100);
    ASSERT_TRUE(c.send_all("hello"));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hello");
}

// RFC 9110 §15.5.14: 413 above the default limit of 1 MiB.
TEST_F(RoutesTest, DefaultBodyLimitIsOneMebibyte) {
    std::string at_limit = random_bytes(1 << 20, 8);
    raw_client c{port()};
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send_all(request("POST", "/echo-body", {}, at_limit)));
    auto ok = c.read_response(10s);
    ASSERT_TRUE(ok) << c.error();
    EXPECT_EQ(ok->status, 200);
    EXPECT_TRUE(ok->body == at_limit);

    raw_client big{port()};
    ASSERT_TRUE(big.connected());
    big.send_all("POST /echo-body HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n");
    auto r = big.read_response();
    ASSERT_TRUE(r) << big.error();
    EXPECT_EQ(r->status, 413);
    EXPECT_TRUE(r->has_token("Connection", "close")) << *r;
}

class EchoLimitTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(server_.ready()) << server_.error(); }
    std::uint16_t port() const { return server_.port(); }
    server_process server_{{"--max-body-bytes", "1000"}};
};

// RFC 9110 §15.5.14: content larger than the server is willing to process -> 413; the unread
// rest cannot be framed, so the connection closes (RFC 9112 §9.6: "close" is announced).
TEST_F(EchoLimitTest, DeclaredLengthAboveLimitIs413) {
    auto fits = fetch(port(), request("POST", "/echo-body", {}, std::string(1000, 'a')));
    ASSERT_TRUE(fits);
    EXPECT_EQ(fits->status, 200);
    EXPECT_EQ(fits->body.size(), 1000U);

    raw_client c{port()};
    ASSERT_TRUE(c.connected());
    c.send_all(request("POST", "/echo-body", {}, std::string(1001, 'a')));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 413);
    EXPECT_TRUE(r->has_token("Connection", "close")) << *r;
    EXPECT_TRUE(c.wait_closed(5s));
}

TEST_F(EchoLimitTest, ChunkedBodyAboveLimitIs413) {
    std::string within = "POST /echo-body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                         "Content-Type: text/plain\r\n\r\n"
                         "1f4\r\n" + std::string(500, 'x') + "\r\n1f4\r\n" + std::string(500, 'y') + "\r\n0\r\n\r\n";
    auto fits = fetch(port(), within);
    ASSERT_TRUE(fits);
    EXPECT_EQ(fits->status, 200);
    EXPECT_EQ(fits->body, std::string(500, 'x') + std::string(500, 'y'));
    EXPECT_EQ(fits->header("Content-Type"), "text/plain");

    std::string over = "POST /echo-body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) over += "190\r\n" + std::string(400, 'z') + "\r\n";
    over += "0\r\n\r\n";
    raw_client c{port()};
    ASSERT_TRUE(c.connected());
    c.send_all(over);
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 413);
    EXPECT_TRUE(r->has_token("Connection", "close")) << *r;
    EXPECT_TRUE(c.wait_closed(5s));
}

// A body much larger than the send high-water mark is streamed back while it arrives; send_all
// reads the echo concurrently, so neither side can deadlock on full buffers.
TEST(EchoStreaming, LargeBodyRoundTrips) {
    server_process server{{"--max-body-bytes", std::to_string(32u << 20)}};
    ASSERT_TRUE(server.ready()) << server.error();
    raw_client c{server.port()};
    ASSERT_TRUE(c.connected());
    std::string body = random_bytes(20u << 20, 21);
    ASSERT_TRUE(c.send_all(request("POST", "/echo-body", {}, body), 60s)) << c.error();
    auto r = c.read_response(60s);
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("Content-Length"), std::to_string(body.size()));
    EXPECT_TRUE(r->body == body) << "echo differs";
    ASSERT_TRUE(c.send_all(request("GET", "/healthz")));
    auto next = c.read_response();
    ASSERT_TRUE(next) << c.error();
    EXPECT_EQ(next->body, "ok\n");
}

// A body that stalls half-way: after --body-timeout the connection is closed. The echo had
// already started with the declared length, so the early close is what tells the client the
// response is incomplete (RFC 9112 §8).
TEST(EchoStreaming, StalledBodyIsCutOff) {
    server_process server{{"--body-timeout", "0.5"}};
    ASSERT_TRUE(server.ready()) << server.error();
    raw_client c{server.port()};
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send_all("POST /echo-body HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"));
    auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds{5});
    EXPECT_TRUE(healthy(server.port()));
}

} // namespace
} // namespace upshift::test
