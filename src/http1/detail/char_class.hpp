#pragma once
// Byte classification tables and the fast scanners built on them. One table
// lookup per byte keeps the scalar paths branch-light; the SSE2 paths (x86-64
// baseline) test 16 bytes at a time for the long runs (request-target, field
// values) and fall back to the tables for the tail, never reading past `end`.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace upshift::http1::detail {

using byte_table = std::array<bool, 256>;

/// tchar (RFC 9110 §5.6.2).
inline constexpr byte_table tchar_table = [] {
    byte_table t{};
    for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
    return t;
}();

/// field-vchar / SP / HTAB (RFC 9110 §5.5): VCHAR, obs-text (0x80-0xFF), SP, HTAB.
/// Everything else (CTL, NUL, DEL) ends a scan.
inline constexpr byte_table value_table = [] {
    byte_table t{};
    for (int c = 0x20; c <= 0xFF; ++c) t[static_cast<std::size_t>(c)] = true;
    t[0x7F] = false;
    t['\t'] = true;
    return t;
}();

/// Bytes allowed in a request-target: visible ASCII 0x21-0x7E. Whitespace,
/// CTL, DEL and non-ASCII end the scan (RFC 9112 §3.2, RFC 3986 §2).
inline constexpr byte_table target_table = [] {
    byte_table t{};
    for (int c = 0x21; c <= 0x7E; ++c) t[static_cast<std::size_t>(c)] = true;
    return t;
}();

inline constexpr bool in(byte_table const& t, char c) noexcept { return t[static_cast<unsigned char>(c)]; }

/// First byte in [p, end) that is not a tchar, or end.
inline char const* scan_token(char const* p, char const* end) noexcept {
    while (p != end && in(tchar_table, *p)) ++p;
    return p;
}

#ifdef __SSE2__
inline unsigned first_bit(unsigned mask) noexcept { return static_cast<unsigned>(__builtin_ctz(mask)); }
#endif

/// First byte in [p, end) that cannot appear in a field value (CTL other than
/// HTAB, or DEL), or end. CR, the normal stop, is in that set.
inline char const* scan_value(char const* p, char const* end) noexcept {
#ifdef __SSE2__
    __m128i const c1f = _mm_set1_epi8(0x1F);
    __m128i const tab = _mm_set1_epi8('\t');
    __m128i const del = _mm_set1_epi8(0x7F);
    while (end - p >= 16) {
        __m128i const v = _mm_loadu_si128(reinterpret_cast<__m128i const*>(p));
        // unsigned v <= 0x1F  <=>  max(v, 0x1F) == 0x1F
        __m128i const ctl = _mm_cmpeq_epi8(_mm_max_epu8(v, c1f), c1f);
        __m128i const bad = _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(v, tab), ctl), _mm_cmpeq_epi8(v, del));
        auto const mask = static_cast<unsigned>(_mm_movemask_epi8(bad));
        if (mask != 0) return p + first_bit(mask);
        p += 16;
    }
#endif
    while (p != end && in(value_table, *p)) ++p;
    return p;
}

/// First byte in [p, end) outside 0x21-0x7E, or end.
inline char const* scan_target(char const* p, char const* end) noexcept {
#ifdef __SSE2__
    __m128i const sp = _mm_set1_epi8(0x20);
    __m128i const del = _mm_set1_epi8(0x7F);
    while (end - p >= 16) {
        __m128i const v = _mm_loadu_si128(reinterpret_cast<__m128i const*>(p));
        __m128i const low = _mm_cmpeq_epi8(_mm_max_epu8(v, sp), sp);   // v <= 0x20
        __m128i const high = _mm_cmpeq_epi8(_mm_max_epu8(v, del), v);  // v >= 0x7F
        auto const mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(low, high)));
        if (mask != 0) return p + first_bit(mask);
        p += 16;
    }
#endif
    while (p != end && in(target_table, *p)) ++p;
    return p;
}

} // namespace upshift::http1::detail
