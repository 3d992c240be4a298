#include "h2c/detail/session.hpp"

#include <sys/uio.h>

#include <algorithm>

#include "h2c/detail/nghttp2_pool.hpp"
#include "h2c/detail/stream_exchange.hpp"
#include "upshift/http1/serializer.hpp"

namespace upshift::h2c::detail {
namespace {

constexpr std::size_t read_chunk = 16 * 1024;

session* self(void* user) noexcept { return static_cast<session*>(user); }

std::string_view as_view(std::uint8_t const* p, std::size_t n) noexcept {
    return {reinterpret_cast<char const*>(p), n};
}

} // namespace

session::session(std::shared_ptr<config const> cfg, upgrade::upgraded& u)
    : cfg_(std::move(cfg)), stream_(std::move(u.stream)), loop_(u.loop), remote_(std::move(u.remote)), secure_(u.secure),
      leftover_(std::move(u.leftover)), idle_(*u.loop) {}

session::~session() {
    // Streams hold nghttp2's header buffers: they go first.
    streams_.clear();
    graveyard_.clear();
    if (h2_) nghttp2_session_del(h2_);
}

void session::start_prior_knowledge(std::shared_ptr<config const> cfg, upgrade::upgraded u) {
    auto* s = new session(std::move(cfg), u);
    if (!s->init()) return;
    s->register_with_loop(u.registered);
    // The preface itself is in leftover: nghttp2 checks it (RFC 9113 §3.4).
    std::string first = std::move(s->leftover_);
    s->leftover_.clear();
    s->feed(first);
    s->flush();
}

void session::start_upgraded(std::shared_ptr<config const> cfg, upgrade::upgraded u,
                             std::string const& settings_payload, std::string body) {
    auto* s = new session(std::move(cfg), u);
    if (!s->init()) return;
    s->register_with_loop(u.registered);
    bool const head = u.request.method == "HEAD";
    // RFC 7540 §3.2: the HTTP2-Settings payload is applied as if it came in a
    // SETTINGS frame, and the request becomes stream 1, half-closed (remote).
    auto st = std::make_unique<stream_exchange>(*s, 1);
    if (nghttp2_session_upgrade2(s->h2_, reinterpret_cast<std::uint8_t const*>(settings_payload.data()),
                                 settings_payload.size(), head ? 1 : 0, nullptr) != 0) {
        s->close();
        return;
    }
    // nghttp2 keeps upgrade2's stream_user_data for clients only: set it here (find()).
    nghttp2_session_set_stream_user_data(s->h2_, 1, st.get());
    st->adopt_http1_request(u.request, std::move(body));
    s->streams_.push_back(std::move(st));
    // Stream 1 is answered once the client's preface (its SETTINGS) has arrived,
    // not at once: a response sent right behind the 101 can land in the client's
    // HTTP/1.1 read buffer, and curl 7.88 fails (error 16) when more than 32 KiB
    // of HTTP/2 follows the 101 there. The client sends its preface at once anyway.
    s->upgrade_pending_ = true;
    // RFC 7540 §3.5: the client's preface follows the 101 (maybe already read).
    std::string first = std::move(s->leftover_);
    s->leftover_.clear();
    if (!first.empty()) s->feed(first);
    s->flush();
}

bool session::init() {
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &session::on_begin_headers);
    // The _callback2 form hands over reference-counted buffers: a stream keeps
    // them instead of copying every name and value.
    nghttp2_session_callbacks_set_on_header_callback2(cbs, &session::on_header);
    nghttp2_session_callbacks_set_send_data_callback(cbs, &session::send_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &session::on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &session::on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &session::on_stream_close);

