// Input side of the HTTP/1.1 server connection: reading, parsing, dispatch,
// request bodies, timeouts and closing. The output side (responses, interim
// responses, streaming) is in connection_output.cpp.
#include "server/detail/connection.hpp"

#include <algorithm>
#include <exception>

#include "server/detail/worker.hpp"
#include "upshift/server/server.hpp"

namespace upshift::server::detail {
namespace {
// A connection's first read: enough for most requests and every upgrade request.
constexpr std::size_t first_read_size = 2 * 1024;

// After an error response or Connection: close we keep reading (and dropping)
// input for a short while before closing: closing a socket with unread input
// makes the kernel send RST, and the peer may then lose our response.
constexpr std::size_t linger_max_bytes = 256 * 1024;
constexpr std::chrono::milliseconds linger_time{2000};
// Unread request body we are willing to read and drop to keep a connection
// alive after the handler answered without reading it.
constexpr std::uint64_t discard_max_bytes = 256 * 1024;
} // namespace

connection::connection(worker& w, std::unique_ptr<net::stream> s, std::string remote, bool secure)
    : worker_(w),
      stream_(std::move(s)),
      remote_(std::move(remote)),
      secure_(secure),
      parser_(w.opts().limits),
      read_timer_(w.loop()),
      write_timer_(w.loop()),
      processing_timer_(w.loop()) {}

connection::~connection() = default;

options const& connection::opts() const noexcept { return worker_.opts(); }
net::loop& connection::loop() noexcept { return worker_.loop(); }

void connection::start(bool registered) {
    interest_ = net::loop::readable;
    loop().take_over(stream_->native_handle(), this, interest_, registered);
    // A connection that never sends a request is closed after the header timeout.
    arm_read_timer(opts().header_timeout, false);
}

void connection::on_io(std::uint32_t events) {
    if (state_ == state::closed) return;
    if ((events & net::loop::error) && !(events & net::loop::readable)) {
        close_now();
        return;
    }
    if (events & net::loop::writable) on_writable();
    if (state_ == state::closed) return;
    if (events & (net::loop::readable | net::loop::hangup | net::loop::rdhangup)) on_readable();
}

// --- reading -------------------------------------------------------------

void connection::on_readable() {
    if (state_ == state::lingering) {
        char sink[16 * 1024];
        for (;;) {
            auto r = stream_->read(sink);
            if (r.bytes > 0) {
                if (r.bytes >= linger_budget_) { close_now(); return; }
                linger_budget_ -= r.bytes;
                continue;
            }
            if (r.ec == std::errc::operation_would_block) return;
            close_now();  // eof or error: the peer has our response
            return;
        }
    }
    if (state_ == state::tls_handshake) {
        on_tls_handshake();
        return;
    }
    if (!fill_read_buffer()) return;
    process();
    if (flush_pending_) flush();
}

bool connection::fill_read_buffer() {
    // The buffer may move below: detach the current request's views first.
    if (state_ == state::active || state_ == state::switching) rebase_request();
    bool progressed = false;
    for (int i = 0; i < 4; ++i) {  // bounded: other connections get their turn
        // A connection's first read gets a small buffer: most requests (and every WebSocket or
        // h2c upgrade) fit, so many connections being set up at once touch little memory; one
        // that fills it grows to read_buffer_size.
        std::size_t const chunk =
            read_buf_.capacity() == 0 ? std::min(first_read_size, opts().read_buffer_size) : opts().read_buffer_size;
        auto space = read_buf_.prepare(chunk);
        auto r = stream_->read(space.first(chunk));
        if (r.bytes > 0) {
            read_buf_.commit(r.bytes);
            progressed = true;
            if (r.bytes < chunk) break;
            continue;
        }
        if (r.eof) {
            peer_eof_ = true;
            break;
        }
        if (r.ec == std::errc::operation_would_block) break;
        close_now();
        return false;
    }
    if (progressed && state_ == state::active && body_reading_ && !body_done_ && !body_paused_)
        arm_read_timer(opts().body_timeout, false);
    return true;
}

void connection::process() {
    if (in_process_ || state_ == state::closed) return;
    in_process_ = true;
    while (state_ != state::closed) {
        if (state_ == state::head) {
            if (read_buf_.empty()) {
                if (peer_eof_) close_now();
                break;
            }
            // Don't pile up responses for a client that pipelines faster than it reads.
            if (out_.size() >= opts().send_high_water) {
                // The next request now waits on us, not on the client: no 408 for it. The write
                // timeout bounds a client that stops reading; the header timeout starts again
                // if the head is still incomplete when processing resumes.
                if (header_timer_armed_) {
                    read_timer_.cancel();
                    header_timer_armed_ = false;
                }
                break;
            }
            if (!preface_checked_) {
                auto const m = check_preface();
                if (m == preface::partial) {
                    if (peer_eof_) close_now();
                    else if (!header_timer_armed_) arm_read_timer(opts().header_timeout, true);
                    break;
                }
                if (m == preface::full) {
                    hand_off_preface();
                    break;
                }
            }
            auto r = parser_.parse(read_buf_.data());
            if (r.ec == http1::error::need_more) {
                if (peer_eof_) {
                    close_now();  // incomplete request, then EOF: nothing to answer
                    break;
                }
                if (!header_timer_armed_) arm_read_timer(opts().header_timeout, true);
                break;
            }
            if (r.ec) {
                fail_request(r.ec);
                break;
            }
            begin_exchange(r.consumed);
            continue;
        }
        if (state_ == state::active) {
            if (!body_done_) {
                if (body_reading_ && !body_paused_) feed_body();
                else if (response_finished_) discard_body();
            }
            if (state_ == state::active && response_finished_ && body_done_) {
                end_exchange();
                continue;
            }
        }
        break;
    }
    in_process_ = false;
    // Switching: the flush that follows (flush_pending_) writes the 101 and hands the stream
    // off, or stops reading itself if the 101 cannot leave at once. Dropping read interest here
    // would cost an epoll_ctl per upgrade for nothing.
    if (state_ != state::switching) update_read_interest();
}

void connection::begin_exchange(std::size_t head_bytes) {
    request_ = parser_.head();
    preface_checked_ = true;  // only a connection's first bytes can be the HTTP/2 preface
    head_ptr_ = read_buf_.data().data();
    head_len_ = head_bytes;
    request_rebased_ = false;
    // consume() never moves bytes, so the views stay valid until the next read.
    read_buf_.consume(head_bytes);
    read_timer_.cancel();
    header_timer_armed_ = false;

    state_ = state::active;
    response_started_ = false;
    response_finished_ = false;
    keep_alive_ = request_.keep_alive() && !graceful_;
    head_request_ = request_.method == http1::method::head;
    status_ = 0;
    body_sent_ = 0;
    started_ = loop().now();
    body_reading_ = false;
    body_paused_ = false;
    discarded_ = 0;

    switch (request_.body) {
    case http1::body_kind::length:
        body_mode_ = body_mode::length;
        body_remaining_ = request_.content_length;
        body_done_ = body_remaining_ == 0;
        break;
    case http1::body_kind::chunked:
        body_mode_ = body_mode::chunked;
        if (chunked_) chunked_->reset();
        else chunked_.emplace(opts().limits);
        body_done_ = false;
        break;
    default:
        body_mode_ = body_mode::none;
        body_done_ = true;
        break;
    }
    // Offers are parsed only when there is an Upgrade field: ordinary requests pay nothing.
    offers_.clear();
    if (request_.has_upgrade) offers_ = upgrade::parse_offers(request_);

    // RFC 9110 §10.1.1: a 100-continue expectation in an HTTP/1.0 request MUST be ignored.
    continue_owed_ = request_.expect_continue && request_.is_http11_or_later() && !body_done_;

    if (request_.expect_unknown) {
        // RFC 9110 §10.1.1: an expectation we do not understand gets 417. The body
        // may follow regardless, so the connection closes after the response.
        keep_alive_ = false;
        respond(http1::status::expectation_failed, {{"Content-Type", "text/plain"}}, "Expectation Failed\n");
        return;
    }
    // RFC 2817: the server itself switches to TLS (before the handler, which then answers over TLS).
    if (!offers_.empty() && opts().tls_upgrade && !secure_ && try_tls_upgrade()) return;
    if (opts().processing_interval.count() > 0 && request_.is_http11_or_later())
        processing_timer_.start(opts().processing_interval, [this] { on_processing_timer(); });
    dispatch(true);
}

void connection::dispatch(bool protocols) {
    try {
        if (protocols && !offers_.empty() && opts().protocols && accept_upgrade(*this, *opts().protocols)) return;
        worker_.app()(*this);
    } catch (...) {
        // The library never lets an exception escape into the loop; the client
        // gets a 500 if nothing was sent yet, else the connection is cut.
        if (state_ == state::closed) return;
        if (!response_started_) {
            keep_alive_ = false;
            respond(http1::status::internal_server_error, {{"Content-Type", "text/plain"}},
                    "Internal Server Error\n");
        } else if (!response_finished_) {
            close_now();
        }
    }
}

void connection::rebase_request() {
    if (request_rebased_) return;
    request_rebased_ = true;
    head_copy_.assign(head_ptr_, head_len_);
    auto fix = [this](std::string_view v) -> std::string_view {
        if (v.empty()) return {};
        return {head_copy_.data() + (v.data() - head_ptr_), v.size()};
    };
    fields_copy_.assign(request_.fields.begin(), request_.fields.end());
    for (auto& f : fields_copy_) {
        f.name = fix(f.name);
        f.value = fix(f.value);
    }
    request_.fields = fields_copy_;
    request_.method_text = fix(request_.method_text);
    request_.target = fix(request_.target);
    request_.host = fix(request_.host);
}

// --- request body ----------------------------------------------------------

bool connection::has_body() const noexcept {
    return request_.body == http1::body_kind::chunked ||
           (request_.body == http1::body_kind::length && request_.content_length > 0);
}

void connection::read_body(body_reader reader) {
    if (state_ != state::active || body_reading_) return;
    reader_ = std::move(reader);
    body_reading_ = true;
    if (body_done_) {
        finish_body({});
        return;
    }
    if (continue_owed_ && !response_started_) send_interim(http1::status::continue_, {});
    arm_read_timer(opts().body_timeout, false);
    if (!in_process_) {
        process();
        if (flush_pending_) flush();
    }
}

void connection::read_body_all(std::size_t max, unique_function<void(std::error_code, std::string)> done) {
    std::size_t const reserve =
        request_.body == http1::body_kind::length ? static_cast<std::size_t>(request_.content_length) : 0;
    // Above max the rest of the body is never parsed as HTTP: the connection closes after the 413.
    read_body(collect_body(max, reserve, [this] { keep_alive_ = false; }, std::move(done)));
}

void connection::pause_body() noexcept {
    body_paused_ = true;
    // The application holds the body back: that is not the client stalling (body_timeout).
    if (state_ == state::active && body_reading_ && !body_done_) read_timer_.cancel();
}

void connection::resume_body() {
    if (!body_paused_) return;
    body_paused_ = false;
    if (state_ == state::active && body_reading_ && !body_done_) arm_read_timer(opts().body_timeout, false);
    if (!in_process_) {
        process();
        if (flush_pending_) flush();
    }
}

void connection::feed_body() {
    while (!body_done_ && body_reading_ && !body_paused_ && !read_buf_.empty() && state_ == state::active) {
        if (body_mode_ == body_mode::length) {
            auto avail = read_buf_.data();
            auto n = static_cast<std::size_t>(std::min<std::uint64_t>(body_remaining_, avail.size()));
            body_remaining_ -= n;
            if (reader_.on_data) reader_.on_data(avail.substr(0, n));
            if (state_ == state::closed) return;
            read_buf_.consume(n);
            if (body_remaining_ == 0) finish_body({});
        } else {
            auto s = chunked_->decode(read_buf_.data());
            if (!s.data.empty() && reader_.on_data) reader_.on_data(s.data);
            if (state_ == state::closed) return;
            // Copied before the consume below, after the last piece was delivered: the
            // handler sees them from on_end on (exchange::request_trailers()).
            if (!s.ec && chunked_->done()) keep_trailers();
            read_buf_.consume(s.consumed);
            if (s.ec == http1::error::need_more) return;
            if (s.ec) {
                finish_body(s.ec);
                return;
            }
            if (chunked_->done()) finish_body({});
        }
    }
}

void connection::keep_trailers() {
    auto const fields = chunked_->trailers();
    if (fields.empty()) return;
    std::size_t size = 0;
    for (auto const& f : fields) size += f.name.size() + f.value.size();
    auto t = std::make_unique<owned_trailers>();
    t->bytes.reserve(size);  // no reallocation below: the views stay valid
    t->fields.reserve(fields.size());
    for (auto const& f : fields) {
        auto const at = t->bytes.size();
        t->bytes.append(f.name).append(f.value);
        std::string_view const all = t->bytes;
        t->fields.push_back({all.substr(at, f.name.size()), all.substr(at + f.name.size(), f.value.size())});
    }
    trailers_ = std::move(t);
}

void connection::finish_body(std::error_code ec) {
    body_done_ = true;
    if (ec) keep_alive_ = false;  // framing can no longer be trusted
    read_timer_.cancel();
    auto on_end = std::move(reader_.on_end);
    reader_ = {};
    if (on_end) on_end(ec);
    if (switch_pending_ && state_ == state::active) {
        if (!ec) {
            write_switch();
            return;
        }
        // The body failed: that is answered below instead of the 101.
        switch_pending_ = false;
        switch_then_ = nullptr;
    }
    if (ec && state_ == state::active && !response_started_) {
        http1::status s = http1::status::bad_request;
        if (ec.category() == http1::error_category()) s = http1::status_for(ec);
        else if (ec == error::timeout) s = http1::status::request_timeout;
        else if (ec == error::body_too_large) s = http1::status::content_too_large;
        if (ec != error::connection_lost)
            respond(s, {{"Content-Type", "text/plain"}}, std::string(http1::reason_phrase(s)) + "\n");
    }
}

void connection::discard_body() {
    // The handler answered without reading the body. Read and drop a bounded
    // amount so the connection can be reused; beyond that, close instead.
    if (continue_owed_ || !keep_alive_) {
        // The client is waiting for 100 and may never send the body, or the
        // connection closes anyway (the response said Connection: close, see
        // write_head): don't wait for the body, the lingering close drains it.
        body_done_ = true;
        keep_alive_ = false;
        return;
    }
    while (!body_done_ && !read_buf_.empty()) {
        std::size_t n;
        if (body_mode_ == body_mode::length) {
            n = static_cast<std::size_t>(std::min<std::uint64_t>(body_remaining_, read_buf_.size()));
            body_remaining_ -= n;
            read_buf_.consume(n);
            if (body_remaining_ == 0) body_done_ = true;
        } else {
            auto s = chunked_->decode(read_buf_.data());
            n = s.consumed;
            read_buf_.consume(s.consumed);
            if (s.ec == http1::error::need_more) break;
            if (s.ec || chunked_->done()) {
                if (s.ec) keep_alive_ = false;
                body_done_ = true;
            }
        }
        discarded_ += n;
        if (discarded_ > discard_max_bytes) {
            keep_alive_ = false;
            body_done_ = true;
        }
    }
    // A client that never sends the rest must not hold the connection forever.
    if (!body_done_ && !read_timer_.active()) arm_read_timer(opts().body_timeout, false);
}

void connection::update_read_interest() {
    if (state_ == state::closed) return;
    bool want = false;
    switch (state_) {
    case state::head:
        want = !peer_eof_ && out_.size() < opts().send_high_water;
        break;
    case state::active:
        want = !peer_eof_ && read_buf_.size() < opts().max_pipelined_bytes &&
               !(body_paused_ && read_buf_.size() >= opts().read_buffer_size);
        break;
    case state::lingering:
    case state::tls_handshake:
        want = true;
        break;
    default:
        break;
    }
    std::uint32_t wanted = (interest_ & net::loop::writable) | (want ? net::loop::readable : 0u);
    if (wanted != interest_) {
        interest_ = wanted;
        loop().modify(stream_->native_handle(), this, interest_);
    }
    read_held_soon();
}

void connection::read_held_soon() {
    // A TLS stream may hold decrypted bytes or whole records it read with earlier ones
    // (net::stream::pending()); epoll never announces those, so read them from the
    // deferred phase while reading is wanted. Plain TCP holds nothing.
    if (held_read_scheduled_ || !(interest_ & net::loop::readable) || stream_->pending() == 0) return;
    held_read_scheduled_ = true;
    // The connection is freed in a deferred callback queued after this one (worker::release).
    loop().defer([this] {
        held_read_scheduled_ = false;
        if (state_ != state::closed) on_io(net::loop::readable);
    });
}

// --- timeouts and closing ---------------------------------------------------

void connection::arm_read_timer(std::chrono::milliseconds after, bool is_header_timeout) {
    header_timer_armed_ = is_header_timeout;
    read_timer_.start(after, [this] { on_read_timeout(); });
}

void connection::on_read_timeout() {
    switch (state_) {
    case state::head:
        // RFC 9110 §15.5.9: 408 tells a client that started a request why we close.
        if (!read_buf_.empty()) fail_with_status(http1::status::request_timeout);
        else close_now();
        break;
    case state::active:
        if (!body_done_ && body_reading_) {
            finish_body(make_error_code(error::timeout));
            // The response may already be complete: end the exchange (and close).
            if (state_ == state::active && !in_process_) {
                process();
                if (flush_pending_) flush();
            }
        } else {
            close_now();
        }
        break;
    default:
        close_now();
        break;
    }
}

void connection::on_processing_timer() {
    if (state_ != state::active || response_started_ || switch_pending_) return;
    send_interim(http1::status::processing, {});
    if (state_ == state::active) processing_timer_.restart(opts().processing_interval);
}

void connection::fail_request(std::error_code ec) { fail_with_status(http1::status_for(ec)); }

void connection::start_lingering() {
    if (state_ == state::closed) return;
    if (peer_eof_) {
        close_now();
        return;
    }
    state_ = state::lingering;
    linger_budget_ = linger_max_bytes;
    stream_->shutdown_write();
    read_buf_.clear();
    read_buf_.shrink_if_empty();
    read_timer_.start(std::min(linger_time, opts().header_timeout), [this] { close_now(); });
    update_read_interest();
}

void connection::shutdown_gracefully() {
    graceful_ = true;
    if (state_ == state::head && read_buf_.empty() && out_.empty()) close_now();
    else if (state_ == state::active && !response_started_) keep_alive_ = false;
}

void connection::close_now() {
    if (state_ == state::closed) return;
    // A connection lost while its 101 is queued never reaches the protocol: abort.
    bool const in_exchange = (state_ == state::active && !response_finished_) || state_ == state::switching;
    state_ = state::closed;
    read_timer_.cancel();
    write_timer_.cancel();
    processing_timer_.cancel();
    loop().forget_before_close(stream_->native_handle());
    stream_->close();
    out_.clear();
    if (in_exchange) {
        if (body_reading_ && !body_done_) {
            body_done_ = true;
            auto on_end = std::move(reader_.on_end);
            reader_ = {};
            if (on_end) on_end(make_error_code(error::connection_lost));
        }
        if (auto fn = std::move(on_abort_)) fn();
    }
    worker_.release(this);
}

} // namespace upshift::server::detail
