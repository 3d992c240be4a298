// Timeouts that protect the server from slow or silent clients (slowloris): --header-timeout bounds
// the time to receive a whole request head, --idle-timeout bounds a quiet keep-alive connection.
// The assertions are upper bounds far above the configured timeouts, so a slow machine cannot make
// them fail while a server without the timeout always does.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "integration_helpers.hpp"

namespace upshift::test {
namespace {

using clock = std::chrono::steady_clock;

// RFC 9110 §15.5.9: 408 means the server did not receive a complete request in the time it was
// prepared to wait, and it closes the connection.
TEST(Timeouts, SlowHeaderIsCutOff) {
    server_process server{{"--header-timeout", "1"}};
    ASSERT_TRUE(server.ready()) << server.error();
    raw_client slow{server.port()};
    ASSERT_TRUE(slow.connected()) << slow.error();

    // 150 bytes at one byte per ~150 ms would take over 20 s to complete.
    std::string head = request("GET", "/healthz", {"X-Slow: " + std::string(120, 'a')});
    auto start = clock::now();
    bool closed = false;
    for (char byte : head) {
        if (!slow.send_all(std::string_view{&byte, 1})) {
            closed = true; // EPIPE/ECONNRESET: the server has gone
            break;
        }
        // Paces the bytes and notices the close as soon as it happens.
        if (slow.wait_closed(std::chrono::milliseconds{150})) {
            closed = true;
            break;
        }
        if (clock::now() - start > std::chrono::seconds{5}) break;
    }
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start);
    ASSERT_TRUE(closed) << "still open after " << elapsed.count() << " ms";
    EXPECT_LT(elapsed, std::chrono::seconds{5});
    // Either a 408 and then the close, or just the close.
    if (!slow.received().empty()) {
        auto all = parse_responses(slow.received(), false);
        ASSERT_TRUE(all) << slow.received();
        ASSERT_EQ(all->size(), 1U);
        EXPECT_EQ(all->front().status, 408) << all->front();
        EXPECT_TRUE(all->front().has_token("Connection", "close")) << all->front();
    }
    EXPECT_TRUE(healthy(server.port()));
}

// The acceptance case as stated: headers at one byte per second against the *default* header
// timeout (10 s, no flag). The whole head must arrive within it, so the client is cut off after
// about 10 bytes although every byte arrives well within any per-read timeout.
TEST(Timeouts, OneBytePerSecondHitsTheDefaultHeaderTimeout) {
    server_process server{std::vector<std::string>{}};
    ASSERT_TRUE(server.ready()) << server.error();
    raw_client slow{server.port()};
    ASSERT_TRUE(slow.connected()) << slow.error();
    std::string head = request("GET", "/healthz", {"X-Slow: " + std::string(40, 'a')});
    auto start = clock::now();
    bool closed = false;
    for (char byte : head) {
        if (!slow.send_all(std::string_view{&byte, 1}) || slow.wait_closed(std::chrono::seconds{1})) {
            closed = true;
            break;
        }
    }
    auto elapsed = clock::now() - start;
    ASSERT_TRUE(closed) << "the whole head was sent without a timeout";
    EXPECT_GE(elapsed, std::chrono::milliseconds{9'500});
    EXPECT_LT(elapsed, std::chrono::seconds{13});
    ASSERT_FALSE(slow.received().empty()) << "closed without the 408";
    EXPECT_EQ(slow.received().rfind("HTTP/1.1 408", 0), 0u) << slow.received();
    EXPECT_TRUE(healthy(server.port()));
}

// A connection that never sends a byte is closed without a response: there is no request to answer.
TEST(Timeouts, SilentConnectionIsClosed) {
    server_process server{{"--header-timeout", "1", "--idle-timeout", "1"}};
    ASSERT_TRUE(server.ready()) << server.error();
    raw_client silent{server.port()};
    ASSERT_TRUE(silent.connected()) << silent.error();
    EXPECT_TRUE(silent.wait_closed(5s));
    EXPECT_TRUE(silent.received().empty() || silent.received().rfind("HTTP/1.1 408", 0) == 0)
        << silent.received();
    EXPECT_TRUE(healthy(server.port()));
}

// RFC 9112 §9.5: a server may close an idle persistent connection at any time; --idle-timeout
// makes it do so. Nothing is sent: a 408 here could be taken as the answer to a next request.
TEST(Timeouts, IdleKeepAliveConnectionIsClosed) {
    server_process server{{"--idle-timeout", "1"}};
    ASSERT_TRUE(server.ready()) << server.error();
    raw_client c{server.port()};
    ASSERT_TRUE(c.connected()) << c.error();
    ASSERT_TRUE(c.send_all(request("GET", "/healthz")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_FALSE(r->has_token("Connection", "close"));
    auto start = clock::now();
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_LT(clock::now() - start, std::chrono::seconds{5});
    EXPECT_TRUE(c.received().empty()) << c.received();
    EXPECT_TRUE(healthy(server.port()));
}

// An active keep-alive connection is not cut by the idle timeout as long as requests keep coming
// within it (each request restarts the idle period).
TEST(Timeouts, BusyConnectionSurvivesIdleTimeout) {
    server_process server{{"--idle-timeout", "0.5"}};
    ASSERT_TRUE(server.ready()) << server.error();
    raw_client c{server.port()};
    ASSERT_TRUE(c.connected()) << c.error();
    for (int i = 0; i < 8; ++i) {
        ASSERT_TRUE(c.send_all(request("GET", "/healthz"))) << "request " << i << ": " << c.error();
        auto r = c.read_response();
        ASSERT_TRUE(r) << "request " << i << ": " << c.error();
        EXPECT_EQ(r->status, 200);
        // Quiet for well under the idle timeout: 8 x 200 ms outlasts one timeout period.
        EXPECT_FALSE(c.wait_closed(std::chrono::milliseconds{200})) << "closed after request " << i;
    }
}

} // namespace
} // namespace upshift::test
