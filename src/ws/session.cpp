// A WebSocket connection on the loop (RFC 6455 §5-§7). See server.hpp for the policies.
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <new>

#include "upshift/net/socket.hpp"
#include "upshift/ws/close_payload.hpp"
#include "upshift/ws/deflate_codec.hpp"
#include "upshift/ws/frame_writer.hpp"
#include "upshift/ws/server.hpp"
#include "ws/heap_trim.hpp"
#include "ws/session_extras.hpp"
#include "ws/session_memory.hpp"

namespace upshift::ws {
namespace {

/// The thread's read buffer: one per loop thread, not per session. Large enough that a 64 KiB
/// message with its 14-byte header, once it is in the socket, comes in one read and is delivered
/// where it was read (a 64 KiB buffer took all but its last 14 bytes, which made the session copy
/// the payload into its message buffer and read again). The kernel fills only what it has, so
/// the pages beyond the largest read stay untouched.
constexpr std::size_t read_chunk = 256 * 1024;
/// Frames with at least this much payload still to come are read into the message directly.
constexpr std::uint64_t direct_read_min = 8 * 1024;
constexpr std::uint64_t direct_read_max = 1024 * 1024;
constexpr std::size_t max_kept_message_buffer = 256 * 1024;
constexpr std::size_t max_iov = 64;
constexpr auto no_status = static_cast<std::uint16_t>(close_code::no_status);
constexpr auto abnormal = static_cast<std::uint16_t>(close_code::abnormal);

/// Frames produced while a session handles what it read (echoes, pongs, broadcasts) are
/// gathered here and written with one system call when the read is handled (uncork()); a
/// frame that would not fit is written at once, together with what is gathered.
constexpr std::size_t cork_limit = 16 * 1024;

std::string& cork_buffer() {
    thread_local std::string buffer = [] {
        std::string b;
        b.reserve(cork_limit);
        return b;
    }();
    return buffer;
}

upgrade::request_info const empty_request{};

/// Without options::keep_request the request is not kept: during on_open, session::request()
/// finds it here (it lives on open()'s stack), so a session holds no pointer for it.
struct opening_session {
    session const* s = nullptr;
    upgrade::request_info const* request = nullptr;
};
thread_local opening_session opening{};

/// Idle times are kept as milliseconds modulo 2^32 (4 bytes per session instead of 8 per
/// time point); differences are right below 49 days, and the timer checks well within that.
std::uint32_t ms_of(net::clock::time_point t) noexcept {
    return static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}
std::chrono::milliseconds capped(std::chrono::milliseconds d) noexcept {
    return std::min(d, std::chrono::milliseconds{std::int64_t{1} << 31});  // 24.8 days
}

/// remote() of a plain IPv4 peer, "a.b.c.d:port", packed into 6 bytes.
bool pack_ipv4(std::string const& text, std::uint32_t& address, std::uint16_t& port) noexcept {
    auto const colon = text.rfind(':');
    if (colon == std::string::npos || colon > INET_ADDRSTRLEN - 1) return false;
    char host[INET_ADDRSTRLEN] = {};
    std::memcpy(host, text.data(), colon);
    in_addr a{};
    if (::inet_pton(AF_INET, host, &a) != 1) return false;
    unsigned p = 0;
    auto const* end = text.data() + text.size();
    auto const r = std::from_chars(text.data() + colon + 1, end, p);
    if (r.ec != std::errc{} || r.ptr != end || p == 0 || p > 0xFFFF) return false;
    address = a.s_addr;
    port = static_cast<std::uint16_t>(p);
    return true;
}

std::string unpack_ipv4(std::uint32_t address, std::uint16_t port) {
    char text[INET_ADDRSTRLEN + 6];  // "a.b.c.d:ppppp"
    auto n = net::format_ipv4(address, text);
    text[n++] = ':';
    auto const r = std::to_chars(text + n, std::end(text), port);
    return std::string(text, r.ptr);
}

/// The read buffer every session on this thread reads into. A loop runs on one thread and
/// handles one session at a time, and process() consumes all complete frames before the
/// handler returns, so an idle connection holds no read buffer at all (only an incomplete
/// frame header or control frame is kept, in cold_state::pending).
std::span<char> thread_read_buffer() {
    thread_local std::unique_ptr<char[]> const buffer{new char[read_chunk]};
    return {buffer.get(), read_chunk};
}

} // namespace

session* session::open(upgrade::upgraded u, std::shared_ptr<session_config const> config, std::string subprotocol,
                       std::optional<deflate_params> pmd) {
    std::string leftover = std::move(u.leftover);
    upgrade::request_info request = std::move(u.request);
    bool const registered = u.registered;
    auto* s = new session(std::move(u), config, std::move(subprotocol), std::move(pmd));
    s->start(std::move(leftover), request, registered);
    return s;
}

session::session(upgrade::upgraded u, std::shared_ptr<session_config const> const& config, std::string subprotocol,
                 std::optional<deflate_params> pmd)
    : timer_hook(&session::on_timer),
      loop_(u.loop),
      config_(config.get()),
      parser_(frame_parser_options{.max_message_size = config->opt.max_message_size, .allow_rsv1 = pmd.has_value()}) {
    {
        auto& pin = config_->pin;
        std::lock_guard const lock(pin.mu_);
        if (pin.sessions_++ == 0) pin.self_ = config;
    }
    // Plain TCP (nearly every session): the socket alone, no stream object.
    if (auto* tcp = dynamic_cast<net::tcp_stream*>(u.stream.get())) fd_ = tcp->release().release();
    else cold().stream = std::move(u.stream);
    keep_remote(std::move(u.remote));
    if (!subprotocol.empty()) cold().subprotocol = std::move(subprotocol);
    if (pmd) {
        auto& c = cold();
        c.deflate = std::move(pmd);
        c.compressor = std::make_unique<deflater>(c.deflate->server_max_window_bits, c.deflate->server_no_context_takeover);
        c.decompressor = std::make_unique<inflater>(c.deflate->client_max_window_bits, c.deflate->client_no_context_takeover,
                                               opt().max_inflated_message_size);
    }
}

void* session::operator new(std::size_t size) {
    if (void* p = detail::allocate_session(size, alignof(session))) return p;
    throw std::bad_alloc();
}

void session::operator delete(void* p) noexcept { detail::free_session(p); }

session::~session() {
    // finish() has run (a session is freed only after it): the timer is off, the socket closed.
    timer_hook::cancel(*loop_);
    close_transport();
    std::shared_ptr<void const> last;  // may free the config: after the pin's lock is released
    auto& pin = config_->pin;
    std::lock_guard const lock(pin.mu_);
    if (--pin.sessions_ == 0) last = std::move(pin.self_);
}

session::cold_state::~cold_state() = default;

void session::keep_remote(std::string remote) {
    if (!pack_ipv4(remote, remote_ipv4_, remote_port_) || unpack_ipv4(remote_ipv4_, remote_port_) != remote) {
        remote_port_ = 0;  // not packed
        if (!remote.empty()) cold().remote = std::move(remote);
    }
}

std::string session::remote() const {
    if (remote_port_ != 0) return unpack_ipv4(remote_ipv4_, remote_port_);
    return cold_ ? cold_->remote : std::string{};
}

int session::native_handle() const noexcept {
    return fd_ >= 0 ? fd_ : cold_ && cold_->stream ? cold_->stream->native_handle() : -1;
}

net::io_result session::read(std::span<char> buf) {
    return fd_ >= 0 ? net::read_some(fd_, buf) : cold_->stream->read(buf);
}

net::io_result session::writev(std::span<iovec const> bufs) {
    return fd_ >= 0 ? net::writev_some(fd_, bufs) : cold_->stream->writev(bufs);
}

void session::shutdown_write() noexcept {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
    else if (cold_ && cold_->stream) cold_->stream->shutdown_write();
}

void session::close_transport() noexcept {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    } else if (cold_ && cold_->stream) {
        cold_->stream->close();
        cold_->stream.reset();  // once: a closed session keeps no transport state
    }
}

