#pragma once
// The pure rules of HTTP/2's two cleartext entry points, without I/O, so that
// they can be tested one by one:
//   - the Upgrade route (RFC 7540 §3.2, §3.2.1): which HTTP/1.1 requests may
//     switch to "h2c", and the SETTINGS payload their HTTP2-Settings carries;
//   - prior knowledge (RFC 9113 §3.3): the client connection preface.
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "upshift/http1/message.hpp"
#include "upshift/upgrade/offer.hpp"

namespace upshift::h2c {

/// RFC 9113 §3.4: the client connection preface starts with these 24 octets.
inline constexpr std::string_view client_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// How far `bytes` (the first bytes of a connection) match the client preface.
enum class preface_match { no, partial, full };
preface_match match_preface(std::string_view bytes) noexcept;

/// Decodes base64url (RFC 4648 §5) without padding, as RFC 7540 §3.2.1
/// requires for HTTP2-Settings (trailing '=' is tolerated). nullopt when any
/// character is outside the alphabet or the length cannot be base64.
std::optional<std::string> decode_base64url(std::string_view text);

/// The "h2c" offer among `offers` (RFC 7540 §3.2: "h2" is TLS only and a
/// server MUST ignore it in Upgrade; a versioned "h2c/x" is not HTTP/2), or null.
upgrade::offer const* find_h2c_offer(std::span<upgrade::offer const> offers) noexcept;

/// RFC 7540 §3.2.1: the decoded SETTINGS payload of a request that may switch
/// to h2c, or nullopt when it may not: no HTTP2-Settings, more than one, a value
/// that is not base64url, a payload that is not whole 6-octet settings or holds
/// an invalid value (RFC 9113 §6.5.2), or a Connection field without the
/// HTTP2-Settings option. Such requests are answered over HTTP/1.1.
std::optional<std::string> upgrade_settings(http1::request_head const& req);

} // namespace upshift::h2c
