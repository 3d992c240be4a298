// RFC 2817 in-place upgrade to TLS on the HTTP/1.1 server connection, and the
// rules that keep it Opossum-safe (docs/security.md).
//
// Unlike other protocols, TLS does not take the connection away: after the 101
// the same connection object wraps its stream in a tls::stream, seeded with
// every byte already read after the request (they can only be the ClientHello,
// or garbage that fails the handshake: they are never parsed as HTTP), waits for
// the handshake, answers the request that asked for the switch over TLS
// (§3.3), and carries HTTP/1.1 over TLS from then on. Plaintext is never read
// again: every later byte goes through the TLS stream.
#include <memory>
#include <string>

#include "server/detail/connection.hpp"
#include "server/detail/worker.hpp"
#include "upshift/server/server.hpp"
#include "upshift/tls/stream.hpp"

namespace upshift::server::detail {
namespace {

// RFC 2817 §3.4 registers "TLS/x.y" tokens. The token names the protocol family; the handshake
// negotiates the version (TLS 1.2 or 1.3 with tls::server_context), so any TLS 1.x offer is
// accepted and echoed back. A client that can only do 1.0 fails the handshake and is closed.
bool is_tls_offer(upgrade::offer const& o) noexcept {
    return o.is("TLS") && o.version.size() == 3 && o.version[0] == '1' && o.version[1] == '.' &&
           o.version[2] >= '0' && o.version[2] <= '3';
}

} // namespace

bool connection::try_tls_upgrade() {
    upgrade::offer const* chosen = nullptr;
    for (auto const& o : offers_)
        if (is_tls_offer(o)) {
            chosen = &o;
            break;
        }
    if (!chosen) return false;
    // A body would have to be read in plaintext before the switch and kept for the handler that
    // runs after it; RFC 2817 §3.1 lets a server ignore an optional upgrade, so such a request is
    // answered in plaintext like any other (and §4.2's 426 still applies to TLS-only resources).
    if (has_body()) return false;
    // Opossum (docs/security.md): answering an arbitrary request over TLS lets a man-in-the-middle
    // choose the first response a TLS client receives. OPTIONS * names no resource (§3.2), and its
    // answer below is fixed, so in the default mode only it switches; other requests offering TLS
    // are answered in plaintext as if they had not (§3.1: the offer is optional).
    bool const server_wide = request_.method == http1::method::options && request_.target == "*";
    if (!server_wide && opts().tls_upgrade_policy != tls_upgrade_mode::any_request) return false;

    tls_switch_ = true;
    tls_fixed_answer_ = server_wide;
    // RFC 2817 §3.3: the 101 lists the protocols bottom-up, TLS with the client's token, then HTTP/1.1
    // (write_switch adds Connection: Upgrade).
    switch_token_ = chosen->token() + ", HTTP/1.1";
    switch_extra_.clear();
    switch_then_ = nullptr;
    write_switch();  // hand_off() -> start_tls() once the 101 is flushed
    return true;
}

void connection::start_tls() {
    log_access();  // the 101 (status_ 101, no body)
    // The request outlives the read buffer, which now carries TLS.
    rebase_request();
    // Every byte after the request: the ClientHello sent in the same write as the request, or
    // part of it, or garbage. TLS reads them first (tls::stream's seed); HTTP never sees them.
    auto s = std::make_unique<tls::stream>(opts().tls_upgrade, std::move(stream_), read_buf_.data());
    read_buf_.clear();
    tls_ = s.get();
    stream_ = std::move(s);
    secure_ = true;
    offers_.clear();  // the request may not switch again, and its leftover rule no longer applies
    state_ = state::tls_handshake;
    // A peer that never completes the handshake is closed like one that never sends a request.
    arm_read_timer(opts().header_timeout, false);
    update_read_interest();
    // The seed may hold the whole ClientHello: the socket may never become readable on its own.
    on_tls_handshake();
}

void connection::on_tls_handshake() {
    // Reading drives the handshake (tls::stream); a failed handshake (RFC 2817 §3.3: "MUST lead
    // to disconnection") or a transport error closes the connection inside fill_read_buffer().
    if (!fill_read_buffer() || state_ == state::closed) return;
    if (!tls_->handshake_done()) {
        if (peer_eof_) close_now();
        return;
    }
    answer_over_tls();
}

void connection::answer_over_tls() {
    read_timer_.cancel();
    header_timer_armed_ = false;
    state_ = state::active;
    started_ = loop().now();
    response_started_ = false;  // the 101 was interim: the final response is still owed
    response_finished_ = false;
    status_ = 0;
    body_sent_ = 0;
    // Requests the client sent over TLS right after its Finished are in read_buf_ already (as
    // pipelined requests); the one that asked for the switch is answered first (§3.3).
    in_process_ = true;
    if (tls_fixed_answer_) {
        // OPTIONS * asks about the server, not a resource: a fixed, body-less answer that no third
        // party can influence (docs/security.md: what an Opossum victim receives).
        respond(http1::status::ok, {}, {});
    } else {
        if (opts().processing_interval.count() > 0)
            processing_timer_.start(opts().processing_interval, [this] { on_processing_timer(); });
        dispatch(false);
    }
    in_process_ = false;
    process();
    if (flush_pending_) flush();
}

} // namespace upshift::server::detail

namespace upshift::server {

bool require_tls(exchange& ex) {
    if (ex.secure()) return false;
    // RFC 2817 §4.2 (and RFC 9110 §15.5.22: a 426 MUST carry Upgrade). A client upgrades with
    // OPTIONS * first (§3.2), which is also the only request this server switches by default.
    ex.respond(http1::status::upgrade_required,
               {{"Upgrade", "TLS/1.2, HTTP/1.1"}, {"Connection", "Upgrade"}, {"Content-Type", "text/plain; charset=utf-8"}},
               "This resource is served over TLS only: use https://, or upgrade this connection first with\n"
               "OPTIONS * HTTP/1.1, Upgrade: TLS/1.2 and Connection: Upgrade (RFC 2817), then repeat the\n"
               "request over TLS.\n");
    return true;
}

} // namespace upshift::server
