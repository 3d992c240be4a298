#pragma once
// The WebSocket server (RFC 6455): a protocol for the upgrade registry that
// answers the opening handshake (§4.2) and a session that speaks the framing
// (§5) and the closing handshake (§7) on the connection's loop.
//
//   ws::behaviour b;
//   b.on_message = [](ws::session& s, std::string_view m, ws::message_kind k) { s.send(m, k); };
//   upgrade::registry r;
//   r.add(ws::make_protocol({}, std::move(b)));
//   ... in a handler: if (!server::accept_upgrade(ex, r)) -> answer 426 with Upgrade: websocket
//
// Handshake (make_protocol's negotiate): ws::check_request() decides; a version
// other than 13 gets 426 with Sec-WebSocket-Version: 13 (§4.2.2 item 4), a bad
// key or method 400 (§4.2.1), an Origin not in options::allowed_origins 403
// (§4.2.2 item 4, §10.2). An offer with a version ("websocket/2") is declined.
//
// Session policies (documented choices where RFC 6455 leaves room):
// - Messages are delivered whole; fragments are reassembled up to
//   options::max_message_size, beyond which the session fails with 1009.
//   Text is validated as UTF-8 as it arrives (1007, §8.1).
// - Protocol errors fail the connection (§7.1.7): a Close with the codec's
//   code (1002, 1007, 1009), then the server half-closes TCP once it is out
//   and closes when the peer does (or after close_timeout).
// - Backpressure: send() queues and returns false at or above
//   send_high_water; on_drain follows when the queue falls below half of it.
//   While at or above send_high_water the session also stops reading, so a
//   peer that sends faster than it reads is slowed through TCP. A send() made
//   while more than max_buffered bytes are already queued fails the
//   connection with 1008 (policy violation): unsent frames are dropped and
//   the Close goes out next.
// - Idle timeout: no byte in either direction for idle_timeout closes with
//   1001 (going away) and reason "idle timeout".
// - Server stop: Close 1001 "server shutting down", then the peer has
//   close_timeout (and the server its shutdown grace) to answer.
// - on_close(code, reason) is called exactly once: the code and reason of
//   the peer's Close when one was received (§7.1.5/§7.1.6; 1005 for a Close
//   without a code); otherwise the code the server sent (a failure, or a
//   close the peer never answered); otherwise 1006 (the TCP connection was
//   lost without any Close, §7.1.5).
// - permessage-deflate (RFC 7692, options::permessage_deflate): the first
//   acceptable offer is taken (deflate_params.hpp). Incoming compressed
//   messages (RSV1 on the first frame, §6.1) are inflated as their frames
//   arrive, bounded by max_inflated_message_size (1009), and text is UTF-8
//   checked after inflating (1007); corrupt data fails with 1007. RSV1 without
//   the extension, or on a control or continuation frame, is 1002. Outgoing
//   messages of compress_threshold bytes or more are compressed (RSV1 set).
#include <any>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "upshift/net/loop.hpp"
#include "upshift/upgrade/protocol.hpp"
#include "upshift/upgrade/upgraded.hpp"
#include "upshift/ws/close_code.hpp"
#include "upshift/ws/deflate_params.hpp"
#include "upshift/ws/frame_parser.hpp"

