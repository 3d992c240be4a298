#include "upshift/upgrade/raw_channel.hpp"

#include <sys/uio.h>

namespace upshift::upgrade {

raw_channel* raw_channel::open(upgraded u, callbacks cb, raw_channel_options opt) {
    bool const registered = u.registered;
    auto* ch = new raw_channel(std::move(u), std::move(cb), opt);
    ch->start(registered);
    return ch;
}

raw_channel::raw_channel(upgraded u, callbacks cb, raw_channel_options opt)
    : stream_(std::move(u.stream)),
      loop_(u.loop),
      cb_(std::move(cb)),
      opt_(opt),
      request_(std::move(u.request)),
      protocol_(std::move(u.protocol)),
      remote_(std::move(u.remote)),
      leftover_(std::move(u.leftover)),
      idle_(*u.loop) {}

void raw_channel::start(bool registered) {
    interest_ = net::loop::readable;
    loop_->take_over(stream_->native_handle(), this, interest_, registered);
    loop_->watch_shutdown(this);
    idle_.start(opt_.idle_timeout, [this] { finish(std::make_error_code(std::errc::timed_out)); });
    if (!leftover_.empty()) {
        // Deferred so that open() returns before the first on_data; and these
        // bytes come before anything read from the socket, which can only be
        // dispatched in a later iteration.
        loop_->defer([this] {
            if (closed_) return;
            std::string first = std::move(leftover_);
            leftover_.clear();
            deliver(first);
        });
    }
}

void raw_channel::deliver(std::string_view data) {
    touch();
    if (cb_.on_data) cb_.on_data(*this, data);
}

void raw_channel::touch() {
    if (!closed_) idle_.restart(opt_.idle_timeout);
}

void raw_channel::on_io(std::uint32_t events) {
    if (closed_) return;
    if (events & net::loop::writable) flush();
    if (closed_) return;
    if (events & (net::loop::readable | net::loop::hangup | net::loop::error | net::loop::rdhangup)) on_readable();
}

void raw_channel::on_readable() {
    // The leftover goes first; socket data waits until it is delivered.
    if (!leftover_.empty()) return;
    in_.resize(opt_.read_chunk);
    for (int i = 0; i < 4 && !closed_; ++i) {
        auto r = stream_->read({in_.data(), in_.size()});
        if (r.bytes > 0) {
            deliver({in_.data(), r.bytes});
            if (buffered_amount() >= opt_.high_water) break;  // stop reading: backpressure
            continue;
        }
        if (r.ec == std::errc::operation_would_block) break;
        if (r.eof) {
            // The peer has nothing more to send (half-close); what is queued
            // still goes out: close gracefully.
            close();
            return;
        }
        finish(r.ec);
        return;
    }
    update_interest();
}

bool raw_channel::write(std::string_view data) {
    if (closed_ || closing_) return false;
    // Drop the bytes already written before growing the queue: a queue that is
    // refilled before it drains completely (a slow peer) would otherwise keep
    // every byte it ever held. Amortised: at most as many bytes move as were sent.
    if (out_offset_ > 0 && out_offset_ >= out_.size() / 2) {
        out_.erase(0, out_offset_);
        out_offset_ = 0;
    }
    out_.append(data);
    flush();
    bool const below = !closed_ && buffered_amount() < opt_.high_water;
    if (!below) drain_owed_ = true;
    return below;
}

void raw_channel::flush() {
    while (!closed_ && out_offset_ < out_.size()) {
        iovec iov{out_.data() + out_offset_, out_.size() - out_offset_};
        auto r = stream_->writev({&iov, 1});
        if (r.bytes > 0) {
            out_offset_ += r.bytes;
            touch();
            continue;
        }
        if (r.ec == std::errc::operation_would_block) break;
        finish(r.ec);
        return;
    }
    if (closed_) return;
    if (out_offset_ == out_.size()) {
        out_.clear();
        out_offset_ = 0;
        if (closing_) {
            finish({});
            return;
        }
    }
    if (drain_owed_ && buffered_amount() < opt_.high_water / 2) {
        drain_owed_ = false;
        if (cb_.on_drain) cb_.on_drain(*this);
    }
    if (!closed_) update_interest();
}

void raw_channel::update_interest() {
    if (closed_) return;
    std::uint32_t wanted = 0;
    if (buffered_amount() > 0) wanted |= net::loop::writable;
    if (!closing_ && buffered_amount() < opt_.high_water) wanted |= net::loop::readable;
    if (wanted != interest_) {
        interest_ = wanted;
        loop_->modify(stream_->native_handle(), this, interest_);
    }
}

void raw_channel::close(bool now) {
    if (closed_) return;
    if (now || buffered_amount() == 0) {
        finish({});
        return;
    }
    closing_ = true;
    update_interest();
}

void raw_channel::finish(std::error_code ec) {
    if (closed_) return;
    closed_ = true;
    idle_.cancel();
    loop_->unwatch_shutdown(this);
    // Closed right below, which takes it out of the epoll set: no EPOLL_CTL_DEL.
    loop_->forget_before_close(stream_->native_handle());
    stream_->close();
    auto on_close = std::move(cb_.on_close);
    cb_ = {};
    if (on_close) on_close(ec);
    // Events for this handler may still be pending in this dispatch.
    loop_->defer([this] { delete this; });
}

} // namespace upshift::upgrade
