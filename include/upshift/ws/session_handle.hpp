#pragma once
// Sending to a WebSocket session from any thread. A ws::session belongs to its
// loop's thread; a session_handle (from session::handle()) is a copyable,
// thread-safe reference to it that posts every call to that loop
// (net::loop::post), where it runs as the same session call would.
//
//   auto h = s.handle();                          // on the session's loop (on_open, say)
//   std::thread{[h] { h.send("tick"); }}.detach(); // any thread, any time later
//
// Once the session has finished (after on_close) every call is a no-op that
// returns false; a handle never keeps the session, or its loop, alive.
// Guarantees: calls made through handles of one session from one thread reach
// it in the order they were made (the loop runs posted work in order). A call
// made on the session directly from its loop thread is not ordered with posted
// ones: on the loop thread, use the session itself.
#include <cstdint>
#include <memory>
#include <string>

#include "upshift/base/unique_function.hpp"
#include "upshift/ws/server.hpp"

namespace upshift::ws {

namespace detail {
struct session_link;
}

class session_handle {
public:
    /// An empty handle: every call returns false.
    session_handle() noexcept = default;

    /// Any thread. Queues session::send(data, k) on the session's loop (same backpressure
    /// policy: above max_buffered the connection fails with 1008). True if it was posted (the
    /// session was open then); false for a finished session or an empty handle. It may still
    /// be dropped if the session closes before the loop runs it, and the result of the
    /// session's send() (false at send_high_water) is not reported: use post() to see it.
    bool send(std::string data, message_kind k = message_kind::text) const;
    /// Any thread. Queues session::ping(payload). Same result as send().
    bool ping(std::string payload = {}) const;
    /// Any thread. Queues session::close(code, reason). Same result as send().
    bool close(std::uint16_t code = static_cast<std::uint16_t>(close_code::normal), std::string reason = {}) const;
    /// Any thread. Runs fn(session) on the session's loop thread, unless the session has
    /// finished by then. True if posted (same as send()).
    bool post(unique_function<void(session&)> fn) const;

    /// Any thread. False once the session has finished (a true answer may be stale at once).
    bool alive() const;
    /// True if this handle refers to a session at all (alive or not).
    explicit operator bool() const noexcept { return link_ != nullptr; }

private:
    friend class session;
    explicit session_handle(std::shared_ptr<detail::session_link> link) noexcept : link_(std::move(link)) {}

    std::shared_ptr<detail::session_link> link_;
};

} // namespace upshift::ws
