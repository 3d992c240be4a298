// UTF-8 validation (RFC 6455 §8.1, RFC 3629 §4), incremental and fail-fast.
#include "upshift/ws/utf8.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "support/split.hpp"

namespace upshift::ws {
namespace {

/// A straightforward decoder per RFC 3629 §3/§4, as the reference.
bool reference_valid(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        auto const c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        std::uint32_t cp = 0;
        std::uint32_t min = 0;
        if (c >= 0xC0 && c <= 0xDF) { len = 2; cp = c & 0x1Fu; min = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0Fu; min = 0x800; }
        else if (c >= 0xF0 && c <= 0xF7) { len = 4; cp = c & 0x07u; min = 0x10000; }
        else return false;
        if (i + len > s.size()) return false;
        for (std::size_t k = 1; k < len; ++k) {
            auto const b = static_cast<unsigned char>(s[i + k]);
            if ((b & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (b & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

std::string encode(std::uint32_t cp) {
    std::string s;
    auto put = [&](std::uint32_t v) { s += static_cast<char>(v); };
    if (cp < 0x80) put(cp);
    else if (cp < 0x800) { put(0xC0 | (cp >> 6)); put(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) { put(0xE0 | (cp >> 12)); put(0x80 | ((cp >> 6) & 0x3F)); put(0x80 | (cp & 0x3F)); }
    else { put(0xF0 | (cp >> 18)); put(0x80 | ((cp >> 12) & 0x3F)); put(0x80 | ((cp >> 6) & 0x3F)); put(0x80 | (cp & 0x3F)); }
    return s;
}

/// Valid under every split: whole, byte by byte, and in two pieces at every offset.
void expect_valid(std::string_view s) {
    SCOPED_TRACE(::testing::PrintToString(std::string(s)));
    EXPECT_TRUE(is_valid_utf8(s));
    test::for_each_split(s, [&](test::split const& sp) {
        utf8_validator v;
        for (auto piece : sp.pieces) EXPECT_TRUE(v.feed(piece)) << sp.name;
        EXPECT_TRUE(v.finish()) << sp.name;
        EXPECT_FALSE(v.failed());
    });
}

/// Invalid; and feed() fails exactly in the piece holding byte `bad` (fail-fast), or, with
/// bad == npos, only finish() fails (the input ends inside a code point).
void expect_invalid(std::string_view s, std::size_t bad) {
    SCOPED_TRACE(::testing::PrintToString(std::string(s)));
    EXPECT_FALSE(is_valid_utf8(s));
    EXPECT_FALSE(reference_valid(s));
    for (std::size_t k = 0; k <= s.size(); ++k) {
        utf8_validator v;
        bool const first = v.feed(s.substr(0, k));
        bool const second = v.feed(s.substr(k));
        if (bad == std::string_view::npos) {
            EXPECT_TRUE(first && second) << k;
            EXPECT_FALSE(v.finish());
        } else {
            EXPECT_EQ(first, k <= bad) << k;
            EXPECT_FALSE(second) << k;
            EXPECT_TRUE(v.failed());
            EXPECT_FALSE(v.finish());
        }
    }
}

TEST(Utf8, AcceptsValidText) {
    expect_valid("");
    expect_valid("Hello, world");
    expect_valid("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5");  // κόσμε, RFC 6455 test material
    expect_valid("\xf0\x9f\x98\x80 grin");
    // Boundaries of each length (RFC 3629 §4).
    for (std::uint32_t cp : {0x0u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xD7FFu, 0xE000u, 0xFFFDu, 0xFFFFu, 0x10000u, 0x10FFFFu})
        expect_valid(encode(cp));
}

TEST(Utf8, RejectsOverlongForms) {
    // RFC 3629 §3: "Implementations of the decoding algorithm above MUST protect against decoding invalid sequences."
    expect_invalid("\xc0\x80", 0);          // C0, C1 never start a valid sequence
    expect_invalid("\xc1\xbf", 0);
    expect_invalid("\xe0\x80\x80", 1);      // E0 needs A0-BF next
    expect_invalid("\xe0\x9f\xbf", 1);
    expect_invalid("\xf0\x80\x80\x80", 1);  // F0 needs 90-BF next
    expect_invalid("\xf0\x8f\xbf\xbf", 1);
}

TEST(Utf8, RejectsSurrogates) {
    expect_invalid("\xed\xa0\x80", 1);  // U+D800
    expect_invalid("\xed\xbf\xbf", 1);  // U+DFFF
    expect_invalid("\xed\xa0\x80\xed\xb0\x80", 1);  // a CESU-8 pair
}

TEST(Utf8, RejectsBeyondU10FFFF) {
    expect_invalid("\xf4\x90\x80\x80", 1);  // U+110000
    for (int b = 0xF5; b <= 0xFF; ++b) expect_invalid(std::string(1, static_cast<char>(b)) + "\x80\x80\x80", 0);
}

TEST(Utf8, RejectsStrayAndMissingContinuations) {
    expect_invalid("\x80", 0);
    expect_invalid("a\xbf", 1);
    expect_invalid("\xc3(", 1);
    expect_invalid("\xe2\x82(", 2);
    expect_invalid("\xf0\x9f\x98(", 3);
    // Truncated at the end: nothing is wrong yet, but the message may not end here.
    expect_invalid("\xc3", std::string_view::npos);
    expect_invalid("\xe2\x82", std::string_view::npos);
    expect_invalid("ok \xf0\x9f\x98", std::string_view::npos);
}

TEST(Utf8, FailureIsSticky) {
    utf8_validator v;
    EXPECT_FALSE(v.feed("\xff"));
    EXPECT_FALSE(v.feed("abc"));
    EXPECT_TRUE(v.failed());
    v.reset();
    EXPECT_TRUE(v.feed("abc"));
    EXPECT_TRUE(v.finish());
}

TEST(Utf8, EveryCodePoint) {
    for (std::uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
        bool const surrogate = cp >= 0xD800 && cp <= 0xDFFF;
        auto const s = encode(cp);
        ASSERT_EQ(is_valid_utf8(s), !surrogate) << std::hex << cp;
    }
}

TEST(Utf8, EveryTwoByteString) {
    for (unsigned a = 0; a < 256; ++a)
        for (unsigned b = 0; b < 256; ++b) {
            char const s[2] = {static_cast<char>(a), static_cast<char>(b)};
            ASSERT_EQ(is_valid_utf8({s, 2}), reference_valid({s, 2})) << a << " " << b;
        }
}

TEST(Utf8, FastPathSeesEveryByte) {
    // The ASCII fast path checks 16 bytes at a time: a bad byte at any position of a block,
    // and a code point across a block boundary, must still be seen.
    for (std::size_t pos = 0; pos < 64; ++pos) {
        std::string s(64, 'a');
        s[pos] = '\x80';
        EXPECT_FALSE(is_valid_utf8(s)) << pos;
        std::string t(64, 'a');
        t.replace(pos, 2, "\xc3\xa9");
        t.resize(64);
        EXPECT_EQ(is_valid_utf8(t), pos != 63) << pos;
        std::string u(64, 'a');
        u.replace(pos, 4, "\xf0\x9f\x98\x80");
        u.resize(64);
        EXPECT_EQ(is_valid_utf8(u), pos <= 60) << pos;
    }
}

TEST(Utf8, RandomAgainstReference) {
    std::mt19937 rng(6455);
    // Mostly valid text with mutations: both verdicts occur often.
    std::uniform_int_distribution<std::uint32_t> cp_dist(0, 0x10FFFF);
    std::uniform_int_distribution<int> kind(0, 9);
    std::uniform_int_distribution<int> byte(0, 255);
    int valid = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string s;
        int const n = kind(rng) * 5;
        for (int i = 0; i < n; ++i) {
            int const k = kind(rng);
            if (k < 5) s += static_cast<char>('a' + k);
            else if (k < 9) {
                std::uint32_t cp = cp_dist(rng);
                if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
                s += encode(cp);
            } else {
                s += static_cast<char>(byte(rng));
            }
        }
        bool const expected = reference_valid(s);
        valid += expected;
        ASSERT_EQ(is_valid_utf8(s), expected) << ::testing::PrintToString(s);
        // Byte by byte gives the same verdict.
        utf8_validator v;
        bool ok = true;
        for (char c : s) ok = v.feed({&c, 1}) && ok;
        ASSERT_EQ(ok && v.finish(), expected);
    }
    EXPECT_GT(valid, 1000);
    EXPECT_LT(valid, 19000);
}

} // namespace
} // namespace upshift::ws
