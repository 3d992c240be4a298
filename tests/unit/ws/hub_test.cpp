// ws::hub: topic subscriptions and publishing across loops, on real loops and sockets
// (ws_loops.hpp). Published messages arrive as RFC 6455 §5.6 text/binary frames, unmasked (§5.1).
#include <atomic>
#include <thread>

#include "upshift/ws/hub.hpp"
#include "ws_loops.hpp"

namespace upshift::test {
namespace {

using ws::opcode;
using ws::test::frame;

class WsHubTest : public ws_loops_fixture {
protected:
    /// Every session subscribes to `topic` on open; a text message "pub:<t>:<data>" is published
    /// to topic t from on_message, "unsub:<t>" unsubscribes (events "unsub:<name>:<t>:<result>").
    ::testing::AssertionResult start_hub(std::size_t loops, std::string topic = "room", ws::options opt = {}) {
        ws::behaviour b;
        b.on_open = [h = hub_, topic](ws::session& s) { h.subscribe(s, topic); };
        b.on_message = [this, h = hub_](ws::session& s, std::string_view m, ws::message_kind k) {
            if (m.starts_with("pub:")) {
                auto const rest = m.substr(4);
                auto const colon = rest.find(':');
                h.publish(rest.substr(0, colon), rest.substr(colon + 1), k);
            } else if (m.starts_with("unsub:")) {
                bool const r = h.unsubscribe(s, m.substr(6));
                events.add("unsub:" + s.remote() + ":" + std::string(m.substr(6)) + ":" + (r ? "1" : "0"));
            } else if (m.starts_with("sub:")) {
                h.subscribe(s, m.substr(4));
                events.add("sub:" + s.remote() + ":" + std::string(m.substr(4)));
            }
        };
        return start(loops, std::move(opt), std::move(b));
    }

