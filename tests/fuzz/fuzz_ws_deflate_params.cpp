// libFuzzer target: permessage-deflate negotiation (RFC 7692 §5, §7.1, deflate_params.hpp).
// Input: byte 0 is the server's policy (window bits 6..21, so that out-of-range options are
// exercised, and server_no_context_takeover); the rest is Sec-WebSocket-Extensions values,
// one per line ('\n'). Invariants:
//   - an accepted offer element has window bits 8..15 (or "not offered" / "no value"), and
//     written back in canonical form it parses to the same offer;
//   - an element with an unterminated quoted-string is declined (it is not valid syntax, §7.1);
//   - negotiation chooses something exactly when some element is acceptable (§5.1: invalid
//     offers are declined, the next one is tried), and the choice follows the first one;
//   - a choice has both window bits in 8..15, ours within the policy, and honours the policy's
//     server_no_context_takeover; its response header parses as an offer with the same
//     parameters, and negotiating that response again gives the same choice.
#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "upshift/base/token_list.hpp"
#include "upshift/ws/deflate_params.hpp"

using namespace upshift;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

bool bits_ok(int b) { return b >= 8 && b <= 15; }

std::string canonical(ws::deflate_offer const& o) {
    std::string s = "permessage-deflate";
    if (o.server_no_context_takeover) s += "; server_no_context_takeover";
    if (o.client_no_context_takeover) s += "; client_no_context_takeover";
    if (o.server_max_window_bits > 0) s += "; server_max_window_bits=" + std::to_string(o.server_max_window_bits);
    if (o.client_max_window_bits > 0) s += "; client_max_window_bits=" + std::to_string(o.client_max_window_bits);
    if (o.client_max_window_bits < 0) s += "; client_max_window_bits";
    return s;
}

bool same(ws::deflate_offer const& a, ws::deflate_offer const& b) {
    return a.server_no_context_takeover == b.server_no_context_takeover &&
           a.client_no_context_takeover == b.client_no_context_takeover &&
           a.server_max_window_bits == b.server_max_window_bits && a.client_max_window_bits == b.client_max_window_bits;
}

/// True when a quoted-string is still open at the end (a backslash escapes the next octet).
bool unterminated_quote(std::string_view s) {
    bool quoted = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (!quoted) {
            quoted = s[i] == '"';
        } else if (s[i] == '\\') {
            if (++i == s.size()) return true;
        } else if (s[i] == '"') {
            quoted = false;
        }
    }
    return quoted;
}

void check_offer(std::string_view element, std::optional<ws::deflate_offer> const& o) {
    if (unterminated_quote(element)) check(!o);
    if (!o) return;
    check(o->server_max_window_bits == 0 || bits_ok(o->server_max_window_bits));
    check(o->client_max_window_bits == 0 || o->client_max_window_bits == -1 || bits_ok(o->client_max_window_bits));
    auto const again = ws::parse_deflate_offer(canonical(*o));
    check(again && same(*again, *o));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    if (size < 1) return 0;
    ws::deflate_policy policy;
    policy.server_max_window_bits = 6 + (data[0] & 15);
    policy.server_no_context_takeover = (data[0] & 16) != 0;
    std::string_view const in{reinterpret_cast<char const*>(data) + 1, size - 1};

    std::vector<std::string_view> values;
    for (std::size_t start = 0; start <= in.size();) {
        auto const nl = std::min(in.find('\n', start), in.size());
        values.push_back(in.substr(start, nl - start));
        start = nl + 1;
    }

    // The whole value too, as if it were one element (parse_deflate_offer is public).
    check_offer(in, ws::parse_deflate_offer(in));

    std::optional<ws::deflate_offer> first_ok;
    for (auto v : values) {
        for_each_list_element(v, [&](std::string_view e) {
            auto const o = ws::parse_deflate_offer(e);
            check_offer(e, o);
            if (o && !first_ok) first_ok = o;
        });
    }

    auto const chosen = ws::negotiate_deflate(values, policy);
    check(chosen.has_value() == first_ok.has_value());
    if (!chosen) return 0;
    auto const& p = *chosen;
    int const ours = std::clamp(policy.server_max_window_bits, 8, 15);
    check(bits_ok(p.server_max_window_bits) && bits_ok(p.client_max_window_bits));
    check(p.server_max_window_bits <= ours);
    if (policy.server_no_context_takeover) check(p.server_no_context_takeover);
    // It follows the first acceptable offer (§7.1.1, §7.1.2).
    check(p.client_no_context_takeover == first_ok->client_no_context_takeover);
    if (first_ok->server_no_context_takeover) check(p.server_no_context_takeover);
    if (first_ok->server_max_window_bits > 0) check(p.server_max_window_bits <= first_ok->server_max_window_bits);
    if (first_ok->client_max_window_bits > 0) check(p.client_max_window_bits == first_ok->client_max_window_bits);
    // A value we would otherwise not announce is announced when it differs from the default.
    if (p.server_max_window_bits < 15) check(p.server_max_window_bits_sent);
    if (p.client_max_window_bits < 15) check(p.client_max_window_bits_sent);

    // The response re-parses to the same parameters.
    auto const response = ws::format_deflate_response(p);
    auto const r = ws::parse_deflate_offer(response);
    check(r.has_value());
    check(r->server_no_context_takeover == p.server_no_context_takeover);
    check(r->client_no_context_takeover == p.client_no_context_takeover);
    check(r->server_max_window_bits == (p.server_max_window_bits_sent ? p.server_max_window_bits : 0));
    check(r->client_max_window_bits == (p.client_max_window_bits_sent ? p.client_max_window_bits : 0));
    auto const again = ws::negotiate_deflate({response}, policy);
    check(again && *again == p);
    return 0;
}
