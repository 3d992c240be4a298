// A WebSocket connection on the loop (RFC 6455 §5-§7). See server.hpp for the policies.
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "upshift/ws/close_payload.hpp"
#include "upshift/ws/deflate_codec.hpp"
#include "upshift/ws/frame_writer.hpp"
#include "upshift/ws/server.hpp"
#include "ws/session_extras.hpp"

namespace upshift::ws {
namespace {

constexpr std::size_t read_chunk = 64 * 1024;
constexpr std::size_t max_iov = 64;
constexpr auto no_status = static_cast<std::uint16_t>(close_code::no_status);
constexpr auto abnormal = static_cast<std::uint16_t>(close_code::abnormal);

/// Frame bytes: header then payload, one allocation.
std::string make_frame(opcode op, std::string_view payload, frame_flags flags = {}) {
    auto const h = server_frame_header(op, payload.size(), flags);
    std::string f;
    f.reserve(h.size + payload.size());
    f.append(h.view()).append(payload);
    return f;
}

/// The read buffer every session on this thread reads into. A loop runs on one thread and
/// handles one session at a time, and process() consumes all complete frames before the
/// handler returns, so an idle connection holds no read buffer at all (only an incomplete
/// frame header or control frame is kept, in session::pending_).
std::span<char> thread_read_buffer() {
    thread_local std::unique_ptr<char[]> const buffer{new char[read_chunk]};
    return {buffer.get(), read_chunk};
}

} // namespace

session* session::open(upgrade::upgraded u, std::shared_ptr<session_config const> config, std::string subprotocol,
                       std::optional<deflate_params> pmd) {
    std::string leftover = std::move(u.leftover);
    auto* s = new session(std::move(u), std::move(config), std::move(subprotocol), std::move(pmd));
    s->start(std::move(leftover));
    return s;
}

session::session(upgrade::upgraded u, std::shared_ptr<session_config const> config, std::string subprotocol,
                 std::optional<deflate_params> pmd)
    : config_(std::move(config)),
      opt_(config_->opt),
      cb_(config_->cb),
      stream_(std::move(u.stream)),
      loop_(u.loop),
      request_(std::move(u.request)),
      subprotocol_(std::move(subprotocol)),
      remote_(std::move(u.remote)),
      parser_(frame_parser_options{.max_message_size = opt_.max_message_size, .allow_rsv1 = pmd.has_value()}),
      deflate_(std::move(pmd)),
      idle_(*u.loop),
      close_timer_(*u.loop) {
    if (deflate_) {
        deflater_ = std::make_unique<deflater>(deflate_->server_max_window_bits, deflate_->server_no_context_takeover);
        inflater_ = std::make_unique<inflater>(deflate_->client_max_window_bits, deflate_->client_no_context_takeover,
                                               opt_.max_inflated_message_size);
    }
}

session::~session() = default;

void session::start(std::string leftover) {
    interest_ = net::loop::readable;
    loop_->add(stream_->native_handle(), this, interest_);
    loop_->watch_shutdown(this);
    idle_.start(opt_.idle_timeout, [this] { close(close_code::going_away, "idle timeout"); });
    if (cb_.on_open) cb_.on_open(*this);
    // The bytes that followed the request come first (upgrade contract §3): they
    // are parsed before anything is read from the socket.
    if (!closed_ && !leftover.empty()) {
        std::span<char> const input{leftover.data(), leftover.size()};
        keep_unparsed(input.subspan(process(input)));
    }
    if (!closed_) update_interest();
}

void session::touch() {
    if (!closed_) idle_.restart(opt_.idle_timeout);
}

bool session::reading_wanted() const noexcept {
    if (closed_ || close_received_) return false;
    // Once closing, keep reading for the peer's Close (or EOF) whatever is queued.
    if (close_sent_) return true;
    return buffered_ < opt_.send_high_water;
}

void session::update_interest() {
    if (closed_) return;
    std::uint32_t wanted = 0;
    if (buffered_ > 0) wanted |= net::loop::writable;
    if (reading_wanted()) wanted |= net::loop::readable;
    if (wanted != interest_) {
        interest_ = wanted;
        loop_->modify(stream_->native_handle(), this, interest_);
    }
}

void session::on_io(std::uint32_t events) {
    if (closed_) return;
    // On error or hangup too: with reading paused only a write can notice a dead peer.
    if (events & (net::loop::writable | net::loop::error | net::loop::hangup)) flush();
    if (closed_) return;
    if (events & (net::loop::readable | net::loop::hangup | net::loop::error | net::loop::rdhangup)) on_readable();
}

void session::on_readable() {
    auto const buffer = thread_read_buffer();
    for (int i = 0; i < 4 && !closed_ && reading_wanted(); ++i) {
        // Unparsed bytes are at most an incomplete header or control frame (the
        // parser hands out data payload as it arrives), so this copies little.
        std::size_t const kept = pending_.size();
        std::memcpy(buffer.data(), pending_.data(), kept);
        auto r = stream_->read(buffer.subspan(kept));
        if (r.bytes > 0) {
            touch();
            if (failed_) continue;  // failed: the rest of the input is discarded
            auto const input = buffer.first(kept + r.bytes);
            keep_unparsed(input.subspan(process(input)));
            continue;
        }
        if (r.ec == std::errc::operation_would_block) break;
        if (r.eof) {
            on_eof();
            return;
        }
        finish(close_sent_ ? sent_code_ : abnormal, close_sent_ ? std::string_view{sent_reason_} : "");
        return;
    }
    update_interest();
}

void session::on_eof() {
    // A peer that closes TCP without a Close frame (§7.1.5: 1006), or after
    // ours went out unanswered: report the code we sent.
    if (close_received_) finish(received_code_, received_reason_);
    else if (close_sent_) finish(sent_code_, sent_reason_);
    else finish(abnormal, {});
}

void session::keep_unparsed(std::span<char const> rest) {
    if (rest.empty() || closed_ || failed_ || close_received_) {
        std::string{}.swap(pending_);  // nothing kept: no memory held while idle
        return;
    }
    pending_.assign(rest.data(), rest.size());
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
            } else if (s.message_done && s.header_done && message_.empty() &&
                       parser_.header().op != opcode::continuation) {
                deliver(piece, kind);  // a whole unfragmented message in the buffer: no copy
            } else if (!piece.empty() || s.message_done) {
                message_.append(piece);
                if (s.message_done) {
                    std::string m = std::move(message_);
                    message_.clear();
                    deliver(m, kind);
                    // Keep a modest buffer for the next fragmented message, not a huge one.
                    if (m.capacity() <= read_chunk) {
                        m.clear();
                        message_.swap(m);
                    }
                }
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
    auto st = piece.empty() ? inflate_status::ok : inflater_->feed(piece);
    if (st == inflate_status::ok && message_done) st = inflater_->finish();
    if (st == inflate_status::too_big) {
        fail(close_code::message_too_big);
        return false;
    }
    if (st == inflate_status::corrupt) {
        fail(close_code::invalid_payload, "bad compressed data");
        return false;
    }
    if (!message_done) return true;
    auto const m = inflater_->message();
    // The parser does not check compressed text: it is checked once inflated (RFC 6455 §8.1).
    if (k == message_kind::text && !is_valid_utf8(m)) {
        fail(close_code::invalid_payload);
        return false;
    }
    deliver(m, k);
    inflater_->clear_message();  // a large message's buffer is not kept between messages
    return true;
}

void session::deliver(std::string_view data, message_kind k) {
    if (cb_.on_message) cb_.on_message(*this, data, k);
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
        received_code_ = static_cast<std::uint16_t>(info.code);
        received_reason_.assign(info.reason);
        if (!close_sent_) {
            // §5.5.1: echo the status code; a Close without a code is answered with an empty one.
            send_close(received_code_, {});
        }
        // §7.1.1: the server closes the TCP connection once its Close is out.
        if (buffered_ == 0) finish(received_code_, received_reason_);
        else update_interest();
        return;
    }
    default:
        return;
    }
}

