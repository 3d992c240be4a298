#include "upshift/net/loop.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace upshift::net {

static_assert(loop::readable == EPOLLIN && loop::writable == EPOLLOUT && loop::error == EPOLLERR &&
              loop::hangup == EPOLLHUP && loop::rdhangup == EPOLLRDHUP);

// stop() must be async-signal-safe: an atomic flag plus a write() to the eventfd,
// nothing that locks or allocates.
struct loop::stop_flag {
    std::atomic<bool> stop{false};
};

namespace {

// An event's data: the registration's generation above the fd number. The eventfd is registered
// with this sentinel instead, whose low half is no fd number (those stay below 2^31).
constexpr std::uint64_t wake_tag = ~std::uint64_t{0};
constexpr std::uint64_t event_data(int fd, std::uint32_t generation) noexcept {
    return std::uint64_t{generation} << 32 | static_cast<std::uint32_t>(fd);
}
// Events taken per epoll_wait.
constexpr int max_events = 256;

void wake(int fd) noexcept {
    std::uint64_t one = 1;
    // EAGAIN means the counter is already non-zero: the loop will wake anyway.
    [[maybe_unused]] auto n = ::write(fd, &one, sizeof one);
}

[[noreturn]] void fatal(char const* what) noexcept {
    // The loop cannot work without its epoll instance; nothing sensible to return.
    std::perror(what);
    std::abort();
}

} // namespace

loop::loop() : stop_(std::make_unique<stop_flag>()) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) fatal("epoll_create1");
    wakefd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakefd_ < 0) fatal("eventfd");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = wake_tag;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev) != 0) fatal("epoll_ctl(eventfd)");
    refresh_time();
    // The per-fd slots and the timer heap are reserved once for as many descriptors as the
    // process may open: that size is above malloc's mmap threshold, so each is mapped on its
    // own and only the pages in use become resident. Grown by doubling instead, every larger
    // copy would land on top of malloc's heap and keep the memory freed below it resident
    // (bench/README.md, memory per idle connection: about 45 bytes per connection at 10,000).
    std::size_t slots = 1024;
    if (rlimit rl{}; ::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        slots = static_cast<std::size_t>(rl.rlim_cur);
    slots = std::min<std::size_t>(slots, std::size_t{1} << 20);
    slots_.reserve(slots);
    heap_.reserve(slots);
    // Likewise this one, which keeps its capacity: allocated now it sits at the bottom of the
    // heap, instead of wherever a burst of connections first fills it.
    detached_.reserve(max_events);
}

loop::~loop() {
    // Timers still alive must not point back at a dead loop.
    for (auto* t : heap_) t->index_ = timer_hook::npos;
    heap_.clear();
    ::close(wakefd_);
    ::close(epfd_);
}

void loop::refresh_time() noexcept {
    now_ = clock::now();
    unix_now_ = static_cast<long long>(std::time(nullptr));
}

bool loop::stopped() const noexcept { return stop_->stop.load(std::memory_order_acquire); }

void loop::stop() noexcept {
    stop_->stop.store(true, std::memory_order_release);
    wake(wakefd_);
}

void loop::run() {
    // A stop() that came before run() (a signal during start-up) is honoured.
    while (!stopped()) run_once(std::chrono::milliseconds(-1));
    stop_->stop.store(false, std::memory_order_release);
}

void loop::post(unique_function<void()> fn) {
    {
        std::lock_guard lock(posted_mu_);
        posted_.push_back(std::move(fn));
    }
    wake(wakefd_);
}

void loop::defer(unique_function<void()> fn) { deferred_.push_back(std::move(fn)); }

loop::fd_slot& loop::slot(int fd) {
    auto const i = static_cast<std::size_t>(fd);
    if (i >= slots_.size()) slots_.resize(i + 1);
    return slots_[i];
}

int loop::ctl(int op, int fd, std::uint32_t events, std::uint32_t generation) noexcept {
    ++epoll_ctl_calls_;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = event_data(fd, generation);
    return ::epoll_ctl(epfd_, op, fd, &ev);
}

void loop::add(int fd, io_handler* h, std::uint32_t events) {
    auto& s = slot(fd);
    // A new registration: events already returned for an earlier one of this number (a file
    // closed in this iteration) carry the old generation and are dropped.
    ++s.generation;
    if (auto d = std::find(detached_.begin(), detached_.end(), fd); d != detached_.end()) {
        detached_.erase(d);
        // Still in the set from before the hand-off; ENOENT: that file was closed meanwhile and
        // this is a new one with the same number.
        if (ctl(EPOLL_CTL_MOD, fd, events, s.generation) != 0) {
            if (errno != ENOENT || ctl(EPOLL_CTL_ADD, fd, events, s.generation) != 0) fatal("epoll_ctl(MOD/ADD)");
        }
    } else if (ctl(EPOLL_CTL_ADD, fd, events, s.generation) != 0) {
        // Only programming errors (EEXIST, EBADF) or ENOMEM get here.
        fatal("epoll_ctl(ADD)");
    }
    s.handler = h;
    s.events = events;
}