void session::start(std::string leftover, upgrade::request_info& request, bool registered) {
    reading_ = true;
    loop_->take_over(native_handle(), this, net::loop::readable, registered);
    loop_->watch_shutdown(this);
    if (opt().trim_heap_after_bursts) detail::session_opened(*loop_);
    last_active_ms_ = ms_of(loop_->now());
    auto first = capped(opt().idle_timeout);
    if (pinging()) first = std::min(first, capped(opt().ping_interval));
    timer_hook::start(*loop_, first);
    if (opt().keep_request) cold().request = std::make_unique<upgrade::request_info>(std::move(request));
    if (cb().on_open) {
        struct restore {
            opening_session outer = opening;
            ~restore() { opening = outer; }  // also if on_open throws: no stale pointer stays
        } const guard;
        if (!opt().keep_request) opening = {this, &request};
        cb().on_open(*this);
    }
    // The bytes that followed the request come first (upgrade contract §3): they
    // are parsed before anything is read from the socket.
    if (!closed_ && !leftover.empty()) {
        std::span<char> const input{leftover.data(), leftover.size()};
        keep_unparsed(input.subspan(process(input)));
    }
    if (!closed_) update_interest();
    read_held_soon();  // a stream may hold bytes from before the hand-off (TLS)
}

void session::touch() {
    // O(1) per read and write: the idle timer checks this when it fires. With keep-alive
    // pings only what the peer sends counts (a live peer always answers them).
    if (!pinging()) last_active_ms_ = ms_of(loop_->now());
}