namespace upshift::ws {

class deflater;
class inflater;

struct options {
    /// Largest message (sum of its fragments); above it the session fails with 1009.
    std::size_t max_message_size = std::size_t{16} << 20;
    /// send() returns false at or above this many queued bytes (and reading pauses).
    std::size_t send_high_water = std::size_t{1} << 20;
    /// A send() while more than this is queued fails the connection with 1008 (slow reader).
    std::size_t max_buffered = std::size_t{64} << 20;
    /// No byte in either direction for this long: close 1001 "idle timeout".
    std::chrono::milliseconds idle_timeout{120'000};
    /// After sending a Close, how long the peer has to answer (and the queue to drain).
    std::chrono::milliseconds close_timeout{5'000};
    /// Subprotocols in the server's order of preference: the first one the
    /// client offered in Sec-WebSocket-Protocol is chosen (§4.2.2 item 5.5).
    /// None offered or none matching: no Sec-WebSocket-Protocol in the 101.
    std::vector<std::string> subprotocols;
    /// Empty: any Origin (or none). Otherwise Origin must equal one of these
    /// exactly, else 403 (§4.2.2 item 4, §10.2); a request without Origin is refused too.
    std::vector<std::string> allowed_origins;
    /// Negotiate permessage-deflate (RFC 7692) when the client offers it.
    bool permessage_deflate = false;
    /// Our LZ77 window (8..15; zlib uses 9 for 8); announced in the 101 when below 15.
    int server_max_window_bits = 15;
    /// Reset our compressor after every message (less memory kept per message, worse ratio).
    bool server_no_context_takeover = false;
    /// Outgoing messages smaller than this many bytes are sent uncompressed.
    std::size_t compress_threshold = 128;
    /// A compressed message inflating beyond this fails the connection with 1009.
    std::size_t max_inflated_message_size = std::size_t{16} << 20;
};

enum class message_kind { text, binary };

class session;

/// The application's side. Every callback runs on the session's loop thread.
struct behaviour {
    /// After the 101 is out, before any message.
    std::function<void(session&)> on_open;
    /// A whole message; the view is valid during the call only.
    std::function<void(session&, std::string_view, message_kind)> on_message;
    /// The send queue fell below half of send_high_water after send() returned false.
    std::function<void(session&)> on_drain;
    /// Once, when the TCP connection is closed (see the policy above for `code`).
    /// The session is freed after this returns; do not keep the reference.
    std::function<void(session&, std::uint16_t code, std::string_view reason)> on_close;
};

/// What make_protocol's sessions share (immutable).
struct session_config {
    options opt;
    behaviour cb;
};

/// One WebSocket connection. Owned by its loop: it frees itself after
/// on_close (like upgrade::raw_channel). Loop thread only.
class session final : public net::io_handler, public net::shutdown_listener {
public:
    /// Takes over an upgraded connection; `subprotocol` is the one announced in the 101.
    /// Calls on_open, then handles upgraded.leftover (frames sent with the request) before
    /// reading the socket.
    /// `pmd`: the permessage-deflate parameters announced in the 101, if any.
    static session* open(upgrade::upgraded u, std::shared_ptr<session_config const> config, std::string subprotocol,
                         std::optional<deflate_params> pmd = std::nullopt);

    /// Queues one unfragmented message. False when the session is closing or
    /// closed (nothing queued), or when the queue is now at or above
    /// send_high_water (queued: wait for on_drain before sending more). Never blocks.
    bool send(std::string_view data, message_kind k = message_kind::text);
    /// Queues a Ping (§5.5.2); the payload is cut to 125 bytes. Ignored once closing.
    void ping(std::string_view payload = {});
    /// Starts the closing handshake (§7.1.2): queues a Close with `code` and
    /// `reason` (cut to fit, §5.5), stops sending; the TCP connection closes when
    /// the peer answers or after close_timeout. A code not allowed on the wire
    /// (e.g. 1005) sends a Close without a status. Idempotent.
    void close(std::uint16_t code = static_cast<std::uint16_t>(close_code::normal), std::string_view reason = {});
    void close(close_code code, std::string_view reason = {}) { close(static_cast<std::uint16_t>(code), reason); }

    /// Bytes queued and not yet written to the socket.
    std::size_t buffered_amount() const noexcept { return buffered_; }
    std::string const& subprotocol() const noexcept { return subprotocol_; }
    /// The permessage-deflate parameters in use, if negotiated.
    std::optional<deflate_params> const& deflate() const noexcept { return deflate_; }
    upgrade::request_info const& request() const noexcept { return request_; }
    net::loop& loop() noexcept { return *loop_; }
    std::string const& remote() const noexcept { return remote_; }
    /// True once a Close has been sent (no more send()).
    bool closing() const noexcept { return close_sent_ || closed_; }

    /// The application's per-session state.
    std::any user_data;

    void on_io(std::uint32_t events) override;
    void on_shutdown(bool force) noexcept override;

private:
    session(upgrade::upgraded u, std::shared_ptr<session_config const> config, std::string subprotocol,
            std::optional<deflate_params> pmd);
    ~session() override;
    void start(std::string leftover);
    void on_readable();
    void process();
    void on_control(opcode op, std::string_view payload);
    void deliver(std::string_view data, message_kind k);
    bool on_compressed(std::string_view piece, bool message_done, message_kind k);
    void fail(close_code code, std::string_view reason = {});
    void send_close(std::uint16_t code, std::string_view reason);
    void queue_frame(opcode op, std::string_view payload);
    void flush();
    void update_interest();
    void on_eof();
    void finish(std::uint16_t code, std::string_view reason);
    void touch();
    bool reading_wanted() const noexcept;

    std::shared_ptr<session_config const> config_;
    options const& opt_;
    behaviour const& cb_;
    std::unique_ptr<net::stream> stream_;
    net::loop* loop_;
    upgrade::request_info request_;
    std::string subprotocol_;
    std::string remote_;

    frame_parser parser_;
    std::vector<char> in_;       // read buffer: [in_begin_, in_end_) not parsed yet
    std::size_t in_begin_ = 0;
    std::size_t in_end_ = 0;
    std::string message_;        // a fragmented message being reassembled
    std::optional<deflate_params> deflate_;
    std::unique_ptr<deflater> deflater_;  // negotiated permessage-deflate only
    std::unique_ptr<inflater> inflater_;

    std::deque<std::string> out_;  // whole frames, the front one possibly partly written
    std::size_t out_offset_ = 0;   // bytes of out_.front() already written
    std::size_t buffered_ = 0;

    net::timer idle_;
    net::timer close_timer_;
    std::uint32_t interest_ = 0;

    std::uint16_t sent_code_ = 0;          // the code of the Close we sent (0: none sent)
    std::string sent_reason_;
    std::uint16_t received_code_ = 0;      // the peer's Close (0: none received)
    std::string received_reason_;
    bool close_sent_ = false;
    bool close_received_ = false;
    bool failed_ = false;       // failed the connection: discard input, half-close after the Close
    bool write_shut_ = false;
    bool closed_ = false;
    bool drain_owed_ = false;
};

/// The "websocket" protocol for an upgrade::registry (see the top of this file).
std::shared_ptr<upgrade::protocol const> make_protocol(options opt, behaviour cb);

/// The subprotocol the server picks: the first of `server_preference` that
/// appears in `client_offers` (the Sec-WebSocket-Protocol values, comma lists,
/// compared exactly as §4.2.2 item 5.5 tokens); "" when none.
std::string select_subprotocol(std::vector<std::string> const& server_preference,
                               std::vector<std::string_view> const& client_offers);

} // namespace upshift::ws
