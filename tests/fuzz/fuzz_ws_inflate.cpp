// libFuzzer target: the permessage-deflate codec (RFC 7692 §7.2, deflate_codec.hpp).
// Input: byte 0 picks the window bits (8..15) and no_context_takeover, byte 1 the inflate limit
// (small, so that limits are hit), byte 2 where the stream is cut into two messages; the rest
// goes through fuzz_split (read sizes, then the bytes).
// Invariants:
//   - arbitrary bytes inflated in arbitrary pieces: no crash, the output buffer never holds
//     more than limit + 1 bytes (the documented bound), an ok message is at most the limit,
//     and a split run gives the same statuses and messages as a whole run;
//   - round trip: the bytes, as messages, compressed whole (compress) and in pieces
//     (compress_part, one piece per fragment) by our deflater, inflate back to the same bytes
//     with the limit set to exactly the message size; one byte less is too_big.
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz_split.hpp"
#include "upshift/ws/deflate_codec.hpp"

using namespace upshift;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

struct config {
    int window_bits = 15;
    bool no_context_takeover = false;
    std::size_t limit = 0;
};

struct outcome {
    std::vector<std::string> messages;
    ws::inflate_status last = ws::inflate_status::ok;
    bool operator==(outcome const&) const = default;
};

/// Inflates `messages` (each a list of pieces) like a session: stops at the first error.
outcome inflate_all(config const& c, std::vector<std::vector<std::string_view>> const& messages) {
    ws::inflater inf(c.window_bits, c.no_context_takeover, c.limit);
    outcome out;
    for (auto const& pieces : messages) {
        for (auto piece : pieces) {
            out.last = inf.feed(piece);
            check(inf.buffer_capacity() <= c.limit + 1);
            if (out.last != ws::inflate_status::ok) return out;
        }
        out.last = inf.finish();
        check(inf.buffer_capacity() <= c.limit + 1);
        if (out.last != ws::inflate_status::ok) return out;
        check(inf.message().size() <= c.limit);
        out.messages.emplace_back(inf.message());
        inf.clear_message();
    }
    return out;
}

/// `bytes` cut into pieces by the input's read sizes.
std::vector<std::string_view> pieces_of(fuzz::split_input const& s, std::string_view bytes) {
    fuzz::split_input t = s;
    t.bytes = bytes;
    std::vector<std::string_view> out;
    std::size_t prev = 0;
    fuzz::for_each_prefix(t, [&](std::size_t n) {
        out.push_back(bytes.substr(prev, n - prev));
        prev = n;
        return true;
    });
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    if (size < 3) return 0;
    config c;
    c.window_bits = 8 + (data[0] & 7);
    c.no_context_takeover = (data[0] & 8) != 0;
    c.limit = static_cast<std::size_t>(data[1]) * 13;  // 0..3315
    std::size_t const cut_byte = data[2];
    auto const s = fuzz::make_split(data + 3, size - 3);
    std::size_t const cut = s.bytes.size() * cut_byte / 255;
    std::string_view const first = s.bytes.substr(0, cut);
    std::string_view const second = s.bytes.substr(cut);

    // Arbitrary bytes as two compressed messages: split and whole runs agree.
    auto const whole = inflate_all(c, {{first}, {second}});
    auto const split = inflate_all(c, {pieces_of(s, first), pieces_of(s, second)});
    check(whole == split);

    // Round trip through our own deflater, whole messages and fragmented ones.
    ws::deflater whole_def(c.window_bits, c.no_context_takeover);
    ws::deflater part_def(c.window_bits, c.no_context_takeover);
    std::vector<std::string> whole_z;
    std::vector<std::string> part_z;
    for (auto m : {first, second, std::string_view{}, first}) {  // an empty message after others too
        whole_z.emplace_back();
        whole_def.compress(m, whole_z.back());
        check(!whole_z.back().empty());  // RFC 7692 §7.2.3.6: even an empty message has data
        part_z.emplace_back();
        auto const pieces = pieces_of(s, m);
        if (pieces.empty()) part_def.compress_part({}, true, part_z.back());
        for (std::size_t i = 0; i < pieces.size(); ++i)
            part_def.compress_part(pieces[i], i + 1 == pieces.size(), part_z.back());
    }
    for (auto const* z : {&whole_z, &part_z}) {
        std::vector<std::vector<std::string_view>> feed;
        for (auto const& m : *z) feed.push_back(pieces_of(s, m));
        config exact = c;
        exact.limit = std::max(first.size(), second.size());
        auto const back = inflate_all(exact, feed);
        check(back.last == ws::inflate_status::ok && back.messages.size() == 4);
        check(back.messages[0] == first && back.messages[1] == second && back.messages[2].empty() &&
              back.messages[3] == first);
        // The limit is exact: the first message with one byte less is too big.
        if (!first.empty()) {
            config tight = c;
            tight.limit = first.size() - 1;
            auto const over = inflate_all(tight, {feed[0]});
            check(over.last == ws::inflate_status::too_big && over.messages.empty());
        }
    }
    return 0;
}
