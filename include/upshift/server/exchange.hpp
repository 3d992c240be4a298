#pragma once
// One request and its response, as the application sees it. The HTTP/1
// connection implements it today; HTTP/2 streams (issue 5) will too, so
// handlers never depend on the wire version.
//
// Lifetime: the exchange lives until its final response is complete or the
// connection is lost (then on_abort runs and the reference must no longer be
// used). Every member runs on the connection's loop thread; to answer from
// another thread, post() to loop().
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "upshift/base/unique_function.hpp"
#include "upshift/http1/fields.hpp"
#include "upshift/http1/message.hpp"
#include "upshift/http1/status.hpp"
#include "upshift/upgrade/error.hpp"
#include "upshift/upgrade/offer.hpp"
#include "upshift/upgrade/protocol.hpp"
#include "upshift/upgrade/upgraded.hpp"

namespace upshift::net { class loop; }

namespace upshift::server {

/// Streams a response body: write() as data is produced, finish() at the end.
class response_writer {
public:
    virtual ~response_writer() = default;
    /// Queues data. Returns false when more than options::send_high_water bytes
    /// are queued: stop producing and wait for on_drain.
    virtual bool write(std::string_view data) = 0;
    /// Called once the queued bytes fall below the low-water mark.
    virtual void on_drain(unique_function<void()> fn) = 0;
    /// Bytes queued and not yet written to the socket.
    virtual std::size_t buffered_amount() const noexcept = 0;
    /// Ends the body; trailers are sent only with chunked framing.
    virtual void finish(http1::fields const& trailers = {}) = 0;
};

/// Receives the request body in pieces (views valid only during the call).
struct body_reader {
    unique_function<void(std::string_view piece)> on_data;
    /// Called once: ec empty at the end of the body, or the error (too large,
    /// malformed framing, timeout, connection lost).
    unique_function<void(std::error_code ec)> on_end;
};

class exchange {
public:
    virtual ~exchange() = default;

    virtual http1::request_head const& request() const noexcept = 0;
    /// Peer address "ip:port".
    virtual std::string_view remote() const noexcept = 0;
    /// True when the request arrived over TLS (an HTTPS listener, or a connection
    /// upgraded in place by RFC 2817). Routes that require TLS check this.
    virtual bool secure() const noexcept = 0;
    virtual net::loop& loop() noexcept = 0;

    // --- request body --------------------------------------------------
    /// True if the request has a body (Content-Length > 0 or chunked).
    virtual bool has_body() const noexcept = 0;
    /// Starts delivering the body. Sends an owed "100 Continue" first (RFC 9110 §10.1.1).
    virtual void read_body(body_reader reader) = 0;
    /// Convenience: collects the whole body (up to `max` bytes, else on_end gets body_too_large).
    virtual void read_body_all(std::size_t max, unique_function<void(std::error_code, std::string)> done) = 0;
    /// The request's trailer fields (RFC 9110 §6.5): HTTP/2 trailers (RFC 9113
    /// §8.1), or HTTP/1.1 chunked trailers where the transport keeps them. Valid
    /// from the body's successful on_end until the exchange ends; empty before,
    /// and when the transport does not offer them.
    virtual std::span<http1::field const> request_trailers() const noexcept { return {}; }
    /// Backpressure: stop / resume delivering body pieces. The end is not a piece: when the
    /// piece during which pause_body() was called is the last one, on_end follows it at once,
    /// so work deferred to resume later must check that the reader has not ended.
    virtual void pause_body() noexcept = 0;
    virtual void resume_body() = 0;

    // --- interim responses (RFC 9110 §15.2) -----------------------------
    /// Sends a 1xx (not 101) before the final response and flushes it at once.
    /// Never sent to HTTP/1.0 clients (RFC 9110 §15.2). Errors: see server::error.
    virtual std::error_code send_interim(http1::status s, http1::fields const& f = {}) = 0;

