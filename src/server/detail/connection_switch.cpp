// Protocol switching on the HTTP/1.1 server connection (RFC 9110 §7.8,
// §15.2.2): the request body is finished in HTTP/1.1 framing, the 101 is
// flushed, and then the stream and every byte read past the request leave
// this connection in one move.
#include <algorithm>

#include "server/detail/connection.hpp"
#include "server/detail/worker.hpp"
#include "upshift/http1/serializer.hpp"
#include "upshift/server/server.hpp"

namespace upshift::server::detail {

std::error_code connection::switch_protocols(upgrade::offer const& chosen, http1::fields extra,
                                             unique_function<void(upgrade::upgraded)> then) {
    if (state_ != state::active) return make_error_code(error::connection_lost);
    if (response_started_ || switch_pending_) return make_error_code(upgrade::error::already_responded);
    if (offers_.empty()) return make_error_code(upgrade::error::not_eligible);
    // RFC 9110 §7.8: the server MUST NOT switch to a protocol the client did not offer.
    bool offered = false;
    for (auto const& o : offers_)
        if (o.is(chosen.name, chosen.version)) offered = true;
    if (!offered) return make_error_code(upgrade::error::not_offered);

    switch_pending_ = true;
    switch_token_ = chosen.token();
    switch_extra_ = std::move(extra);
    switch_then_ = std::move(then);
    if (body_done_) {
        write_switch();
    } else if (!body_reading_) {
        // The body belongs to HTTP/1.1 and is read (and dropped) in its framing
        // first; read_body() sends an owed 100 Continue before it. The switch
        // follows from finish_body().
        read_body({});
    }
    // else: the handler is reading the body; finish_body() continues the switch.
    return {};
}

void connection::write_switch() {
    switch_pending_ = false;
    response_started_ = true;
    status_ = 101;
    state_ = state::switching;
    read_timer_.cancel();
    processing_timer_.cancel();

    auto& b = worker_.scratch();
    b.clear();
    http1::write_status_line(b, 101);
    // RFC 9110 §7.8: a 101 MUST send Upgrade naming the protocol switched to;
    // Upgrade is hop-by-hop, so Connection names it too (RFC 9110 §7.6.1).
    http1::write_field(b, "Upgrade", switch_token_);
    http1::write_field(b, "Connection", "Upgrade");
    for (auto const& [name, value] : switch_extra_) {
        if (ascii::iequals(name, "upgrade") || ascii::iequals(name, "connection") ||
            ascii::iequals(name, "content-length") || ascii::iequals(name, "transfer-encoding"))
            continue;
        http1::write_field(b, name, value);
    }
    http1::write_end_of_head(b);
    out_.append(b.data());
    b.clear();
    switch_extra_.clear();
    // Bytes after the request stay in read_buf_ and the kernel. Reading stops only if the 101
    // cannot be written at once (flush()); usually it leaves now and the hand-off follows,
    // with no epoll change in between. In process() no read happens before the flush.
    if (in_process_) flush_pending_ = true;
    else flush();  // hand_off() runs from flush() once the 101 is written
}

void connection::hand_off() {
    if (tls_switch_) {  // RFC 2817: the connection stays, its stream turns into TLS
        start_tls();
        return;
    }
    upgrade::upgraded u;
    u.protocol = std::move(switch_token_);
    u.remote = remote_;
    u.loop = &loop();
    u.secure = secure_;
    u.request.method = std::string(request_.method_text);
    u.request.target = std::string(request_.target);
    u.request.version_minor = request_.version_minor;
    std::size_t field_bytes = 0;
    for (auto const& f : request_.fields) field_bytes += f.name.size() + f.value.size();
    u.request.headers.reserve(request_.fields.size(), field_bytes);
    for (auto const& f : request_.fields) u.request.headers.add(f.name, f.value);
    u.leftover.assign(read_buf_.data());
    read_buf_.clear();

    log_access();  // status_ is 101, body_sent_ 0
    give_away(std::move(u), std::move(switch_then_));
}

void connection::give_away(upgrade::upgraded u, unique_function<void(upgrade::upgraded)> then) {
    read_timer_.cancel();
    write_timer_.cancel();
    processing_timer_.cancel();
    // The protocol's take_over() on this loop costs no system call if it wants the events the
    // connection had (upgrade contract: it registers the stream with u.loop in `then`, which
    // runs in this iteration); an add() is one EPOLL_CTL_MOD.
    loop().detach(stream_->native_handle());
    u.registered = true;
    u.stream = std::move(stream_);
    state_ = state::closed;
    on_abort_ = nullptr;
    on_drain_ = nullptr;
    worker_.release(this);
    // Outside this connection's call stack: the protocol may register the fd
    // with the loop at once, and this object is freed in the deferred phase.
    if (then) {
        loop().defer([then = std::move(then), u = std::move(u)]() mutable { then(std::move(u)); });
    }
}

connection::preface connection::check_preface() {
    // RFC 9113 §3.4: the client connection preface starts with these 24 octets.
    static constexpr std::string_view h2_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    // RFC 9113 §3.3 prior knowledge is for cleartext; over TLS HTTP/2 is chosen by ALPN.
    if (!opts().prior_knowledge || secure_) {
        preface_checked_ = true;
        return preface::no;
    }
    auto const data = read_buf_.data();
    auto const n = std::min(data.size(), h2_preface.size());
    if (data.substr(0, n) != h2_preface.substr(0, n)) {
        preface_checked_ = true;
        return preface::no;
    }
    // A prefix of the preface waits for more bytes: "PRI * HTTP/2.0" alone is not a request.
    return n == h2_preface.size() ? preface::full : preface::partial;
}

void connection::hand_off_preface() {
    // RFC 9113 §3.3: with prior knowledge there is no 101; the preface and
    // everything after it belong to HTTP/2, so the buffer goes over intact.
    upgrade::upgraded u;
    u.protocol = "h2c";
    u.remote = remote_;
    u.loop = &loop();
    u.secure = secure_;
    u.leftover.assign(read_buf_.data());
    read_buf_.clear();
    header_timer_armed_ = false;
    // The server's options outlive its loops and everything deferred on them.
    give_away(std::move(u), [hook = &opts().prior_knowledge](upgrade::upgraded up) { (*hook)(std::move(up)); });
}

} // namespace upshift::server::detail

namespace upshift::server {

bool accept_upgrade(exchange& ex, upgrade::registry const& r) {
    auto offers = ex.upgrade_offers();
    if (offers.empty()) return false;
    auto sel = r.select(offers, ex.request());
    if (!sel) return false;
    if (sel->refusal) {
        auto& d = *sel->refusal;
        ex.respond(d.status(), std::move(d.fields()), std::move(d.body()));
        return true;
    }
    auto ec = ex.switch_protocols(*sel->chosen, std::move(sel->extra),
                                  [proto = sel->proto](upgrade::upgraded u) { proto->start(std::move(u)); });
    return !ec;
}

} // namespace upshift::server
