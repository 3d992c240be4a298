#pragma once
// A single-threaded epoll event loop: fd readiness, timers, deferred work and
// thread-safe wake-ups. One loop per thread; everything registered on a loop
// is used only from that loop's thread, except post() and stop().
//
// Dispatch order in one iteration: epoll_wait -> posted callbacks (post()) ->
// I/O handlers -> expired timers -> deferred callbacks (defer()). Posted work
// runs before the batch's I/O so that anything posted before an event happened
// is seen before that event is handled. Objects closed
// during dispatch are destroyed in the deferred phase, so a handler may close
// itself (or a peer) while events for it are still pending: the loop skips
// events for fds removed in the same iteration.
//
// epoll reports an fd and the generation of its registration, not a handler
// pointer: the handler is looked up per event. So a registration outlives a
// change of owner (a protocol hand-off: take_over() costs no system call), and
// an event for an fd that was closed and whose number was registered anew in
// the same iteration is told apart by its older generation.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "upshift/base/unique_function.hpp"

namespace upshift::net {

using clock = std::chrono::steady_clock;

/// Receives readiness for one fd. Flags are the epoll bits.
class io_handler {
public:
    virtual ~io_handler() = default;
    /// `events` is a mask of loop::readable | loop::writable | loop::hangup | loop::error.
    virtual void on_io(std::uint32_t events) = 0;
};

class timer_hook;

/// Something living on a loop outside the server's connection lists (an
/// upgraded protocol session) that must hear when the server stops.
class shutdown_listener {
public:
    virtual ~shutdown_listener() = default;
    /// force=false: wind down cleanly soon (WebSocket: close 1001); the server
    /// waits up to its grace period. force=true: close now. Either way the
    /// listener must unwatch itself once closed.
    virtual void on_shutdown(bool force) noexcept = 0;

private:
    // The loop's list of watchers is intrusive: a listener costs two pointers and
    // no allocation (it matters at 10,000s of idle WebSocket sessions per loop).
    // Watching: the list's head, or a predecessor.
    friend class loop;
    shutdown_listener* prev_watcher_ = nullptr;
    shutdown_listener* next_watcher_ = nullptr;
};

class loop {
public:
    static constexpr std::uint32_t readable = 0x001;  // EPOLLIN
    static constexpr std::uint32_t writable = 0x004;  // EPOLLOUT
    static constexpr std::uint32_t error = 0x008;     // EPOLLERR
    static constexpr std::uint32_t hangup = 0x010;    // EPOLLHUP
    static constexpr std::uint32_t rdhangup = 0x2000; // EPOLLRDHUP

    loop();
    ~loop();
    loop(loop const&) = delete;
    loop& operator=(loop const&) = delete;

    /// Runs until stop() is called (also if stop() came before run()). Returns
    /// after the iteration that saw the stop and clears it, so run() can be called again.
    void run();
    /// Runs one iteration, waiting at most `max_wait` (for tests).
    void run_once(std::chrono::milliseconds max_wait);
    /// Thread-safe and async-signal-safe: makes run() return.
    void stop() noexcept;
    bool stopped() const noexcept;

    /// Thread-safe: runs fn on the loop thread soon.
    void post(unique_function<void()> fn);
    /// Loop thread only: runs fn after the current dispatch phase, in order. A chain of defers from
    /// deferred callbacks deeper than max_deferred_rounds goes on in the next iteration.
    void defer(unique_function<void()> fn);
    /// Rounds of defer-from-defer run per phase before the loop goes back to epoll.
    static constexpr int max_deferred_rounds = 16;

    /// Loop thread only. Level-triggered interest in `events` (readable/writable).
    void add(int fd, io_handler* h, std::uint32_t events);
    /// Changes the handler and the interest of a registered fd; a system call only if the
    /// interest changes.
    void modify(int fd, io_handler* h, std::uint32_t events);
    /// Also invalidates events already returned for fd in this iteration.
    void remove(int fd);
    /// remove() for an fd the caller closes right away (and owns alone): closing it takes it
    /// out of the epoll set, so this skips the epoll_ctl system call.
    void forget_before_close(int fd) noexcept;
    /// remove() for an fd changing owners on this loop (a protocol hand-off): no handler gets its
    /// events from now on, but it stays in the epoll set, so the next owner's take_over() in this
    /// iteration costs no system call (one EPOLL_CTL_MOD if it wants other events), and an add()
    /// is one EPOLL_CTL_MOD instead of a DEL and an ADD. If neither comes before the next poll, it
    /// is removed then.
    void detach(int fd);
    /// add() for the receiver of a hand-off. `registered`: the caller holds the stream that was
    /// detach()ed from this loop, open since (upgrade::upgraded::registered); if the fd is still
    /// in the set with the same events, only the handler changes. Otherwise, or when
    /// `registered` is false, it is add(). Only the holder of the stream can vouch that the fd is
    /// the same open file (a number closed after detach() and reused must be added): that is why
    /// the caller says so and add() does not assume it.
    void take_over(int fd, io_handler* h, std::uint32_t events, bool registered);
    /// epoll_ctl system calls made so far (for tests and benchmarks).
    std::uint64_t epoll_ctl_calls() const noexcept { return epoll_ctl_calls_; }

    /// Time of the current iteration (cheap; refreshed once per wake-up).
    clock::time_point now() const noexcept { return now_; }
    /// Wall-clock seconds, cached per iteration (for Date headers).
    long long unix_now() const noexcept { return unix_now_; }

