// Word-at-a-time masking (RFC 6455 §5.3).
#include "upshift/ws/mask.hpp"

#include <cstring>

namespace upshift::ws {

void apply_mask(std::span<char> data, masking_key key, std::uint64_t offset) noexcept {
    auto* p = reinterpret_cast<unsigned char*>(data.data());
    std::size_t n = data.size();
    auto phase = static_cast<unsigned>(offset & 3);

    // Head: bytes up to an 8-byte boundary, so the word loop loads aligned words.
    while (n > 0 && (reinterpret_cast<std::uintptr_t>(p) & 7) != 0) {
        *p++ ^= key[phase];
        phase = (phase + 1) & 3;
        --n;
    }
    if (n >= 8) {
        // The key repeated over 8 bytes, rotated so that byte 0 lines up with `phase`.
        // Built byte by byte and copied, so it is correct on either endianness.
        unsigned char pattern[8];
        for (unsigned i = 0; i < 8; ++i) pattern[i] = key[(phase + i) & 3];
        std::uint64_t m;
        std::memcpy(&m, pattern, 8);
        // 8 is a multiple of 4: the phase is the same at every word.
        while (n >= 32) {
            std::uint64_t w[4];
            std::memcpy(w, p, 32);
            w[0] ^= m;
            w[1] ^= m;
            w[2] ^= m;
            w[3] ^= m;
            std::memcpy(p, w, 32);
            p += 32;
            n -= 32;
        }
        while (n >= 8) {
            std::uint64_t w;
            std::memcpy(&w, p, 8);
            w ^= m;
            std::memcpy(p, &w, 8);
            p += 8;
            n -= 8;
        }
    }
    // Tail.
    while (n > 0) {
        *p++ ^= key[phase];
        phase = (phase + 1) & 3;
        --n;
    }
}

} // namespace upshift::ws
