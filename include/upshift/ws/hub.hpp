#pragma once
// In-process publish/subscribe for WebSocket sessions: sessions subscribe to
// named topics, and a publish reaches every subscriber of the topic, whatever
// worker loop (thread) it lives on.
//
//   ws::hub rooms;                                       // shared by every loop
//   b.on_open    = [rooms](ws::session& s) { rooms.subscribe(s, "chat/lobby"); };
//   b.on_message = [rooms](ws::session&, std::string_view m, ws::message_kind k) {
//       rooms.publish("chat/lobby", m, k);               // to everyone, the sender included
//   };
//
// Threading: subscribe/unsubscribe run on the session's loop thread (like every
// session call); publish, subscribers and topics run on any thread. A hub is a
// handle (hence the const members): copies share the same subscriptions, and
// the shared state lives as long as any copy, any subscribed session, or any
// delivery in flight.
//
// Delivery (docs/decisions/0006-pubsub-and-cross-thread-send.md):
// - On each loop with subscribers, the message goes out with session::send to
//   the topic's subscribers on that loop at delivery time: on the publishing
//   loop's own thread directly, inside publish(); to every other loop with one
//   net::loop::post per loop per publish (not one per subscriber).
// - Order: messages published from one thread reach each subscriber in the
//   order they were published. Publishes from different threads are not ordered
//   with each other.
// - Slow subscribers get the session's backpressure policy, unchanged: send()
//   queues past send_high_water (the subscriber stops being read), and a
//   publish reaching a subscriber with more than max_buffered bytes queued fails
//   that connection with 1008. A publisher is never blocked or slowed by them.
// - A session leaves all its topics when it finishes, before its on_close runs
//   (so a "left" notice published from on_close does not go to the leaver).
// - Cost: the payload is copied once per publish for the other loops, then once
//   more into each subscriber's send queue as a frame (compressed per subscriber
//   when permessage-deflate applies, since each has its own compression context).
#include <cstddef>
#include <memory>
#include <string_view>

#include "upshift/ws/server.hpp"

namespace upshift::ws {

class hub {
public:
    hub();

    /// Loop thread of `s`. True if `s` was not yet subscribed to `topic`. False (and
    /// nothing done) once `s` has finished, e.g. when called from on_close.
    bool subscribe(session& s, std::string_view topic) const;
    /// Loop thread of `s`. True if `s` was subscribed to `topic`.
    bool unsubscribe(session& s, std::string_view topic) const;
    /// Loop thread of `s`. Leaves every topic of this hub (also done when `s` finishes).
    void unsubscribe_all(session& s) const;

    /// Any thread, including from a session callback. Sends `data` as one message to every
    /// subscriber of `topic` (see "Delivery" above). Returns the number of subscribers when
    /// it was called; 0 if none (nothing is posted).
    std::size_t publish(std::string_view topic, std::string_view data, message_kind k = message_kind::text) const;

    /// Any thread: current subscribers of `topic` (for metrics, tests, "3 in the room").
    std::size_t subscribers(std::string_view topic) const;
    /// Any thread: topics with at least one subscriber.
    std::size_t topics() const;

private:
    struct state;
    std::shared_ptr<state> state_;
};

} // namespace upshift::ws