    auto const& o = cfg_->opts;
    nghttp2_option* opt = nullptr;
    nghttp2_option_new(&opt);
    // Windows reopen only as the handler takes body bytes (stream_exchange::consume).
    nghttp2_option_set_no_auto_window_update(opt, 1);
    // CVE-2023-44487: a client that opens and resets streams faster than this gets GOAWAY.
    nghttp2_option_set_stream_reset_rate_limit(opt, o.reset_burst, o.reset_rate);
    // CVE-2024-28182: a header block may not go on in CONTINUATION frames forever.
    nghttp2_option_set_max_continuations(opt, o.max_continuations);
    // Closed streams are kept only to place new streams in the RFC 7540 priority
    // tree, which RFC 9113 §5.3.1 deprecates and which this server does not use.
    nghttp2_option_set_no_closed_streams(opt, 1);
    // Small blocks nghttp2 makes and frees per stream come from per-thread free lists.
    int const rv = nghttp2_session_server_new3(&h2_, cbs, this, opt, session_nghttp2_mem());
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cbs);
    if (rv != 0) {
        h2_ = nullptr;
        close();
        return false;
    }
    // The server connection preface (RFC 9113 §3.4) is this SETTINGS frame.
    nghttp2_settings_entry const iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, o.max_concurrent_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, o.stream_window},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, o.max_header_list_size},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        // RFC 9218 §2.1: no RFC 7540 priority signals; streams are served in order.
        {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
    };
    nghttp2_submit_settings(h2_, NGHTTP2_FLAG_NONE, iv, std::size(iv));
    nghttp2_session_set_local_window_size(h2_, NGHTTP2_FLAG_NONE, 0,
                                          static_cast<std::int32_t>(o.connection_window));
    return true;
}

void session::register_with_loop(bool registered) {
    interest_ = net::loop::readable;
    registered_ = true;
    loop_->take_over(stream_->native_handle(), this, interest_, registered);
    loop_->watch_shutdown(this);
    idle_.start(cfg_->opts.idle_timeout, [this] { on_idle(); });
}

// --- input -------------------------------------------------------------------

void session::on_io(std::uint32_t events) {
    if (closed_) return;
    if (events & net::loop::writable) flush();
    if (closed_) return;
    if (events & (net::loop::readable | net::loop::hangup | net::loop::error | net::loop::rdhangup))
        on_readable();
}

void session::on_readable() {
    // On the stack: nghttp2 keeps nothing of the input past mem_recv, so an
    // idle connection holds no read buffer.
    char buf[read_chunk];
    for (int i = 0; i < 4 && !closed_; ++i) {
        auto r = stream_->read({buf, sizeof buf});
        if (r.bytes > 0) {
            touch();
            feed({buf, r.bytes});
            // Out at once, per read: a GOAWAY nghttp2 queued against a flood
            // (rapid reset, CONTINUATION) ends the connection before the next read.
            flush();
            if (closed_ || out_.size() >= cfg_->opts.output_high_water) break;
            // A short read emptied the socket: another recv would only say EAGAIN (half of all
            // recv calls under h2load). Epoll is level-triggered and reports what comes next;
            // bytes a TLS stream still holds are read from the deferred phase (read_held_soon).
            if (r.bytes < sizeof buf) break;
            continue;
        }
        if (r.ec == std::errc::operation_would_block) break;
        // EOF or an error: an HTTP/2 client that stops sending has left; what
        // it has not received yet it can no longer ask for.
        peer_eof_ = true;
        close();
        return;
    }
    if (!closed_) flush();
}

void session::feed(std::string_view bytes) {
    if (closed_) return;
    in_nghttp2_ = true;
    auto const rv =
        nghttp2_session_mem_recv(h2_, reinterpret_cast<std::uint8_t const*>(bytes.data()), bytes.size());
    in_nghttp2_ = false;
    if (rv < 0) {
        // A connection error (bad preface, flood, protocol violation): nghttp2
        // has queued GOAWAY where it could; send what we can, then close.
        nghttp2_session_terminate_session(h2_, NGHTTP2_PROTOCOL_ERROR);
        flush();
        close();
    }
}

// --- output ------------------------------------------------------------------

