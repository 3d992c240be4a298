#pragma once
// One HTTP/2 request stream as a server::exchange, so the application's
// handler cannot tell it from an HTTP/1.1 request:
//   - the request head is built from the HEADERS block (pseudo-headers give
//     method, target and host) as views into nghttp2's reference-counted
//     header buffers, which the stream holds (no copy per field);
//   - request trailers (a HEADERS block after DATA, RFC 9113 §8.1) are kept the
//     same way and offered as request_trailers() once the body has ended;
//   - the body arrives in DATA frames; bytes are handed to nghttp2 as consumed
//     (nghttp2_session_consume) only when the handler has taken them, so a
//     paused reader holds the client to the stream's flow-control window;
//   - the response is HEADERS then DATA pulled by nghttp2 from `out_` through
//     a data provider (deferred while empty), trailers as a final HEADERS, and
//     interim responses (103, and 100 for Expect: 100-continue) as non-final
//     HEADERS (RFC 9113 §8.1). DATA payloads are not copied into nghttp2's
//     frame buffer (NGHTTP2_DATA_FLAG_NO_COPY): send_data() hands the frame
//     header and the bytes of `out_` to the session's output (referred to, not
//     copied, once `out_` can no longer change: after respond() or finish()).
//     respond_shared() bodies are sent from where they are, never copied.
//     A freed stream's `out_` buffer is kept for the next stream on the thread
//     that write()s (stream_exchange.cpp, spare_buffers).
//   - once the stream closes after a response began, one access-log entry.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nghttp2/nghttp2.h>

#include "h2c/detail/small_vec.hpp"
#include "upshift/net/loop.hpp"
#include "upshift/server/exchange.hpp"

namespace upshift::h2c::detail {

class session;

class stream_exchange final : public server::exchange, public server::response_writer {
public:
    stream_exchange(session& s, std::int32_t id);
    ~stream_exchange() override;
    stream_exchange(stream_exchange const&) = delete;
    stream_exchange& operator=(stream_exchange const&) = delete;

    // A stream is made and freed per request: blocks are recycled per thread.
    static void* operator new(std::size_t size);
    static void operator delete(void* p, std::size_t size) noexcept;

    std::int32_t id() const noexcept { return id_; }

    // --- fed by the session ---
    /// A header field of the request block (trailer: of the trailer block after
    /// DATA). The stream keeps a reference to both buffers and views them.
    void add_header(nghttp2_rcbuf* name, nghttp2_rcbuf* value, bool trailer);
    /// The head is complete: builds request(). False if the head is unusable
    /// (the session answers with `head_error()` instead of calling the handler).
    bool complete_head(bool end_stream);
    unsigned head_error() const noexcept { return head_error_; }
    /// Answers the head error (431 or 417) on the stream.
    void answer_head_error();
    /// Upgrade route: the HTTP/1.1 request (minus hop-by-hop fields) with its whole body.
    void adopt_http1_request(upgrade::request_info const& r, std::string body);
    void on_data(std::string_view piece);
    /// nghttp2's send_data callback for this stream's DATA frame (NO_COPY).
    void send_data(std::uint8_t const* framehd, std::size_t length, std::size_t padlen);
    void on_end_of_body();
    /// nghttp2 closed the stream (done, reset or connection gone).
    void on_closed(bool reset);
    bool complete() const noexcept { return complete_; }
    bool closed() const noexcept { return closed_; }

    // --- server::exchange ---
    http1::request_head const& request() const noexcept override { return head_; }
    std::string_view remote() const noexcept override;
    bool secure() const noexcept override;
    net::loop& loop() noexcept override;
    bool has_body() const noexcept override { return has_body_; }
    void read_body(server::body_reader reader) override;
    void read_body_all(std::size_t max, unique_function<void(std::error_code, std::string)> done) override;
    std::span<http1::field const> request_trailers() const noexcept override {
        return trailers_visible_ ? std::span<http1::field const>(trailers_in_) : std::span<http1::field const>{};
    }
    void pause_body() noexcept override { paused_ = true; }
    void resume_body() override;
    std::error_code send_interim(http1::status s, http1::fields const& f) override;
    void respond(http1::status s, http1::fields const& headers, std::string body) override;
    void respond_shared(http1::status s, http1::fields const& headers,
                        std::shared_ptr<std::string const> body) override;
    server::response_writer& start_response(http1::status s, http1::fields const& headers,
                                            std::optional<std::uint64_t> content_length) override;
    bool responded() const noexcept override { return responded_; }
    std::span<upgrade::offer const> upgrade_offers() const noexcept override { return {}; }
    std::error_code switch_protocols(upgrade::offer const&, http1::fields,
                                     unique_function<void(upgrade::upgraded)>) override;
    void close_after_response() noexcept override {} // one stream of many: the connection stays
    void on_abort(unique_function<void()> fn) override { on_abort_ = std::move(fn); }