void loop::take_over(int fd, io_handler* h, std::uint32_t events, bool registered) {
    auto const d = registered ? std::find(detached_.begin(), detached_.end(), fd) : detached_.end();
    auto& s = slot(fd);
    if (d == detached_.end() || s.events != events) {
        add(fd, h, events);
        return;
    }
    // The same open file, still registered with this interest: its events go to `h` from now on.
    // None of them is pending: each fd is in a batch at most once, and the detach() came from
    // its old owner's own event or later.
    detached_.erase(d);
    s.handler = h;
}

void loop::modify(int fd, io_handler* h, std::uint32_t events) {
    auto& s = slot(fd);
    if (s.events != events) {
        if (ctl(EPOLL_CTL_MOD, fd, events, s.generation) != 0) fatal("epoll_ctl(MOD)");
        s.events = events;
    }
    s.handler = h;
}

void loop::remove(int fd) {
    // The fd may already be closed (the kernel dropped it from the set); ignore.
    ctl(EPOLL_CTL_DEL, fd, 0, 0);
    forget_before_close(fd);
}

void loop::detach(int fd) {
    forget_before_close(fd);
    detached_.push_back(fd);
}

void loop::forget_before_close(int fd) noexcept {
    auto const i = static_cast<std::size_t>(fd);
    // Events already returned for the fd in the current batch are dropped: they find no handler
    // (or, once the number is registered again, a newer generation).
    if (i < slots_.size()) slots_[i].handler = nullptr;
}

int loop::next_timeout_ms(std::chrono::milliseconds cap) const {
    if (!deferred_.empty()) return 0;
    long long wait = cap.count();  // negative: no cap
    if (!heap_.empty()) {
        auto until = std::chrono::ceil<std::chrono::milliseconds>(heap_.front()->deadline_ - clock::now()).count();
        if (until < 0) until = 0;
        if (wait < 0 || until < wait) wait = until;
    }
    if (wait > 24LL * 3600 * 1000) wait = 24LL * 3600 * 1000;
    return static_cast<int>(wait);
}

void loop::run_once(std::chrono::milliseconds max_wait) {
    epoll_event events[max_events];
    // A detached fd nobody took over must not report to its old (freed) handler.
    for (int fd : detached_) ctl(EPOLL_CTL_DEL, fd, 0, 0);
    detached_.clear();
    int n = ::epoll_wait(epfd_, events, max_events, next_timeout_ms(max_wait));
    if (n < 0) {
        if (errno != EINTR) fatal("epoll_wait");
        n = 0;
    }
    refresh_time();

    // Posted work first: everything posted before the events of this batch happened runs before
    // they are handled. A publish on another loop that a client saw the effects of (it got its
    // welcome, then connected here) reaches this loop's subscribers before anything that client
    // now causes here, so cross-thread messages keep their cause-and-effect order. It runs inside
    // the dispatch window: a handler it closes has its pending events in this batch dropped, and
    // is freed in the deferred phase below, after the batch. The wake-up is consumed before the
    // queue is taken, so a post made from now on wakes the next epoll_wait.
    for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 != wake_tag) continue;
        std::uint64_t count;
        [[maybe_unused]] auto r = ::read(wakefd_, &count, sizeof count);
        break;
    }
    run_posted();
    for (int i = 0; i < n; ++i) {
        auto const& ev = events[i];
        if (ev.data.u64 == wake_tag) continue;
        // Looked up per event: an earlier handler in this batch may have removed this fd, or
        // closed it and registered its number anew (generation).
        auto const& s = slots_[static_cast<std::uint32_t>(ev.data.u64)];
        if (s.handler == nullptr || s.generation != static_cast<std::uint32_t>(ev.data.u64 >> 32)) continue;
        s.handler->on_io(ev.events);
    }

    fire_timers();
    run_deferred();
}

void loop::run_posted() {
    std::vector<unique_function<void()>> posted;
    {
        std::lock_guard lock(posted_mu_);
        posted.swap(posted_);
    }
    for (auto& fn : posted) fn();
}

void loop::run_deferred() {
    // Deferred work may defer more; run it in order until quiet, but for a bounded number of
    // rounds: a callback that defers itself again and again (a connection reading the bytes a TLS
    // stream holds while its peer keeps sending) must not keep the other connections, epoll and
    // timers waiting. What is left runs in the next iteration, whose epoll_wait does not block,
    // still in order, so an object freed by a deferred callback is freed after the ones queued
    // before it.
    for (int round = 0; round < max_deferred_rounds && !deferred_.empty(); ++round) {
        auto batch = std::move(deferred_);
        deferred_.clear();
        for (auto& fn : batch) fn();
    }
}

// --- shutdown listeners -------------------------------------------------------

