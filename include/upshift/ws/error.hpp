#pragma once
// Errors of the WebSocket codec and handshake (RFC 6455).
//
// `need_more` is not a failure: the frame parser is restartable and wants more
// bytes. Every frame-level code is fatal: the receiver MUST _Fail the WebSocket
// Connection_ (§7.1.7), i.e. send a Close frame with close_code_for(ec) (where
// one may still be sent) and close the TCP connection. Handshake codes are
// answered with an HTTP status instead (handshake.hpp) and never reach the
// frame layer. Codes are fine-grained for logs; match policy on `condition`.
#include <system_error>

#include "upshift/ws/close_code.hpp"

namespace upshift::ws {

enum class error {
    need_more = 1,              ///< incomplete input; call again with more bytes

    // frame layer: RFC 6455 §5
    unmasked_frame,             ///< client frame without the MASK bit (§5.1, §5.3) -> 1002
    reserved_bits,              ///< RSV1-3 set without a negotiated extension (§5.2) -> 1002
    reserved_opcode,            ///< opcode 0x3-0x7 or 0xB-0xF (§5.2) -> 1002
    fragmented_control,         ///< control frame with FIN clear (§5.5) -> 1002
    control_too_long,           ///< control frame payload > 125 bytes (§5.5) -> 1002
    unexpected_continuation,    ///< continuation frame with no message in progress (§5.4) -> 1002
    expected_continuation,      ///< new text/binary frame while a message is fragmented (§5.4) -> 1002
    non_minimal_length,         ///< length not in the minimal number of bytes (§5.2) -> 1002
    length_msb_set,             ///< 64-bit length with the most significant bit set (§5.2) -> 1002
    message_too_big,            ///< message larger than frame_parser_options::max_message_size -> 1009
    invalid_utf8,               ///< text message payload is not UTF-8 (§5.6, §8.1) -> 1007

    // Close frame body: RFC 6455 §5.5.1, §7.4
    close_payload_too_short,    ///< Close payload of exactly 1 byte (§5.5.1) -> 1002
    invalid_close_code,         ///< status code not allowed on the wire (§7.4.1, §7.4.2) -> 1002
    invalid_close_reason,       ///< close reason is not UTF-8 (§5.5.1) -> 1007

    // opening handshake: RFC 6455 §4.2.1 (answered with an HTTP status, see handshake.hpp)
    bad_method,                 ///< not GET (§4.2.1 item 1) -> 400
    bad_http_version,           ///< not HTTP/1.1 or later (§4.2.1 item 1) -> 400
    no_upgrade_websocket,       ///< Upgrade does not list "websocket" (§4.2.1 item 3) -> 400
    no_connection_upgrade,      ///< Connection does not list "upgrade" (§4.2.1 item 4) -> 400
    no_sec_key,                 ///< no Sec-WebSocket-Key (§4.2.1 item 5) -> 400
    bad_sec_key,                ///< key not base64 of 16 bytes, or repeated (§4.2.1 item 5, §11.3.1) -> 400
    no_sec_version,             ///< no Sec-WebSocket-Version (§4.2.1 item 6) -> 426
    bad_sec_version,            ///< version other than 13, or repeated (§4.2.2 item 4, §4.4) -> 426
};

/// Groups of codes for policy: log the error, branch on the condition.
enum class condition {
    protocol_violation = 1,     ///< a frame-layer error: fail the connection with close_code_for()
    handshake_failed,           ///< the opening handshake is refused with an HTTP status
};

std::error_category const& error_category() noexcept;
std::error_category const& condition_category() noexcept;
inline std::error_code make_error_code(error e) noexcept { return {static_cast<int>(e), error_category()}; }
inline std::error_condition make_error_condition(condition c) noexcept {
    return {static_cast<int>(c), condition_category()};
}

/// The status code of the Close frame a server sends when it fails the
/// connection because of `e` (RFC 6455 §7.4.1): 1002 for protocol errors, 1007
/// for invalid UTF-8, 1009 for message_too_big. need_more and handshake codes,
/// which never close an open WebSocket, give internal_error (1011).
close_code close_code_for(error e) noexcept;
/// As above; codes of other categories (I/O, inflate) give internal_error (1011).
close_code close_code_for(std::error_code ec) noexcept;

} // namespace upshift::ws

template <>
struct std::is_error_code_enum<upshift::ws::error> : std::true_type {};
template <>
struct std::is_error_condition_enum<upshift::ws::condition> : std::true_type {};
