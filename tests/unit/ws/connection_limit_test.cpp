// server::options::max_connections counts upgraded connections too: a WebSocket session left the
// HTTP/1.1 connection list at its 101, but it still holds a socket and memory, so a client that
// upgrades connection after connection must not get past the limit.
#include "client_frames.hpp"
#include "server_fixture.hpp"
#include "support/ws_test_client.hpp"
#include "upshift/ws/server.hpp"

namespace upshift::test {
namespace {

class WsConnectionLimitTest : public server_fixture {
protected:
    ::testing::AssertionResult start_ws(std::size_t max_connections) {
        ws::behaviour b;
        b.on_message = [](ws::session& s, std::string_view m, ws::message_kind k) { s.send(m, k); };
        b.on_close = [this](ws::session&, std::uint16_t code, std::string_view) {
            events.add("close:" + std::to_string(code));
        };
        auto r = std::make_shared<upgrade::registry>();
        r->add(ws::make_protocol({}, std::move(b)));
        return start(
            [r](exchange& ex) {
                if (server::accept_upgrade(ex, *r)) return;
                ex.respond(status::ok, {}, "plain");
            },
            [max_connections](server::options& o) { o.max_connections = max_connections; });
    }

    /// Polls server::connection_count() until it is `n` (up to 5 s); returns the last value seen.
    std::size_t wait_count(std::size_t n) {
        auto v = srv().connection_count();
        for (int i = 0; i < 250 && v != n; ++i) {
            std::this_thread::sleep_for(20ms);
            v = srv().connection_count();
        }
        return v;
    }

    /// A new connection upgraded to a WebSocket session.
    raw_client open_session() {
        auto c = connect();
        EXPECT_TRUE(ws_handshake(c, "/ws"));
        return c;
    }

    /// Closes `c`'s session with 1000 and waits until the server has closed the connection.
    ::testing::AssertionResult close_normally(raw_client& c) {
        if (!c.send_all(ws::test::frame(ws::opcode::close, close_body(1000))))
            return ::testing::AssertionFailure() << "cannot send the Close";
        if (!events.wait_for("close:1000")) return ::testing::AssertionFailure() << "no on_close(1000)";
        if (!c.wait_closed(5s)) return ::testing::AssertionFailure() << "the server kept the connection";
        return ::testing::AssertionSuccess();
    }

    /// True when `c` gets its message echoed: the session is alive.
    static bool echoes(raw_client& c) {
        if (!c.send_all(ws::test::frame(ws::opcode::text, "ping?"))) return false;
        auto f = read_server_frame(c, 5s);
        return f && f->payload == "ping?";
    }
};

TEST_F(WsConnectionLimitTest, UpgradedSessionsCountAgainstMaxConnections) {
    ASSERT_TRUE(start_ws(2));
    auto a = open_session();
    auto b = open_session();
    // Two sessions are open and no HTTP/1.1 connection is: a third connection is over the limit.
    auto over = connect();
    EXPECT_TRUE(over.wait_closed(5s)) << "a connection beyond max_connections was kept";
    // The sessions themselves keep working.
    EXPECT_TRUE(echoes(a));
    EXPECT_TRUE(echoes(b));

    // Once one session has closed, its place is free again.
    ASSERT_TRUE(close_normally(a));
    auto again = connect();
    ASSERT_TRUE(again.send_all(request("GET", "/")));
    auto r = again.read_response();
    ASSERT_TRUE(r) << again.error();
    EXPECT_EQ(r->body, "plain");
}

// server::connection_count() reports what the server holds: the upgraded sessions as well as the
// HTTP/1.1 connections, and a session that closed is no longer counted.
TEST_F(WsConnectionLimitTest, ConnectionCountIncludesUpgradedSessions) {
    ASSERT_TRUE(start_ws(100));
    auto a = open_session();
    auto b = open_session();
    EXPECT_EQ(wait_count(2), 2u);

    auto plain = connect();
    ASSERT_TRUE(plain.send_all(request("GET", "/")));
    ASSERT_TRUE(plain.read_response()) << plain.error();
    EXPECT_EQ(wait_count(3), 3u) << "two sessions and one kept-alive HTTP/1.1 connection";

    ASSERT_TRUE(close_normally(a));
    EXPECT_EQ(wait_count(2), 2u);
}

} // namespace
} // namespace upshift::test