void session::touch_received() { last_active_ms_ = ms_of(loop_->now()); }

void session::on_timer(net::timer_hook& t) {
    auto& s = static_cast<session&>(t);
    if (!s.timer_closes_) {
        s.on_idle_timer();
        return;
    }
    // The close timeout: the peer did not answer our Close (or take what was queued) in time.
    s.finish(s.close_received_ ? s.received_code() : s.sent_code(),
             s.close_received_ ? s.received_reason() : s.sent_reason());
}

void session::on_idle_timer() {
    if (closed_ || close_sent_) return;
    using std::chrono::milliseconds;
    milliseconds const idle_for{static_cast<std::uint32_t>(ms_of(loop_->now()) - last_active_ms_)};
    auto const limit = capped(opt().idle_timeout);
    if (idle_for >= limit) {
        close(close_code::going_away, "idle timeout");
        return;
    }
    auto next = limit - idle_for;
    if (pinging()) {
        // The timer fires at least ping_interval after the last Ping (it is re-armed for that
        // after each), so a peer silent for ping_interval gets one now.
        auto const every = capped(opt().ping_interval);
        if (idle_for >= every) {
            ping();  // §5.5.2: a Ping as a keep-alive; the Pong (or any data) answers it
            next = std::min(next, every);
        } else {
            next = std::min(next, every - idle_for);
        }
    }
    timer_hook::start(*loop_, next + milliseconds{1});
}

upgrade::request_info const& session::request() const noexcept {
    if (cold_ && cold_->request) return *cold_->request;
    if (opening.s == this) return *opening.request;
    return empty_request;
}

std::size_t session::queued() const noexcept {
    return (corked_ ? cork_buffer().size() : 0) + (out() ? out()->size() : 0);
}

bool session::out_pending() const noexcept { return out() && !out()->empty(); }

std::size_t session::buffered_amount() const noexcept { return queued() + held_bytes(); }

std::string_view session::sent_reason() const noexcept {
    return cold_ ? std::string_view{cold_->sent_reason} : std::string_view{};
}

std::string_view session::received_reason() const noexcept {
    return cold_ ? std::string_view{cold_->received_reason} : std::string_view{};
}

std::size_t session::held_bytes() const noexcept { return cold_ ? cold_->held_bytes : 0; }

