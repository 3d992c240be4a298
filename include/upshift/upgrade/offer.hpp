#pragma once
// What a client asks to switch to (RFC 9110 §7.8). A request offers protocols
// only when it is HTTP/1.1 or later, carries Upgrade, and its Connection
// header lists the "upgrade" option (RFC 9110 §7.6.1); otherwise Upgrade is
// ignored and the request is ordinary HTTP.
#include <string>
#include <string_view>
#include <vector>

#include "upshift/http1/message.hpp"

namespace upshift::upgrade {

/// One element of Upgrade: protocol-name ["/" protocol-version], both tokens.
/// Owned: the request's buffer may move while the exchange is alive.
struct offer {
    std::string name;
    std::string version;  ///< "" when the client named no version

    /// As it goes into the 101's Upgrade header: "name" or "name/version".
    std::string token() const { return version.empty() ? name : name + "/" + version; }
    /// Protocol names are case-insensitive (RFC 9110 §7.8); versions compare exactly.
    bool is(std::string_view protocol_name) const noexcept;
    bool is(std::string_view protocol_name, std::string_view protocol_version) const noexcept;
};

/// True if the request may switch: HTTP/1.1+, an Upgrade field, and Connection listing "upgrade".
bool may_upgrade(http1::request_head const& req) noexcept;

/// The offers of an eligible request in the client's order of preference, all
/// Upgrade field lines combined (RFC 9110 §5.3). Elements that are not
/// `token ["/" token]` are skipped. Empty when !may_upgrade(req).
std::vector<offer> parse_offers(http1::request_head const& req);

} // namespace upshift::upgrade
