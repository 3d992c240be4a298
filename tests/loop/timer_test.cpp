// Timers on a real loop: order, cancel, re-arm, self-destruction.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "upshift/net/loop.hpp"

namespace net = upshift::net;
using namespace std::chrono_literals;

namespace {
void run_until(net::loop& l, auto done) {
    auto deadline = net::clock::now() + 5s;
    while (!done() && net::clock::now() < deadline) l.run_once(50ms);
}
} // namespace

TEST(Timer, FiresInDeadlineOrderAndTiesInStartOrder) {
    net::loop l;
    std::vector<int> order;
    net::timer a(l), b(l), c(l), d(l);
    c.start(30ms, [&] { order.push_back(3); });
    a.start(10ms, [&] { order.push_back(1); });
    b.start(20ms, [&] { order.push_back(2); });
    d.start(30ms, [&] { order.push_back(4); });
    run_until(l, [&] { return order.size() == 4; });
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
    EXPECT_EQ(l.active_timers(), 0u);
}

TEST(Timer, DoesNotFireEarly) {
    net::loop l;
    net::timer t(l);
    // Deadlines count from the loop's cached iteration time, like libuv's.
    auto start = l.now();
    net::clock::time_point fired{};
    t.start(50ms, [&] { fired = net::clock::now(); });
    run_until(l, [&] { return fired != net::clock::time_point{}; });
    EXPECT_GE(fired - start, 50ms);
}

TEST(Timer, CancelAndDestroyRemoveIt) {
    net::loop l;
    int fired = 0;
    net::timer a(l);
    a.start(1ms, [&] { ++fired; });
    a.cancel();
    EXPECT_FALSE(a.active());
    {
        net::timer b(l);
        b.start(1ms, [&] { ++fired; });
        EXPECT_EQ(l.active_timers(), 1u);
    }
    EXPECT_EQ(l.active_timers(), 0u);
    l.run_once(20ms);
    l.run_once(0ms);
    EXPECT_EQ(fired, 0);
}

TEST(Timer, RestartSlidesTheDeadlineAndKeepsTheCallback) {
    net::loop l;
    int fired = 0;
    net::timer t(l);
    t.start(10ms, [&] {
        if (++fired < 3) t.restart(5ms);  // re-arms from inside its own callback
    });
    run_until(l, [&] { return fired == 3; });
    EXPECT_EQ(fired, 3);
    EXPECT_FALSE(t.active());
    t.restart(1ms);  // the callback survived firing
    run_until(l, [&] { return fired == 4; });
    EXPECT_EQ(fired, 4);
}

TEST(Timer, CallbackMayDestroyItsOwnTimer) {
    net::loop l;
    auto t = std::make_unique<net::timer>(l);
    bool fired = false;
    t->start(1ms, [&] {
        fired = true;
        t.reset();
    });
    run_until(l, [&] { return fired; });
    EXPECT_TRUE(fired);
    EXPECT_EQ(t, nullptr);
}

TEST(Timer, ManyTimersWithCancellationsKeepHeapOrder) {
    net::loop l;
    std::vector<std::unique_ptr<net::timer>> timers;
    std::vector<int> order;
    for (int i = 0; i < 200; ++i) {
        timers.push_back(std::make_unique<net::timer>(l));
        int ms = (i * 37) % 50;
        timers.back()->start(std::chrono::milliseconds(ms), [&order, ms] { order.push_back(ms); });
    }
    for (int i = 0; i < 200; i += 3) timers[static_cast<std::size_t>(i)]->cancel();
    run_until(l, [&] { return l.active_timers() == 0; });
    EXPECT_EQ(order.size(), 200u - 67u);
    EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
}

namespace {
// An owner that embeds the hook, as ws::session does: no allocation, the callback finds it by a cast.
struct counting_owner : net::timer_hook {
    counting_owner() : net::timer_hook(&counting_owner::fire) {}
    ~counting_owner() = default;
    static void fire(net::timer_hook& h) { ++static_cast<counting_owner&>(h).fired; }
    int fired = 0;
};
} // namespace

TEST(TimerHook, SharesTheHeapWithTimersInDeadlineOrder) {
    net::loop l;
    std::vector<int> order;
    struct recording : net::timer_hook {
        recording(std::vector<int>& o, int n) : net::timer_hook(&recording::fire), order(&o), id(n) {}
        static void fire(net::timer_hook& h) {
            auto& r = static_cast<recording&>(h);
            r.order->push_back(r.id);
        }
        std::vector<int>* order;
        int id;
    };
    recording h1(order, 1), h3(order, 3);
    net::timer t2(l), t4(l);
    h3.start(l, 30ms);
    t2.start(20ms, [&] { order.push_back(2); });
    h1.start(l, 10ms);
    t4.start(30ms, [&] { order.push_back(4); });  // same deadline as h3, armed later
    EXPECT_EQ(l.active_timers(), 4u);
    run_until(l, [&] { return order.size() == 4; });
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
    EXPECT_FALSE(h1.active());
    EXPECT_EQ(l.active_timers(), 0u);
}

TEST(TimerHook, CancelAndRestartMoveIt) {
    net::loop l;
    counting_owner a, b;
    a.start(l, 1ms);
    EXPECT_TRUE(a.active());
    a.cancel(l);
    EXPECT_FALSE(a.active());
    EXPECT_EQ(l.active_timers(), 0u);
    b.start(l, 500ms);
    auto const first = b.deadline();
    b.start(l, 2ms);  // re-arming moves the deadline, the hook stays once in the heap
    EXPECT_LT(b.deadline(), first);
    EXPECT_EQ(l.active_timers(), 1u);
    run_until(l, [&] { return b.fired == 1; });
    EXPECT_EQ(b.fired, 1);
    EXPECT_EQ(a.fired, 0);
    EXPECT_FALSE(b.active());
}

TEST(TimerHook, DestroyingTheLoopDisarmsIt) {
    counting_owner h;
    {
        net::loop l;
        h.start(l, 1h);
        EXPECT_TRUE(h.active());
    }
    EXPECT_FALSE(h.active());
}

TEST(TimerHook, ItsCallbackMayRearmIt) {
    net::loop l;
    struct rearming : net::timer_hook {
        explicit rearming(net::loop& lp) : net::timer_hook(&rearming::fire), loop(&lp) {}
        static void fire(net::timer_hook& h) {
            auto& r = static_cast<rearming&>(h);
            if (++r.fired < 3) r.start(*r.loop, 1ms);
        }
        net::loop* loop;
        int fired = 0;
    } r(l);
    r.start(l, 1ms);
    run_until(l, [&] { return r.fired == 3; });
    EXPECT_EQ(r.fired, 3);
    EXPECT_FALSE(r.active());
    EXPECT_EQ(l.active_timers(), 0u);
}