session::cold_state& session::cold() {
    if (!cold_) cold_ = std::make_unique<cold_state>();
    return *cold_;
}

std::string const& session::subprotocol() const noexcept {
    static std::string const none;
    return cold_ ? cold_->subprotocol : none;
}

std::optional<deflate_params> const& session::deflate() const noexcept {
    static std::optional<deflate_params> const none;
    return cold_ ? cold_->deflate : none;
}

bool session::reading_wanted() const noexcept {
    if (closed_ || close_received_) return false;
    // Once closing, keep reading for the peer's Close (or EOF) whatever is queued.
    if (close_sent_) return true;
    return queued() < opt().send_high_water;
}

void session::update_interest() {
    // While corked, uncork() settles the interest once the read is handled: a Close answered
    // in the same read then needs no epoll change before the connection is closed.
    if (closed_ || corked_) return;
    bool const write = out_pending();
    bool const read = reading_wanted();
    if (write != writing_ || read != reading_) {
        bool const resumed = read && !reading_;
        writing_ = write;
        reading_ = read;
        loop_->modify(native_handle(), this, (read ? net::loop::readable : 0u) | (write ? net::loop::writable : 0u));
        if (resumed) read_held_soon();
    }
}

void session::on_io(std::uint32_t events) {
    if (closed_) return;
    // On error or hangup too: with reading paused only a write can notice a dead peer.
    if (events & (net::loop::writable | net::loop::error | net::loop::hangup)) {
        write_blocked_ = false;
        flush();
    }
    if (closed_) return;
    if (events & (net::loop::readable | net::loop::hangup | net::loop::error | net::loop::rdhangup)) on_readable();
}

void session::on_readable() {
    auto const buffer = thread_read_buffer();
    // What the frames read here make the session send is written once, after them.
    corked_ = true;
    for (int i = 0; i < 4 && !closed_ && reading_wanted(); ++i) {
        net::io_result r{};
        std::size_t asked = 0;
        if (direct_read_possible()) {
            r = read_payload_directly(asked);
        } else {
            // Unparsed bytes are at most an incomplete header or control frame (the
            // parser hands out data payload as it arrives), so this copies little.
            std::size_t const kept = cold_ ? cold_->pending.size() : 0;
            if (kept > 0) std::memcpy(buffer.data(), cold_->pending.data(), kept);
            auto const space = buffer.subspan(kept);
            asked = space.size();
            r = read(space);
            if (r.bytes > 0) {
                touch_received();
                if (!failed_) {  // failed: the rest of the input is discarded
                    auto const input = buffer.first(kept + r.bytes);
                    keep_unparsed(input.subspan(process(input)));
                }
            }
        }
        if (r.bytes > 0) {
            // A short read drained the socket: another read would only say EAGAIN (unless a
            // stream holds more, see read_held_soon()).
            if (r.bytes < asked && stream_pending() == 0) break;
            continue;
        }
        if (r.ec == std::errc::operation_would_block) break;
        uncork();
        if (closed_) return;
        if (r.eof) {
            on_eof();
            return;
        }
        finish(close_sent_ ? sent_code() : abnormal, close_sent_ ? std::string_view{sent_reason()} : "");
        return;
    }
    uncork();
    read_held_soon();
}

std::size_t session::stream_pending() const noexcept {
    return fd_ >= 0 || !cold_ || !cold_->stream ? 0 : cold_->stream->pending();
}

void session::read_held_soon() {
    // Bytes a stream (TLS) holds after the reads above (the bound of four, or paused reading
    // resumed) get no readiness from the socket: they are read after this dispatch.
    if (closed_ || read_queued_ || stream_pending() == 0 || !reading_wanted()) return;
    read_queued_ = true;
    // Runs before the session is freed: finish() defers that after this, and then closed_ is set.
    loop_->defer([this] {
        read_queued_ = false;
        if (!closed_) on_readable();
    });
}

