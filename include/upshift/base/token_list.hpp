#pragma once
// Comma-separated lists (RFC 9110 §5.6.1): `#element` with optional whitespace
// and empty elements, which recipients MUST accept and ignore.
#include <string_view>

#include "upshift/base/ascii.hpp"

namespace upshift {

/// Calls fn(element) for each non-empty, OWS-trimmed element of a list value.
/// fn may return bool: false stops the walk. Quoted strings are not split.
template <class F>
constexpr void for_each_list_element(std::string_view value, F&& fn) {
    std::size_t start = 0;
    bool quoted = false;
    for (std::size_t i = 0; i <= value.size(); ++i) {
        if (i < value.size()) {
            char c = value[i];
            if (quoted) {
                if (c == '\\') ++i;
                else if (c == '"') quoted = false;
                continue;
            }
            if (c == '"') { quoted = true; continue; }
            if (c != ',') continue;
        }
        auto elem = ascii::trim_ows(value.substr(start, i - start));
        start = i + 1;
        if (elem.empty()) continue;
        if constexpr (std::is_same_v<decltype(fn(elem)), bool>) {
            if (!fn(elem)) return;
        } else {
            fn(elem);
        }
    }
}

/// True if the list value contains `token`, compared case-insensitively.
constexpr bool list_contains_token(std::string_view value, std::string_view token) {
    bool found = false;
    for_each_list_element(value, [&](std::string_view e) {
        if (ascii::iequals(e, token)) { found = true; return false; }
        return true;
    });
    return found;
}

} // namespace upshift
