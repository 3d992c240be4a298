// Output side of the HTTP/1.1 server connection: final responses (whole or
// streamed), interim 1xx responses, the write queue and its flushing.
#include <algorithm>

#include "server/detail/connection.hpp"
#include "server/detail/worker.hpp"
#include "upshift/base/token_list.hpp"
#include "upshift/http1/serializer.hpp"
#include "upshift/server/server.hpp"

namespace upshift::server::detail {

namespace {

// RFC 9110 §6.4.1: 1xx, 204 and 304 responses never carry content.
bool status_has_body(unsigned code) noexcept {
    return !(code < 200 || code == 204 || code == 304);
}

bool is_framing_field(std::string_view name) noexcept {
    return ascii::iequals(name, "content-length") || ascii::iequals(name, "transfer-encoding");
}

} // namespace

std::error_code connection::send_interim(http1::status s, http1::fields const& f) {
    unsigned const code = http1::to_int(s);
    if (!http1::is_informational(code) || code == 101) return make_error_code(error::bad_interim_status);
    if (state_ != state::active) return make_error_code(error::connection_lost);
    if (response_started_) return make_error_code(error::interim_after_final);
    // RFC 9110 §15.2: a server MUST NOT send a 1xx response to an HTTP/1.0 client.
    if (!request_.is_http11_or_later()) return make_error_code(error::interim_to_http10);
    if (code == 100) {
        if (!continue_owed_) return {};  // 100 already sent, or nothing to continue
        continue_owed_ = false;
    }
    auto& b = worker_.scratch();
    b.clear();
    http1::write_status_line(b, code);
    for (auto const& [name, value] : f) {
        // RFC 9110 §8.6 and RFC 9112 §6.1: a 1xx MUST NOT carry Content-Length or
        // Transfer-Encoding; a handler's are dropped, as HTTP/2 drops them (RFC 9113 §8.2.2).
        if (is_framing_field(name)) continue;
        http1::write_field(b, name, value);
    }
    http1::write_end_of_head(b);
    out_.append(b.data());
    b.clear();
    // Interim responses go out at once: the client may be waiting on them.
    flush();
    return {};
}

void connection::write_head(unsigned code, http1::fields const& headers, std::optional<std::uint64_t> length) {
    response_started_ = true;
    processing_timer_.cancel();
    status_ = code;
    continue_owed_ = continue_owed_ && !body_done_;
    if (!body_done_) {
        // An unread body we will not read: with 100-continue owed the client may
        // never send it, and a large one costs more to drain than to reconnect.
        if (continue_owed_) keep_alive_ = false;
        else if (body_mode_ == body_mode::length && body_remaining_ > 256 * 1024 && !body_reading_)
            keep_alive_ = false;
    }
    if (graceful_) keep_alive_ = false;
    if (!offers_.empty()) {
        // A declined upgrade: bytes already after the request may be optimistic
        // data in the offered protocol; they must never be parsed as HTTP.
        bool const trailing = body_done_ || body_mode_ != body_mode::length ? !read_buf_.empty()
                                                                             : read_buf_.size() > body_remaining_;
        if (trailing) keep_alive_ = false;
    }

    bool const body_allowed = status_has_body(code);
    if (!body_allowed || head_request_) {
        framing_ = framing::length;
    } else if (length) {
        framing_ = framing::length;
    } else if (request_.is_http11_or_later()) {
        framing_ = framing::chunked;
    } else {
        framing_ = framing::close_delimited;
        keep_alive_ = false;
    }

    auto& b = worker_.scratch();
    b.clear();
    http1::write_status_line(b, code);
    bool has_date = false, has_server = false, user_length = false, has_upgrade = false;
    std::string_view user_connection;
    for (auto const& [name, value] : headers) {
        if (ascii::iequals(name, "connection")) {
            user_connection = value;
            continue;
        }
        if (is_framing_field(name)) {
            // A HEAD or 304 answer may state the length of the representation
            // it does not send (RFC 9110 §8.6); otherwise we frame the body.
            if ((head_request_ || code == 304) && !length.value_or(0) && ascii::iequals(name, "content-length")) {
                http1::write_field(b, name, value);
                user_length = true;
            }
            continue;
        }
        if (ascii::iequals(name, "date")) has_date = true;
        if (ascii::iequals(name, "server")) has_server = true;
        if (ascii::iequals(name, "upgrade")) has_upgrade = true;
        http1::write_field(b, name, value);
    }
    if (user_connection.size() && list_contains_token(user_connection, "close")) keep_alive_ = false;
    // RFC 9110 §15.5.22: a 426 MUST carry Upgrade; name the registered protocols.
    if (code == 426 && !has_upgrade && opts().protocols && !opts().protocols->empty()) {
        http1::write_field(b, "Upgrade", opts().protocols->advertise());
        has_upgrade = true;
    }
    // RFC 9110 §7.8: advertised protocols (options::advertise_upgrade); an HTTP/1.0
    // client could not use them (a server ignores Upgrade in an HTTP/1.0 request).
    // Not over TLS: the advertised protocol is h2c, which RFC 9113 §3.1 keeps to cleartext.
    if (!has_upgrade && !secure_ && !opts().advertise_upgrade.empty() && request_.is_http11_or_later()) {
        http1::write_field(b, "Upgrade", opts().advertise_upgrade);
        has_upgrade = true;
    }
    if (!has_date && opts().date_header) http1::write_field(b, "Date", worker_.date());
    if (!has_server && !opts().server_header.empty()) http1::write_field(b, "Server", opts().server_header);

    if (body_allowed && !user_length) {
        if (framing_ == framing::chunked && !head_request_) http1::write_field(b, "Transfer-Encoding", "chunked");
        else if (length || code != 304) {
            // RFC 9110 §8.6: a server MUST NOT send Content-Length in a 204 (excluded above).
            // A HEAD answer of unknown length states none: RFC 9110 §8.6 forbids a Content-Length
            // other than the one GET would send, and 0 would be a lie.
            if (length || (framing_ == framing::length && !head_request_))
                http1::write_content_length(b, length.value_or(0));
        }
    }

    std::string conn(user_connection);
    auto add_token = [&conn](std::string_view t) {
        if (!conn.empty()) conn += ", ";
        conn += t;
    };
    // RFC 9110 §7.8: a sender of Upgrade MUST also send the "upgrade" connection option.
    if (has_upgrade && !list_contains_token(conn, "upgrade")) add_token("upgrade");
    if (!keep_alive_) {
        if (!list_contains_token(conn, "close")) add_token("close");
    } else if (!request_.is_http11_or_later() && !list_contains_token(conn, "keep-alive")) {
        add_token("keep-alive");  // RFC 9112 §9.3: HTTP/1.0 persistence must be announced
    }
    if (!conn.empty()) http1::write_field(b, "Connection", conn);
    http1::write_end_of_head(b);
    out_.append(b.data());
    b.clear();
}

void connection::respond(http1::status s, http1::fields const& headers, std::string body) {
    if (state_ != state::active || response_started_ || switch_pending_) return;
    unsigned code = http1::to_int(s);
    if (code < 200 || code > 999) code = 500;  // 1xx go through send_interim / switch_protocols
    write_head(code, headers, body.size());
    if (status_has_body(code) && !head_request_) {
        body_sent_ = body.size();
        out_.append(std::move(body));
    }
    response_finished_ = true;
    if (in_process_) {
        flush_pending_ = true;
    } else {
        process();
        flush();
    }
}

response_writer& connection::start_response(http1::status s, http1::fields const& headers,
                                            std::optional<std::uint64_t> content_length) {
    if (state_ == state::active && !response_started_ && !switch_pending_) {
        unsigned code = http1::to_int(s);
        if (code < 200 || code > 999) code = 500;
        declared_length_ = content_length;
        write_head(code, headers, content_length);
        if (!in_process_) flush();
        else flush_pending_ = true;
    }
    return *this;
}

bool connection::write(std::string_view data) {
    if (state_ == state::closed || !response_started_ || response_finished_) return false;
    if (head_request_ || !status_has_body(status_) || data.empty()) return true;
    if (framing_ == framing::length) {
        // Never send more than the declared length: the excess would be read
        // as the start of the next response.
        std::uint64_t const limit = declared_length_.value_or(0);
        if (body_sent_ >= limit) return out_.size() < opts().send_high_water;
        data = data.substr(0, static_cast<std::size_t>(std::min<std::uint64_t>(data.size(), limit - body_sent_)));
        out_.append(data);
    } else if (framing_ == framing::chunked) {
        auto& b = worker_.scratch();
        b.clear();
        http1::write_chunk_header(b, data.size());
        out_.append(b.data());
        b.clear();
        out_.append(data);
        out_.append(std::string_view("\r\n"));
    } else {
        out_.append(data);
    }
    body_sent_ += data.size();
    if (in_process_) flush_pending_ = true;
    else flush();
    return state_ != state::closed && out_.size() < opts().send_high_water;
}

void connection::finish(http1::fields const& trailers) {
    if (state_ != state::active || !response_started_ || response_finished_) return;
    if (!head_request_ && status_has_body(status_)) {
        if (framing_ == framing::chunked) {
            auto& b = worker_.scratch();
            b.clear();
            http1::write_last_chunk(b, trailers);
            out_.append(b.data());
            b.clear();
        } else if (framing_ == framing::length && body_sent_ != declared_length_.value_or(0)) {
            keep_alive_ = false;  // short body: the framing is broken, close to signal it
        }
    }
    response_finished_ = true;
    if (in_process_) {
        flush_pending_ = true;
    } else {
        process();
        flush();
    }
}

void connection::log_access() {
    auto const& log = opts().access_log;
    if (!log) return;
    access_entry e;
    e.remote = remote_;
    e.method = request_.method_text;
    e.target = request_.target;
    e.version_minor = request_.version_minor;
    e.status = status_;
    e.body_bytes = body_sent_;
    e.duration = std::chrono::duration_cast<std::chrono::microseconds>(net::clock::now() - started_);
    log(e);
}

void connection::end_exchange() {
    log_access();
    if (!offers_.empty()) {
        // Same rule as in write_head(), for bytes that arrived while answering.
        if (!read_buf_.empty()) keep_alive_ = false;
        offers_.clear();
    }
    on_abort_ = nullptr;
    on_drain_ = nullptr;
    reader_ = {};
    trailers_.reset();
    parser_.reset();
    request_ = {};
    declared_length_.reset();
    if (!keep_alive_ || graceful_) {
        state_ = state::closing;
        if (out_.empty()) start_lingering();
        return;
    }
    state_ = state::head;
    if (read_buf_.empty()) {
        read_buf_.shrink_if_empty();  // idle keep-alive connections hold no buffer
        arm_read_timer(opts().idle_timeout, false);
    } else {
        arm_read_timer(opts().header_timeout, true);
    }
}

void connection::fail_with_status(http1::status s) {
    if (state_ == state::closed) return;
    if (state_ == state::active && !response_started_) {
        keep_alive_ = false;
        respond(s, {{"Content-Type", "text/plain"}}, std::string(http1::reason_phrase(s)) + "\n");
        return;
    }
    // A request we could not parse: canned response, then close. Any bytes that
    // follow are never interpreted (framing can no longer be trusted).
    auto& b = worker_.scratch();
    b.clear();
    http1::write_status_line(b, http1::to_int(s));
    http1::write_field(b, "Content-Type", "text/plain");
    auto reason = http1::reason_phrase(s);
    http1::write_content_length(b, reason.size() + 1);
    if (opts().date_header) http1::write_field(b, "Date", worker_.date());
    if (!opts().server_header.empty()) http1::write_field(b, "Server", opts().server_header);
    http1::write_field(b, "Connection", "close");
    http1::write_end_of_head(b);
    b.append(reason);
    b.append("\n");
    out_.append(b.data());
    b.clear();
    status_ = http1::to_int(s);
    state_ = state::closing;
    keep_alive_ = false;
    read_timer_.cancel();
    header_timer_armed_ = false;
    flush();
}

// --- writing ---------------------------------------------------------------

void connection::flush() {
    flush_pending_ = false;
    if (flushing_ || state_ == state::closed) return;
    flushing_ = true;
    bool blocked = false;
    for (;;) {
        while (!out_.empty()) {
            iovec iov[16];
            int const n = out_.fill(iov, 16);
            auto r = stream_->writev({iov, static_cast<std::size_t>(n)});
            if (r.bytes > 0) {
                out_.consume(r.bytes);
                if (write_timer_.active()) write_timer_.restart(opts().write_timeout);
                continue;
            }
            if (r.ec == std::errc::operation_would_block) {
                blocked = true;
                break;
            }
            flushing_ = false;
            close_now();  // EPIPE, ECONNRESET...: the peer is gone
            return;
        }
        // The queue drained: pipelined requests held back while it was above
        // send_high_water (see process()), and reading, resume here; no other
        // event would wake them.
        if (blocked || state_ != state::head || in_process_) break;
        process();
        if (state_ == state::closed) {
            flushing_ = false;
            return;
        }
        if (out_.empty()) break;
    }
    flushing_ = false;
    if (!blocked && state_ == state::switching) {
        hand_off();  // the 101 is on the wire
        return;
    }
    if (blocked) {
        // A 101 that did not leave at once: stop reading until it has (the bytes after the
        // request stay in read_buf_ and the kernel for the protocol).
        if (state_ == state::switching) update_read_interest();
        set_write_interest(true);
        if (!write_timer_.active()) write_timer_.start(opts().write_timeout, [this] { close_now(); });
        return;
    }
    set_write_interest(false);
    write_timer_.cancel();
    if (state_ == state::closing) {
        // Everything queued in the closing state is final: the response is out.
        start_lingering();
        return;
    }
    if (on_drain_ && out_.size() < opts().send_high_water / 2) {
        auto fn = std::move(on_drain_);
        fn();
    }
}

void connection::on_writable() {
    flush();
    if (state_ == state::closed) return;
    // Responses may have been held back while the queue was above the high-water mark.
    if (state_ == state::head && !read_buf_.empty()) {
        process();
        if (flush_pending_) flush();
    } else {
        update_read_interest();
    }
}

void connection::set_write_interest(bool on) {
    if (state_ == state::closed) return;
    std::uint32_t wanted = on ? (interest_ | net::loop::writable) : (interest_ & ~net::loop::writable);
    if (wanted != interest_) {
        interest_ = wanted;
        loop().modify(stream_->native_handle(), this, interest_);
    }
}

} // namespace upshift::server::detail
