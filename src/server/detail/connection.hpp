#pragma once
// The HTTP/1.1 server side of one TCP connection: reads and parses requests,
// dispatches each to the handler as an exchange, writes responses in order
// (keep-alive and pipelining), and enforces timeouts and limits.
//
// States (one request at a time; pipelined bytes wait in the read buffer):
//   head     waiting for / parsing a request head (idle or header timeout)
//   active   the handler owns the exchange; the body is read on demand
//   switching the 101 is queued; once flushed the stream is handed to the protocol
//            (or, for RFC 2817, wrapped in TLS here: tls_handshake)
//   tls_handshake  the 101 to Upgrade: TLS is out; the TLS handshake runs on the same
//            socket, then the request that asked for it is answered over TLS
//            (connection_tls_upgrade.cpp)
//   closing  a final response is queued and the connection closes after it
//   lingering after an error response: write side shut, input drained briefly
//            so the peer reads our response instead of a reset
//
// Views in request_ point into read_buf_ until the buffer must move
// (compact or grow); rebase_request() copies them into head_copy_ first.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "upshift/net/send_queue.hpp"
#include "upshift/base/byte_buffer.hpp"
#include "upshift/http1/chunked_decoder.hpp"
#include "upshift/http1/request_parser.hpp"
#include "upshift/net/loop.hpp"
#include "upshift/net/stream.hpp"
#include "upshift/server/exchange.hpp"
#include "upshift/server/options.hpp"

namespace upshift::tls { class stream; }

namespace upshift::server::detail {

class worker;

class connection final : public net::io_handler, public exchange, public response_writer {
public:
    /// `secure`: the stream is TLS (no h2c there: RFC 9113 §3.1 keeps it to cleartext).
    connection(worker& w, std::unique_ptr<net::stream> s, std::string remote, bool secure);
    ~connection() override;

    /// Registers with the loop and arms the header timeout. `registered`: the fd is still in the
    /// loop's set from a hand-off (loop::take_over).
    void start(bool registered);
    /// Graceful shutdown: close now if idle, else after the current response.
    void shutdown_gracefully();
    /// Closes at once (aborting any exchange).
    void close_now();
    bool closed() const noexcept { return state_ == state::closed; }

    // intrusive list of a worker's connections
    connection* prev = nullptr;
    connection* next = nullptr;

    // net::io_handler
    void on_io(std::uint32_t events) override;

    // exchange
    http1::request_head const& request() const noexcept override { return request_; }
    std::string_view remote() const noexcept override { return remote_; }
    bool secure() const noexcept override { return secure_; }
    net::loop& loop() noexcept override;
    bool has_body() const noexcept override;
    void read_body(body_reader reader) override;
    void read_body_all(std::size_t max, unique_function<void(std::error_code, std::string)> done) override;
    /// RFC 9112 §7.1.2: the chunked body's trailer fields, once it ended without error.
    std::span<http1::field const> request_trailers() const noexcept override {
        return trailers_ ? std::span<http1::field const>(trailers_->fields) : std::span<http1::field const>{};
    }
    void pause_body() noexcept override;
    void resume_body() override;
    std::error_code send_interim(http1::status s, http1::fields const& f) override;
    void respond(http1::status s, http1::fields const& headers, std::string body) override;
    response_writer& start_response(http1::status s, http1::fields const& headers,
                                    std::optional<std::uint64_t> content_length) override;
    bool responded() const noexcept override { return response_started_; }
    std::span<upgrade::offer const> upgrade_offers() const noexcept override { return offers_; }
    std::error_code switch_protocols(upgrade::offer const& chosen, http1::fields extra,
                                     unique_function<void(upgrade::upgraded)> then) override;
    void close_after_response() noexcept override { keep_alive_ = false; }
    void on_abort(unique_function<void()> fn) override { on_abort_ = std::move(fn); }

    // response_writer
    bool write(std::string_view data) override;
    void on_drain(unique_function<void()> fn) override { on_drain_ = std::move(fn); }
    std::size_t buffered_amount() const noexcept override { return out_.size(); }
    void finish(http1::fields const& trailers) override;

private:
    enum class state : std::uint8_t { head, active, switching, tls_handshake, closing, lingering, closed };
    enum class body_mode : std::uint8_t { none, length, chunked };
    enum class framing : std::uint8_t { length, chunked, close_delimited };

    options const& opts() const noexcept;

    // input
    void on_readable();
    bool fill_read_buffer();     // false once the connection closed
    void process();              // parse heads / feed bodies from read_buf_
    void begin_exchange(std::size_t head_bytes);
    /// Hands the exchange to the handler (after `protocols` had their chance to switch it).
    void dispatch(bool protocols);
    void feed_body();            // delivers buffered body bytes to the reader
    void finish_body(std::error_code ec);
    void discard_body();         // drops an unread body (bounded) after the response
    void rebase_request();
    void keep_trailers();        // the chunked body is done: its trailers outlive read_buf_
    void update_read_interest();
    void read_held_soon();       // the stream holds bytes epoll will not announce (TLS)