    // --- final response --------------------------------------------------
    /// Sends a complete response. Content-Length is set from body; for HEAD the
    /// body is not sent. Date and Server are added unless present.
    virtual void respond(http1::status s, http1::fields const& headers = {}, std::string body = {}) = 0;
    /// As respond(), for a body that stays unchanged and may be shared (a cached file, say):
    /// HTTP/2 sends it from where it is, with no copy per response; HTTP/1.1 copies it into the
    /// connection's send queue as write() does. This default does what a handler would.
    virtual void respond_shared(http1::status s, http1::fields const& headers,
                                std::shared_ptr<std::string const> body) {
        if (!body || body->empty()) {
            respond(s, headers);
            return;
        }
        auto& w = start_response(s, headers, body->size());
        w.write(*body);
        w.finish();
    }
    /// Starts a streamed response: with a known length it is sent with
    /// Content-Length, otherwise chunked (HTTP/1.1) or close-delimited (HTTP/1.0).
    virtual response_writer& start_response(http1::status s, http1::fields const& headers = {},
                                            std::optional<std::uint64_t> content_length = {}) = 0;
    /// True once a final response has started.
    virtual bool responded() const noexcept = 0;

    // --- protocol switching (RFC 9110 §7.8, §15.2.2) ------------------
    /// The protocols the client offers, in its order of preference; empty when
    /// this request may not switch (HTTP/1.0, no "upgrade" in Connection, no Upgrade).
    virtual std::span<upgrade::offer const> upgrade_offers() const noexcept = 0;
    /// Accepts `chosen`, which must be one of upgrade_offers() (else
    /// upgrade::error::not_offered). A request body is read first in HTTP/1.1
    /// framing and dropped (read it yourself before calling to keep it), after
    /// an owed 100 Continue; then "101 Switching Protocols" goes out with
    /// `Upgrade: <chosen token>`, `Connection: Upgrade` and `extra`, and once it
    /// is flushed `then` owns the connection, with every byte read past the
    /// request. If the body fails (413, timeout) that error is answered instead;
    /// if the connection is lost first, on_abort runs and `then` never does.
    virtual std::error_code switch_protocols(upgrade::offer const& chosen, http1::fields extra,
                                             unique_function<void(upgrade::upgraded)> then) = 0;

    /// Ask that the connection close after this response (adds Connection: close).
    virtual void close_after_response() noexcept = 0;
    /// Called if the connection is lost before the final response completes.
    virtual void on_abort(unique_function<void()> fn) = 0;
};

/// The application's entry point: called on the loop thread when a request
/// head is complete (the body is not read yet).
using handler = std::function<void(exchange&)>;

/// Switches to the first offer (client order) that a protocol in `r` accepts,
/// and starts that protocol after the 101; if none accepts but one refuses
/// (WebSocket with a wrong version), sends that refusal. True when the request
/// was handled either way; false when no protocol of `r` wanted it: answer
/// normally (perhaps 426 with `Upgrade: r.advertise()`).
bool accept_upgrade(exchange& ex, upgrade::registry const& r);

/// RFC 2817 §4.2 (mandatory upgrade), for resources that must not be served in plaintext: over
/// TLS (HTTPS, or a connection upgraded in place) returns false, answer normally; otherwise
/// answers `426 Upgrade Required` with `Upgrade: TLS/1.2, HTTP/1.1` and `Connection: Upgrade`
/// and returns true. Usage: `if (server::require_tls(ex)) return;`
bool require_tls(exchange& ex);

/// read_body_all()'s mechanism for every transport: a body_reader that collects the body up to
/// `max` bytes (`reserve` ahead when the length is known) and calls `done` once. Above `max`,
/// `on_too_large` runs (the transport decides what happens to the rest of the body), then
/// `done` with error::body_too_large.
body_reader collect_body(std::size_t max, std::size_t reserve, unique_function<void()> on_too_large,
                         unique_function<void(std::error_code, std::string)> done);

} // namespace upshift::server