void session::flush() {
    if (closed_) return;
    if (in_nghttp2_) {
        output_owed_ = true;
        return;
    }
    for (int round = 0; round < 16; ++round) {
        output_owed_ = false;
        bool const produced = produce_output();
        if (closed_) return;
        write_out();
        if (closed_) return;
        // Go round again only if the queue emptied while nghttp2 may have more.
        if (!(produced || output_owed_) || !out_.empty()) break;
    }
    maybe_finish();
    update_interest();
}

bool session::produce_output() {
    // One buffer per loop thread, reused by every session: output is gathered
    // there (frames of every stream together) and written with one call; no
    // allocation and no second copy unless the socket does not take it all.
    // Another session flushing from inside this one's callbacks (an application
    // answering across connections) finds it busy and uses its own out_.
    thread_local gather scratch;
    thread_local bool scratch_busy = false;
    bool const direct = out_.empty() && !scratch_busy;
    if (direct) {
        scratch_busy = true;
        scratch.clear();
        sink_ = &scratch;
    }
    bool produced = false;
    bool failed = false;
    while (pending_output() < cfg_->opts.output_high_water) {
        std::uint8_t const* data = nullptr;
        in_nghttp2_ = true;
        auto const n = nghttp2_session_mem_send(h2_, &data);
        in_nghttp2_ = false;
        if (n < 0) {
            failed = true;
            break;
        }
        if (n == 0) break;
        queue_output(as_view(data, static_cast<std::size_t>(n)));
        produced = true;
    }
    if (direct) {
        sink_ = nullptr;
        std::size_t written = 0;
        while (!failed && written < scratch.size()) {
            iovec iov[64];
            int const cnt = scratch.fill(iov, 64, written);
            auto r = stream_->writev({iov, static_cast<std::size_t>(cnt)});
            if (r.bytes > 0) {
                written += r.bytes;
                touch();
                continue;
            }
            if (r.ec != std::errc::operation_would_block) failed = true;
            break;
        }
        // What the socket did not take is copied: the bodies referred to may change or go.
        if (!failed) scratch.for_each_after(written, [this](std::string_view rest) { out_.append(rest); });
        scratch.clear();
        scratch_busy = false;
        // A burst (up to output_high_water) should not pin its memory to the thread.
        scratch.trim(256 * 1024);
    }
    if (failed) close();
    return produced;
}

void session::write_out() {
    while (!out_.empty()) {
        iovec iov[16];
        int const cnt = out_.fill(iov, 16);
        auto r = stream_->writev({iov, static_cast<std::size_t>(cnt)});
        if (r.bytes > 0) {
            out_.consume(r.bytes);
            touch();
            continue;
        }
        if (r.ec == std::errc::operation_would_block) break;
        close();
        return;
    }
    if (out_.empty()) out_.shrink();
}

void session::update_interest() {
    if (closed_) return;
    std::uint32_t wanted = 0;
    if (!out_.empty()) wanted |= net::loop::writable;
    // A client that does not read its responses is not read from either.
    if (out_.size() < cfg_->opts.output_high_water) wanted |= net::loop::readable;
    if (wanted != interest_) {
        interest_ = wanted;
        loop_->modify(stream_->native_handle(), this, interest_);
    }
    // Every path that leaves reading wanted ends here (after a bounded read, a
    // resume after back-pressure, the start with leftover bytes).
    read_held_soon();
}

void session::read_held_soon() {
    // A TLS stream may hold decrypted bytes or whole records read with earlier ones
    // (net::stream::pending()); epoll never announces those, so they are read from
    // the deferred phase while reading is wanted. Plain TCP holds nothing.
    if (closed_ || held_read_queued_ || !(interest_ & net::loop::readable) || stream_->pending() == 0) return;
    held_read_queued_ = true;
    // The reap (schedule_reap) does not free the session while this is queued;
    // a session closed meanwhile is reaped from here.
    loop_->defer([this] {
        held_read_queued_ = false;
        if (closed_) {
            schedule_reap();
            return;
        }
        if (interest_ & net::loop::readable) on_readable();
    });
}