    std::size_t active_timers() const noexcept { return heap_.size(); }

    /// Loop thread only: register / unregister for notify_shutdown().
    void watch_shutdown(shutdown_listener* l);
    void unwatch_shutdown(shutdown_listener* l) noexcept;
    /// Calls on_shutdown(force) on every listener (each may unwatch during it).
    void notify_shutdown(bool force);
    /// How many listeners watch: the loop's upgraded connections in a server. Any thread may read
    /// it (a snapshot, as for metrics); only the loop thread changes it.
    std::size_t shutdown_listeners() const noexcept { return shutdown_listener_count_.load(std::memory_order_relaxed); }

private:
    friend class timer_hook;
    void schedule(timer_hook* t);
    void unschedule(timer_hook* t) noexcept;
    void sift(std::size_t i) noexcept;
    void fire_timers();
    void run_deferred();
    void run_posted();
    void refresh_time() noexcept;
    int next_timeout_ms(std::chrono::milliseconds cap) const;
    bool watching(shutdown_listener const* l) const noexcept { return l == shutdown_head_ || l->prev_watcher_ != nullptr; }

    int epfd_ = -1;
    int wakefd_ = -1;
    clock::time_point now_{};
    long long unix_now_ = 0;
    std::vector<timer_hook*> heap_;  // min-heap on (deadline, seq); timer_hook::index_ is its slot
    std::uint64_t timer_seq_ = 0;
    std::vector<unique_function<void()>> deferred_;
    std::mutex posted_mu_;
    std::vector<unique_function<void()>> posted_;
    shutdown_listener* shutdown_head_ = nullptr;      // intrusive list, newest first
    shutdown_listener* shutdown_cursor_ = nullptr;    // notify_shutdown's next listener
    std::atomic<std::size_t> shutdown_listener_count_{0};  // written by the loop thread only
    /// One per fd number: who gets its events, and the registration epoll knows.
    struct fd_slot {
        io_handler* handler = nullptr;  ///< null: events for the fd are dropped (removed, detached)
        std::uint32_t generation = 0;   ///< of the fd's latest registration, in each event's data
        std::uint32_t events = 0;       ///< the interest registered
    };
    fd_slot& slot(int fd);
    int ctl(int op, int fd, std::uint32_t events, std::uint32_t generation) noexcept;

    std::vector<fd_slot> slots_;    // indexed by fd
    std::vector<int> detached_;     // detach()ed, still in the epoll set
    std::uint64_t epoll_ctl_calls_ = 0;
    struct stop_flag;
    std::unique_ptr<stop_flag> stop_;
};

/// A timer embedded in its owner, for objects that exist by the ten thousand (idle WebSocket
/// sessions): 24 bytes, no heap allocation, no loop pointer, a plain function for a callback.
/// The owner passes its loop to start() and cancel() and must cancel() before it is destroyed
/// (destroying the loop disarms it). `fire` gets the hook back; an owner that derives from it
/// casts to itself. Loop thread only. net::timer below is the convenient kind, built on it.
class timer_hook {
public:
    using fire_fn = void (*)(timer_hook&);
    explicit timer_hook(fire_fn fire) noexcept : fire_(fire) {}
    timer_hook(timer_hook const&) = delete;
    timer_hook& operator=(timer_hook const&) = delete;

    /// (Re)arms: `fire` runs once, `after` from the loop's now(). Timers with equal deadlines
    /// fire in the order they were armed.
    void start(loop& l, std::chrono::milliseconds after) {
        deadline_ = l.now() + after;
        l.schedule(this);
    }
    void cancel(loop& l) noexcept {
        if (index_ != npos) l.unschedule(this);
    }
    bool active() const noexcept { return index_ != npos; }
    clock::time_point deadline() const noexcept { return deadline_; }

protected:
    ~timer_hook() = default;
    void set_fire(fire_fn fire) noexcept { fire_ = fire; }

private:
    friend class loop;
    static constexpr std::uint32_t npos = static_cast<std::uint32_t>(-1);
    clock::time_point deadline_{};
    fire_fn fire_;
    std::uint32_t index_ = npos;  // slot in the loop's heap
    std::uint32_t seq_ = 0;       // tie-break for equal deadlines (compared modulo 2^32)
};

/// A one-shot timer owned by the user; re-arm with start(). Destroying or
/// cancelling it removes it from the loop. Loop thread only.
class timer final : private timer_hook {
public:
    explicit timer(loop& l) noexcept : timer_hook(&timer::fire), loop_(&l) {}
    ~timer() {
        cancel();
        if (destroyed_) *destroyed_ = true;
    }
    timer(timer const&) = delete;
    timer& operator=(timer const&) = delete;

    /// (Re)arms: fn runs once after `after`. Replaces any pending callback.
    void start(std::chrono::milliseconds after, unique_function<void()> fn);
    /// Re-arms with the existing callback (cheap; used for sliding timeouts).
    void restart(std::chrono::milliseconds after) { timer_hook::start(*loop_, after); }
    void cancel() noexcept { timer_hook::cancel(*loop_); }
    using timer_hook::active;
    using timer_hook::deadline;

private:
    static void fire(timer_hook& h);
    loop* loop_;
    bool* destroyed_ = nullptr;  // set while the callback runs: tells fire() if it died
    unique_function<void()> fn_;
};

} // namespace upshift::net