void session::queue_frame(opcode op, std::string_view payload) {
    out_.push_back(make_frame(op, payload));
    buffered_ += out_.back().size();
}

bool session::send(std::string_view data, message_kind k) {
    if (closed_ || close_sent_) return false;
    if (buffered_ + held_bytes_ > opt_.max_buffered) {
        fail(close_code::policy_violation, "send buffer limit");
        return false;
    }
    if (fragmenting_) {
        // RFC 6455 §5.4: the fragments of one message are not interleaved with another
        // message's frames: held, in order, until send_fragment() ends the open message.
        held_.push_back({std::string(data), k});
        held_bytes_ += data.size();
        return send_result();
    }
    queue_message(data, k);
    flush();
    return send_result();
}

bool session::send_fragment(std::string_view piece, message_kind k, bool fin) {
    if (closed_ || close_sent_) return false;
    if (buffered_ + held_bytes_ > opt_.max_buffered) {
        fail(close_code::policy_violation, "send buffer limit");
        return false;
    }
    bool const first = !fragmenting_;
    // §5.4: the first frame has the message's opcode, the others are continuations.
    auto op = opcode::continuation;
    if (first) {
        op = k == message_kind::text ? opcode::text : opcode::binary;
        fragment_compressed_ = deflater_ && piece.size() >= opt_.compress_threshold;
    }
    if (fragment_compressed_) {
        // RFC 7692 §6.1: RSV1 on the first frame only; each piece is flushed so it leaves now.
        std::string payload;
        deflater_->compress_part(piece, fin, payload);
        out_.push_back(make_frame(op, payload, frame_flags{.fin = fin, .rsv1 = first}));
    } else {
        out_.push_back(make_frame(op, piece, frame_flags{.fin = fin}));
    }
    buffered_ += out_.back().size();
    fragmenting_ = !fin;
    if (fin) release_held();
    flush();
    return send_result();
}

