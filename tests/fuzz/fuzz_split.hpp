#pragma once
// The fuzz input chooses its own read sizes: the first 4 bytes are split
// sizes (1..64, cycled), the rest is the stream. Feeding growing prefixes is
// exactly what a connection does with its read buffer.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace upshift::fuzz {

struct split_input {
    std::uint8_t sizes[4] = {1, 1, 1, 1};
    std::string_view bytes;
};

inline split_input make_split(std::uint8_t const* data, std::size_t size) {
    split_input s;
    std::size_t const n = size < 4 ? size : 4;
    for (std::size_t i = 0; i < n; ++i) s.sizes[i] = static_cast<std::uint8_t>(data[i] % 64 + 1);
    s.bytes = {reinterpret_cast<char const*>(data) + n, size - n};
    return s;
}

/// Calls fn(prefix_length) for growing prefixes until fn returns false or all bytes are in.
template <class Fn>
void for_each_prefix(split_input const& s, Fn&& fn) {
    std::size_t have = 0;
    std::size_t i = 0;
    while (have < s.bytes.size()) {
        have += s.sizes[i++ % 4];
        if (have > s.bytes.size()) have = s.bytes.size();
        if (!fn(have)) return;
    }
}

} // namespace upshift::fuzz
