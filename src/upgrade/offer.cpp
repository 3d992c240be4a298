// Upgrade offers (RFC 9110 §7.8).
#include "upshift/upgrade/offer.hpp"

#include "upshift/base/ascii.hpp"
#include "upshift/base/token_list.hpp"

namespace upshift::upgrade {

bool offer::is(std::string_view protocol_name) const noexcept {
    return ascii::iequals(name, protocol_name);
}

bool offer::is(std::string_view protocol_name, std::string_view protocol_version) const noexcept {
    return ascii::iequals(name, protocol_name) && version == protocol_version;
}

bool may_upgrade(http1::request_head const& req) noexcept {
    // RFC 9110 §7.8: a server MUST ignore Upgrade in an HTTP/1.0 request, and
    // Upgrade is a connection-specific field, so the sender MUST also list
    // "upgrade" in Connection (§7.6.1); without it the field is not for us.
    return req.is_http11_or_later() && req.has_upgrade && req.connection_upgrade;
}

std::vector<offer> parse_offers(http1::request_head const& req) {
    std::vector<offer> out;
    if (!may_upgrade(req)) return out;
    // RFC 9110 §5.3: several Upgrade lines are one list, in order.
    req.for_each("Upgrade", [&](std::string_view value) {
        // Upgrade = #protocol; protocol = protocol-name ["/" protocol-version].
        for_each_list_element(value, [&](std::string_view elem) {
            auto const slash = elem.find('/');
            auto const name = elem.substr(0, slash);
            auto const version = slash == std::string_view::npos ? std::string_view{} : elem.substr(slash + 1);
            if (!ascii::is_token(name)) return;
            if (slash != std::string_view::npos && !ascii::is_token(version)) return;  // "a/", "a/b/c"
            out.push_back(offer{std::string(name), std::string(version)});
        });
    });
    return out;
}

} // namespace upshift::upgrade