void session::queue_message(std::string_view data, message_kind k) {
    auto const op = k == message_kind::text ? opcode::text : opcode::binary;
    if (deflater_ && data.size() >= opt_.compress_threshold) {
        std::string payload;
        deflater_->compress(data, payload);
        // A message that did not shrink goes out as is (RSV1 is per message, RFC 7692 §6.1), but
        // only when our compressor forgets it anyway (server_no_context_takeover, §7.1.1.1): with
        // context takeover our window now holds it and the peer's would not, so later messages
        // referring back to it would not inflate there.
        if (payload.size() < data.size() || !deflate_->server_no_context_takeover) {
            // RFC 7692 §6.1: RSV1 on the (only) frame of a compressed message.
            out_.push_back(make_frame(op, payload, frame_flags{.fin = true, .rsv1 = true}));
            buffered_ += out_.back().size();
            return;
        }
    }
    queue_frame(op, data);
}

void session::release_held() {
    while (!held_.empty()) {
        auto const m = std::move(held_.front());
        held_.pop_front();
        held_bytes_ -= m.data.size();
        queue_message(m.data, m.kind);
    }
}

bool session::send_result() {
    // Held messages do not count here: they cannot drain before the open message ends, so
    // waiting for on_drain on their account could wait forever.
    bool const below = !closed_ && buffered_ < opt_.send_high_water;
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
    held_.clear();
    held_bytes_ = 0;
    auto const body = make_close_payload(static_cast<close_code>(code), reason);
    close_sent_ = true;
    sent_code_ = body.size >= 2 ? code : no_status;
    sent_reason_.assign(body.size > 2 ? body.view().substr(2) : std::string_view{});
    queue_frame(opcode::close, body.view());
    // The peer has close_timeout to answer and to take what is queued.
    close_timer_.start(opt_.close_timeout, [this] {
        finish(close_received_ ? received_code_ : sent_code_, close_received_ ? received_reason_ : sent_reason_);
    });
    flush();
}