    // --- server::response_writer ---
    bool write(std::string_view data) override;
    void on_drain(unique_function<void()> fn) override { on_drain_ = std::move(fn); }
    std::size_t buffered_amount() const noexcept override { return outgoing().size() - out_offset_; }
    void finish(http1::fields const& trailers) override;

private:
    static ssize_t read_data(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                             std::uint32_t* flags, nghttp2_data_source* source, void*);
    ssize_t produce(std::uint8_t* buf, std::size_t length, std::uint32_t* flags);
    void respond_whole(unsigned code, http1::fields const& headers, std::size_t size);
    /// The response body being sent: out_, or the body given to respond_shared().
    std::string_view outgoing() const noexcept { return shared_out_ ? std::string_view(*shared_out_) : out_; }
    void submit_head(unsigned code, http1::fields const& headers, std::optional<std::uint64_t> length,
                     bool with_data);
    void deliver(); // buffered body -> reader, while not paused
    void consume(std::size_t n);
    void end_reader(std::error_code ec);
    void wake_data();     // the data provider was deferred: resume it
    void mark_complete(); // the final response is entirely with nghttp2
    void hold(nghttp2_rcbuf* b);
    void release_held() noexcept;
    void log_access();

    session& s_;
    std::int32_t id_;

    // request head: views into the rcbufs in held_ (or into adopted_, upgrade route)
    small_vec<http1::field, 16> fields_;
    std::vector<http1::field> trailers_in_;
    small_vec<nghttp2_rcbuf*, 32> held_; // one reference each, released with the stream
    std::string adopted_;
    std::string_view method_, path_, authority_;
    http1::request_head head_;
    std::size_t header_bytes_ = 0;
    std::size_t trailer_bytes_ = 0;
    unsigned head_error_ = 0; // 431 / 417 when the head cannot reach the handler
    bool trailers_too_large_ = false;
    bool trailers_visible_ = false; // the body ended without error: request_trailers() shows them
    bool continue_owed_ = false; // Expect: 100-continue, no 100 sent yet

    // request body
    std::string body_;           // received, not yet delivered
    std::size_t unconsumed_ = 0; // bytes received and not yet consumed (window not reopened)
    bool has_body_ = false;
    bool body_end_ = false;
    bool reading_ = false;
    bool paused_ = false;
    bool reader_done_ = false;
    bool discard_body_ = false; // the response is complete: drop what still arrives
    server::body_reader reader_;

    // response
    std::string out_;
    std::shared_ptr<std::string const> shared_out_; // respond_shared(): sent instead of out_
    std::size_t out_offset_ = 0;                     // into outgoing()
    http1::fields trailers_;
    bool responded_ = false;
    bool out_eof_ = false;  // finish() called: nothing more will be written
    bool deferred_ = false; // the data provider returned NGHTTP2_ERR_DEFERRED
    bool drain_owed_ = false;
    bool head_request_ = false;
    bool complete_ = false; // the final response is entirely handed to nghttp2
    bool closed_ = false;
    bool logged_ = false;
    unsigned status_ = 0;          // final status, for the access log
    std::uint64_t body_sent_ = 0;  // response body bytes handed to the send queue
    net::clock::time_point started_{};
    unique_function<void()> on_abort_;
    unique_function<void()> on_drain_;
    /// Tells a deferred on_drain whether the stream still exists (made when first needed).
    std::shared_ptr<bool> alive_;
};

} // namespace upshift::h2c::detail
