#pragma once
// One HTTP/2 connection on a loop: bytes in and out of the socket, nghttp2 in
// between, one stream_exchange per request stream.
//
// nghttp2 is driven in "memory" mode: socket bytes go in with
// nghttp2_session_mem_recv, frames come out with nghttp2_session_mem_send. A
// flush gathers all the frames nghttp2 has, for every stream, in the loop
// thread's `gather` and writes them with one writev; only what the socket does
// not take is copied into the session's send queue (written when writable).
// DATA payloads skip nghttp2's frame buffer: the send_data callback queues the
// frame header and refers to the stream's bytes (NGHTTP2_DATA_FLAG_NO_COPY), so
// a finished response body is not copied at all in user space when the socket
// takes it at once. nghttp2 is not re-entrant: an
// application call that wants output while nghttp2 is running (a handler that
// responds from inside a callback) only marks the output as owed; it is
// produced when nghttp2 returns.
//
// Ownership: the session owns itself (like upgrade::raw_channel) and frees
// itself after the dispatch phase once closed (not before a read it deferred
// for bytes held in the stream has run: read_held_soon()). It owns its streams.
#include <memory>
#include <string>
#include <vector>

#include <nghttp2/nghttp2.h>

#include "h2c/detail/config.hpp"
#include "h2c/detail/gather.hpp"
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
    /// Queues bytes for the socket, behind every frame queued before them.
    void queue_output(std::string_view bytes) {
        if (sink_)
            sink_->copy(bytes);
        else
            out_.append(bytes);
    }
    /// The same for bytes that stay valid and unchanged until the stream is
    /// freed (a finished response body): written from where they are when the
    /// socket takes them at once, copied only otherwise.
    void queue_output_stable(std::string_view bytes) {
        if (sink_)
            sink_->refer(bytes);
        else
            out_.append(bytes);
    }
    /// The Date field value for this second (formatted once per second, not per response).
    std::string_view http_date();

    void on_io(std::uint32_t events) override;
    void on_shutdown(bool force) noexcept override;

private:
    session(std::shared_ptr<config const> cfg, upgrade::upgraded& u);
    ~session() override;
    bool init(); // false: nghttp2 could not be set up, the session is closed
    /// `registered`: upgrade::upgraded::registered, the fd is still in the loop's set.
    void register_with_loop(bool registered);
    void feed(std::string_view bytes);
    void on_readable();
    bool produce_output(); // nghttp2's frames -> the socket (what does not fit: out_)
    void write_out();
    std::size_t pending_output() const noexcept { return out_.size() + (sink_ ? sink_->size() : 0); }
    void update_interest();
    void read_held_soon(); // the stream holds bytes epoll will not announce (TLS)
    void touch();
    void on_idle();
    void close();
    void maybe_finish();
    void schedule_reap(); // frees the graveyard (and the session, once closed) after this dispatch

    // nghttp2 callbacks
    static int on_begin_headers(nghttp2_session*, nghttp2_frame const* frame, void* user);
    static int on_header(nghttp2_session*, nghttp2_frame const* frame, nghttp2_rcbuf* name,
                         nghttp2_rcbuf* value, std::uint8_t flags, void* user);
    static int send_data(nghttp2_session*, nghttp2_frame* frame, std::uint8_t const* framehd,
                         std::size_t length, nghttp2_data_source* source, void* user);
    static int on_frame_recv(nghttp2_session*, nghttp2_frame const* frame, void* user);
    static int on_data_chunk(nghttp2_session*, std::uint8_t flags, std::int32_t stream_id,
                             std::uint8_t const* data, std::size_t len, void* user);
    static int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t error_code,
                               void* user);

    /// The stream with this id, or nullptr (closed session, stream not or no longer tracked).
    stream_exchange* find(std::int32_t id) noexcept;
    void dispatch(stream_exchange& s);

    std::shared_ptr<config const> cfg_;
    std::unique_ptr<net::stream> stream_;
    net::loop* loop_;
    std::string remote_;
    bool secure_ = false;  // over TLS (ALPN h2), not cleartext h2c
    std::string leftover_;
    nghttp2_session* h2_ = nullptr;
    // Open streams; nghttp2's stream user data points at each (find()).
    std::vector<std::unique_ptr<stream_exchange>> streams_;
    /// find()'s last answer; forgotten when any stream stops being tracked (on_stream_close).
    std::int32_t found_id_ = 0;
    stream_exchange* found_ = nullptr;
    /// Closed streams, freed together after this dispatch (the application may
    /// still be inside a call on one): one deferred task per batch, not per stream.
    std::vector<std::unique_ptr<stream_exchange>> graveyard_;
    long long date_second_ = -1;
    char date_buf_[32] = {};
    std::string_view date_;
    net::send_queue out_;
    /// While producing with an empty out_: the loop thread's scratch buffer, written at
    /// once; only what the socket does not take is copied into out_.
    gather* sink_ = nullptr;
    net::timer idle_;
    std::uint32_t interest_ = 0;
    bool in_nghttp2_ = false; // inside mem_recv / mem_send: output is only marked owed
    bool output_owed_ = false;
    bool going_away_ = false; // GOAWAY sent for a graceful stop
    bool closed_ = false;
    bool registered_ = false;      // on the loop and watching shutdown
    bool upgrade_pending_ = false; // stream 1 waits for the client's SETTINGS (start_upgraded)
    bool peer_eof_ = false;
    bool reap_scheduled_ = false;
    bool held_read_queued_ = false; // read_held_soon() deferred a read
};

} // namespace upshift::h2c::detail
