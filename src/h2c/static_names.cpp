#include "h2c/detail/static_names.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "upshift/base/ascii.hpp"

namespace upshift::h2c::detail {
namespace {

// Every entry lower case, no duplicates (static_assert below).
// clang-format off
constexpr std::string_view unsorted[] = {
    // RFC 7541 Appendix A (the HPACK static table), regular fields only
    "accept-charset", "accept-encoding", "accept-language", "accept-ranges", "accept",
    "access-control-allow-origin", "age", "allow", "authorization", "cache-control", "content-disposition",
    "content-encoding", "content-language", "content-length", "content-location", "content-range",
    "content-type", "cookie", "date", "etag", "expect", "expires", "from", "host", "if-match",
    "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified", "link",
    "location", "max-forwards", "proxy-authenticate", "proxy-authorization", "range", "referer", "refresh",
    "retry-after", "server", "set-cookie", "strict-transport-security", "transfer-encoding", "user-agent",
    "vary", "via", "www-authenticate",
    // common in responses besides
    "x-content-type-options", "x-frame-options", "content-security-policy", "referrer-policy",
    "access-control-allow-methods", "access-control-allow-headers", "access-control-expose-headers",
    "access-control-max-age", "access-control-allow-credentials", "alt-svc", "x-request-id",
    "permissions-policy", "cross-origin-opener-policy", "cross-origin-resource-policy", "timing-allow-origin",
    "server-timing",
};
// clang-format on

constexpr std::size_t count = std::size(unsorted);
constexpr std::size_t max_length = 32;

// Names are looked up by length and first letter (a-z; 26 for anything else),
// then compared: one or two candidates at most. This runs for every response field.
constexpr std::size_t letters = 27;
constexpr std::size_t letter_of(char c) noexcept {
    c = ascii::to_lower(c);
    return c >= 'a' && c <= 'z' ? static_cast<std::size_t>(c - 'a') : letters - 1;
}
constexpr std::size_t bucket_of(std::string_view n) noexcept {
    return n.size() * letters + letter_of(n.front());
}
constexpr std::size_t buckets = (max_length + 1) * letters;

// A name with, byte for byte, 0x20 where it has a letter: (c | mask) == lower
// holds exactly for the two cases of a letter and for the very byte otherwise,
// so a candidate is compared eight bytes at a time.
struct entry {
    std::string_view name;
    std::array<char, max_length> lower{};
    std::array<char, max_length> mask{};
};

// The names ordered by bucket, and for each bucket where its names start.
struct table {
    std::array<entry, count> entries{};
    std::array<std::uint8_t, buckets + 1> first{}; // bucket b: [first[b], first[b + 1])
};

constexpr table make_table() {
    std::array<std::string_view, count> names{};
    std::copy(std::begin(unsorted), std::end(unsorted), names.begin());
    std::sort(names.begin(), names.end(), [](std::string_view a, std::string_view b) {
        return bucket_of(a) != bucket_of(b) ? bucket_of(a) < bucket_of(b) : a < b;
    });
    table t;
    for (std::size_t i = 0; i < count; ++i) {
        auto& e = t.entries[i];
        e.name = names[i];
        for (std::size_t k = 0; k < names[i].size() && k < max_length; ++k) {
            e.lower[k] = names[i][k];
            e.mask[k] = names[i][k] >= 'a' && names[i][k] <= 'z' ? 0x20 : 0;
        }
    }
    std::size_t i = 0;
    for (std::size_t b = 0; b <= buckets; ++b) {
        t.first[b] = static_cast<std::uint8_t>(i);
        while (i < count && bucket_of(names[i]) == b) ++i;
    }
    return t;
}

constexpr table names_by_bucket = make_table();

constexpr bool valid() {
    if (count > 255) return false;
    for (std::size_t i = 0; i < count; ++i) {
        auto const n = names_by_bucket.entries[i].name;
        if (n.empty() || n.size() > max_length) return false;
        for (char c : n)
            if (c >= 'A' && c <= 'Z') return false;
        if (i > 0 && n == names_by_bucket.entries[i - 1].name) return false;
    }
    return names_by_bucket.first[buckets] == count;
}
static_assert(valid(), "static names must be lower case, unique and at most max_length long");

std::uint64_t load8(char const* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// `name` (of the entry's length, any case) is the entry's name.
bool matches(std::string_view name, entry const& e) noexcept {
    auto const n = name.size();
    if (n != e.name.size()) return false;
    auto const chunk = [&](std::size_t at) {
        return (load8(name.data() + at) | load8(e.mask.data() + at)) == load8(e.lower.data() + at);
    };
    if (n < 8) {
        for (std::size_t i = 0; i < n; ++i)
            if (static_cast<char>(name[i] | e.mask[i]) != e.lower[i]) return false;
        return true;
    }
    for (std::size_t at = 0; at + 8 <= n; at += 8)
        if (!chunk(at)) return false;
    // The last (overlapping) eight bytes cover the rest.
    return n % 8 == 0 || chunk(n - 8);
}

} // namespace

std::string_view static_lower_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > max_length) return {};
    auto const& t = names_by_bucket;
    auto const b = bucket_of(name);
    for (std::size_t i = t.first[b]; i < t.first[b + 1]; ++i)
        if (matches(name, t.entries[i])) return t.entries[i].name;
    return {};
}

} // namespace upshift::h2c::detail
