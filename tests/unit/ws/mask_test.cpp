// Masking (RFC 6455 §5.3), word at a time, against the definition.
#include "upshift/ws/mask.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace upshift::ws {
namespace {

TEST(Mask, MatchesTheDefinitionAtEveryAlignmentOffsetAndLength) {
    // §5.3: "Octet i of the transformed data ("transformed-octet-i") is the XOR of octet i of
    // the original data ("original-octet-i") with octet at index i modulo 4 of the masking key".
    masking_key const key{0x37, 0xfa, 0x21, 0x3d};
    std::vector<char> storage(200 + 16);
    for (std::size_t align = 0; align < 8; ++align)
        for (std::uint64_t offset = 0; offset < 8; ++offset)
            for (std::size_t len = 0; len <= 200; ++len) {
                char* const p = storage.data() + align;
                for (std::size_t i = 0; i < len; ++i) p[i] = static_cast<char>(i * 31 + 7);
                apply_mask({p, len}, key, offset);
                for (std::size_t i = 0; i < len; ++i) {
                    auto const expected = static_cast<char>(static_cast<char>(i * 31 + 7) ^ static_cast<char>(key[(offset + i) % 4]));
                    ASSERT_EQ(p[i], expected) << "align " << align << " offset " << offset << " len " << len << " i " << i;
                }
            }
}

TEST(Mask, MatchesTheDefinitionOnTheWideLoop) {
    // §5.3 again, for lengths from which apply_mask works 32 bytes at a time (AVX2 where the CPU
    // has it): every alignment of a 32-byte block, every key phase, lengths around the
    // threshold (256) and around whole blocks of 128 and 32 bytes.
    masking_key const key{0x9c, 0x05, 0xe1, 0x72};
    std::vector<char> storage(1100 + 64);
    for (std::size_t align = 0; align < 32; ++align)
        for (std::uint64_t offset = 0; offset < 4; ++offset)
            for (std::size_t len : {255u, 256u, 257u, 287u, 288u, 289u, 383u, 384u, 385u, 415u, 1000u, 1100u}) {
                char* const p = storage.data() + align;
                for (std::size_t i = 0; i < len; ++i) p[i] = static_cast<char>(i * 13 + 5);
                storage[align + len] = 'x';  // the byte after the payload stays as it is
                apply_mask({p, len}, key, offset);
                for (std::size_t i = 0; i < len; ++i) {
                    auto const expected = static_cast<char>(static_cast<char>(i * 13 + 5) ^ static_cast<char>(key[(offset + i) % 4]));
                    ASSERT_EQ(p[i], expected) << "align " << align << " offset " << offset << " len " << len << " i " << i;
                }
                ASSERT_EQ(storage[align + len], 'x') << "align " << align << " len " << len;
            }
}

TEST(Mask, PiecewiseEqualsWhole) {
    // A payload unmasked in pieces, each with its offset, equals one pass.
    masking_key const key{1, 2, 3, 0xff};
    std::string whole(1000, '\0');
    for (std::size_t i = 0; i < whole.size(); ++i) whole[i] = static_cast<char>(i);
    std::string pieces = whole;
    apply_mask(whole, key);
    std::size_t at = 0;
    for (std::size_t n : {1u, 2u, 3u, 5u, 8u, 13u, 21u, 34u, 55u, 89u, 144u, 233u, 392u}) {
        apply_mask(std::span<char>(pieces).subspan(at, n), key, at);
        at += n;
    }
    ASSERT_EQ(at, pieces.size());
    EXPECT_EQ(pieces, whole);
}

TEST(Mask, IsAnInvolution) {
    masking_key const key{0xde, 0xad, 0xbe, 0xef};
    std::string const original = "The quick brown fox jumps over the lazy dog, twice over: the quick brown fox.";
    std::string s = original;
    apply_mask(s, key, 3);
    EXPECT_NE(s, original);
    apply_mask(s, key, 3);
    EXPECT_EQ(s, original);
    apply_mask(std::span<char>(), key, 5);  // empty is fine
}

} // namespace
} // namespace upshift::ws