void loop::watch_shutdown(shutdown_listener* l) {
    if (watching(l)) return;
    // At the head: a listener added during notify_shutdown() is not told this round.
    l->prev_watcher_ = nullptr;
    l->next_watcher_ = shutdown_head_;
    if (shutdown_head_) shutdown_head_->prev_watcher_ = l;
    shutdown_head_ = l;
    // One writer (this thread): a plain load and store, no locked read-modify-write.
    shutdown_listener_count_.store(shutdown_listener_count_.load(std::memory_order_relaxed) + 1,
                                   std::memory_order_relaxed);
}

void loop::unwatch_shutdown(shutdown_listener* l) noexcept {
    if (!watching(l)) return;
    if (l == shutdown_cursor_) shutdown_cursor_ = l->next_watcher_;  // keep notify_shutdown's walk valid
    if (l->prev_watcher_) l->prev_watcher_->next_watcher_ = l->next_watcher_;
    else shutdown_head_ = l->next_watcher_;
    if (l->next_watcher_) l->next_watcher_->prev_watcher_ = l->prev_watcher_;
    l->prev_watcher_ = l->next_watcher_ = nullptr;
    shutdown_listener_count_.store(shutdown_listener_count_.load(std::memory_order_relaxed) - 1,
                                   std::memory_order_relaxed);
}

void loop::notify_shutdown(bool force) {
    // Listeners unwatch themselves (or others) while being told: the cursor is
    // the next one to tell, and unwatch_shutdown() moves it past a removed listener.
    for (auto* l = shutdown_head_; l != nullptr; l = shutdown_cursor_) {
        shutdown_cursor_ = l->next_watcher_;
        l->on_shutdown(force);
    }
    shutdown_cursor_ = nullptr;
}

// --- timers: a binary min-heap keyed on (deadline, seq) ----------------------

void loop::sift(std::size_t i) noexcept {
    // Equal deadlines fire in the order they were armed. seq wraps at 2^32: compared as a
    // difference, which is right while the armed timers' numbers span less than 2^31.
    auto less = [](timer_hook const* a, timer_hook const* b) {
        return a->deadline_ < b->deadline_ ||
               (a->deadline_ == b->deadline_ && static_cast<std::int32_t>(a->seq_ - b->seq_) < 0);
    };
    auto place = [this](std::size_t at, timer_hook* t) {
        heap_[at] = t;
        t->index_ = static_cast<std::uint32_t>(at);
    };
    // Up, then down: after a re-arm the element may need to go either way.
    while (i > 0) {
        std::size_t parent = (i - 1) / 2;
        if (!less(heap_[i], heap_[parent])) break;
        timer_hook* up = heap_[i];
        place(i, heap_[parent]);
        place(parent, up);
        i = parent;
    }
    for (;;) {
        std::size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < heap_.size() && less(heap_[l], heap_[m])) m = l;
        if (r < heap_.size() && less(heap_[r], heap_[m])) m = r;
        if (m == i) break;
        timer_hook* down = heap_[i];
        place(i, heap_[m]);
        place(m, down);
        i = m;
    }
}

void loop::schedule(timer_hook* t) {
    t->seq_ = static_cast<std::uint32_t>(++timer_seq_);
    if (t->index_ == timer_hook::npos) {
        t->index_ = static_cast<std::uint32_t>(heap_.size());
        heap_.push_back(t);
    }
    sift(t->index_);
}

void loop::unschedule(timer_hook* t) noexcept {
    std::size_t i = t->index_;
    if (t->index_ == timer_hook::npos) return;
    t->index_ = timer_hook::npos;
    timer_hook* last = heap_.back();
    heap_.pop_back();
    if (last == t) return;
    heap_[i] = last;
    last->index_ = static_cast<std::uint32_t>(i);
    sift(i);
}

void loop::fire_timers() {
    auto const now = now_;
    while (!heap_.empty() && heap_.front()->deadline_ <= now) {
        timer_hook* t = heap_.front();
        unschedule(t);
        // May re-arm, cancel or destroy t (and other timers).
        t->fire_(*t);
    }
}

// --- timer --------------------------------------------------------------------

void timer::fire(timer_hook& h) {
    auto& t = static_cast<timer&>(h);
    // The callback may restart, replace (start()) or destroy its own timer,
    // so it runs from a local; afterwards it goes back for restart() unless
    // the timer died or got a new callback.
    auto fn = std::move(t.fn_);
    t.fn_ = nullptr;
    if (!fn) return;
    bool destroyed = false;
    t.destroyed_ = &destroyed;
    fn();
    if (destroyed) return;
    t.destroyed_ = nullptr;
    if (!t.fn_) t.fn_ = std::move(fn);
}

void timer::start(std::chrono::milliseconds after, unique_function<void()> fn) {
    fn_ = std::move(fn);
    restart(after);
}

} // namespace upshift::net
