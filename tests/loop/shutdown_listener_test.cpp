// net::loop's shutdown listeners: the server's stop reaches every upgraded
// session through them, so the walk must survive listeners leaving (themselves
// or others) and arriving while it runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "upshift/net/loop.hpp"

namespace net = upshift::net;

namespace {

struct recording_listener : net::shutdown_listener {
    std::vector<int>* log = nullptr;
    int id = 0;
    std::function<void(bool)> action;
    void on_shutdown(bool force) noexcept override {
        log->push_back(id);
        if (action) action(force);
    }
};

} // namespace

TEST(ShutdownListener, EveryWatcherIsToldOnceAndCountIsKept) {
    net::loop l;
    std::vector<int> log;
    std::vector<recording_listener> ls(5);
    int id = 0;
    for (auto& x : ls) {
        x.log = &log;
        x.id = id++;
        l.watch_shutdown(&x);
    }
    l.watch_shutdown(&ls[2]);  // watching twice is a no-op
    EXPECT_EQ(l.shutdown_listeners(), 5u);
    l.unwatch_shutdown(&ls[0]);
    l.unwatch_shutdown(&ls[0]);  // and so is unwatching twice
    EXPECT_EQ(l.shutdown_listeners(), 4u);
    l.notify_shutdown(false);
    std::sort(log.begin(), log.end());
    EXPECT_EQ(log, (std::vector<int>{1, 2, 3, 4}));
    for (auto& x : ls) l.unwatch_shutdown(&x);
    EXPECT_EQ(l.shutdown_listeners(), 0u);
}

TEST(ShutdownListener, ListenersMayLeaveAndRemoveOthersDuringTheWalk) {
    net::loop l;
    std::vector<int> log;
    std::vector<recording_listener> ls(6);
    int id = 0;
    for (auto& x : ls) {
        x.log = &log;
        x.id = id++;
    }
    // Each removes itself (as a closing session does); one also removes every
    // other listener it can see, including the one the walk would visit next.
    for (auto& x : ls) x.action = [&l, &x](bool) { l.unwatch_shutdown(&x); };
    ls[3].action = [&](bool) {
        for (auto& x : ls) l.unwatch_shutdown(&x);
    };
    for (auto& x : ls) l.watch_shutdown(&x);
    l.notify_shutdown(true);
    EXPECT_EQ(l.shutdown_listeners(), 0u);
    // Newest first: 5, 4, 3; then 3 removed the rest, which were not told.
    EXPECT_EQ(log, (std::vector<int>{5, 4, 3}));
}

TEST(ShutdownListener, OneWatchingDuringTheWalkIsNotToldThisRound) {
    net::loop l;
    std::vector<int> log;
    recording_listener a, late;
    a.log = late.log = &log;
    a.id = 1;
    late.id = 2;
    a.action = [&](bool) { l.watch_shutdown(&late); };
    l.watch_shutdown(&a);
    l.notify_shutdown(false);
    EXPECT_EQ(log, (std::vector<int>{1}));
    EXPECT_EQ(l.shutdown_listeners(), 2u);
    l.notify_shutdown(false);
    EXPECT_EQ(log.size(), 3u);  // both told the second time
    l.unwatch_shutdown(&a);
    l.unwatch_shutdown(&late);
}
