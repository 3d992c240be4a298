#pragma once
// In-process server tests: server_fixture runs upshift::server::server with a test-supplied handler
// on a background thread (listening on 127.0.0.1:0) and stops + joins it in TearDown. Tests talk to
// it with support/raw_client (an independent socket client and response parser).
//
// Threading rules for tests:
//  - Handlers and every exchange callback run on the server's loop thread. State they share with the
//    test thread lives in the fixture (event_log `events`, park()), never in test-body locals: the
//    loop may still run callbacks (on_abort, ...) after the test body returned, until TearDown joins.
//  - To act on an exchange from the test thread, the handler park()s it and the test calls
//    with_parked(fn): fn runs on the loop thread (loop::post) and the call waits for it. Use it only
//    while that exchange is in progress (an aborted one is unparked; a completed one is not).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/raw_client.hpp"
#include "upshift/base/ascii.hpp"
#include "upshift/net/loop.hpp"
#include "upshift/server/server.hpp"

namespace upshift::test {

using namespace std::chrono_literals;
using server::exchange;
using server::response_writer;
using http1::status;

/// Thread-safe, ordered record of named events: written on the loop thread, read by the test.
class event_log {
public:
    void add(std::string e) {
        {
            std::lock_guard lock{mu_};
            events_.push_back(std::move(e));
        }
        cv_.notify_all();
    }
    /// Waits until an event equal to `e` has been recorded.
    bool wait_for(std::string_view e, std::chrono::milliseconds timeout = 5s) {
        std::unique_lock lock{mu_};
        return cv_.wait_for(lock, timeout, [&] { return std::find(events_.begin(), events_.end(), e) != events_.end(); });
    }
    /// Waits until at least `n` events equal to `e` have been recorded.
    bool wait_count(std::string_view e, std::size_t n, std::chrono::milliseconds timeout = 5s) {
        std::unique_lock lock{mu_};
        return cv_.wait_for(lock, timeout, [&] { return count_locked(e) >= n; });
    }
    std::size_t count(std::string_view e) const {
        std::lock_guard lock{mu_};
        return count_locked(e);
    }
    bool contains(std::string_view e) const { return count(e) > 0; }
    /// Events that start with `prefix`, in order.
    std::vector<std::string> with_prefix(std::string_view prefix) const {
        std::lock_guard lock{mu_};
        std::vector<std::string> out;
        for (auto const& e : events_)
            if (e.starts_with(prefix)) out.push_back(e);
        return out;
    }
    std::vector<std::string> all() const {
        std::lock_guard lock{mu_};
        return events_;
    }

private:
    std::size_t count_locked(std::string_view e) const {
        return static_cast<std::size_t>(std::count(events_.begin(), events_.end(), e));
    }
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::string> events_;
};

class server_fixture : public ::testing::Test {
protected:
    /// Starts the server with `h`; `configure` may adjust the options first. Use as
    /// ASSERT_TRUE(start(...)).
    ::testing::AssertionResult start(server::handler h, std::function<void(server::options&)> configure = {}) {
        server::options o;
        o.listen = net::endpoint{"127.0.0.1", 0};
        o.shutdown_grace = 1s;  // TearDown must not wait long for a test's unfinished exchange
        if (configure) configure(o);
        server_ = std::make_unique<server::server>(std::move(o), std::move(h));
        if (auto ec = server_->listen()) return ::testing::AssertionFailure() << "listen: " << ec.message();
        if (server_->port() == 0) return ::testing::AssertionFailure() << "listen gave port 0";
        thread_ = std::thread([this] {
            server_->run();
            run_returned_ = true;
            events.add("run returned");
        });
        return ::testing::AssertionSuccess();
    }

    std::uint16_t port() const { return server_->port(); }
    server::server& srv() { return *server_; }
    bool run_returned() const { return run_returned_.load(); }

    /// Stops the server (idempotent) and waits for run() to return.
    void stop_and_join() {
        if (!thread_.joinable()) return;
        server_->stop();
        thread_.join();
    }

    void TearDown() override {
        stop_and_join();
        // Loop-thread objects go before the server (and its loops); the loop no longer runs.
        timers_.clear();
        parked_ = nullptr;
        server_.reset();
    }

    // --- loop-thread helpers ---------------------------------------------------------------

    /// Loop thread only: remembers `ex` for with_parked() and records "abort" if it is aborted.
    void park(exchange& ex) {
        std::lock_guard lock{park_mu_};
        parked_ = &ex;
        parked_loop_ = &ex.loop();
        ex.on_abort([this] {
            {
                std::lock_guard lock2{park_mu_};
                parked_ = nullptr;
            }
            events.add("abort");
        });
    }

