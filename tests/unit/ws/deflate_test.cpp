// permessage-deflate (RFC 7692): offer parsing and the server's answer (§5, §7.1), and the
// zlib codec (§7.2): the RFC's own "Hello" bytes, context takeover, and a decompression bomb.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "upshift/ws/deflate_codec.hpp"
#include "upshift/ws/deflate_params.hpp"

namespace upshift::ws {
namespace {

std::optional<deflate_params> nego(std::vector<std::string_view> v, deflate_policy p = {}) {
    return negotiate_deflate(v, p);
}

// §7.1: every parameter with and without values, names case-insensitively, values as tokens or
// quoted strings.
TEST(DeflateParams, ParsesKnownParameters) {
    auto o = parse_deflate_offer("permessage-deflate");
    ASSERT_TRUE(o);
    EXPECT_FALSE(o->server_no_context_takeover);
    EXPECT_EQ(o->server_max_window_bits, 0);
    EXPECT_EQ(o->client_max_window_bits, 0);

    o = parse_deflate_offer(
        "permessage-deflate; server_no_context_takeover; Client_No_Context_Takeover ;server_max_window_bits=10; "
        "client_max_window_bits");
    ASSERT_TRUE(o);
    EXPECT_TRUE(o->server_no_context_takeover);
    EXPECT_TRUE(o->client_no_context_takeover);
    EXPECT_EQ(o->server_max_window_bits, 10);
    EXPECT_EQ(o->client_max_window_bits, -1);

    o = parse_deflate_offer("permessage-deflate; client_max_window_bits=\"8\"; server_max_window_bits=15");
    ASSERT_TRUE(o);
    EXPECT_EQ(o->client_max_window_bits, 8);
    EXPECT_EQ(o->server_max_window_bits, 15);
}

// §7.1: unknown, duplicate or invalid parameters decline the offer element; §7.1.2.1: a value is
// required for server_max_window_bits and must be 8..15 without leading zeros.
TEST(DeflateParams, RejectsInvalidOffers) {
    for (auto const* bad : {
             "x-webkit-deflate-frame",
             "permessage-deflate; foo",
             "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
             "permessage-deflate; server_no_context_takeover=1",
             "permessage-deflate; client_no_context_takeover=\"\"",
             "permessage-deflate; server_max_window_bits",
             "permessage-deflate; server_max_window_bits=7",
             "permessage-deflate; server_max_window_bits=16",
             "permessage-deflate; server_max_window_bits=010",
             "permessage-deflate; server_max_window_bits=+9",
             "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
             "permessage-deflate; client_max_window_bits=0",
             "permessage-deflate; client_max_window_bits=; x",
             "permessage-deflate; client_max_window_bits; client_max_window_bits",
             "permessage-deflate; client_max_window_bits=\"1 5\"",
             "permessage-deflate; server_max_window_bits=\"9",
         }) {
        EXPECT_FALSE(parse_deflate_offer(bad)) << bad;
        EXPECT_FALSE(nego({bad})) << bad;
    }
}

// §5.1: the first acceptable element wins; a declined one is skipped for the next, also across lines.
TEST(DeflateParams, FirstAcceptableOfferWins) {
    auto p = nego({"permessage-deflate; bogus, permessage-deflate; client_max_window_bits=9, permessage-deflate"});
    ASSERT_TRUE(p);
    EXPECT_EQ(p->client_max_window_bits, 9);
    EXPECT_EQ(format_deflate_response(*p), "permessage-deflate; client_max_window_bits=9");

    p = nego({"foo", "permessage-deflate; server_max_window_bits=8"});
    ASSERT_TRUE(p);
    EXPECT_EQ(format_deflate_response(*p), "permessage-deflate; server_max_window_bits=8");

    EXPECT_FALSE(nego({}));
    EXPECT_FALSE(nego({"foo, bar; baz=1"}));
}

// §7.1.1, §7.1.2: the response echoes what was agreed; our own limits are announced.
TEST(DeflateParams, ResponseEchoesAgreedParameters) {
    // python websockets' default offer.
    auto p = nego({"permessage-deflate; client_max_window_bits"});
    ASSERT_TRUE(p);
    EXPECT_EQ(format_deflate_response(*p), "permessage-deflate");  // §7.1.2.2: the client keeps 15
    EXPECT_EQ(p->client_max_window_bits, 15);

    p = nego({"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12"},
             {.server_max_window_bits = 10});
    ASSERT_TRUE(p);
    EXPECT_EQ(p->server_max_window_bits, 10);
    EXPECT_EQ(format_deflate_response(*p),
              "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10");

    // §7.1.1.1: the server may announce server_no_context_takeover unasked.
    p = nego({"permessage-deflate"}, {.server_max_window_bits = 15, .server_no_context_takeover = true});
    ASSERT_TRUE(p);
    EXPECT_EQ(format_deflate_response(*p), "permessage-deflate; server_no_context_takeover");
}

std::string bytes(std::initializer_list<int> b) {
    std::string s;
    for (int x : b) s += static_cast<char>(x);
    return s;
}

std::string pattern_text(std::size_t n) {
    std::string s;
    while (s.size() < n) s += "The quick brown fox " + std::to_string(s.size() % 97) + " jumps. ";
    s.resize(n);
    return s;
}

// §7.2.3.1: "Hello" is 0xf2 0x48 0xcd 0xc9 0xc9 0x07 0x00 on the wire, both ways.
TEST(DeflateCodec, RfcHelloExample) {
    auto const hello = bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00});
    deflater d;
    std::string out;
    d.compress("Hello", out);
    EXPECT_EQ(out, hello);

