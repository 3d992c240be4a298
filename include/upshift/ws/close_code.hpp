#pragma once
// WebSocket close status codes: RFC 6455 §7.4.1 and the IANA "WebSocket Close
// Code Number Registry" (§11.7), and which of them may appear in a Close frame.
#include <cstdint>

namespace upshift::ws {

/// A close status code. Any 16-bit value is representable (applications use
/// 3000-4999); the enumerators are the registered ones.
enum class close_code : std::uint16_t {
    normal = 1000,               ///< the purpose of the connection has been fulfilled
    going_away = 1001,           ///< server shutting down, or the browser navigated away
    protocol_error = 1002,       ///< the peer violated RFC 6455
    unsupported_data = 1003,     ///< a data type the endpoint cannot accept (e.g. binary only)
    reserved = 1004,             ///< reserved, meaning may be defined later; never on the wire
    no_status = 1005,            ///< "no status code was present"; never on the wire (§7.4.1)
    abnormal = 1006,             ///< closed without a Close frame; never on the wire (§7.4.1)
    invalid_payload = 1007,      ///< data inconsistent with the message type (e.g. invalid UTF-8 in text)
    policy_violation = 1008,     ///< generic policy violation
    message_too_big = 1009,      ///< a message too big to process
    mandatory_extension = 1010,  ///< client: the server did not negotiate a required extension
    internal_error = 1011,       ///< the server hit an unexpected condition
    service_restart = 1012,      ///< IANA registry: the service is restarting
    try_again_later = 1013,      ///< IANA registry: temporary condition, try again later
    bad_gateway = 1014,          ///< IANA registry: a gateway got an invalid upstream response
    tls_handshake = 1015,        ///< TLS handshake failure; never on the wire (§7.4.1)
};

/// May `code` be sent in, or accepted from, a Close frame's status field?
/// RFC 6455 §7.4.1/§7.4.2: 1000-1003 and 1007-1011 are defined; 1012-1014 are
/// registered with IANA (§11.7) and accepted; 3000-3999 are registered by
/// libraries/frameworks and 4000-4999 are private use. 1004 is reserved, 1005,
/// 1006 and 1015 "MUST NOT be set as a status code in a Close control frame",
/// 0-999 are not used, 1016-2999 are reserved for future RFC 6455 extensions,
/// and codes >= 5000 are undefined. Receiving any of those fails the connection
/// with protocol_error (the Autobahn test suite, case 7.9.x, expects this).
constexpr bool is_valid_close_code_on_wire(std::uint16_t code) noexcept {
    if (code >= 1000 && code <= 1003) return true;
    if (code >= 1007 && code <= 1014) return true;
    return code >= 3000 && code <= 4999;
}

constexpr bool is_valid_close_code_on_wire(close_code code) noexcept {
    return is_valid_close_code_on_wire(static_cast<std::uint16_t>(code));
}

} // namespace upshift::ws