    ws::hub hub_;
};

// Subscriber counts follow subscribe, a clean close (§7.1.2) and an abrupt TCP close (§7.1.5,
// 1006): a session leaves its topics when it finishes, whatever the reason.
TEST_F(WsHubTest, CountsAndAutomaticUnsubscribeOnClose) {
    ASSERT_TRUE(start_hub(2));
    EXPECT_EQ(hub_.subscribers("room"), 0u);
    EXPECT_EQ(hub_.topics(), 0u);
    std::string a, b, c;
    auto ca = connect_on(0, &a);
    auto cb = connect_on(1, &b);
    auto cc = connect_on(1, &c);
    EXPECT_EQ(hub_.subscribers("room"), 3u);
    EXPECT_EQ(hub_.topics(), 1u);
    close_client(ca, a);
    EXPECT_EQ(hub_.subscribers("room"), 2u);
    cb.close();  // no Close frame
    ASSERT_TRUE(events.wait_for("close:" + b + ":1006:"));
    EXPECT_EQ(hub_.subscribers("room"), 1u);
    close_client(cc, c);
    EXPECT_EQ(hub_.subscribers("room"), 0u);
    EXPECT_EQ(hub_.topics(), 0u);
    EXPECT_EQ(hub_.publish("room", "nobody"), 0u);
}

// A publish from a std::thread that runs no loop reaches every subscriber on every loop, and one
// thread's publishes arrive in the order they were made.
TEST_F(WsHubTest, PublishFromForeignThreadReachesAllLoopsInOrder) {
    ASSERT_TRUE(start_hub(2));
    std::vector<raw_client> clients;
    for (std::size_t i = 0; i < 4; ++i) clients.push_back(connect_on(i % 2));
    ASSERT_EQ(hub_.subscribers("room"), 4u);
    constexpr int n = 200;
    std::thread publisher{[h = hub_]() {
        for (int i = 0; i < n; ++i) EXPECT_EQ(h.publish("room", "m" + std::to_string(i)), 4u);
    }};
    for (auto& c : clients)
        for (int i = 0; i < n; ++i) ASSERT_EQ(read_text(c), "m" + std::to_string(i));
    publisher.join();
}

// Publishing from inside on_message (the chat case): subscribers on the sender's loop, the sender
// included, get it directly; those on the other loop through one post. Binary stays binary.
TEST_F(WsHubTest, PublishFromOnMessageReachesSenderAndOtherLoop) {
    ASSERT_TRUE(start_hub(2));
    std::string a;
    auto ca = connect_on(0, &a);
    auto cb = connect_on(0);
    auto cc = connect_on(1);
    ASSERT_TRUE(ca.send_all(frame(opcode::text, "pub:room:hello")));
    for (auto* c : {&ca, &cb, &cc}) EXPECT_EQ(read_text(*c), "hello");
    ASSERT_TRUE(cc.send_all(frame(opcode::binary, "pub:room:\x01\x02")));
    for (auto* c : {&ca, &cb, &cc}) {
        auto f = read_server_frame(*c);
        ASSERT_TRUE(f) << c->error();
        EXPECT_EQ(f->op, op_binary);
        EXPECT_EQ(f->payload, "\x01\x02");
    }
}

// Topics are isolated: a subscriber of one never sees another's messages.
TEST_F(WsHubTest, TopicsAreIsolated) {
    ASSERT_TRUE(start_hub(2, "red"));
    std::string b;
    auto red = connect_on(0);
    auto blue = connect_on(1, &b);
    ASSERT_TRUE(blue.send_all(frame(opcode::text, "unsub:red")));
    ASSERT_TRUE(events.wait_for("unsub:" + b + ":red:1"));
    ASSERT_TRUE(blue.send_all(frame(opcode::text, "sub:blue")));
    ASSERT_TRUE(events.wait_for("sub:" + b + ":blue"));
    EXPECT_EQ(hub_.subscribers("red"), 1u);
    EXPECT_EQ(hub_.subscribers("blue"), 1u);
    EXPECT_EQ(hub_.publish("blue", "for blue"), 1u);
    EXPECT_EQ(hub_.publish("red", "for red"), 1u);
    EXPECT_EQ(hub_.publish("green", "for nobody"), 0u);
    EXPECT_EQ(hub_.publish("blue", "blue again"), 1u);
    EXPECT_EQ(read_text(red), "for red");
    EXPECT_EQ(read_text(blue), "for blue");
    EXPECT_EQ(read_text(blue), "blue again");  // "for red" never came in between
    // The red subscriber got nothing else: its next frame is the answer to our Ping (§5.5.3).
    ASSERT_TRUE(red.send_all(frame(opcode::ping, "end")));
    auto f = read_server_frame(red);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->op, op_pong);
}

// unsubscribe() reports whether there was a subscription; subscribing twice counts once.
TEST_F(WsHubTest, SubscribeTwiceAndUnsubscribeTwice) {
    ASSERT_TRUE(start_hub(1));
    std::string a;
    auto ca = connect_on(0, &a);
    ASSERT_TRUE(ca.send_all(frame(opcode::text, "sub:room")));  // already subscribed on open
    ASSERT_TRUE(events.wait_for("sub:" + a + ":room"));
    EXPECT_EQ(hub_.subscribers("room"), 1u);
    ASSERT_TRUE(ca.send_all(frame(opcode::text, "unsub:room")));
    ASSERT_TRUE(ca.send_all(frame(opcode::text, "unsub:room")));
    ASSERT_TRUE(events.wait_for("unsub:" + a + ":room:1"));
    ASSERT_TRUE(events.wait_for("unsub:" + a + ":room:0"));
    EXPECT_EQ(hub_.subscribers("room"), 0u);
    EXPECT_EQ(hub_.topics(), 0u);
}

// A session that has finished (here: in on_close) cannot subscribe, so no dangling entry is left;
// a "left" notice published from on_close reaches the others but not the leaver.
TEST_F(WsHubTest, OnCloseSeesTheLeaverUnsubscribed) {
    ws::behaviour b;
    b.on_open = [h = hub_](ws::session& s) { h.subscribe(s, "room"); };
    b.on_close = [this, h = hub_](ws::session& s, std::uint16_t, std::string_view) {
        bool const again = h.subscribe(s, "room");
        auto const n = h.publish("room", s.remote() + " left");
        events.add("on_close:" + s.remote() + ":resubscribed=" + (again ? "1" : "0") + ":told=" + std::to_string(n));
    };
    ASSERT_TRUE(start(2, {}, std::move(b)));
    std::string a, o;
    auto ca = connect_on(0, &a);
    auto co = connect_on(1, &o);
    close_client(ca, a);
    EXPECT_TRUE(events.contains("on_close:" + a + ":resubscribed=0:told=1")) << ::testing::PrintToString(events.all());
    EXPECT_EQ(read_text(co), a + " left");
    EXPECT_EQ(hub_.subscribers("room"), 1u);
}

// Slow subscribers get the session's policy: one that does not read has frames queued until more
// than max_buffered is queued, then the connection fails with 1008 (§7.4.1: policy violation);
// the publisher is not blocked, and a reading subscriber gets every message.
TEST_F(WsHubTest, SlowSubscriberIsClosedWith1008OthersGetEverything) {
    ws::options opt;
    opt.send_high_water = 16 * 1024;
    opt.max_buffered = 256 * 1024;
    ASSERT_TRUE(start_hub(2, "room", opt));
    std::string slow_name;
    auto slow = connect_on(0, &slow_name, /*sndbuf=*/4096);
    set_small_rcvbuf(slow, 4096);
    auto fast = connect_on(1);
    std::string const chunk(8 * 1024, 'x');
    constexpr int n = 400;  // 3.2 MB: far beyond what the slow client's socket and queue take
    std::thread publisher{[h = hub_, &chunk]() {
        for (int i = 0; i < n; ++i) h.publish("room", std::to_string(i) + chunk);
    }};
    for (int i = 0; i < n; ++i) ASSERT_EQ(read_text(fast), std::to_string(i) + chunk);
    publisher.join();
    // The slow client reads what made it out, in order, then the Close 1008 (RFC 6455 §7.4.1).
    std::optional<server_frame> f;
    int next = 0;
    for (f = read_server_frame(slow); f && f->op == op_text; f = read_server_frame(slow))
        ASSERT_EQ(f->payload, std::to_string(next++) + chunk);
    ASSERT_TRUE(f) << slow.error();
    EXPECT_EQ(f->op, op_close);
    EXPECT_EQ(f->close_code(), 1008);
    EXPECT_LT(next, n);
    slow.close();  // the server waits for our FIN after failing the connection
    ASSERT_TRUE(events.wait_for("close:" + slow_name + ":1008:send buffer limit"))
        << ::testing::PrintToString(events.with_prefix("close:"));
    EXPECT_EQ(hub_.subscribers("room"), 1u);
}

// Churn: sessions join and leave on two loops while two threads publish; every delivery finds a
// live session (ASan/UBSan build), and counts settle at the survivors.
TEST_F(WsHubTest, PublishWhileSessionsComeAndGo) {
    ASSERT_TRUE(start_hub(2));
    auto stay = connect_on(0);
    std::atomic<bool> done{false};
    std::atomic<int> published{0};
    std::vector<std::thread> publishers;
    for (int t = 0; t < 2; ++t)
        publishers.emplace_back([h = hub_, &done, &published] {
            // Bounded, so that the subscriber that never reads stays far below max_buffered.
            for (int i = 0; i < 5000 && !done.load(); ++i) {
                h.publish("room", "noise");
                published.fetch_add(1);
            }
        });
    // The sessions come and go while publishing is under way: on a loaded machine the threads
    // may otherwise start only after the last session went, and publish nothing at all.
    while (published.load() == 0) std::this_thread::yield();
    for (int i = 0; i < 20; ++i) {
        std::string name;
        auto c = connect_on(static_cast<std::size_t>(i % 2), &name);
        if (i % 3 == 0) {
            close_client(c, name);
        } else {
            c.close();  // abrupt, maybe with unread noise (a reset): §7.1.5 1006
            ASSERT_TRUE(events.wait_for("close:" + name + ":1006:")) << name;
        }
    }
    done = true;
    for (auto& p : publishers) p.join();
    EXPECT_EQ(hub_.subscribers("room"), 1u);
    EXPECT_EQ(read_text(stay), "noise");
}

} // namespace
} // namespace upshift::test