void session::fail(close_code code, std::string_view reason) {
    // §7.1.7 _Fail the WebSocket Connection_: no more data is processed; the
    // Close goes out (if none has), then TCP is half-closed and closed when the
    // peer closes it (or at close_timeout).
    if (closed_) return;
    failed_ = true;
    std::string{}.swap(pending_);
    message_.clear();
    if (close_sent_) {
        finish(sent_code_, sent_reason_);
        return;
    }
    // Unsent frames are dropped (the front one stays if partly written, to keep the framing).
    while (out_.size() > (out_offset_ > 0 ? 1u : 0u)) {
        buffered_ -= out_.back().size();
        out_.pop_back();
    }
    send_close(static_cast<std::uint16_t>(code), reason);
}

void session::flush() {
    while (!closed_ && !out_.empty()) {
        std::array<iovec, max_iov> iov{};
        std::size_t n = 0;
        for (auto it = out_.begin(); it != out_.end() && n < max_iov; ++it, ++n) {
            std::size_t const skip = n == 0 ? out_offset_ : 0;
            iov[n].iov_base = it->data() + skip;
            iov[n].iov_len = it->size() - skip;
        }
        auto r = stream_->writev({iov.data(), n});
        if (r.bytes > 0) {
            touch();
            std::size_t left = r.bytes;
            buffered_ -= left;
            while (left > 0) {
                std::size_t const rest = out_.front().size() - out_offset_;
                if (left >= rest) {
                    left -= rest;
                    out_.pop_front();
                    out_offset_ = 0;
                } else {
                    out_offset_ += left;
                    left = 0;
                }
            }
            continue;
        }
        if (r.ec == std::errc::operation_would_block) break;
        // The peer is gone (reset, broken pipe).
        finish(close_received_ ? received_code_ : close_sent_ ? sent_code_ : abnormal,
               close_received_ ? received_reason_ : close_sent_ ? sent_reason_ : "");
        return;
    }
    if (closed_) return;
    if (out_.empty()) {
        if (close_received_ && close_sent_) {
            // §7.1.1: both Close frames are exchanged: the server closes TCP first.
            finish(received_code_, received_reason_);
            return;
        }
        if (failed_ && !write_shut_) {
            // Our Close is out: FIN, then wait for the peer's FIN (its unread data would turn
            // an immediate close into a reset that can destroy the Close in flight).
            stream_->shutdown_write();
            write_shut_ = true;
        }
    }
    if (drain_owed_ && !close_sent_ && buffered_ < opt_.send_high_water / 2) {
        drain_owed_ = false;
        if (cb_.on_drain) cb_.on_drain(*this);
    }
    update_interest();
}

void session::on_shutdown(bool force) noexcept {
    if (closed_) return;
    if (force) {
        finish(close_received_ ? received_code_ : close_sent_ ? sent_code_ : abnormal,
               close_received_ ? received_reason_ : close_sent_ ? sent_reason_ : "");
        return;
    }
    close(close_code::going_away, "server shutting down");
}

void session::finish(std::uint16_t code, std::string_view reason) {
    if (closed_) return;
    closed_ = true;
    std::string const why(reason);  // `reason` may point into a member
    idle_.cancel();
    close_timer_.cancel();
    loop_->unwatch_shutdown(this);
    loop_->remove(stream_->native_handle());
    stream_->close();
    out_.clear();
    buffered_ = 0;
    held_.clear();
    held_bytes_ = 0;
    // Handles go dead and hub subscriptions end before the application hears of the close.
    if (extras_) extras_->on_finish(*this);
    if (cb_.on_close) cb_.on_close(*this, code, why);
    // Events for this handler may still be pending in this dispatch.
    loop_->defer([this] { delete this; });
}

} // namespace upshift::ws
