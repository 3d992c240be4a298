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
// - Keep-alive (options::ping_interval, off by default): a Ping when the peer has been
//   silent that long; then idle_timeout counts only bytes from the peer.
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
//   messages of compress_threshold bytes or more are compressed (RSV1 set);
//   with server_no_context_takeover, one that does not shrink goes out as is
//   (RSV1 is per message, §6.1). With context takeover it stays compressed: our
//   LZ77 window already holds it, the peer's would not, and a later message
//   referring back to it would not inflate (§7.2.3.2's shared window).
// - Fragmented sending (send_fragment, RFC 6455 §5.4): one message at a time;
//   a send() while one is open is held and sent right after it (no
//   interleaving, nothing lost); control frames go out between fragments.
// - Other threads: session::handle() gives a copyable, thread-safe
//   session_handle whose calls are posted to the session's loop (and do nothing
//   once it has finished); ws::hub (hub.hpp) publishes to the subscribers of a
//   topic on every loop. See docs/decisions/0006-pubsub-and-cross-thread-send.md.
#include <any>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <span>
#include <string_view>
#include <vector>

#include "upshift/base/byte_buffer.hpp"
#include "upshift/net/loop.hpp"
#include "upshift/net/send_queue.hpp"
#include "upshift/upgrade/protocol.hpp"
#include "upshift/upgrade/upgraded.hpp"
#include "upshift/ws/close_code.hpp"
#include "upshift/ws/deflate_params.hpp"
#include "upshift/ws/frame_parser.hpp"
#include "upshift/ws/frame_writer.hpp"

