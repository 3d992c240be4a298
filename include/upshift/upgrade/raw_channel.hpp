#pragma once
// The simplest way to speak a custom protocol after a 101: a byte channel over
// the upgraded stream, driven by the stream's loop. Bytes the client sent with
// the upgrade request (upgraded::leftover) are delivered first, as ordinary
// data, before anything read from the socket.
//
// Ownership: create with raw_channel::open(); the channel keeps itself alive
// until it is closed (by close(), by the peer, by an error or the idle
// timeout), then calls on_close once and frees itself after the dispatch
// phase. Loop thread only; the pointer must not be used after on_close.
// A server stop closes it too (net::shutdown_listener).
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

#include "upshift/base/unique_function.hpp"
#include "upshift/net/loop.hpp"
#include "upshift/upgrade/upgraded.hpp"

namespace upshift::upgrade {

struct raw_channel_options {
    std::size_t read_chunk = 16 * 1024;
    /// write() returns false above this many queued bytes; reading also stops
    /// (backpressure reaches the peer through TCP) until on_drain.
    std::size_t high_water = 1 << 20;
    /// No bytes in either direction for this long closes the channel.
    std::chrono::milliseconds idle_timeout{60'000};
};

class raw_channel final : public net::io_handler, public net::shutdown_listener {
public:
    struct callbacks {
        /// Each piece read, in order (view valid during the call).
        unique_function<void(raw_channel&, std::string_view)> on_data;
        /// The queue fell below half the high-water mark after write() returned false.
        unique_function<void(raw_channel&)> on_drain;
        /// Once: empty ec after close() or a clean EOF; else the error (timeout, reset).
        unique_function<void(std::error_code)> on_close;
    };

    /// Takes over the upgraded connection and starts reading (leftover first, deferred).
    static raw_channel* open(upgraded u, callbacks cb, raw_channel_options opt = {});

    /// Queues bytes; false when above the high-water mark (wait for on_drain).
    bool write(std::string_view data);
    /// Closes after the queued bytes are written (graceful), or at once if `now`.
    void close(bool now = false);
    std::size_t buffered_amount() const noexcept { return out_.size() - out_offset_; }
    /// Heap bytes held by the channel's buffers (for tests and metrics).
    std::size_t memory_held() const noexcept { return out_.capacity() + in_.capacity() + leftover_.capacity(); }
    request_info const& request() const noexcept { return request_; }
    std::string const& protocol() const noexcept { return protocol_; }
    std::string const& remote() const noexcept { return remote_; }
    net::loop& loop() noexcept { return *loop_; }

    void on_io(std::uint32_t events) override;
    /// Server stop: close after the queue drains, or at once when forced.
    void on_shutdown(bool force) noexcept override { close(force); }

private:
    raw_channel(upgraded u, callbacks cb, raw_channel_options opt);
    ~raw_channel() override = default;
    void start(bool registered);  ///< registered: upgraded::registered
    void deliver(std::string_view data);
    void on_readable();
    void flush();
    void update_interest();
    void finish(std::error_code ec);
    void touch();

    std::unique_ptr<net::stream> stream_;
    net::loop* loop_;
    callbacks cb_;
    raw_channel_options opt_;
    request_info request_;
    std::string protocol_;
    std::string remote_;
    std::string leftover_;
    std::string out_;
    std::size_t out_offset_ = 0;
    std::string in_;
    net::timer idle_;
    std::uint32_t interest_ = 0;
    bool closing_ = false;   // close() after the queue drains
    bool closed_ = false;
    bool drain_owed_ = false;
};

} // namespace upshift::upgrade
