// The ws error and condition categories, and the one table mapping frame
// errors to the close code a server fails the connection with.
#include "upshift/ws/error.hpp"

#include <string>

namespace upshift::ws {
namespace {

bool is_handshake_error(error e) noexcept {
    return e >= error::bad_method && e <= error::bad_sec_version;
}

class condition_category_impl final : public std::error_category {
public:
    char const* name() const noexcept override { return "upshift.ws.condition"; }
    std::string message(int ev) const override {
        switch (static_cast<condition>(ev)) {
        case condition::protocol_violation: return "WebSocket protocol violation";
        case condition::handshake_failed: return "WebSocket handshake failed";
        }
        return "unknown ws condition " + std::to_string(ev);
    }
};

class category final : public std::error_category {
public:
    char const* name() const noexcept override { return "upshift.ws"; }

    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
        case error::need_more: return "need more input";
        case error::unmasked_frame: return "client frame is not masked";
        case error::reserved_bits: return "reserved bits set without a negotiated extension";
        case error::reserved_opcode: return "reserved opcode";
        case error::fragmented_control: return "fragmented control frame";
        case error::control_too_long: return "control frame payload longer than 125 bytes";
        case error::unexpected_continuation: return "continuation frame without a message in progress";
        case error::expected_continuation: return "new data frame while a fragmented message is in progress";
        case error::non_minimal_length: return "payload length not minimally encoded";
        case error::length_msb_set: return "64-bit payload length with the most significant bit set";
        case error::message_too_big: return "message too big";
        case error::invalid_utf8: return "text message is not valid UTF-8";
        case error::close_payload_too_short: return "close frame payload of 1 byte";
        case error::invalid_close_code: return "invalid close status code";
        case error::invalid_close_reason: return "close reason is not valid UTF-8";
        case error::bad_method: return "handshake method is not GET";
        case error::bad_http_version: return "handshake is not HTTP/1.1 or later";
        case error::no_upgrade_websocket: return "Upgrade does not list websocket";
        case error::no_connection_upgrade: return "Connection does not list upgrade";
        case error::no_sec_key: return "missing Sec-WebSocket-Key";
        case error::bad_sec_key: return "invalid Sec-WebSocket-Key";
        case error::no_sec_version: return "missing Sec-WebSocket-Version";
        case error::bad_sec_version: return "unsupported Sec-WebSocket-Version";
        }
        return "unknown ws error " + std::to_string(ev);
    }

    std::error_condition default_error_condition(int ev) const noexcept override {
        auto const e = static_cast<error>(ev);
        if (e == error::need_more || ev < 1 || ev > static_cast<int>(error::bad_sec_version))
            return {ev, *this};
        return make_error_condition(is_handshake_error(e) ? condition::handshake_failed
                                                          : condition::protocol_violation);
    }
};

} // namespace

std::error_category const& error_category() noexcept {
    static category const instance;
    return instance;
}

std::error_category const& condition_category() noexcept {
    static condition_category_impl const instance;
    return instance;
}

close_code close_code_for(error e) noexcept {
    switch (e) {
    case error::unmasked_frame:
    case error::reserved_bits:
    case error::reserved_opcode:
    case error::fragmented_control:
    case error::control_too_long:
    case error::unexpected_continuation:
    case error::expected_continuation:
    case error::non_minimal_length:
    case error::length_msb_set:
    case error::close_payload_too_short:
    case error::invalid_close_code:
        return close_code::protocol_error;
    case error::invalid_utf8:
    case error::invalid_close_reason:
        return close_code::invalid_payload;  // §7.4.1: 1007, "data ... not consistent with the type"
    case error::message_too_big:
        return close_code::message_too_big;
    default:
        return close_code::internal_error;
    }
}

close_code close_code_for(std::error_code ec) noexcept {
    if (ec.category() != error_category()) return close_code::internal_error;
    return close_code_for(static_cast<error>(ec.value()));
}

} // namespace upshift::ws
