#pragma once
// The server side of the opening handshake (RFC 6455 §4.2): pure functions
// over a parsed request, no I/O. The 101 itself (Upgrade: websocket,
// Connection: Upgrade) is written by the upgrade layer; this module supplies
// the decision and the WebSocket-specific fields.
//
//   auto c = ws::check_request(req);
//   if (!c.ec) -> switch with extra fields response_fields(c) (Sec-WebSocket-Accept)
//   else       -> answer c.status (400 or 426) with response_fields(c)
#include <string>
#include <string_view>
#include <system_error>

#include "upshift/http1/fields.hpp"
#include "upshift/http1/message.hpp"
#include "upshift/http1/status.hpp"

namespace upshift::ws {

/// The only protocol version RFC 6455 defines (§4.1, §11.6).
inline constexpr std::string_view websocket_version = "13";

/// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (§4.2.2 item 5.4):
/// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
std::string accept_key(std::string_view sec_websocket_key);

/// True if `key` is the base64 encoding of exactly 16 bytes (§4.2.1 item 5):
/// 22 characters of the base64 alphabet (RFC 4648 §4) and "==". Trailing bits
/// that a strict decoder would reject as non-canonical (RFC 4648 §3.5) are
/// accepted, as common clients' decoders do.
bool valid_client_key(std::string_view key) noexcept;

/// The verdict on an opening handshake.
struct handshake_check {
    /// Empty when the request is a valid opening handshake; otherwise one of
    /// bad_method, bad_http_version, no_upgrade_websocket, no_connection_upgrade,
    /// no_sec_version, bad_sec_version, no_sec_key, bad_sec_key (condition::handshake_failed).
    std::error_code ec;
    /// switching_protocols, bad_request, or upgrade_required (for a missing or
    /// unsupported Sec-WebSocket-Version, §4.2.2 item 4).
    http1::status status = http1::status::switching_protocols;
    /// The client's Sec-WebSocket-Key, a view into the request; set when !ec.
    std::string_view key;
};

/// Checks a request against §4.2.1, in this order: GET, HTTP/1.1 or later
/// (item 1), Upgrade lists "websocket" (item 3, case-insensitive), Connection
/// lists "upgrade" (item 4), exactly one Sec-WebSocket-Version of "13" (item 6,
/// §11.3.5), exactly one valid Sec-WebSocket-Key (item 5, §11.3.1). The version
/// comes before the key so that a client speaking an older draft (with other
/// key fields) learns the version we speak. Host (item 2) is enforced by the
/// HTTP/1.1 parser.
handshake_check check_request(http1::request_head const& req);

/// Fields for the answer: for a 101, Sec-WebSocket-Accept (§4.2.2 item 5.4);
/// for a 426, Upgrade: websocket (RFC 9110 §15.5.22 requires Upgrade) and
/// Sec-WebSocket-Version: 13 (§4.2.2 item 4: "MUST ... include a
/// |Sec-WebSocket-Version| header field indicating the version(s) the server is
/// capable of understanding"); none for a 400.
http1::fields response_fields(handshake_check const& c);

} // namespace upshift::ws