namespace upshift::ws {

class deflater;
class inflater;
class hub;
class session_handle;
namespace detail {
struct session_extras;
}

struct options {
    /// Largest message (sum of its fragments); above it the session fails with 1009.
    std::size_t max_message_size = std::size_t{16} << 20;
    /// send() returns false at or above this many queued bytes (and reading pauses).
    std::size_t send_high_water = std::size_t{1} << 20;
    /// A send() while more than this is queued fails the connection with 1008 (slow reader).
    std::size_t max_buffered = std::size_t{64} << 20;
    /// No byte in either direction for this long: close 1001 "idle timeout". Idle times are
    /// kept in 32-bit milliseconds: this and ping_interval count as at most 24 days.
    std::chrono::milliseconds idle_timeout{120'000};
    /// Keep-alive: a Ping after this long without a byte from the peer (0: never). With
    /// pings on, idle_timeout counts only what the peer sends (its Pongs keep it open), so a
    /// dead peer is closed even while our writes still fit in the socket buffer.
    std::chrono::milliseconds ping_interval{0};
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
    /// Keep the upgrade request (session::request()) for the session's life. Off: it is
    /// there during on_open only (copy what you need into user_data), which keeps an idle
    /// session small.
    bool keep_request = false;
    /// Return freed heap pages to the system (glibc malloc_trim) a second after a burst of
    /// upgrades on a loop ends: the handshakes' memory is freed then, but glibc keeps it
    /// resident behind blocks still in use (src/ws/heap_trim.hpp). Costs one trim per burst;
    /// turn it off when the process uses another allocator or manages its heap itself.
    bool trim_heap_after_bursts = true;
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

namespace detail {
/// Keeps a session_config alive while sessions use it, so that a session holds a plain pointer
/// (8 bytes) instead of a shared_ptr (16): the first session pins the config's own shared_ptr,
/// the last one lets it go. A copied config starts unpinned.
class config_pin {
public:
    config_pin() = default;
    config_pin(config_pin const&) noexcept {}
    config_pin& operator=(config_pin const&) noexcept { return *this; }

private:
    friend class ws::session;
    std::mutex mu_;
    std::size_t sessions_ = 0;
    std::shared_ptr<void const> self_;
};
} // namespace detail

/// What make_protocol's sessions share (immutable, apart from the pin).
struct session_config {
    options opt;
    behaviour cb;
    mutable detail::config_pin pin{};
};

/// One WebSocket connection. Owned by its loop: it frees itself after
/// on_close (like upgrade::raw_channel). Loop thread only.
class session final : public net::io_handler, private net::timer_hook, public net::shutdown_listener {
public:
    /// Takes over an upgraded connection; `subprotocol` is the one announced in the 101.
    /// Calls on_open, then handles upgraded.leftover (frames sent with the request) before
    /// reading the socket.
    /// `pmd`: the permessage-deflate parameters announced in the 101, if any.
    static session* open(upgrade::upgraded u, std::shared_ptr<session_config const> config, std::string subprotocol,
                         std::optional<deflate_params> pmd = std::nullopt);

    /// Queues one unfragmented message (held until the end of an open
    /// send_fragment() message). False when the session is closing or
    /// closed (nothing queued), or when the queue is now at or above
    /// send_high_water (queued: wait for on_drain before sending more). Never blocks.
    bool send(std::string_view data, message_kind k = message_kind::text);
    /// Sends one message in pieces (RFC 6455 §5.4), e.g. a large or generated payload, without
    /// building it whole: the first call opens a message of kind `k` (later calls' `k` is
    /// ignored), every call queues one frame at once, and the call with `fin` ends the message.
    /// Result and backpressure as send(): false with nothing queued once closing; false but
    /// queued at or above send_high_water (wait for on_drain); 1008 above max_buffered.
    /// - No interleaving (§5.4: fragments of different messages MUST NOT interleave): a send()
    ///   made while a message is open is held, in order, and queued right after its last
    ///   fragment. Held messages count in buffered_amount() and toward max_buffered, not
    ///   toward send_high_water (they cannot drain before the open message ends).
    /// - ping() and the Pongs the session owes go out between fragments (§5.4 allows control
    ///   frames in the middle of a fragmented message).
    /// - close() while a message is open: the Close follows the fragments sent so far (a Close
    ///   may come mid-message, §5.4), the message stays unfinished, held send()s are dropped
    ///   (nothing may follow a Close, §5.5.1).
    /// - permessage-deflate: the message is compressed when its first piece has at least
    ///   compress_threshold bytes (decided there: RSV1 is on the first frame only, RFC 7692
    ///   §6.1). Each piece is flushed (Z_SYNC_FLUSH) so it leaves at once; only the message's
    ///   final 00 00 ff ff is removed (§7.2.1). Otherwise the message is sent as is.
    /// Text is not checked for UTF-8 (as with send()); a piece may end mid-character.
    bool send_fragment(std::string_view piece, message_kind k, bool fin);
    /// True while a send_fragment() message is open (between its first piece and its `fin`).
    bool fragmenting() const noexcept { return fragmenting_; }
    /// Queues a Ping (§5.5.2); the payload is cut to 125 bytes. Ignored once closing.
    void ping(std::string_view payload = {});
    /// Starts the closing handshake (§7.1.2): queues a Close with `code` and
    /// `reason` (cut to fit, §5.5), stops sending; the TCP connection closes when
    /// the peer answers or after close_timeout. A code not allowed on the wire
    /// (e.g. 1005) sends a Close without a status. Idempotent.
    void close(std::uint16_t code = static_cast<std::uint16_t>(close_code::normal), std::string_view reason = {});
    void close(close_code code, std::string_view reason = {}) { close(static_cast<std::uint16_t>(code), reason); }

    /// Bytes queued and not yet written to the socket (held send()s included, see send_fragment).
    std::size_t buffered_amount() const noexcept;
    std::string const& subprotocol() const noexcept;
    /// The permessage-deflate parameters in use, if negotiated.
    std::optional<deflate_params> const& deflate() const noexcept;
    /// The request that asked to switch: during on_open, and afterwards only with
    /// options::keep_request (otherwise an empty request_info).
    upgrade::request_info const& request() const noexcept;
    net::loop& loop() noexcept { return *loop_; }
    /// The peer's address as the server gave it ("ip:port").
    std::string remote() const;
    /// True once a Close has been sent (no more send()).
    bool closing() const noexcept { return close_sent_ || closed_; }

    /// A copyable handle for sending to this session from other threads
    /// (session_handle.hpp). The first call allocates the state its handles share:
    /// a session that never hands one out pays one pointer (extras_). Empty once
    /// the session has finished (in on_close).
    session_handle handle();

    /// The application's per-session state.
    std::any user_data;

    void on_io(std::uint32_t events) override;
    void on_shutdown(bool force) noexcept override;

private:
    session(upgrade::upgraded u, std::shared_ptr<session_config const> const& config, std::string subprotocol,
            std::optional<deflate_params> pmd);
    ~session() override;
    // Sessions live in a pool of their own, outside malloc's heap (src/ws/session_memory.hpp).
    static void* operator new(std::size_t size);
    static void operator delete(void* p) noexcept;
    /// `registered`: upgrade::upgraded::registered, the fd is still in the loop's set.
    void start(std::string leftover, upgrade::request_info& request, bool registered);
    void on_readable();
    /// Parses `input` (mutable: unmasked in place), acts on it; returns the bytes used.
    std::size_t process(std::span<char> input);
    /// Keeps the bytes process() could not use yet (an incomplete frame header or control frame).
    void keep_unparsed(std::span<char const> rest);
    void on_control(opcode op, std::string_view payload);
    void deliver(std::string_view data, message_kind k);
    void deliver_reassembled(message_kind k);
    bool direct_read_possible() const noexcept;
    /// Reads (part of) the rest of a large data frame into the message buffer; `asked` is
    /// how much was asked for.
    net::io_result read_payload_directly(std::size_t& asked);
    bool on_compressed(std::string_view piece, bool message_done, message_kind k);
    void fail(close_code code, std::string_view reason = {});
    void send_close(std::uint16_t code, std::string_view reason);
    void queue_frame(opcode op, std::string_view payload, frame_flags flags = {});
    void put(std::string_view head, std::string_view body);
    void write_now(std::string_view a, std::string_view b, std::string_view c);
    void uncork();
    std::size_t queued() const noexcept;
    void queue_message(std::string_view data, message_kind k);
    void release_held();
    bool send_result();
    void flush();
    static void on_timer(net::timer_hook& t);
    void on_idle_timer();
    void on_write_error();
    void update_interest();
    void on_eof();
    void finish(std::uint16_t code, std::string_view reason);
    void touch();
    void touch_received();
    bool reading_wanted() const noexcept;
    bool pinging() const noexcept { return opt().ping_interval > std::chrono::milliseconds::zero(); }
    void keep_remote(std::string remote);
    // The transport: the socket itself for plain TCP (no stream object), cold_state::stream
    // otherwise (TLS).
    int native_handle() const noexcept;
    /// Bytes the stream holds that no readiness announces (net::stream::pending(); TLS).
    std::size_t stream_pending() const noexcept;
    void read_held_soon();
    net::io_result read(std::span<char> buf);
    net::io_result writev(std::span<iovec const> bufs);
    void shutdown_write() noexcept;
    void close_transport() noexcept;
    net::send_queue* out() const noexcept { return cold_ ? cold_->out.get() : nullptr; }
    bool out_pending() const noexcept;

    options const& opt() const noexcept { return config_->opt; }
    behaviour const& cb() const noexcept { return config_->cb; }

    // Laid out for size (bench/README.md, memory per idle connection: 160 bytes on x86-64, in a
    // pool of their own, session_memory.hpp), with the io_handler's vtable pointer, the timer
    // hook (24) and the shutdown listener (24) in front. The small fields share two words.
    // The last byte read or written (without keep-alive pings) or read (with them), in
    // milliseconds of the loop's clock modulo 2^32 (see options::idle_timeout's cap).
    std::uint32_t last_active_ms_ = 0;
    int fd_ = -1;                    // plain TCP: the socket; -1 with a stream (cold_state::stream)
    std::uint32_t remote_ipv4_ = 0;  // remote() "a.b.c.d:port" packed (network order); else in cold_state
    std::uint16_t remote_port_ = 0;
    bool reading_ : 1 = false;  // registered for readable
    bool writing_ : 1 = false;  // registered for writable
    bool close_sent_ : 1 = false;
    bool close_received_ : 1 = false;
    bool failed_ : 1 = false;       // failed the connection: discard input, half-close after the Close
    bool write_shut_ : 1 = false;
    bool closed_ : 1 = false;
    bool drain_owed_ : 1 = false;
    bool corked_ : 1 = false;         // on_readable(): frames go to the thread's cork buffer
    bool write_blocked_ : 1 = false;  // the socket said EAGAIN: wait for writable
    // send_fragment(): the open message (the send()s held until it ends are in cold_state).
    bool fragmenting_ : 1 = false;
    bool fragment_compressed_ : 1 = false;
    bool timer_closes_ : 1 = false;   // the timer is the close timeout (a Close was sent)
    bool read_queued_ : 1 = false;    // read_held_soon() deferred a read

    net::loop* loop_;
    session_config const* config_;  // pinned (detail::config_pin)

    frame_parser parser_;

    // Handles and hub subscriptions (session_extras.hpp), allocated on first use.
    friend class hub;
    detail::session_extras& extras();
    std::unique_ptr<detail::session_extras> extras_;

    // What many sessions never need, allocated on first use, so that an idle connection
    // stays small (bench/README.md, memory per idle connection).
    struct held_message {
        std::string data;
        message_kind kind;
    };
    struct cold_state {
        std::string subprotocol;
        std::string pending;          // input not parsed yet; reads go to a per-thread buffer
        byte_buffer message;          // a message being reassembled (fragments, or a frame across reads)
        // Output: frames are written at once, or (while reading, see uncork()) gathered in a
        // per-thread cork buffer and written together; only what the socket does not take is
        // queued here, and the queue is freed once it drains.
        std::unique_ptr<net::send_queue> out;
        std::unique_ptr<net::stream> stream;  // a transport other than plain TCP (TLS)
        std::unique_ptr<upgrade::request_info> request;  // options::keep_request
        std::string remote;                   // a remote() that is not "a.b.c.d:port"
        std::optional<deflate_params> deflate;
        std::unique_ptr<ws::deflater> compressor;  // negotiated permessage-deflate only
        std::unique_ptr<ws::inflater> decompressor;
        std::string sent_reason;
        std::string received_reason;
        std::vector<held_message> held;
        std::size_t held_bytes = 0;
        std::uint16_t sent_code = 0;      // the code of the Close we sent (0: none sent)
        std::uint16_t received_code = 0;  // the peer's Close (0: none received)
        ~cold_state();
    };
    cold_state& cold();
    std::uint16_t sent_code() const noexcept { return cold_ ? cold_->sent_code : 0; }
    std::uint16_t received_code() const noexcept { return cold_ ? cold_->received_code : 0; }
    std::size_t held_bytes() const noexcept;
    std::string_view sent_reason() const noexcept;
    std::string_view received_reason() const noexcept;
    std::unique_ptr<cold_state> cold_;
};

/// The "websocket" protocol for an upgrade::registry (see the top of this file).
std::shared_ptr<upgrade::protocol const> make_protocol(options opt, behaviour cb);

/// The subprotocol the server picks: the first of `server_preference` that
/// appears in `client_offers` (the Sec-WebSocket-Protocol values, comma lists,
/// compared exactly as §4.2.2 item 5.5 tokens); "" when none.
std::string select_subprotocol(std::vector<std::string> const& server_preference,
                               std::vector<std::string_view> const& client_offers);

} // namespace upshift::ws

// session::handle() returns it; it needs message_kind and close_code from above.
#include "upshift/ws/session_handle.hpp"  // IWYU pragma: export
