#pragma once
// HTTP/2 over cleartext TCP ("h2c") for a server::handler: the same handler
// that answers HTTP/1.1 answers every HTTP/2 stream, through server::exchange.
// libnghttp2 does the framing, HPACK, flow control and stream states.
//
//   h2c::service h2{app};
//   server::options o;
//   o.prior_knowledge = h2.prior_knowledge();        // RFC 9113 §3.3
//   o.advertise_upgrade = h2.advertisement();         // "h2c" if options::advertise
//   server::server srv{o, h2.http1_handler()};        // RFC 7540 §3.2 Upgrade: h2c
//
// The service is immutable once built and shared by every loop thread.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "upshift/server/exchange.hpp"
#include "upshift/server/options.hpp"
#include "upshift/upgrade/upgraded.hpp"

namespace upshift::h2c {

struct options {
    /// SETTINGS_MAX_CONCURRENT_STREAMS: streams a client may have open at once.
    std::uint32_t max_concurrent_streams = 100;
    /// SETTINGS_INITIAL_WINDOW_SIZE: request body bytes a client may send on a
    /// stream before the handler takes them; this bounds the body held per stream.
    std::uint32_t stream_window = 64 * 1024;
    /// The connection's receive window (all streams together).
    std::uint32_t connection_window = 1 << 20;
    /// SETTINGS_MAX_HEADER_LIST_SIZE; a larger request head gets 431 on its stream.
    std::uint32_t max_header_list_size = 16 * 1024;
    /// Upgrade route: the HTTP/1.1 request body read before the switch, else 413.
    std::size_t max_upgrade_body = 1 << 20;
    /// A streamed response: write() returns false above this many bytes queued on the stream.
    std::size_t send_high_water = 1 << 20;
    /// Encoded output held before the session stops taking frames from nghttp2
    /// and stops reading (a client that does not read its responses).
    std::size_t output_high_water = 1 << 20;
    /// A connection with no open stream and no I/O for this long gets GOAWAY and closes.
    std::chrono::milliseconds idle_timeout{60'000};
    /// CVE-2023-44487 (rapid reset): streams a client may reset per second on
    /// average, with this burst, before the connection is closed with GOAWAY.
    std::uint64_t reset_burst = 1000;
    std::uint64_t reset_rate = 33;
    /// CONTINUATION flood: CONTINUATION frames allowed for one header block.
    std::size_t max_continuations = 8;
    std::string server_header = "upshift"; ///< "" to omit
    /// Advertise h2c on HTTP/1.1 responses (`Upgrade: h2c`, issue 5): see
    /// service::advertisement(). Off by default: RFC 9113 deprecates the Upgrade
    /// route, and a client that does not want it gains nothing from the field.
    bool advertise = false;
    bool date_header = true;
    /// Called on the loop thread once per answered stream, after its response
    /// ends (or the stream is reset after it began), with version_major 2 and
    /// version_minor 0; empty = no access log. Usually server::options::access_log.
    std::function<void(server::access_entry const&)> access_log;
};

namespace detail {
struct config;
}

class service {
public:
    explicit service(server::handler app, options o = {});

    /// For server::options::prior_knowledge: serves a connection that began
    /// with the client preface (the preface is in upgraded::leftover).
    std::function<void(upgrade::upgraded)> prior_knowledge() const;

    /// An HTTP/1.1 handler: a request that may switch to h2c (RFC 7540 §3.2.1,
    /// see upgrade_settings()) gets 101 and is answered on stream 1 over HTTP/2,
    /// with its body (read in HTTP/1.1 framing first, up to max_upgrade_body);
    /// every other request goes to the application handler unchanged.
    server::handler http1_handler() const;

    /// For server::options::advertise_upgrade: "h2c" when options::advertise is
    /// set, so that HTTP/1.1 responses carry `Upgrade: h2c` (RFC 9110 §7.8) and
    /// a client may switch on its next request; "" otherwise.
    std::string advertisement() const;

    options const& settings() const noexcept;

private:
    std::shared_ptr<detail::config const> cfg_;
};

} // namespace upshift::h2c
