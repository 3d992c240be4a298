#include "h2c/detail/session.hpp"

#include <sys/uio.h>

#include "h2c/detail/stream_exchange.hpp"

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
    if (h2_) nghttp2_session_del(h2_);
}

void session::start_prior_knowledge(std::shared_ptr<config const> cfg, upgrade::upgraded u) {
    auto* s = new session(std::move(cfg), u);
    if (!s->init()) return;
    s->register_with_loop();
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
    s->register_with_loop();
    bool const head = u.request.method == "HEAD";
    // RFC 7540 §3.2: the HTTP2-Settings payload is applied as if it came in a
    // SETTINGS frame, and the request becomes stream 1, half-closed (remote).
    auto st = std::make_unique<stream_exchange>(*s, 1);
    if (nghttp2_session_upgrade2(s->h2_, reinterpret_cast<std::uint8_t const*>(settings_payload.data()),
                                 settings_payload.size(), head ? 1 : 0, nullptr) != 0) {
        s->close();
        return;
    }
    st->adopt_http1_request(u.request, std::move(body));
    s->streams_.emplace(1, std::move(st));
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
    nghttp2_session_callbacks_set_on_header_callback(cbs, &session::on_header);
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
    int const rv = nghttp2_session_server_new2(&h2_, cbs, this, opt);
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
    };
    nghttp2_submit_settings(h2_, NGHTTP2_FLAG_NONE, iv, std::size(iv));
    nghttp2_session_set_local_window_size(h2_, NGHTTP2_FLAG_NONE, 0,
                                          static_cast<std::int32_t>(o.connection_window));
    return true;
}

void session::register_with_loop() {
    interest_ = net::loop::readable;
    registered_ = true;
    loop_->add(stream_->native_handle(), this, interest_);
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
    auto const high = cfg_->opts.output_high_water;
    for (int round = 0; round < 16; ++round) {
        output_owed_ = false;
        bool produced = false;
        while (out_.size() < high) {
            std::uint8_t const* data = nullptr;
            in_nghttp2_ = true;
            auto const n = nghttp2_session_mem_send(h2_, &data);
            in_nghttp2_ = false;
            if (n < 0) {
                close();
                return;
            }
            if (n == 0) break;
            out_.append(as_view(data, static_cast<std::size_t>(n)));
            produced = true;
        }
        write_out();
        if (closed_) return;
        // Go round again only if the queue emptied while nghttp2 may have more.
        if (!(produced || output_owed_) || !out_.empty()) break;
    }
    maybe_finish();
    update_interest();
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
    for (auto const& [id, st] : streams_)
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
        loop_->remove(stream_->native_handle());
    }
    stream_->close();
    out_.clear();
    // Streams still open are lost: their handlers hear it (on_abort).
    auto open = std::move(streams_);
    streams_.clear();
    for (auto& [id, st] : open) st->on_closed(true);
    // Events for this handler may still be pending in this dispatch.
    loop_->defer([this, open = std::move(open)]() mutable {
        open.clear();
        delete this;
    });
}

// --- nghttp2 callbacks -------------------------------------------------------

stream_exchange* session::find(std::int32_t id) noexcept {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second.get();
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
    nghttp2_session_set_stream_user_data(h2, frame->hd.stream_id, st.get());
    s->streams_[frame->hd.stream_id] = std::move(st);
    return 0;
}

int session::on_header(nghttp2_session*, nghttp2_frame const* frame, std::uint8_t const* name,
                       std::size_t namelen, std::uint8_t const* value, std::size_t valuelen, std::uint8_t,
                       void* user) {
    // Request trailers (a second HEADERS) are accepted and not passed on: the
    // exchange has no API for them.
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    if (auto* st = self(user)->find(frame->hd.stream_id))
        st->add_header(as_view(name, namelen), as_view(value, valuelen));
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
                    // RFC 6585 §5 over HTTP/2: the head was too large to hand to the application.
                    st->respond(static_cast<http1::status>(st->head_error()),
                                {{"Content-Type", "text/plain"}}, "Request Header Fields Too Large\n");
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
    auto it = s->streams_.find(stream_id);
    if (it == s->streams_.end()) return 0;
    auto st = std::move(it->second);
    s->streams_.erase(it);
    st->on_closed(error_code != NGHTTP2_NO_ERROR);
    // The application may be inside a call on this stream: free it later.
    s->loop_->defer([st = std::move(st)]() mutable { st.reset(); });
    return 0;
}

} // namespace upshift::h2c::detail
