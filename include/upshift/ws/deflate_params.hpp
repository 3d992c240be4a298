#pragma once
// permessage-deflate negotiation (RFC 7692 §5, §7.1), server side.
//
// The client's Sec-WebSocket-Extensions offers are tried in order; the first
// "permessage-deflate" element whose parameters are all known, not repeated and
// valid is accepted (§5.1: an invalid offer element is declined, the next one
// is tried). Parameters (§7.1):
// - server_no_context_takeover (no value): offered or our option -> echoed, we reset per message.
// - client_no_context_takeover (no value): echoed; the inflater resets per message.
// - server_max_window_bits=8..15 (value required, §7.1.2.1): we use min(offer, our option)
//   and announce it; not offered but our option < 15: announced too.
// - client_max_window_bits[=8..15] (value optional, §7.1.2.2): with a value it is echoed
//   (our inflater keeps a 32 KiB window regardless, see deflate_codec.hpp); without one, not
//   answered (the client keeps 15).
// Values may be tokens or quoted strings (§7.1: after unescaping, the same ABNF: "8".."15",
// no leading zeros or signs).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace upshift::ws {

/// What was agreed for one connection.
struct deflate_params {
    bool server_no_context_takeover = false;
    bool client_no_context_takeover = false;
    int server_max_window_bits = 15;
    int client_max_window_bits = 15;
    bool server_max_window_bits_sent = false;  ///< named in the response
    bool client_max_window_bits_sent = false;  ///< named in the response

    friend bool operator==(deflate_params const&, deflate_params const&) = default;
};

/// The server's side of the choice (from ws::options).
struct deflate_policy {
    int server_max_window_bits = 15;  ///< 8..15
    bool server_no_context_takeover = false;
};

/// One offer element ("permessage-deflate; a; b=c") as the client sent it.
struct deflate_offer {
    bool server_no_context_takeover = false;
    bool client_no_context_takeover = false;
    int server_max_window_bits = 0;  ///< 0: not offered
    int client_max_window_bits = 0;  ///< 0: not offered; -1: offered without a value
};

/// Parses one extension element; nullopt if it is not permessage-deflate or
/// has an unknown, duplicate or invalid parameter.
std::optional<deflate_offer> parse_deflate_offer(std::string_view element);

/// Picks the first acceptable permessage-deflate offer among the values of
/// every Sec-WebSocket-Extensions line; nullopt when there is none.
std::optional<deflate_params> negotiate_deflate(std::vector<std::string_view> const& extension_values,
                                                deflate_policy const& policy);

/// The Sec-WebSocket-Extensions value for the 101 (§7.1).
std::string format_deflate_response(deflate_params const& p);

} // namespace upshift::ws
