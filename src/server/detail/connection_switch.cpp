// Protocol switching on the HTTP/1.1 server connection (RFC 9110 §7.8,
// §15.2.2): the request body is finished in HTTP/1.1 framing, the 101 is
// flushed, and then the stream and every byte read past the request leave
// this connection in one move.
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
    // Bytes after the request stay in read_buf_ and the kernel: stop reading.
    update_read_interest();
    if (in_process_) flush_pending_ = true;
    else flush();  // hand_off() runs from flush() once the 101 is written
}

void connection::hand_off() {
    upgrade::upgraded u;
    u.protocol = std::move(switch_token_);
    u.remote = remote_;
    u.loop = &loop();
    u.request.method = std::string(request_.method_text);
    u.request.target = std::string(request_.target);
    u.request.version_minor = request_.version_minor;
    for (auto const& f : request_.fields) u.request.headers.add(f.name, f.value);
    u.leftover.assign(read_buf_.data());
    read_buf_.clear();

    log_access();  // status_ is 101, body_sent_ 0

    read_timer_.cancel();
    write_timer_.cancel();
    loop().remove(stream_->native_handle());
    u.stream = std::move(stream_);
    state_ = state::closed;
    on_abort_ = nullptr;
    on_drain_ = nullptr;
    auto then = std::move(switch_then_);
    worker_.release(this);
    // Outside this connection's call stack: the protocol may register the fd
    // with the loop at once, and this object is freed in the deferred phase.
    if (then) {
        loop().defer([then = std::move(then), u = std::move(u)]() mutable { then(std::move(u)); });
    }
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