    /// Runs fn(parked exchange) on its loop thread and waits (bounded) for it. False if nothing is
    /// parked (e.g. it was aborted) or the loop did not run it in time.
    bool with_parked(std::function<void(exchange&)> fn, std::chrono::milliseconds timeout = 5s) {
        net::loop* l = nullptr;
        {
            std::lock_guard lock{park_mu_};
            l = parked_loop_;
        }
        if (l == nullptr) return false;
        auto done = std::make_shared<std::promise<bool>>();
        auto fut = done->get_future();
        l->post([this, done, f = std::move(fn)]() mutable {
            exchange* ex = nullptr;
            {
                std::lock_guard lock{park_mu_};
                ex = parked_;
            }
            if (ex != nullptr) f(*ex);
            done->set_value(ex != nullptr);
        });
        if (fut.wait_for(timeout) != std::future_status::ready) return false;
        return fut.get();
    }

    /// Loop thread only: a timer that lives until TearDown (after the loop stopped).
    net::timer& make_timer(net::loop& l) {
        timers_.push_back(std::make_unique<net::timer>(l));
        return *timers_.back();
    }

    raw_client connect(std::chrono::milliseconds timeout = 5s) { return raw_client{port(), timeout}; }

    event_log events;

private:
    std::unique_ptr<server::server> server_;
    std::thread thread_;
    std::atomic<bool> run_returned_{false};
    std::mutex park_mu_;
    exchange* parked_ = nullptr;
    net::loop* parked_loop_ = nullptr;
    std::vector<std::unique_ptr<net::timer>> timers_;
};

/// Loop thread: streams `total` bytes through a response_writer, respecting write()'s backpressure
/// signal (stop on false, continue in on_drain). Records "blocked", "drain", "finished" and
/// "inconsistent ..." (write()'s result disagreeing with buffered_amount()) in `log`.
struct pump : std::enable_shared_from_this<pump> {
    static constexpr std::size_t chunk_size = 64 * 1024;
    response_writer* w = nullptr;
    event_log* log = nullptr;
    std::size_t high_water = 0;
    std::size_t total = 0;
    std::size_t sent = 0;

    static char fill_for(std::size_t offset) { return static_cast<char>('a' + (offset / chunk_size) % 26); }

    void run() {
        while (sent < total) {
            std::string chunk(std::min(chunk_size, total - sent), fill_for(sent));
            bool const ok = w->write(chunk);
            sent += chunk.size();
            std::size_t const buffered = w->buffered_amount();
            // write() returns false exactly when more than send_high_water bytes are queued.
            if (ok != (buffered < high_water))
                log->add("inconsistent ok=" + std::to_string(ok) + " buffered=" + std::to_string(buffered));
            if (!ok) {
                log->add("blocked");
                w->on_drain([self = shared_from_this()] {
                    self->log->add("drain");
                    self->run();
                });
                return;
            }
        }
        w->finish();
        log->add("finished");
    }
};

// --- request builders and small helpers ----------------------------------------------------------

/// "METHOD target VERSION\r\nHost: test\r\n<headers>" + Content-Length for a non-empty body unless
/// `headers` already frames it + "\r\n" + body. `headers` is zero or more "Name: value\r\n" lines.
inline std::string request(std::string_view method, std::string_view target, std::string_view headers = {},
                           std::string_view body = {}, std::string_view version = "HTTP/1.1") {
    std::string s;
    s.append(method).append(" ").append(target).append(" ").append(version).append("\r\n");
    s.append("Host: test\r\n");
    s.append(headers);
    std::string const lower = ascii::lowered(headers);
    bool const framed = lower.find("content-length:") != std::string::npos ||
                        lower.find("transfer-encoding:") != std::string::npos;
    if (!body.empty() && !framed) s.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    s.append("\r\n");
    s.append(body);
    return s;
}

inline std::string get(std::string_view target, std::string_view headers = {}) {
    return request("GET", target, headers);
}

/// Parses a response head (bytes up to and including the blank line) with the independent parser.
inline std::optional<http_response> parse_head(std::string_view head) {
    auto o = parse_response(head, /*head_request=*/true);
    if (o.what != parse_outcome::kind::complete) return std::nullopt;
    return std::move(o.response);
}

/// Makes the client's close() send RST instead of FIN (SO_LINGER with a zero timeout).
inline void set_abortive_close(raw_client& c) {
    linger l{};
    l.l_onoff = 1;
    l.l_linger = 0;
    ::setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

/// Shrinks the client's receive buffer so server-side backpressure shows up quickly.
inline void set_small_rcvbuf(raw_client& c, int bytes = 16 * 1024) {
    ::setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

} // namespace upshift::test
