#pragma once
// Pieces of the start lines common to requests and responses (RFC 9112 §2.3).
#include <cstddef>
#include <string_view>
#include <vector>

#include "upshift/base/ascii.hpp"
#include "upshift/http1/detail/head_state.hpp"
#include "upshift/http1/message.hpp"

namespace upshift::http1::detail {

/// HTTP-version = "HTTP/" DIGIT "." DIGIT, 8 bytes; checks byte `i` of it.
constexpr bool version_byte_ok(std::size_t i, char c) noexcept {
    constexpr std::string_view prefix = "HTTP/";
    if (i < prefix.size()) return c == prefix[i];  // HTTP-name is case-sensitive
    if (i == 6) return c == '.';
    return ascii::is_digit(c);
}
inline constexpr std::size_t version_length = 8;

constexpr int digit_value(char c) noexcept { return c - '0'; }

/// Builds the public field views from offsets once the whole head is present.
inline void build_fields(std::vector<field>& out, std::vector<raw_field> const& raw, std::string_view in) {
    out.clear();
    out.reserve(raw.size());  // one allocation on a connection's first request, not log2(n)
    for (auto const& r : raw) out.push_back({in.substr(r.name_off, r.name_len), in.substr(r.value_off, r.value_len)});
}

/// Copies the connection facts every head carries.
inline void apply_common_facts(head_common& h, field_facts const& f) noexcept {
    h.connection_close = f.connection_close;
    h.connection_keep_alive = f.connection_keep_alive;
    h.connection_upgrade = f.connection_upgrade;
    h.has_upgrade = f.has_upgrade;
    h.has_trailer_field = f.has_trailer;
}

} // namespace upshift::http1::detail
