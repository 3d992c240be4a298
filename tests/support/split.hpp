#pragma once
// for_each_split(bytes, fn): the ways a byte string can arrive from the network,
// for testing restartable parsers (the Beast / picohttpparser practice).
//
// fn(split const& s) is called with, in order:
//   - "whole":     one piece, the entire input;
//   - "bytewise":  every byte as its own piece;
//   - "split@k":   two pieces, [0, k) and [k, n), for every k in 1..n-1.
// Concatenating s.pieces always gives `bytes`. Parsers here take "the whole
// unconsumed input" on every call, so a test appends each piece to a growing
// std::string and parses the whole string each time (see grow()). The
// growing string may reallocate between calls, which also checks that a
// parser keeps offsets, not pointers, across calls.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace upshift::test {

struct split {
    std::string name;                      ///< for SCOPED_TRACE
    std::vector<std::string_view> pieces;  ///< consecutive, non-empty (except for empty input)

    /// Calls step(buffer) after appending each piece; stops early when step returns false.
    template <class Step>
    void grow(Step&& step) const {
        std::string buffer;
        for (auto piece : pieces) {
            buffer.append(piece);
            if (!step(std::string_view(buffer))) return;
        }
    }
};

template <class Fn>
void for_each_split(std::string_view bytes, Fn&& fn) {
    split s;
    s.name = "whole";
    s.pieces = {bytes};
    fn(static_cast<split const&>(s));

    s.name = "bytewise";
    s.pieces.clear();
    for (std::size_t i = 0; i < bytes.size(); ++i) s.pieces.push_back(bytes.substr(i, 1));
    if (bytes.size() > 1) fn(static_cast<split const&>(s));

    for (std::size_t k = 1; k + 1 < bytes.size() + 1 && k < bytes.size(); ++k) {
        s.name = "split@" + std::to_string(k);
        s.pieces = {bytes.substr(0, k), bytes.substr(k)};
        fn(static_cast<split const&>(s));
    }
}

} // namespace upshift::test