void session::maybe_finish() {
    if (closed_ || !out_.empty()) return;
    bool const done = !nghttp2_session_want_read(h2_) && !nghttp2_session_want_write(h2_);
    if (done || (going_away_ && streams_.empty())) close();
}

// --- time and shutdown -------------------------------------------------------

void session::touch() {
    if (!closed_) idle_.restart(cfg_->opts.idle_timeout);
}

void session::on_idle() {
    if (closed_) return;
    // Nothing moved for idle_timeout. A handler still working on a stream keeps
    // the connection (a long poll), unless the client is the one stalling: it
    // stopped reading what is queued for it, keeps a stream's window shut while
    // response bytes wait, or never sent the preface stream 1 of an upgrade waits for.
    bool client_stalls = !out_.empty() || upgrade_pending_;
    for (auto const& st : streams_)
        if (st->buffered_amount() > 0) client_stalls = true;
    if (!streams_.empty() && !client_stalls) {
        touch();
        return;
    }
    // RFC 9113 §6.8: say goodbye before closing an idle connection.
    nghttp2_session_terminate_session(h2_, NGHTTP2_NO_ERROR);
    flush();
    close();
}

void session::on_shutdown(bool force) noexcept {
    if (closed_) return;
    if (force) {
        close();
        return;
    }
    if (going_away_) return;
    going_away_ = true;
    // RFC 9113 §6.8: GOAWAY names the last stream that will be answered; the
    // streams up to it finish, later ones are refused; then the connection closes.
    nghttp2_submit_goaway(h2_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(h2_),
                          NGHTTP2_NO_ERROR, nullptr, 0);
    flush();
}

void session::close() {
    if (closed_) return;
    closed_ = true;
    idle_.cancel();
    if (registered_) {
        loop_->unwatch_shutdown(this);
        // Closed right below, which takes it out of the epoll set: no EPOLL_CTL_DEL.
        loop_->forget_before_close(stream_->native_handle());
    }
    stream_->close();
    out_.clear();
    // Streams still open are lost: their handlers hear it (on_abort).
    auto open = std::move(streams_);
    streams_.clear();
    for (auto& st : open) st->on_closed(true);
    for (auto& st : open) graveyard_.push_back(std::move(st));
    // Events for this handler may still be pending in this dispatch.
    schedule_reap();
}

void session::schedule_reap() {
    if (reap_scheduled_) return;
    reap_scheduled_ = true;
    loop_->defer([this] {
        reap_scheduled_ = false;
        graveyard_.clear();
        // A queued held read still refers to the session: it reaps it when it runs.
        if (closed_ && !held_read_queued_) delete this;
    });
}

std::string_view session::http_date() {
    auto const now = loop_->unix_now();
    if (now != date_second_) {
        date_second_ = now;
        date_ = http1::format_http_date(now, date_buf_);
    }
    return date_;
}

// --- nghttp2 callbacks -------------------------------------------------------

stream_exchange* session::find(std::int32_t id) noexcept {
    if (closed_) return nullptr;
    // A request's fields arrive one callback each, all for the same stream: the last
    // stream found is remembered, which spares nghttp2's stream map a lookup per field.
    if (id == found_id_ && found_) return found_;
    auto* st = static_cast<stream_exchange*>(nghttp2_session_get_stream_user_data(h2_, id));
    found_id_ = id;
    found_ = st;
    return st;
}

void session::dispatch(stream_exchange& s) {
    try {
        cfg_->app(s);
    } catch (...) {
        // As over HTTP/1.1: no exception reaches the loop; 500 if nothing was
        // sent yet, else the stream is reset.
        if (s.closed()) return;
        if (!s.responded())
            s.respond(http1::status::internal_server_error, {{"Content-Type", "text/plain"}},
                      "Internal Server Error\n");
        else if (!s.complete())
            nghttp2_submit_rst_stream(h2_, NGHTTP2_FLAG_NONE, s.id(), NGHTTP2_INTERNAL_ERROR);
    }
}

