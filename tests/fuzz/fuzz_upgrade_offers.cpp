// libFuzzer target: request_parser then upgrade::parse_offers. Checks that a
// request that may not switch offers nothing, that every offer is
// token ["/" token] (RFC 9110 §7.8), that offer::is matches itself, and that
// the offers' tokens, re-sent as one Upgrade line, parse back to the same list.
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "upshift/base/ascii.hpp"
#include "upshift/http1/request_parser.hpp"
#include "upshift/upgrade/offer.hpp"

using namespace upshift;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

std::vector<upgrade::offer> reparse(std::string const& upgrade_value) {
    std::string const text = "GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: " + upgrade_value + "\r\n\r\n";
    http1::request_parser p;  // default limits: the list is never longer than what it came from
    auto const r = p.parse(text);
    check(!r.ec && r.consumed == text.size());
    check(upgrade::may_upgrade(p.head()));
    return upgrade::parse_offers(p.head());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    std::string_view const in{reinterpret_cast<char const*>(data), size};
    http1::limits lim;
    lim.max_request_line = 512;
    lim.max_header_bytes = 2048;
    lim.max_header_count = 32;

    http1::request_parser p(lim);
    if (p.parse(in).ec) return 0;
    auto const& h = p.head();
    auto const offers = upgrade::parse_offers(h);

    if (!upgrade::may_upgrade(h)) {
        check(offers.empty());
        return 0;
    }
    check(h.is_http11_or_later() && h.has_upgrade && h.connection_upgrade);

    std::string joined;
    for (auto const& o : offers) {
        check(ascii::is_token(o.name));
        check(o.version.empty() || ascii::is_token(o.version));
        check(o.is(o.name) && o.is(o.name, o.version) && o.is(ascii::lowered(o.name), o.version));
        auto const t = o.token();
        check(t.size() == o.name.size() + (o.version.empty() ? 0 : 1 + o.version.size()));
        auto const one = reparse(t);  // token() round-trips
        check(one.size() == 1 && one[0].name == o.name && one[0].version == o.version);
        if (!joined.empty()) joined += ", ";
        joined += t;
    }
    if (!offers.empty()) {
        auto const again = reparse(joined);
        check(again.size() == offers.size());
        for (std::size_t i = 0; i < offers.size(); ++i)
            check(again[i].name == offers[i].name && again[i].version == offers[i].version);
    }
    return 0;
}
