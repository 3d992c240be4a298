// permessage-deflate offer parsing and the server's answer (RFC 7692 §5, §7.1).
#include "upshift/ws/deflate_params.hpp"

#include <algorithm>

#include "upshift/base/ascii.hpp"
#include "upshift/base/token_list.hpp"

namespace upshift::ws {
namespace {

/// Splits on ';' outside quoted strings.
template <class F>
void for_each_param(std::string_view s, F&& fn) {
    std::size_t start = 0;
    bool quoted = false;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i < s.size()) {
            char const c = s[i];
            if (quoted) {
                // A backslash escapes the next octet; one at the very end must not skip the
                // emit below, else the unterminated last parameter vanished and the offer was
                // accepted without it (found by fuzz_ws_deflate_params).
                if (c == '\\' && i + 1 < s.size()) ++i;
                else if (c == '"') quoted = false;
                continue;
            }
            if (c == '"') {
                quoted = true;
                continue;
            }
            if (c != ';') continue;
        }
        fn(ascii::trim_ows(s.substr(start, std::min(i, s.size()) - start)));
        start = i + 1;
    }
}

/// A token or a quoted string (unescaped); nullopt if neither.
std::optional<std::string> param_value(std::string_view v) {
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
        std::string out;
        for (std::size_t i = 1; i + 1 < v.size(); ++i) {
            if (v[i] == '\\') {
                if (i + 2 >= v.size()) return std::nullopt;
                ++i;
            } else if (v[i] == '"') {
                return std::nullopt;
            }
            out += v[i];
        }
        return out;
    }
    if (!ascii::is_token(v)) return std::nullopt;
    return std::string(v);
}

/// "8".."15" exactly (§7.1.2.1 ABNF: %x38-39 / "1" %x30-35); else 0.
int window_bits(std::string_view v) {
    if (v.size() == 1 && (v[0] == '8' || v[0] == '9')) return v[0] - '0';
    if (v.size() == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') return 10 + (v[1] - '0');
    return 0;
}

} // namespace

std::optional<deflate_offer> parse_deflate_offer(std::string_view element) {
    deflate_offer o;
    bool first = true;
    bool ok = true;
    bool seen_snct = false, seen_cnct = false, seen_smwb = false, seen_cmwb = false;
    for_each_param(element, [&](std::string_view p) {
        if (!ok) return;
        if (first) {
            first = false;
            ok = ascii::iequals(p, "permessage-deflate");
            return;
        }
        auto const eq = p.find('=');
        auto const name = ascii::trim_ows(p.substr(0, eq));
        std::optional<std::string> value;
        if (eq != std::string_view::npos) {
            value = param_value(ascii::trim_ows(p.substr(eq + 1)));
            if (!value) {
                ok = false;
                return;
            }
        }
        auto once = [&](bool& seen) {
            if (seen) ok = false;
            seen = true;
        };
        if (ascii::iequals(name, "server_no_context_takeover")) {
            once(seen_snct);
            if (value) ok = false;  // §7.1.1.1: no value
            o.server_no_context_takeover = true;
        } else if (ascii::iequals(name, "client_no_context_takeover")) {
            once(seen_cnct);
            if (value) ok = false;  // §7.1.1.2: no value
            o.client_no_context_takeover = true;
        } else if (ascii::iequals(name, "server_max_window_bits")) {
            once(seen_smwb);
            o.server_max_window_bits = value ? window_bits(*value) : 0;  // §7.1.2.1: value required
            if (o.server_max_window_bits == 0) ok = false;
        } else if (ascii::iequals(name, "client_max_window_bits")) {
            once(seen_cmwb);
            o.client_max_window_bits = value ? window_bits(*value) : -1;  // §7.1.2.2: value optional
            if (o.client_max_window_bits == 0) ok = false;
        } else {
            ok = false;  // §7.1: unknown parameter -> decline this offer
        }
    });
    if (!ok || first) return std::nullopt;
    return o;
}

std::optional<deflate_params> negotiate_deflate(std::vector<std::string_view> const& extension_values,
                                                deflate_policy const& policy) {
    std::optional<deflate_params> chosen;
    for (auto const v : extension_values) {
        for_each_list_element(v, [&](std::string_view e) {
            auto const o = parse_deflate_offer(e);
            if (!o) return true;  // §5.1: not ours or invalid: try the next offer
            deflate_params p;
            p.server_no_context_takeover = o->server_no_context_takeover || policy.server_no_context_takeover;
            p.client_no_context_takeover = o->client_no_context_takeover;
            int const ours = std::clamp(policy.server_max_window_bits, 8, 15);
            p.server_max_window_bits = o->server_max_window_bits > 0 ? std::min(o->server_max_window_bits, ours) : ours;
            p.server_max_window_bits_sent = o->server_max_window_bits > 0 || ours < 15;
            if (o->client_max_window_bits > 0) {
                p.client_max_window_bits = o->client_max_window_bits;
                p.client_max_window_bits_sent = true;
            }
            chosen = p;
            return false;
        });
        if (chosen) break;
    }
    return chosen;
}

std::string format_deflate_response(deflate_params const& p) {
    std::string s = "permessage-deflate";
    if (p.server_no_context_takeover) s += "; server_no_context_takeover";
    if (p.client_no_context_takeover) s += "; client_no_context_takeover";
    if (p.server_max_window_bits_sent) s += "; server_max_window_bits=" + std::to_string(p.server_max_window_bits);
    if (p.client_max_window_bits_sent) s += "; client_max_window_bits=" + std::to_string(p.client_max_window_bits);
    return s;
}

} // namespace upshift::ws