int session::on_begin_headers(nghttp2_session* h2, nghttp2_frame const* frame, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    auto* s = self(user);
    auto st = std::make_unique<stream_exchange>(*s, frame->hd.stream_id);
    auto* const raw = st.get();
    nghttp2_session_set_stream_user_data(h2, frame->hd.stream_id, raw);
    s->streams_.push_back(std::move(st));
    s->found_id_ = frame->hd.stream_id; // its fields come next
    s->found_ = raw;
    return 0;
}

int session::on_header(nghttp2_session*, nghttp2_frame const* frame, nghttp2_rcbuf* name,
                       nghttp2_rcbuf* value, std::uint8_t, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    // NGHTTP2_HCAT_HEADERS on a request stream: trailers, a HEADERS block after
    // DATA that ends the stream (nghttp2 has checked both, RFC 9113 §8.1).
    bool const trailer = frame->headers.cat == NGHTTP2_HCAT_HEADERS;
    if (!trailer && frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    if (auto* st = self(user)->find(frame->hd.stream_id)) st->add_header(name, value, trailer);
    return 0;
}

int session::send_data(nghttp2_session*, nghttp2_frame* frame, std::uint8_t const* framehd, std::size_t length,
                       nghttp2_data_source* source, void*) {
    // Only stream_exchange::produce asks for NO_COPY, with itself as the source.
    static_cast<stream_exchange*>(source->ptr)->send_data(framehd, length, frame->data.padlen);
    return 0;
}

int session::on_frame_recv(nghttp2_session*, nghttp2_frame const* frame, void* user) {
    auto* s = self(user);
    bool const end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
        case NGHTTP2_HEADERS: {
            auto* st = s->find(frame->hd.stream_id);
            if (!st) return 0;
            if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
                if (st->complete_head(end_stream)) {
                    s->dispatch(*st);
                } else {
                    // The head cannot go to the application: too large (RFC 6585 §5)
                    // or an unknown expectation (RFC 9110 §10.1.1).
                    st->answer_head_error();
                }
                return 0;
            }
            if (end_stream) st->on_end_of_body(); // trailers end the body
            return 0;
        }
        case NGHTTP2_SETTINGS:
            if (s->upgrade_pending_ && (frame->hd.flags & NGHTTP2_FLAG_ACK) == 0) {
                s->upgrade_pending_ = false;
                if (auto* st = s->find(1)) s->dispatch(*st);
            }
            return 0;
        case NGHTTP2_DATA:
            if (end_stream) {
                if (auto* st = s->find(frame->hd.stream_id)) st->on_end_of_body();
            }
            return 0;
        default: return 0;
    }
}

int session::on_data_chunk(nghttp2_session*, std::uint8_t, std::int32_t stream_id, std::uint8_t const* data,
                           std::size_t len, void* user) {
    auto* s = self(user);
    if (auto* st = s->find(stream_id))
        st->on_data(as_view(data, len));
    else
        nghttp2_session_consume_connection(s->h2_, len); // a stream we no longer track
    return 0;
}

int session::on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t error_code, void* user) {
    auto* s = self(user);
    auto* const found = s->find(stream_id);
    if (!found) return 0;
    nghttp2_session_set_stream_user_data(s->h2_, stream_id, nullptr);
    s->found_ = nullptr;
    // Streams tend to close in the order they opened: look from the front.
    auto it = std::find_if(s->streams_.begin(), s->streams_.end(), [found](auto const& p) { return p.get() == found; });
    if (it == s->streams_.end()) return 0;
    auto st = std::move(*it);
    s->streams_.erase(it);
    st->on_closed(error_code != NGHTTP2_NO_ERROR);
    // The application may be inside a call on this stream: free it later.
    s->graveyard_.push_back(std::move(st));
    s->schedule_reap();
    return 0;
}

} // namespace upshift::h2c::detail
