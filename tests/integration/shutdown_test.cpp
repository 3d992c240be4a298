// Graceful stop: SIGTERM/SIGINT let in-flight responses finish, close idle connections, and the
// process exits 0.
#include <gtest/gtest.h>

#include <csignal>
#include <string>

#include "integration_helpers.hpp"

namespace upshift::test {
namespace {

TEST(Shutdown, SigtermClosesIdleKeepAliveAndExitsZero) {
    server_process server{};
    ASSERT_TRUE(server.ready()) << server.error();
    raw_client idle{server.port()};
    ASSERT_TRUE(idle.connected()) << idle.error();
    ASSERT_TRUE(idle.send_all(request("GET", "/healthz")));
    auto r = idle.read_response();
    ASSERT_TRUE(r) << idle.error();
    EXPECT_EQ(r->status, 200);

    server.terminate(SIGTERM);
    // RFC 9112 §9.5: closing an idle persistent connection is allowed at any time; nothing is sent.
    EXPECT_TRUE(idle.wait_closed(5s));
    EXPECT_TRUE(idle.received().empty()) << idle.received();
    auto st = server.wait_exit(5s);
    ASSERT_TRUE(st) << "server still running 5 s after SIGTERM";
    EXPECT_TRUE(st->success()) << *st;
}

TEST(Shutdown, SigintExitsZero) {
    server_process server{};
    ASSERT_TRUE(server.ready()) << server.error();
    EXPECT_TRUE(healthy(server.port()));
    server.terminate(SIGINT);
    auto st = server.wait_exit(5s);
    ASSERT_TRUE(st) << "server still running 5 s after SIGINT";
    EXPECT_TRUE(st->success()) << *st;
}

// A response that is being written when SIGTERM arrives is completed. The file is far larger than
// the loopback socket buffers and the client reads only the status line before the signal, so the
// server is provably in the middle of the response.
TEST(Shutdown, SigtermFinishesResponseInFlight) {
    test_site site;
    std::string big = random_bytes(32u << 20, 7);
    ASSERT_TRUE(site.dir.write("big.bin", big));
    server_process server{{"--root", site.root()}};
    ASSERT_TRUE(server.ready()) << server.error();

    raw_client c{server.port()};
    ASSERT_TRUE(c.connected()) << c.error();
    ASSERT_TRUE(c.send_all(request("GET", "/big.bin")));
    auto status_line = c.read_until("\r\n");
    ASSERT_TRUE(status_line) << c.error();
    EXPECT_EQ(status_line->rfind("HTTP/1.1 200", 0), 0U) << *status_line;

    server.terminate(SIGTERM);
    auto rest_of_head = c.read_until("\r\n\r\n", 10s);
    ASSERT_TRUE(rest_of_head) << c.error();
    auto head = parse_response(*status_line + *rest_of_head, true);
    ASSERT_EQ(head.what, parse_outcome::kind::complete) << head.error;
    EXPECT_EQ(head.response.header("Content-Length"), std::to_string(big.size())) << head.response;
    auto body = c.read_exactly(big.size(), 20s);
    ASSERT_TRUE(body) << c.error() << " (" << c.received().size() << " body bytes received)";
    EXPECT_TRUE(*body == big) << "body differs";
    // After its last response the connection is closed and the server exits cleanly.
    EXPECT_TRUE(c.wait_closed(5s));
    auto st = server.wait_exit(10s);
    ASSERT_TRUE(st) << "server still running 10 s after SIGTERM";
    EXPECT_TRUE(st->success()) << *st;
}

// A request whose head has been answered with "100 Continue" is in flight: SIGTERM arriving before
// its body still lets it complete (RFC 9110 §10.1.1: the client then sends the body).
TEST(Shutdown, SigtermDuringUploadStillAnswers) {
    server_process server{};
    ASSERT_TRUE(server.ready()) << server.error();
    raw_client c{server.port()};
    ASSERT_TRUE(c.connected()) << c.error();
    std::string body = random_bytes(64 * 1024, 3);
    ASSERT_TRUE(
        c.send_all("POST /echo-body HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n"));
    auto interim = c.read_response();
    ASSERT_TRUE(interim) << c.error();
    ASSERT_EQ(interim->status, 100) << *interim;

    server.terminate(SIGTERM);
    ASSERT_TRUE(c.send_all(body)) << c.error();
    auto r = c.read_response(10s);
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(r->body == body) << "echo differs";
    EXPECT_TRUE(c.wait_closed(5s));
    auto st = server.wait_exit(10s);
    ASSERT_TRUE(st) << "server still running 10 s after SIGTERM";
    EXPECT_TRUE(st->success()) << *st;
}

} // namespace
} // namespace upshift::test