void session::uncork() {
    corked_ = false;
    auto& c = cork_buffer();
    if (!c.empty() && !closed_) write_now(c, {}, {});
    c.clear();
    if (!closed_) flush();
}

void session::on_eof() {
    // A peer that closes TCP without a Close frame (§7.1.5: 1006), or after
    // ours went out unanswered: report the code we sent.
    if (close_received_) finish(received_code(), received_reason());
    else if (close_sent_) finish(sent_code(), sent_reason());
    else finish(abnormal, {});
}

void session::keep_unparsed(std::span<char const> rest) {
    if (rest.empty() || closed_ || failed_ || close_received_) {
        if (cold_) std::string{}.swap(cold_->pending);  // nothing kept: no memory held while idle
        return;
    }
    cold().pending.assign(rest.data(), rest.size());
}

std::size_t session::process(std::span<char> input) {
    std::size_t used = 0;
    while (!closed_ && !failed_ && !close_received_) {
        auto const s = parser_.parse(input.subspan(used));
        if (s.header_done && is_control(parser_.header().op)) {
            used += s.consumed;
            on_control(parser_.header().op, {s.payload.data(), s.payload.size()});
        } else {
            std::string_view const piece{s.payload.data(), s.payload.size()};
            auto const kind = parser_.message_opcode() == opcode::text ? message_kind::text : message_kind::binary;
            if (close_sent_) {
                // §5.5.1: after sending a Close, data is not processed further.
            } else if (parser_.message_compressed()) {
                // RFC 7692 §6.2: inflated as the frames arrive.
                if (!on_compressed(piece, s.message_done, kind)) break;
            } else if (s.message_done && s.header_done && (!cold_ || cold_->message.empty()) &&
                       parser_.header().op != opcode::continuation) {
                deliver(piece, kind);  // a whole unfragmented message in the buffer: no copy
            } else if (!piece.empty() || s.message_done) {
                auto& message = cold().message;
                message.append(piece);
                if (s.message_done) deliver_reassembled(kind);
            }
            used += s.consumed;
        }
        if (s.ec == error::need_more) break;
        if (s.ec) {
            fail(close_code_for(s.ec));
            break;
        }
    }
    return used;
}

bool session::on_compressed(std::string_view piece, bool message_done, message_kind k) {
    auto st = piece.empty() ? inflate_status::ok : cold_->decompressor->feed(piece);
    if (st == inflate_status::ok && message_done) st = cold_->decompressor->finish();
    if (st == inflate_status::too_big) {
        fail(close_code::message_too_big);
        return false;
    }
    if (st == inflate_status::corrupt) {
        fail(close_code::invalid_payload, "bad compressed data");
        return false;
    }
    if (!message_done) return true;
    auto const m = cold_->decompressor->message();
    // The parser does not check compressed text: it is checked once inflated (RFC 6455 §8.1).
    if (k == message_kind::text && !is_valid_utf8(m)) {
        fail(close_code::invalid_payload);
        return false;
    }
    deliver(m, k);
    cold_->decompressor->clear_message();  // a large message's buffer is not kept between messages
    return true;
}

void session::deliver_reassembled(message_kind k) {
    auto& message = cold_->message;
    deliver(message.data(), k);
    message.clear();
    // A busy connection keeps a modest buffer for its next large message (a fresh one of
    // more than 128 KiB would come from mmap, page faults and all); a huge one goes now.
    if (message.capacity() > max_kept_message_buffer) message.shrink_if_empty();
}

bool session::direct_read_possible() const noexcept {
    // Inside a large data frame, the payload is read straight into the message buffer and
    // unmasked there: no copy out of the read buffer (a 64 KiB echo is mostly this).
    return !failed_ && !close_sent_ && cold_ && cold_->pending.empty() && !parser_.message_compressed() &&
           parser_.payload_remaining() >= direct_read_min;
}