    // output
    void write_head(unsigned code, http1::fields const& headers, std::optional<std::uint64_t> length);
    void end_exchange();
    void log_access();     // options::access_log, for the exchange ending now
    void flush();
    void on_writable();
    void set_write_interest(bool on);

    // switching protocols
    void write_switch();   // the body is done: queue the 101 and flush
    void hand_off();       // the 101 is out: give the stream away

    // HTTP/2 with prior knowledge (RFC 9113 §3.3, options::prior_knowledge)
    enum class preface : std::uint8_t { no, partial, full };
    preface check_preface();   // do the first bytes match the client preface?
    void hand_off_preface();   // they do: the stream and the bytes go to HTTP/2
    void give_away(upgrade::upgraded u, unique_function<void(upgrade::upgraded)> then);

    // RFC 2817 in-place upgrade to TLS (options::tls_upgrade, connection_tls_upgrade.cpp)
    bool try_tls_upgrade();     // in begin_exchange: true when the 101 is queued
    void start_tls();           // the 101 is out: wrap the stream, seeded with the bytes read
    void on_tls_handshake();    // readable while the handshake runs
    void answer_over_tls();     // handshake done: the request that asked is answered now

    // errors and closing
    void fail_request(std::error_code ec);  // parse error: canned response, then linger
    void fail_with_status(http1::status s);
    void start_lingering();
    void arm_read_timer(std::chrono::milliseconds after, bool is_header_timeout);
    void on_read_timeout();
    void on_processing_timer();

    worker& worker_;
    std::unique_ptr<net::stream> stream_;
    std::string remote_;
    bool secure_ = false;
    state state_ = state::head;
    std::uint32_t interest_ = 0;

    byte_buffer read_buf_;
    http1::request_parser parser_;
    http1::request_head request_;
    std::string head_copy_;                 // owns the head bytes after rebase_request()
    std::vector<http1::field> fields_copy_;
    bool request_rebased_ = false;
    char const* head_ptr_ = nullptr;        // where the head's bytes sit in read_buf_
    std::size_t head_len_ = 0;

    // request body
    body_mode body_mode_ = body_mode::none;
    std::uint64_t body_remaining_ = 0;      // length mode
    std::optional<http1::chunked_decoder> chunked_;
    bool body_done_ = true;
    bool body_reading_ = false;             // read_body() called
    bool body_paused_ = false;
    bool continue_owed_ = false;            // Expect: 100-continue not yet answered
    body_reader reader_;
    std::uint64_t discarded_ = 0;
    /// The trailer section of a chunked body that ended (RFC 9112 §7.1.2), owned: the
    /// decoder's views point into read_buf_, which is consumed. Null unless trailers came,
    /// so an exchange without them (nearly all) costs a pointer and no allocation.
    struct owned_trailers {
        std::string bytes;                 // names and values, back to back
        std::vector<http1::field> fields;  // views into `bytes`
    };
    std::unique_ptr<owned_trailers> trailers_;

    // protocol switching
    std::vector<upgrade::offer> offers_;    // empty unless the request may switch
    bool switch_pending_ = false;           // switch_protocols() called, waiting for the body
    std::string switch_token_;
    http1::fields switch_extra_;
    unique_function<void(upgrade::upgraded)> switch_then_;
    bool preface_checked_ = false;          // the first bytes were not the HTTP/2 preface (or no hook)
    bool tls_switch_ = false;               // the queued 101 is to Upgrade: TLS (RFC 2817)
    bool tls_fixed_answer_ = false;         // the request was OPTIONS *: the library answers it
    tls::stream* tls_ = nullptr;            // stream_ after an RFC 2817 switch

    // response
    net::send_queue out_;
    net::timer read_timer_;
    net::timer write_timer_;
    net::timer processing_timer_;           // options::processing_interval
    bool response_started_ = false;
    bool response_finished_ = false;
    bool keep_alive_ = true;
    bool head_request_ = false;
    framing framing_ = framing::length;
    std::uint64_t body_sent_ = 0;
    std::optional<std::uint64_t> declared_length_;  // streamed response with Content-Length
    unsigned status_ = 0;
    unique_function<void()> on_abort_;
    unique_function<void()> on_drain_;
    net::clock::time_point started_{};

    bool in_process_ = false;   // re-entrancy guard: respond() inside process()
    bool flush_pending_ = false;
    bool flushing_ = false;
    bool peer_eof_ = false;
    bool graceful_ = false;     // server is shutting down
    bool header_timer_armed_ = false;
    bool held_read_scheduled_ = false;
    std::size_t linger_budget_ = 0;
};

} // namespace upshift::server::detail
