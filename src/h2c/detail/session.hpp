#pragma once
// One HTTP/2 connection on a loop: bytes in and out of the socket, nghttp2 in
// between, one stream_exchange per request stream.
//
// nghttp2 is driven in "memory" mode: socket bytes go in with
// nghttp2_session_mem_recv, frames come out with nghttp2_session_mem_send into
// a send queue that is written with writev. nghttp2 is not re-entrant: an
// application call that wants output while nghttp2 is running (a handler that
// responds from inside a callback) only marks the output as owed; it is
// produced when nghttp2 returns.
//
// Ownership: the session owns itself (like upgrade::raw_channel) and frees
// itself after the dispatch phase once closed. It owns its streams.
#include <map>
#include <memory>
#include <string>

#include <nghttp2/nghttp2.h>

#include "h2c/detail/config.hpp"
#include "upshift/net/loop.hpp"
#include "upshift/net/send_queue.hpp"
#include "upshift/net/stream.hpp"
#include "upshift/upgrade/upgraded.hpp"

namespace upshift::h2c::detail {

class stream_exchange;

class session final : public net::io_handler, public net::shutdown_listener {
public:
    /// RFC 9113 §3.3: the connection began with the client preface (in u.leftover).
    static void start_prior_knowledge(std::shared_ptr<config const> cfg, upgrade::upgraded u);
    /// RFC 7540 §3.2: the 101 is out; `u.request` (with `body`) becomes stream 1.
    static void start_upgraded(std::shared_ptr<config const> cfg, upgrade::upgraded u,
                               std::string const& settings_payload, std::string body);

    config const& cfg() const noexcept { return *cfg_; }
    net::loop& loop() noexcept { return *loop_; }
    std::string const& remote() const noexcept { return remote_; }
    bool secure() const noexcept { return secure_; }
    nghttp2_session* h2() noexcept { return h2_; }

    /// Produces and writes what nghttp2 has to send (or marks it owed while
    /// nghttp2 is running). Safe to call from any application callback.
    void flush();

    void on_io(std::uint32_t events) override;
    void on_shutdown(bool force) noexcept override;

private:
    session(std::shared_ptr<config const> cfg, upgrade::upgraded& u);
    ~session() override;
    bool init(); // false: nghttp2 could not be set up, the session is closed
    void register_with_loop();
    void feed(std::string_view bytes);
    void on_readable();
    void write_out();
    void update_interest();
    void touch();
    void on_idle();
    void close();
    void maybe_finish();

    // nghttp2 callbacks
    static int on_begin_headers(nghttp2_session*, nghttp2_frame const* frame, void* user);
    static int on_header(nghttp2_session*, nghttp2_frame const* frame, std::uint8_t const* name,
                         std::size_t namelen, std::uint8_t const* value, std::size_t valuelen,
                         std::uint8_t flags, void* user);
    static int on_frame_recv(nghttp2_session*, nghttp2_frame const* frame, void* user);
    static int on_data_chunk(nghttp2_session*, std::uint8_t flags, std::int32_t stream_id,
                             std::uint8_t const* data, std::size_t len, void* user);
    static int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t error_code,
                               void* user);

    stream_exchange* find(std::int32_t id) noexcept;
    void dispatch(stream_exchange& s);

    std::shared_ptr<config const> cfg_;
    std::unique_ptr<net::stream> stream_;
    net::loop* loop_;
    std::string remote_;
    bool secure_ = false;  // over TLS (ALPN h2), not cleartext h2c
    std::string leftover_;
    nghttp2_session* h2_ = nullptr;
    std::map<std::int32_t, std::unique_ptr<stream_exchange>> streams_;
    net::send_queue out_;
    net::timer idle_;
    std::uint32_t interest_ = 0;
    bool in_nghttp2_ = false; // inside mem_recv / mem_send: output is only marked owed
    bool output_owed_ = false;
    bool going_away_ = false; // GOAWAY sent for a graceful stop
    bool closed_ = false;
    bool registered_ = false;      // on the loop and watching shutdown
    bool upgrade_pending_ = false; // stream 1 waits for the client's SETTINGS (start_upgraded)
    bool peer_eof_ = false;
};

} // namespace upshift::h2c::detail