net::io_result session::read_payload_directly(std::size_t& asked) {
    auto& message = cold_->message;
    asked = static_cast<std::size_t>(std::min<std::uint64_t>(parser_.payload_remaining(), direct_read_max));
    auto const space = message.prepare(asked).first(asked);
    auto const r = read(space);
    if (r.bytes == 0) return r;
    touch_received();
    auto const step = parser_.parse(space.first(r.bytes));  // payload only
    message.commit(step.consumed);
    if (step.ec && step.ec != error::need_more) fail(close_code_for(step.ec));
    else if (step.message_done)
        deliver_reassembled(parser_.message_opcode() == opcode::text ? message_kind::text : message_kind::binary);
    return r;
}

void session::deliver(std::string_view data, message_kind k) {
    if (cb().on_message) cb().on_message(*this, data, k);
}

void session::on_control(opcode op, std::string_view payload) {
    switch (op) {
    case opcode::ping:
        // §5.5.2/§5.5.3: a Pong with the same payload, unless we already sent a Close.
        if (!close_sent_) {
            queue_frame(opcode::pong, payload);
            flush();
        }
        return;
    case opcode::pong:
        return;  // §5.5.3: an unsolicited Pong needs no answer
    case opcode::close: {
        // The parser has checked the body (§5.5.1, §7.4).
        auto const info = parse_close_payload(payload);
        close_received_ = true;
        cold().received_code = static_cast<std::uint16_t>(info.code);
        // Most Close frames carry no reason: no cold state just to store an empty one.
        if (!info.reason.empty() || cold_) cold().received_reason.assign(info.reason);
        if (!close_sent_) {
            // §5.5.1: echo the status code; a Close without a code is answered with an empty one.
            send_close(received_code(), {});
        }
        // §7.1.1: the server closes the TCP connection once its Close is out.
        if (queued() == 0) finish(received_code(), received_reason());
        else update_interest();
        return;
    }
    default:
        return;
    }
}

void session::queue_frame(opcode op, std::string_view payload, frame_flags flags) {
    auto const h = server_frame_header(op, payload.size(), flags);
    put(h.view(), payload);
}

void session::put(std::string_view head, std::string_view body) {
    if (closed_) return;
    // Behind a backlog, in order.
    if (out_pending()) {
        cold_->out->append_unit({head, body});
        return;
    }
    if (corked_) {
        auto& c = cork_buffer();
        if (c.size() + head.size() + body.size() <= cork_limit) {
            c.append(head).append(body);
            return;
        }
        // Too large to gather: what is gathered goes first, in the same system call.
        std::string gathered;
        gathered.swap(c);
        write_now(gathered, head, body);
        gathered.clear();
        c.swap(gathered);
        return;
    }
    write_now({}, head, body);
}

void session::write_now(std::string_view a, std::string_view b, std::string_view c) {
    // Nothing is queued: the socket gets the bytes first, and only what it does not take is
    // copied into the queue (one unit, so that fail() never cuts a frame in two).
    std::array<iovec, 3> iov{};
    std::size_t n = 0;
    for (auto part : {a, b, c})
        if (!part.empty()) iov[n++] = {const_cast<char*>(part.data()), part.size()};
    if (n == 0) return;
    std::size_t written = 0;
    if (!write_blocked_) {
        auto const r = writev({iov.data(), n});
        if (r.bytes > 0) {
            written = r.bytes;
            touch();
        } else if (r.ec == std::errc::operation_would_block) {
            write_blocked_ = true;
        } else {
            on_write_error();
            return;
        }
    }
    std::array<std::string_view, 3> rest{};
    std::size_t k = 0;
    for (std::size_t i = 0; i < n; ++i) {
        std::string_view part{static_cast<char const*>(iov[i].iov_base), iov[i].iov_len};
        std::size_t const skip = std::min(written, part.size());
        written -= skip;
        if (skip < part.size()) rest[k++] = part.substr(skip);
    }
    if (k == 0) return;
    auto& state = cold();
    if (!state.out) state.out = std::make_unique<net::send_queue>();
    bool const started = rest[0].data() != static_cast<char const*>(iov[0].iov_base);
    state.out->append_unit({rest[0], rest[1], rest[2]}, started);
    write_blocked_ = true;  // the socket took less than offered
}

