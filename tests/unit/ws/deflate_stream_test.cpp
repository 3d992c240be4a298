// deflate_codec's fragmented compression (deflater::compress_part, RFC 7692 §7.2.1 over a whole
// message sent in pieces), the empty-message case (§7.2.3.6), the inflater's verdict not
// depending on how the input is cut, and an offer whose last parameter is an unterminated
// quoted-string (§7.1). Inflated with zlib directly where the wire bytes matter.
#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "upshift/ws/deflate_codec.hpp"
#include "upshift/ws/deflate_params.hpp"

namespace upshift::ws {
namespace {

constexpr std::string_view sync_tail{"\x00\x00\xff\xff", 4};

/// zlib raw inflate of several messages in one stream, each with §7.2.2's tail appended.
class zlib_inflater {
public:
    zlib_inflater() { EXPECT_EQ(inflateInit2(&z_, -15), Z_OK); }
    ~zlib_inflater() { inflateEnd(&z_); }
    zlib_inflater(zlib_inflater const&) = delete;
    zlib_inflater& operator=(zlib_inflater const&) = delete;
    std::optional<std::string> message(std::string data) {
        data.append(sync_tail);
        std::string out(1 << 20, '\0');
        z_.next_in = reinterpret_cast<Bytef*>(data.data());
        z_.avail_in = static_cast<uInt>(data.size());
        z_.next_out = reinterpret_cast<Bytef*>(out.data());
        z_.avail_out = static_cast<uInt>(out.size());
        int const rc = inflate(&z_, Z_SYNC_FLUSH);
        if (rc != Z_OK || z_.avail_in != 0) return std::nullopt;
        out.resize(out.size() - z_.avail_out);
        return out;
    }

private:
    z_stream z_{};
};

std::string text(std::size_t n, char c) {
    std::string s;
    while (s.size() < n) s += std::string("fragment ") + c + ", ";
    s.resize(n);
    return s;
}

// §7.2.1 applied to a message sent in pieces: the concatenated fragment data plus 00 00 ff ff is
// the message; only the end's 00 00 ff ff is removed; the next message continues the stream.
TEST(DeflateStream, PiecesConcatenateToTheMessage) {
    deflater d;
    zlib_inflater z;
    std::string const a = text(500, 'a'), b = text(700, 'b'), c = text(10, 'c');
    std::string wire;
    std::string part;
    d.compress_part(a, false, part);
    EXPECT_FALSE(part.empty());  // flushed: the first piece can go out now
    wire += part;
    part.clear();
    d.compress_part(b, false, part);
    wire += part;
    part.clear();
    d.compress_part(c, true, part);
    EXPECT_FALSE(part.ends_with(sync_tail));
    wire += part;
    auto got = z.message(wire);
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, a + b + c);

    std::string next;
    d.compress(a, next);
    got = z.message(next);
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, a);
    EXPECT_LT(next.size(), 20u);  // context takeover: refers back to the first message
}

// §7.2.3.6: an empty message, or an empty last fragment after a flush, still leaves the receiver's
// stream at a block boundary once it appends 00 00 ff ff: the next message inflates.
TEST(DeflateStream, EmptyMessagesKeepTheStreamAligned) {
    deflater d;
    zlib_inflater z;
    std::string const a = text(300, 'x');
    std::string m1;
    d.compress(a, m1);
    ASSERT_EQ(z.message(m1), a);

    std::string empty;
    d.compress({}, empty);
    EXPECT_EQ(empty, std::string(1, '\0'));  // an empty stored block without its 00 00 ff ff
    EXPECT_EQ(z.message(empty), "");

    std::string frag1, frag2;
    d.compress_part(a, false, frag1);
    d.compress_part({}, true, frag2);
    EXPECT_TRUE(frag2.empty());  // the held 00 00 ff ff was the end: nothing left to send
    EXPECT_EQ(z.message(frag1 + frag2), a);

    std::string last;
    d.compress(a, last);
    EXPECT_EQ(z.message(last), a);
}

// The inflater's verdict does not depend on how the input is cut: a back-reference further than
// a 9-bit window is accepted whole and in pieces alike (the window is always 32 KiB).
TEST(DeflateStream, InflaterVerdictIndependentOfCuts) {
    deflater d;  // 15-bit window: references up to 32 KiB back
    std::string block(4000, '\0');  // no short period: the repeat is one reference 4000 back
    std::uint32_t x = 7;
    for (auto& ch : block) {
        x = x * 1103515245u + 12345u;
        ch = static_cast<char>(x >> 23);
    }
    std::string data;
    d.compress(block + block, data);
    for (std::size_t piece : {data.size(), std::size_t{1}, std::size_t{7}}) {
        inflater inf(9, false, 1 << 20);
        auto st = inflate_status::ok;
        for (std::size_t i = 0; i < data.size() && st == inflate_status::ok; i += piece)
            st = inf.feed(std::string_view(data).substr(i, piece));
        if (st == inflate_status::ok) st = inf.finish();
        ASSERT_EQ(st, inflate_status::ok) << "piece " << piece;
        EXPECT_EQ(inf.message(), block + block);
    }
}

// §7.1 (RFC 7230 quoted-string): a backslash as the last octet leaves the quoted-string open; the
// offer is invalid and declined (§5.1), not accepted without its last parameter.
TEST(DeflateStream, UnterminatedEscapeDeclinesTheOffer) {
    EXPECT_FALSE(parse_deflate_offer("permessage-deflate; x=\"ab\\"));
    EXPECT_FALSE(parse_deflate_offer("permessage-deflate; client_max_window_bits=\"9\\"));
    EXPECT_TRUE(parse_deflate_offer("permessage-deflate; client_max_window_bits=\"9\""));
}

} // namespace
} // namespace upshift::ws
