// The loop's dispatch contract: I/O, defer, post across threads, stop, and
// removal of handlers while their events are pending.
#include <gtest/gtest.h>

#include <atomic>
#include <fcntl.h>
#include <functional>
#include <memory>
#include <csignal>
#include <thread>
#include <unistd.h>
#include <vector>

#include "upshift/net/listener.hpp"
#include "upshift/net/loop.hpp"

namespace net = upshift::net;
using namespace std::chrono_literals;

namespace {

struct pipe_pair {
    net::fd r, w;
    pipe_pair() {
        int p[2];
        EXPECT_EQ(::pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
        r.reset(p[0]);
        w.reset(p[1]);
    }
};

struct counting_handler : net::io_handler {
    int calls = 0;
    std::uint32_t last = 0;
    std::function<void()> also;
    void on_io(std::uint32_t ev) override {
        ++calls;
        last = ev;
        if (also) also();
    }
};

} // namespace

TEST(Loop, ReportsReadabilityLevelTriggered) {
    net::loop l;
    pipe_pair p;
    counting_handler h;
    l.add(p.r.get(), &h, net::loop::readable);
    l.run_once(0ms);
    EXPECT_EQ(h.calls, 0);
    ASSERT_EQ(::write(p.w.get(), "x", 1), 1);
    l.run_once(1000ms);
    EXPECT_EQ(h.calls, 1);
    EXPECT_TRUE(h.last & net::loop::readable);
    l.run_once(1000ms);  // not drained: reported again
    EXPECT_EQ(h.calls, 2);
    l.remove(p.r.get());
    l.run_once(0ms);
    EXPECT_EQ(h.calls, 2);
}

TEST(Loop, RemovingAPeerDuringDispatchDropsItsPendingEvent) {
    net::loop l;
    pipe_pair a, b;
    counting_handler ha, hb;
    // Whichever runs first removes the other; the other must not be called.
    ha.also = [&] { l.remove(b.r.get()); };
    hb.also = [&] { l.remove(a.r.get()); };
    l.add(a.r.get(), &ha, net::loop::readable);
    l.add(b.r.get(), &hb, net::loop::readable);
    ASSERT_EQ(::write(a.w.get(), "x", 1), 1);
    ASSERT_EQ(::write(b.w.get(), "x", 1), 1);
    l.run_once(1000ms);
    EXPECT_EQ(ha.calls + hb.calls, 1);
}

TEST(Loop, DeferRunsAfterDispatchInOrderIncludingNestedDefers) {
    net::loop l;
    std::vector<int> order;
    l.defer([&] {
        order.push_back(1);
        l.defer([&] { order.push_back(3); });
    });
    l.defer([&] { order.push_back(2); });
    l.run_once(0ms);
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(Loop, ASelfDeferringChainYieldsToIoAndTimersAndContinuesInOrder) {
    // A callback that defers itself forever (a TLS connection whose stream keeps holding bytes
    // while its peer keeps sending) must not starve the loop: after max_deferred_rounds rounds the
    // loop goes back to epoll and timers, and the chain goes on in the next iteration.
    net::loop l;
    pipe_pair p;
    counting_handler h;
    l.add(p.r.get(), &h, net::loop::readable);
    ASSERT_EQ(::write(p.w.get(), "x", 1), 1);
    bool timer_fired = false;
    net::timer t(l);
    t.start(0ms, [&] { timer_fired = true; });

    int runs = 0;
    bool keep_going = true;
    std::function<void()> chain = [&] {
        ++runs;
        if (keep_going) l.defer([&] { chain(); });
    };
    l.defer([&] { chain(); });
    std::vector<int> order;
    l.defer([&] { order.push_back(1); });  // queued behind the chain's first link

    // One iteration has one deferred phase (after I/O, posted work and timers), bounded.
    int const per_iteration = net::loop::max_deferred_rounds;
    l.run_once(1000ms);  // must return although the chain never ends
    EXPECT_EQ(runs, per_iteration);
    EXPECT_EQ(order, (std::vector<int>{1}));
    EXPECT_EQ(h.calls, 1);
    l.run_once(1000ms);  // does not block: the chain's next link is waiting
    EXPECT_EQ(runs, 2 * per_iteration);
    EXPECT_EQ(h.calls, 2);     // the pipe (still readable) was dispatched in between
    EXPECT_TRUE(timer_fired);  // and so were the timers
    keep_going = false;
    l.run_once(0ms);
    l.run_once(0ms);
    auto const final_runs = runs;
    l.run_once(0ms);
    EXPECT_EQ(runs, final_runs);  // the chain ended; nothing is left behind
    l.remove(p.r.get());
}

TEST(Loop, WorkPostedBeforeAnEventHappenedRunsBeforeItsHandler) {
    // Cause and effect across loops: another thread posts (a pub/sub delivery), then its effect
    // becomes an event here (a client that saw the publisher's answer connects or writes). The
    // posted work must run first, whatever order epoll reports the wake-up and the event in.
    net::loop l;
    pipe_pair p;
    std::vector<char const*> order;
    counting_handler h;
    h.also = [&] { order.push_back("io"); };
    l.add(p.r.get(), &h, net::loop::readable);
    std::thread other([&] {
        l.post([&] { order.push_back("posted"); });
        ASSERT_EQ(::write(p.w.get(), "x", 1), 1);
    });
    other.join();
    l.run_once(1000ms);
    EXPECT_EQ(order, (std::vector<char const*>{"posted", "io"}));
    l.remove(p.r.get());
}

TEST(Loop, WorkPostedByPostedWorkWakesTheNextIteration) {
    // A response finished from posted work lets the connection dispatch its next pipelined
    // request, whose handler may post again: that post must wake the next epoll_wait although
    // it was made while the loop handled the wake-up of the first.
    net::loop l;
    bool second = false;
    l.post([&] { l.post([&] { second = true; }); });
    l.run_once(1000ms);
    EXPECT_FALSE(second);
    l.run_once(5000ms);  // returns at once with the wake-up; without it, after 5 s with nothing run
    EXPECT_TRUE(second);
}

TEST(Loop, PostFromAnotherThreadWakesTheLoop) {
    net::loop l;
    std::atomic<bool> ran{false};
    std::thread t([&] {
        std::this_thread::sleep_for(20ms);
        l.post([&] {
            ran = true;
            l.stop();
        });
    });
    l.run();  // would block forever without the wake-up
    t.join();
    EXPECT_TRUE(ran);
}

TEST(Loop, StopBeforeRunIsHonouredAndRunCanBeRepeated) {
    net::loop l;
    l.stop();
    l.run();  // returns at once
    EXPECT_FALSE(l.stopped());
    int n = 0;
    l.post([&] {
        ++n;
        l.stop();
    });
    l.run();
    EXPECT_EQ(n, 1);
}

namespace {
net::loop* signal_loop = nullptr;
extern "C" void on_test_signal(int) { signal_loop->stop(); }
} // namespace

TEST(Loop, StopIsSafeFromASignalHandler) {
    net::loop l;
    signal_loop = &l;
    struct sigaction sa{};
    sa.sa_handler = on_test_signal;
    struct sigaction old{};
    ASSERT_EQ(::sigaction(SIGUSR1, &sa, &old), 0);
    std::thread t([] {
        std::this_thread::sleep_for(20ms);
        ::kill(::getpid(), SIGUSR1);
    });
    l.run();
    t.join();
    ::sigaction(SIGUSR1, &old, nullptr);
    SUCCEED();
}

TEST(Loop, NowAdvancesPerIteration) {
    net::loop l;
    auto before = l.now();
    std::this_thread::sleep_for(5ms);
    l.run_once(0ms);
    EXPECT_GT(l.now(), before);
    EXPECT_GT(l.unix_now(), 1'600'000'000);
}

TEST(Acceptor, AcceptsOnTheLoopAndStopsWhenClosed) {
    net::loop l;
    std::error_code ec;
    net::endpoint bound;
    auto lst = net::listen_tcp({"127.0.0.1", 0}, {}, ec, &bound);
    ASSERT_FALSE(ec);
    std::vector<net::fd> accepted;
    net::endpoint last_peer;
    net::acceptor acc(l, std::move(lst), [&](net::fd s, net::endpoint const& peer) {
        accepted.push_back(std::move(s));
        last_peer = peer;
    });
    std::vector<net::fd> clients;
    for (int i = 0; i < 5; ++i) clients.push_back(net::connect_tcp(bound, ec));
    auto deadline = net::clock::now() + 5s;
    while (accepted.size() < 5 && net::clock::now() < deadline) l.run_once(50ms);
    EXPECT_EQ(accepted.size(), 5u);
    EXPECT_EQ(last_peer.host, "127.0.0.1");

    acc.close();
    EXPECT_FALSE(acc.is_open());
    auto late = net::connect_tcp(bound, ec);
    // Either refused at once or never accepted: nothing reaches the callback.
    l.run_once(50ms);
    EXPECT_EQ(accepted.size(), 5u);
}

TEST(Acceptor, PauseLeavesConnectionsQueuedUntilResume) {
    net::loop l;
    std::error_code ec;
    net::endpoint bound;
    auto lst = net::listen_tcp({"127.0.0.1", 0}, {}, ec, &bound);
    int accepted = 0;
    net::acceptor acc(l, std::move(lst), [&](net::fd, net::endpoint const&) { ++accepted; });
    acc.pause();
    auto c = net::connect_tcp(bound, ec);
    l.run_once(50ms);
    EXPECT_EQ(accepted, 0);
    acc.resume();
    auto deadline = net::clock::now() + 5s;
    while (accepted == 0 && net::clock::now() < deadline) l.run_once(50ms);
    EXPECT_EQ(accepted, 1);
}

TEST(Loop, ShutdownListenersHearGracefulThenForcedAndMayUnwatch) {
    net::loop l;
    struct listener : net::shutdown_listener {
        net::loop* lp = nullptr;
        std::vector<bool> calls;
        bool leave_on_graceful = false;
        void on_shutdown(bool force) noexcept override {
            calls.push_back(force);
            if (force || leave_on_graceful) lp->unwatch_shutdown(this);
        }
    } stubborn, polite;
    stubborn.lp = polite.lp = &l;
    polite.leave_on_graceful = true;
    l.watch_shutdown(&stubborn);
    l.watch_shutdown(&polite);
    EXPECT_EQ(l.shutdown_listeners(), 2u);
    l.notify_shutdown(false);
    EXPECT_EQ(l.shutdown_listeners(), 1u);
    l.notify_shutdown(true);
    EXPECT_EQ(l.shutdown_listeners(), 0u);
    EXPECT_EQ(stubborn.calls, (std::vector<bool>{false, true}));
    EXPECT_EQ(polite.calls, (std::vector<bool>{false}));
}

// A protocol hand-off: the old owner detaches the fd during dispatch, the new one registers it in
// the deferred phase with add() or take_over(). Only the new owner hears of the pending data.
// Returns the epoll_ctl calls the new owner's registration cost.
namespace {
std::uint64_t hand_off(bool take_over) {
    net::loop l;
    pipe_pair p;
    counting_handler before, after;
    l.add(p.r.get(), &before, net::loop::readable);
    std::uint64_t calls_before = 0, calls_after = 0;
    before.also = [&] {
        l.detach(p.r.get());
        l.defer([&] {
            calls_before = l.epoll_ctl_calls();
            if (take_over) l.take_over(p.r.get(), &after, net::loop::readable, true);
            else l.add(p.r.get(), &after, net::loop::readable);
            calls_after = l.epoll_ctl_calls();
        });
    };
    EXPECT_EQ(::write(p.w.get(), "x", 1), 1);
    l.run_once(1000ms);
    EXPECT_EQ(before.calls, 1);
    l.run_once(1000ms);  // still unread: reported to the new owner only
    EXPECT_EQ(before.calls, 1);
    EXPECT_EQ(after.calls, 1);
    // Nothing left to undo before the wait: the fd was not dropped from the set.
    EXPECT_EQ(l.epoll_ctl_calls(), calls_after);
    l.remove(p.r.get());
    return calls_after - calls_before;
}
} // namespace

TEST(Loop, DetachThenAddHandsTheFdToTheNewHandlerWithOneModify) { EXPECT_EQ(hand_off(false), 1u); }

// The next owner held the detached fd open since: with the interest the fd had, the registration
// stays as it is and only the handler changes.
TEST(Loop, TakeOverWithTheSameInterestMakesNoSystemCall) { EXPECT_EQ(hand_off(true), 0u); }

// Nobody takes a detached fd over: it leaves the epoll set before the next wait, so its old
// (possibly freed) handler is never called again, and the fd can be added anew later: then even
// take_over() is a plain ADD, since the fd is no longer in the set.
TEST(Loop, ADetachedFdNobodyAddsIsDroppedBeforeTheNextWait) {
    net::loop l;
    pipe_pair p;
    counting_handler h, later;
    l.add(p.r.get(), &h, net::loop::readable);
    h.also = [&] { l.detach(p.r.get()); };
    ASSERT_EQ(::write(p.w.get(), "x", 1), 1);
    l.run_once(1000ms);
    EXPECT_EQ(h.calls, 1);
    l.run_once(0ms);
    l.run_once(0ms);
    EXPECT_EQ(h.calls, 1);
    auto const calls = l.epoll_ctl_calls();
    l.take_over(p.r.get(), &later, net::loop::readable, true);
    EXPECT_EQ(l.epoll_ctl_calls(), calls + 1);
    l.run_once(1000ms);
    EXPECT_EQ(later.calls, 1);
    l.remove(p.r.get());
}

// The detached fd is closed and its number reused by a new file before the add(): the MOD finds
// nothing (ENOENT) and the loop adds the new file instead.
TEST(Loop, DetachedNumberReusedByANewFileIsAdded) {
    net::loop l;
    auto p = std::make_unique<pipe_pair>();
    int const number = p->r.get();
    counting_handler h, fresh;
    l.add(number, &h, net::loop::readable);
    l.detach(number);
    p.reset();  // closes both ends: `number` is free again
    pipe_pair q;
    ASSERT_EQ(q.r.get(), number) << "the kernel hands out the lowest free number";
    l.add(q.r.get(), &fresh, net::loop::readable);
    ASSERT_EQ(::write(q.w.get(), "y", 1), 1);
    l.run_once(1000ms);
    EXPECT_EQ(fresh.calls, 1);
    EXPECT_EQ(h.calls, 0);
    l.remove(q.r.get());
}

// Another interest: one EPOLL_CTL_MOD, and the new owner hears only what it asked for.
TEST(Loop, TakeOverWithAnotherInterestIsOneModify) {
    net::loop l;
    pipe_pair p;
    counting_handler before, after;
    l.add(p.w.get(), &before, net::loop::readable);  // a pipe's write end is never readable
    l.detach(p.w.get());
    auto const calls = l.epoll_ctl_calls();
    l.take_over(p.w.get(), &after, net::loop::writable, true);
    EXPECT_EQ(l.epoll_ctl_calls(), calls + 1);
    l.run_once(1000ms);
    EXPECT_EQ(before.calls, 0);
    EXPECT_EQ(after.calls, 1);
    EXPECT_TRUE(after.last & net::loop::writable);
    l.remove(p.w.get());
}

// A handler closes a peer's fd and registers a new file that gets the same number, while the
// closed file's event is still pending in the batch: that event belongs to the old file and must
// not reach the new file's handler (events carry their registration's generation).
TEST(Loop, APendingEventOfAClosedFdDoesNotReachTheNextFileWithItsNumber) {
    net::loop l;
    auto a = std::make_unique<pipe_pair>();
    auto b = std::make_unique<pipe_pair>();
    counting_handler ha, hb, fresh;
    std::unique_ptr<pipe_pair> c;
    int reused = -1;
    auto replace = [&](std::unique_ptr<pipe_pair>& victim) {
        int const number = victim->r.get();
        l.forget_before_close(number);
        victim.reset();  // frees the number
        c = std::make_unique<pipe_pair>();
        reused = c->r.get() == number ? 1 : 0;
        l.add(c->r.get(), &fresh, net::loop::readable);
        ASSERT_EQ(::write(c->w.get(), "z", 1), 1);
    };
    // Whichever runs first replaces the other.
    ha.also = [&] { if (!c) replace(b); };
    hb.also = [&] { if (!c) replace(a); };
    l.add(a->r.get(), &ha, net::loop::readable);
    l.add(b->r.get(), &hb, net::loop::readable);
    ASSERT_EQ(::write(a->w.get(), "x", 1), 1);
    ASSERT_EQ(::write(b->w.get(), "y", 1), 1);
    l.run_once(1000ms);
    ASSERT_EQ(reused, 1) << "the kernel hands out the lowest free number";
    EXPECT_EQ(ha.calls + hb.calls, 1);
    EXPECT_EQ(fresh.calls, 0) << "the closed file's event reached the new file's handler";
    l.run_once(1000ms);
    EXPECT_EQ(fresh.calls, 1);
    l.remove(c->r.get());
    if (a) l.remove(a->r.get());
    if (b) l.remove(b->r.get());
}