void session::on_write_error() {
    // The peer is gone (reset, broken pipe).
    finish(close_received_ ? received_code() : close_sent_ ? sent_code() : abnormal,
           close_received_ ? received_reason() : close_sent_ ? sent_reason() : "");
}

bool session::send(std::string_view data, message_kind k) {
    if (closed_ || close_sent_) return false;
    if (queued() + held_bytes() > opt().max_buffered) {
        fail(close_code::policy_violation, "send buffer limit");
        return false;
    }
    if (fragmenting_) {
        // RFC 6455 §5.4: the fragments of one message are not interleaved with another
        // message's frames: held, in order, until send_fragment() ends the open message.
        auto& c = cold();
        c.held.push_back({std::string(data), k});
        c.held_bytes += data.size();
        return send_result();
    }
    queue_message(data, k);
    flush();
    return send_result();
}

bool session::send_fragment(std::string_view piece, message_kind k, bool fin) {
    if (closed_ || close_sent_) return false;
    if (queued() + held_bytes() > opt().max_buffered) {
        fail(close_code::policy_violation, "send buffer limit");
        return false;
    }
    bool const first = !fragmenting_;
    // §5.4: the first frame has the message's opcode, the others are continuations.
    auto op = opcode::continuation;
    if (first) {
        op = k == message_kind::text ? opcode::text : opcode::binary;
        fragment_compressed_ = cold_ && cold_->compressor && piece.size() >= opt().compress_threshold;
    }
    if (fragment_compressed_) {
        // RFC 7692 §6.1: RSV1 on the first frame only; each piece is flushed so it leaves now.
        std::string payload;
        cold_->compressor->compress_part(piece, fin, payload);
        queue_frame(op, payload, frame_flags{.fin = fin, .rsv1 = first});
    } else {
        queue_frame(op, piece, frame_flags{.fin = fin});
    }
    fragmenting_ = !fin;
    if (fin) release_held();
    flush();
    return send_result();
}

void session::queue_message(std::string_view data, message_kind k) {
    auto const op = k == message_kind::text ? opcode::text : opcode::binary;
    if (cold_ && cold_->compressor && data.size() >= opt().compress_threshold) {
        std::string payload;
        cold_->compressor->compress(data, payload);
        // A message that did not shrink goes out as is (RSV1 is per message, RFC 7692 §6.1), but
        // only when our compressor forgets it anyway (server_no_context_takeover, §7.1.1.1): with
        // context takeover our window now holds it and the peer's would not, so later messages
        // referring back to it would not inflate there.
        if (payload.size() < data.size() || !cold_->deflate->server_no_context_takeover) {
            // RFC 7692 §6.1: RSV1 on the (only) frame of a compressed message.
            queue_frame(op, payload, frame_flags{.fin = true, .rsv1 = true});
            return;
        }
    }
    queue_frame(op, data);
}

void session::release_held() {
    if (!cold_) return;
    auto held = std::move(cold_->held);
    cold_->held.clear();
    cold_->held_bytes = 0;
    for (auto const& m : held) queue_message(m.data, m.kind);
}

bool session::send_result() {
    // Held messages do not count here: they cannot drain before the open message ends, so
    // waiting for on_drain on their account could wait forever.
    bool const below = !closed_ && queued() < opt().send_high_water;
    if (!below) drain_owed_ = true;
    return below;
}

void session::ping(std::string_view payload) {
    if (closed_ || close_sent_) return;
    queue_frame(opcode::ping, payload.substr(0, max_control_payload));
    flush();
}

void session::close(std::uint16_t code, std::string_view reason) {
    if (closed_ || close_sent_) return;
    send_close(code, reason);
}

