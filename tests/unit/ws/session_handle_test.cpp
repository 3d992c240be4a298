// ws::session_handle: sending to a session from threads other than its loop's, on real loops and
// sockets (ws_loops.hpp). The frames the client reads are RFC 6455 §5.6 data frames, §5.5.2 Pings
// and §5.5.1 Closes, unmasked (§5.1).
#include <atomic>
#include <thread>

#include "ws_loops.hpp"

namespace upshift::test {
namespace {

using ws::opcode;
using ws::test::frame;

class WsSessionHandleTest : public ws_loops_fixture {};

TEST_F(WsSessionHandleTest, EmptyHandleDoesNothing) {
    ws::session_handle h;
    EXPECT_FALSE(h);
    EXPECT_FALSE(h.alive());
    EXPECT_FALSE(h.send("x"));
    EXPECT_FALSE(h.ping());
    EXPECT_FALSE(h.close());
    EXPECT_FALSE(h.post([](ws::session&) {}));
}

// Text, binary, a Ping and a Close, all sent from a std::thread that is not the loop's.
TEST_F(WsSessionHandleTest, SendPingCloseFromForeignThread) {
    ASSERT_TRUE(start(1, {}, {}, /*take_handles=*/true));
    std::string name;
    auto c = connect_on(0, &name);
    auto h = handle(name);
    ASSERT_TRUE(h);
    EXPECT_TRUE(h.alive());
    std::thread t{[h] {
        EXPECT_TRUE(h.send("from a thread"));
        EXPECT_TRUE(h.send(std::string("\x00\x01\xff", 3), ws::message_kind::binary));
        EXPECT_TRUE(h.ping("p"));
        EXPECT_TRUE(h.close(4001, "bye"));
    }};
    t.join();
    auto f = read_server_frame(c);
    ASSERT_TRUE(f) << c.error();
    EXPECT_EQ(f->op, op_text);
    EXPECT_FALSE(f->masked);
    EXPECT_EQ(f->payload, "from a thread");
    f = read_server_frame(c);
    ASSERT_TRUE(f) << c.error();
    EXPECT_EQ(f->op, op_binary);
    EXPECT_EQ(f->payload, std::string("\x00\x01\xff", 3));
    f = read_server_frame(c);
    ASSERT_TRUE(f) << c.error();
    EXPECT_EQ(f->op, op_ping);
    EXPECT_EQ(f->payload, "p");
    f = read_server_frame(c);
    ASSERT_TRUE(f) << c.error();
    EXPECT_EQ(f->op, op_close);
    EXPECT_EQ(f->close_code(), 4001);
    EXPECT_EQ(f->payload.substr(2), "bye");
    // §7.1.2: we answer the Close; the session finishes with the code.
    ASSERT_TRUE(c.send_all(frame(opcode::close, close_body(4001))));
    EXPECT_TRUE(events.wait_for("close:" + name + ":4001:"));
    EXPECT_TRUE(c.wait_closed(5s));
}

// Calls made through handles from one thread reach the session in the order they were made.
TEST_F(WsSessionHandleTest, OneThreadsSendsKeepTheirOrder) {
    ASSERT_TRUE(start(1, {}, {}, true));
    std::string name;
    auto c = connect_on(0, &name);
    auto h = handle(name);
    constexpr int n = 500;
    std::thread t{[h] {
        for (int i = 0; i < n; ++i) EXPECT_TRUE(h.send(std::to_string(i)));
    }};
    for (int i = 0; i < n; ++i) ASSERT_EQ(read_text(c), std::to_string(i));
    t.join();
}

// Once the session has finished, every call is a no-op that returns false, and nothing posted
// earlier but run later touches the freed session (ASan checks the latter).
TEST_F(WsSessionHandleTest, HandleAfterCloseIsNoOp) {
    ASSERT_TRUE(start(1, {}, {}, true));
    std::string name;
    auto c = connect_on(0, &name);
    auto h = handle(name);
    ASSERT_TRUE(h.alive());
    close_client(c, name);
    EXPECT_FALSE(h.alive());
    EXPECT_FALSE(h.send("late"));
    EXPECT_FALSE(h.ping());
    EXPECT_FALSE(h.close());
    bool ran = false;
    EXPECT_FALSE(h.post([&ran](ws::session&) { ran = true; }));
    ASSERT_TRUE(on_loop(0, [] {}));  // anything posted would have run by now
    EXPECT_FALSE(ran);
    EXPECT_TRUE(h);  // still refers to it, for what it is worth
}

// handle() from on_close (the session has finished) is empty.
TEST_F(WsSessionHandleTest, HandleTakenInOnCloseIsEmpty) {
    ws::behaviour b;
    b.on_close = [this](ws::session& s, std::uint16_t, std::string_view) {
        auto h = s.handle();
        events.add(std::string("late handle:") + (h ? "set" : "empty") + ":" + (h.send("x") ? "sent" : "refused"));
    };
    ASSERT_TRUE(start(1, {}, std::move(b)));
    std::string name;
    auto c = connect_on(0, &name);
    close_client(c, name);
    EXPECT_TRUE(events.contains("late handle:empty:refused"));
}

// A closing race: threads keep sending through copies of a handle while the peer closes. Sends
// before the finish are posted (true), after it refused (false); none crashes or leaks (ASan).
TEST_F(WsSessionHandleTest, SendersRacingTheClose) {
    ASSERT_TRUE(start(2, {}, {}, true));
    std::string name;
    auto c = connect_on(1, &name);
    auto h = handle(name);
    std::atomic<int> refused{0};
    std::vector<std::thread> senders;
    for (int t = 0; t < 3; ++t) {
        senders.emplace_back([h, &refused] {
            while (h.send("spam")) std::this_thread::yield();
            ++refused;
        });
    }
    // The peer reads a few, then closes abruptly (no Close frame): the session ends with 1006.
    EXPECT_EQ(read_text(c), "spam");
    c.close();
    EXPECT_TRUE(events.wait_for("close:" + name + ":1006:"));
    for (auto& s : senders) s.join();  // each sender stops at its first refused send
    EXPECT_EQ(refused.load(), 3);
    EXPECT_FALSE(h.alive());
}

// post() runs on the session's loop thread with the live session.
TEST_F(WsSessionHandleTest, PostRunsOnTheLoopThread) {
    ASSERT_TRUE(start(1, {}, {}, true));
    std::string name;
    auto c = connect_on(0, &name);
    std::thread::id loop_thread;
    ASSERT_TRUE(on_loop(0, [&loop_thread] { loop_thread = std::this_thread::get_id(); }));
    std::promise<std::string> seen;
    auto fut = seen.get_future();
    ASSERT_TRUE(handle(name).post([&seen, loop_thread](ws::session& s) {
        seen.set_value(std::this_thread::get_id() == loop_thread ? s.remote() : "wrong thread");
    }));
    ASSERT_EQ(fut.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(fut.get(), name);
}

} // namespace
} // namespace upshift::test