    inflater i(15, false, 1024);
    ASSERT_EQ(i.feed(hello), inflate_status::ok);
    ASSERT_EQ(i.finish(), inflate_status::ok);
    EXPECT_EQ(i.message(), "Hello");
    // Byte by byte (as frames may split it), and again on the same inflater.
    for (char c : hello) ASSERT_EQ(i.feed(std::string_view(&c, 1)), inflate_status::ok);
    ASSERT_EQ(i.finish(), inflate_status::ok);
    EXPECT_EQ(i.message(), "Hello");
}

// §7.2.3.2: with context takeover the second "Hello" refers back into the first one and is
// shorter (0xf2 0x00 0x11 0x00 0x00); without it (§7.1.1.1) both are the same 7 bytes.
TEST(DeflateCodec, ContextTakeoverVersusNone) {
    deflater keep;
    std::string a, b;
    keep.compress("Hello", a);
    keep.compress("Hello", b);
    EXPECT_EQ(a, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
    EXPECT_EQ(b, bytes({0xf2, 0x00, 0x11, 0x00, 0x00}));
    inflater in_keep(15, false, 1024);
    for (auto const& m : {a, b}) {
        ASSERT_EQ(in_keep.feed(m), inflate_status::ok);
        ASSERT_EQ(in_keep.finish(), inflate_status::ok);
        EXPECT_EQ(in_keep.message(), "Hello");
    }

    deflater fresh(15, true);
    std::string c, d;
    fresh.compress("Hello", c);
    fresh.compress("Hello", d);
    EXPECT_EQ(c, a);
    EXPECT_EQ(d, a);
    // An inflater that resets after each message cannot follow a back reference into the previous one.
    inflater in_fresh(15, true, 1024);
    ASSERT_EQ(in_fresh.feed(a), inflate_status::ok);
    ASSERT_EQ(in_fresh.finish(), inflate_status::ok);
    auto st = in_fresh.feed(b);
    if (st == inflate_status::ok) st = in_fresh.finish();
    EXPECT_EQ(st, inflate_status::corrupt);  // "invalid distance too far back"
    // And a fresh message after that still works on a fresh stream.
    inflater again(15, true, 1024);
    ASSERT_EQ(again.feed(d), inflate_status::ok);
    ASSERT_EQ(again.finish(), inflate_status::ok);
    EXPECT_EQ(again.message(), "Hello");
}

// Large messages, small windows (8 is run as 9 by zlib's deflate), every split of the input.
TEST(DeflateCodec, RoundTripsWindowsAndPieces) {
    auto const text = pattern_text(300'000);
    for (int w : {8, 9, 12, 15}) {
        deflater d(w, false);
        inflater i(w, false, 1 << 20);
        for (int round = 0; round < 2; ++round) {
            std::string z;
            d.compress(text, z);
            EXPECT_LT(z.size(), text.size() / 4) << w;
            for (std::size_t at = 0; at < z.size(); at += 1000)
                ASSERT_EQ(i.feed(std::string_view(z).substr(at, 1000)), inflate_status::ok);
            ASSERT_EQ(i.finish(), inflate_status::ok);
            EXPECT_EQ(i.message(), text) << w;
        }
    }
}

// Corrupt data is reported, not crashed on.
TEST(DeflateCodec, CorruptData) {
    inflater i(15, false, 1024);
    auto st = i.feed(bytes({0xff, 0xff, 0xff, 0xff, 0xff}));
    if (st == inflate_status::ok) st = i.finish();
    EXPECT_EQ(st, inflate_status::corrupt);
}

// A decompression bomb: 64 MiB of zeros compress to ~64 KiB. With a 1 MiB limit the inflater stops
// with too_big as soon as the output passes the limit, and its buffer never held more than the
// limit plus one step.
TEST(DeflateCodec, BombStopsAtTheLimit) {
    std::string const zeros(std::size_t{64} << 20, '\0');
    deflater d;
    std::string z;
    d.compress(zeros, z);
    ASSERT_LT(z.size(), std::size_t{128} << 10);
    std::size_t const limit = std::size_t{1} << 20;
    inflater i(15, false, limit);
    auto st = inflate_status::ok;
    for (std::size_t at = 0; at < z.size() && st == inflate_status::ok; at += 4096)
        st = i.feed(std::string_view(z).substr(at, 4096));
    if (st == inflate_status::ok) st = i.finish();
    EXPECT_EQ(st, inflate_status::too_big);
    EXPECT_LE(i.buffer_capacity(), limit + inflater::step);
    // Exactly at the limit is fine.
    inflater exact(15, false, limit);
    std::string z2;
    deflater d2;
    d2.compress(std::string_view(zeros).substr(0, limit), z2);
    ASSERT_EQ(exact.feed(z2), inflate_status::ok);
    ASSERT_EQ(exact.finish(), inflate_status::ok);
    EXPECT_EQ(exact.message().size(), limit);
}

// The memory a compressing connection holds (zlib's deflate at windowBits 15, memLevel 8 and
// inflate at 15), counted through zalloc: about 256 KiB + 32 KiB plus their state.
struct counted {
    std::size_t now = 0;
    std::size_t peak = 0;
};
voidpf count_alloc(voidpf opaque, uInt items, uInt size) {
    auto* c = static_cast<counted*>(opaque);
    std::size_t const n = std::size_t{items} * size;
    auto* p = static_cast<std::size_t*>(std::malloc(n + sizeof(std::size_t) * 2));
    if (!p) return nullptr;
    p[0] = n;
    c->now += n;
    c->peak = std::max(c->peak, c->now);
    return p + 2;
}
void count_free(voidpf opaque, voidpf address) {
    auto* c = static_cast<counted*>(opaque);
    auto* p = static_cast<std::size_t*>(address) - 2;
    c->now -= p[0];
    std::free(p);
}

TEST(DeflateCodec, MemoryPerConnection) {
    counted dc, ic;
    z_stream dz{};
    dz.zalloc = count_alloc;
    dz.zfree = count_free;
    dz.opaque = &dc;
    ASSERT_EQ(deflateInit2(&dz, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z_stream iz{};
    iz.zalloc = count_alloc;
    iz.zfree = count_free;
    iz.opaque = &ic;
    ASSERT_EQ(inflateInit2(&iz, -15), Z_OK);
    // inflate allocates its window at the first output.
    auto const hello = bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff});
    char out[16];
    iz.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(hello.data()));
    iz.avail_in = static_cast<uInt>(hello.size());
    iz.next_out = reinterpret_cast<Bytef*>(out);
    iz.avail_out = sizeof out;
    EXPECT_EQ(inflate(&iz, Z_SYNC_FLUSH), Z_OK);
    std::printf("zlib memory per connection: deflate %zu bytes, inflate %zu bytes\n", dc.now, ic.now);
    EXPECT_GE(dc.now, std::size_t{256} << 10);
    EXPECT_LE(dc.now, std::size_t{300} << 10);
    EXPECT_GE(ic.now, std::size_t{32} << 10);
    EXPECT_LE(ic.now, std::size_t{48} << 10);
    deflateEnd(&dz);
    inflateEnd(&iz);
    EXPECT_EQ(dc.now, 0u);
    EXPECT_EQ(ic.now, 0u);
}

} // namespace
} // namespace upshift::ws