void session::send_close(std::uint16_t code, std::string_view reason) {
    // Nothing follows a Close (§5.5.1): send()s held behind an unfinished fragmented message go.
    if (cold_) {
        cold_->held.clear();
        cold_->held_bytes = 0;
    }
    auto const body = make_close_payload(static_cast<close_code>(code), reason);
    close_sent_ = true;
    cold().sent_code = body.size >= 2 ? code : no_status;
    auto const reason_sent = body.size > 2 ? body.view().substr(2) : std::string_view{};
    if (!reason_sent.empty() || cold_) cold().sent_reason.assign(reason_sent);
    queue_frame(opcode::close, body.view());
    // The peer has close_timeout to answer and to take what is queued (on_timer).
    timer_closes_ = true;
    timer_hook::start(*loop_, opt().close_timeout);
    flush();
}

void session::fail(close_code code, std::string_view reason) {
    // §7.1.7 _Fail the WebSocket Connection_: no more data is processed; the
    // Close goes out (if none has), then TCP is half-closed and closed when the
    // peer closes it (or at close_timeout).
    if (closed_) return;
    failed_ = true;
    if (cold_) {
        std::string{}.swap(cold_->pending);
        cold_->message.clear();
    }
    if (close_sent_) {
        finish(sent_code(), sent_reason());
        return;
    }
    // Unsent frames are dropped (the front one stays if partly written, to keep the framing).
    if (corked_) cork_buffer().clear();  // none of it went out
    if (auto* q = out()) q->drop_unstarted();
    send_close(static_cast<std::uint16_t>(code), reason);
}

void session::flush() {
    if (corked_) return;  // uncork() flushes once the read is handled
    while (!closed_ && out_pending() && !write_blocked_) {
        auto& q = *cold_->out;
        std::array<iovec, max_iov> iov{};
        auto const n = static_cast<std::size_t>(q.fill(iov.data(), static_cast<int>(max_iov)));
        auto const r = writev({iov.data(), n});
        if (r.bytes > 0) {
            touch();
            q.consume(r.bytes);
            continue;
        }
        if (r.ec == std::errc::operation_would_block) {
            write_blocked_ = true;
            break;
        }
        on_write_error();
        return;
    }
    if (closed_) return;
    if (out() && out()->empty()) cold_->out.reset();  // an idle session holds no queue
    if (!out()) {
        if (close_received_ && close_sent_) {
            // §7.1.1: both Close frames are exchanged: the server closes TCP first.
            finish(received_code(), received_reason());
            return;
        }
        if (failed_ && !write_shut_) {
            // Our Close is out: FIN, then wait for the peer's FIN (its unread data would turn
            // an immediate close into a reset that can destroy the Close in flight).
            shutdown_write();
            write_shut_ = true;
        }
    }
    if (drain_owed_ && !close_sent_ && queued() < opt().send_high_water / 2) {
        drain_owed_ = false;
        if (cb().on_drain) cb().on_drain(*this);
    }
    update_interest();
}

void session::on_shutdown(bool force) noexcept {
    if (closed_) return;
    if (force) {
        finish(close_received_ ? received_code() : close_sent_ ? sent_code() : abnormal,
               close_received_ ? received_reason() : close_sent_ ? sent_reason() : "");
        return;
    }
    close(close_code::going_away, "server shutting down");
}

void session::finish(std::uint16_t code, std::string_view reason) {
    if (closed_) return;
    closed_ = true;
    std::string const why(reason);  // `reason` may point into a member
    timer_hook::cancel(*loop_);
    loop_->unwatch_shutdown(this);
    loop_->forget_before_close(native_handle());
    close_transport();
    if (cold_) cold_->out.reset();
    if (corked_) cork_buffer().clear();
    if (cold_) {
        cold_->held.clear();
        cold_->held_bytes = 0;
    }
    // Handles go dead and hub subscriptions end before the application hears of the close.
    if (extras_) extras_->on_finish(*this);
    if (cb().on_close) cb().on_close(*this, code, why);
    // Events for this handler may still be pending in this dispatch.
    loop_->defer([this] { delete this; });
}

} // namespace upshift::ws
