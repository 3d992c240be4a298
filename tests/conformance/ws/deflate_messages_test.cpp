// Autobahn category 12: permessage-deflate (RFC 7692) message exchange, with the default offer
// ("permessage-deflate": both sides keep their LZ77 context, 32 KiB windows). The client sends
// compressed messages (RSV1 on the first frame only, §6.1; DEFLATE with the trailing 00 00 ff ff
// removed, §7.2.1), text and binary, compressible and pseudo-random, 16 B to 128 KiB, whole and
// fragmented, several in a row so both sides' context takeover is used; every echo is read with
// read_message() (which checks RSV1 is on a compressed message's first frame only, §6.1, and never on
// a control frame) and inflated. Then the examples of §7.2.3, and the failures: RSV1 where §6.1
// forbids it (1002, RFC 6455 §5.2), corrupt data (1007), text that inflates to invalid UTF-8 (1007,
// RFC 6455 §8.1), a message that inflates beyond /ws/echo's 64 MiB (1009).
#include "pmd_client.hpp"

namespace upshift::test::conformance {
namespace {

using namespace std::string_literals;

class PmdMessages : public PmdConformance {
protected:
    void SetUp() override {
        ASSERT_NO_FATAL_FAILURE(PmdConformance::SetUp());
        ASSERT_NO_FATAL_FAILURE(open(pmd_offer{}));
    }
};

// ---- 12.1 - 12.5: payload family x size, whole or fragmented, 4 messages in a row ----

enum class family { text, binary, random_text, mixed_binary, random_binary };

struct exchange_case {
    family fam;
    std::size_t size;
    std::size_t fragment;  // 0: one frame
};

std::string payload_for(family f, std::size_t n, unsigned seed) {
    switch (f) {
    case family::text: return text_corpus(n, seed);
    case family::binary: return binary_records(n, seed);
    case family::random_text: return payload_of(n, true, seed);
    case family::mixed_binary: {
        auto s = binary_records(n / 2, seed) + payload_of(n - n / 2, false, seed);
        return s;
    }
    case family::random_binary: return payload_of(n, false, seed);
    }
    return {};
}

// Readable, stable CTest names (GoogleTest would print the struct's bytes, padding included).
void PrintTo(exchange_case const& c, std::ostream* os) {
    *os << "family " << static_cast<int>(c.fam) << ", " << c.size << " bytes, fragments of " << c.fragment;
}

int op_for(family f) { return f == family::text || f == family::random_text ? op_text : op_binary; }

class Deflate12 : public PmdMessages, public ::testing::WithParamInterface<exchange_case> {};

TEST_P(Deflate12, EchoesFourMessagesInARow) {
    auto const c = GetParam();
    int const op = op_for(c.fam);
    std::vector<std::string> sent;
    std::string all;
    for (unsigned i = 0; i < 4; ++i) {
        // Messages 0 and 2 are the same: the server may (with context takeover) refer back to it.
        sent.push_back(payload_for(c.fam, c.size, i == 2 ? 1 : i + 1));
        all += compressed_frames(op, sent.back(), c.fragment);
    }
    ASSERT_TRUE(ws().send_raw(all, false, 30s)) << ws().error();
    for (auto const& m : sent) ASSERT_NO_FATAL_FAILURE(expect_echo_of(op, m));
    expect_clean_close();
}

std::vector<exchange_case> deflate12_cases() {
    std::vector<exchange_case> v;
    std::size_t const sizes[] = {16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072};
    std::pair<std::size_t, std::size_t> const fragmented[] = {{8192, 256},   {16384, 256},   {32768, 1300},
                                                              {65536, 1300}, {131072, 4096}, {131072, 1}};
    for (auto f : {family::text, family::binary, family::random_text, family::mixed_binary, family::random_binary}) {
        for (auto n : sizes) v.push_back({f, n, 0});
        for (auto [n, frag] : fragmented) {
            // 1-byte fragments of an incompressible 128 KiB message would be 128 Ki frames: compressible only.
            if (frag == 1 && (f == family::random_text || f == family::random_binary)) continue;
            v.push_back({f, n, frag});
        }
    }
    return v;
}

// Named like Autobahn: 12.<family 1-5>.<n>, sizes 16 B..128 KiB then the fragmented ones.
std::string deflate12_name(::testing::TestParamInfo<exchange_case> const& info) {
    static constexpr char const* names[] = {"Text", "Binary", "RandomText", "MixedBinary", "RandomBinary"};
    auto const& c = info.param;
    auto const fam = static_cast<int>(c.fam);
    std::size_t n = 1;
    for (std::size_t i = 0; i < info.index; ++i)
        if (static_cast<int>(deflate12_cases()[i].fam) == fam) ++n;
    std::string s = "Case12_" + std::to_string(fam + 1) + "_" + std::to_string(n) + "_" + names[fam] +
                    std::to_string(c.size);
    if (c.fragment > 0) s += "In" + std::to_string(c.fragment) + "ByteFragments";
    return s;
}

INSTANTIATE_TEST_SUITE_P(Pmd, Deflate12, ::testing::ValuesIn(deflate12_cases()), deflate12_name);

// ---- 12.6: RFC 7692 §7.2.3's examples, byte for byte ----

// §7.2.3.1: "Hello" as one compressed DEFLATE block.
TEST_F(PmdMessages, Case12_6_1_Rfc7692HelloOneBlock) {
    ASSERT_TRUE(ws().send_frame(op_text, "\xf2\x48\xcd\xc9\xc9\x07\x00"s, true, rsv1));
    expect_echo_of(op_text, "Hello");
    expect_clean_close();
}

// §7.2.3.1: the same payload in two fragments; RSV1 on the first only (§6.1).
TEST_F(PmdMessages, Case12_6_2_Rfc7692HelloFragmented) {
    ASSERT_TRUE(ws().send_frame(op_text, "\xf2\x48\xcd"s, false, rsv1));
    ASSERT_TRUE(ws().send_frame(op_continuation, "\xc9\xc9\x07\x00"s, true, 0));
    expect_echo_of(op_text, "Hello");
    expect_clean_close();
}

// §7.2.3.2: the second "Hello" refers back into the first message (the LZ77 window is shared
// between messages when client_no_context_takeover was not agreed, §7.1.1.2).
TEST_F(PmdMessages, Case12_6_3_Rfc7692SharedWindow) {
    ASSERT_TRUE(ws().send_frame(op_text, "\xf2\x48\xcd\xc9\xc9\x07\x00"s, true, rsv1));
    ASSERT_TRUE(ws().send_frame(op_text, "\xf2\x00\x11\x00\x00"s, true, rsv1));
    expect_echo_of(op_text, "Hello");
    expect_echo_of(op_text, "Hello");
    expect_clean_close();
}

// §7.2.3.3: a DEFLATE block with no compression.
TEST_F(PmdMessages, Case12_6_4_Rfc7692StoredBlock) {
    ASSERT_TRUE(ws().send_frame(op_text, "\x00\x05\x00\xfa\xff\x48\x65\x6c\x6c\x6f\x00"s, true, rsv1));
    expect_echo_of(op_text, "Hello");
    expect_clean_close();
}

// §7.2.3.4: a DEFLATE block with BFINAL set; the appended 00 00 ff ff after it is ignored.
TEST_F(PmdMessages, Case12_6_5_Rfc7692BfinalBlock) {
    ASSERT_TRUE(ws().send_frame(op_text, "\xf3\x48\xcd\xc9\xc9\x07\x00\x00"s, true, rsv1));
    expect_echo_of(op_text, "Hello");
    // The connection goes on: the next message starts a new DEFLATE stream.
    send_compressed(op_text, "after the final block");
    expect_echo_of(op_text, "after the final block");
    expect_clean_close();
}

// §7.2.3.5: two DEFLATE blocks in one message.
TEST_F(PmdMessages, Case12_6_6_Rfc7692TwoBlocks) {
    ASSERT_TRUE(ws().send_frame(op_text, "\xf2\x48\x05\x00\x00\x00\xff\xff\xca\xc9\xc9\x07\x00"s, true, rsv1));
    expect_echo_of(op_text, "Hello");
    expect_clean_close();
}

// An empty message compressed (§7.2.3.6): the single octet 0x00 (an empty stored block without
// its 00 00 ff ff), what a sync flush of nothing leaves after §7.2.1's removal; then a message that
// refers back to the one before the empty ones, so the context is intact.
TEST_F(PmdMessages, Case12_6_7_EmptyCompressedMessages) {
    auto const before = text_corpus(2000, 67);
    send_compressed(op_text, before);
    ASSERT_TRUE(ws().send_frame(op_binary, "\x00"s, true, rsv1));
    send_compressed(op_text, "");
    send_compressed(op_text, before);
    expect_echo_of(op_text, before);
    expect_echo_of(op_binary, "");
    expect_echo_of(op_text, "");
    expect_echo_of(op_text, before);
    expect_clean_close();
}

// ---- 12.7: context takeover, mixed and interleaved messages ----

// §7.1.1.2: without client_no_context_takeover the client may refer to earlier messages, and the
// server's inflater MUST keep the window. Twenty copies of one 2 KiB text: from the second on our
// payloads are a few bytes of back-references.
TEST_F(PmdMessages, Case12_7_1_ClientContextTakeover) {
    auto const msg = text_corpus(2048, 71);
    std::vector<std::size_t> wire;
    std::string all;
    for (int i = 0; i < 20; ++i) {
        auto const payload = tx_->compress(msg);
        wire.push_back(payload.size());
        all += client_frame(op_text, payload, {.rsv = rsv1});
    }
    // The test only means something if the later payloads do depend on the earlier messages.
    ASSERT_LT(wire[1] * 10, wire[0]) << "our compressor did not use the shared window";
    ASSERT_TRUE(ws().send_raw(all)) << ws().error();
    for (int i = 0; i < 20; ++i) ASSERT_NO_FATAL_FAILURE(expect_echo_of(op_text, msg));
    expect_clean_close();
}

// §6: a message with RSV1 clear is not compressed, even with the extension agreed; it does not
// touch the DEFLATE context, so the third message still refers back to the first.
TEST_F(PmdMessages, Case12_7_2_UncompressedBetweenCompressed) {
    auto const a = text_corpus(3000, 72);
    auto const b = text_corpus(3000, 73);
    std::string all = compressed_frames(op_text, a);
    all += client_frame(op_binary, b);  // RSV1 clear
    all += compressed_frames(op_text, a);
    ASSERT_TRUE(ws().send_raw(all)) << ws().error();
    expect_echo_of(op_text, a);
    expect_echo_of(op_binary, b);
    expect_echo_of(op_text, a);
    expect_clean_close();
}

// RFC 6455 §5.4 with §6.1: a Ping between the fragments of a compressed message is answered at once
// (its Pong has RSV1 clear), and the compressed message continues.
TEST_F(PmdMessages, Case12_7_3_PingsBetweenCompressedFragments) {
    auto const msg = text_corpus(20000, 74);
    auto const payload = tx_->compress(msg);
    std::string all;
    std::size_t pings = 0;
    for (std::size_t at = 0; at < payload.size(); at += 500) {
        bool const first = at == 0;
        all += client_frame(first ? op_text : op_continuation, std::string_view{payload}.substr(at, 500),
                            {.fin = at + 500 >= payload.size(), .rsv = first ? rsv1 : 0});
        if (at + 500 < payload.size()) {
            all += client_frame(op_ping, "p" + std::to_string(pings++));
        }
    }
    ASSERT_GT(pings, 1u);
    ASSERT_TRUE(ws().send_raw(all)) << ws().error();
    std::vector<server_frame> controls;
    pmd_message m;
    ASSERT_TRUE(read_message(ws(), &*rx_, m, 10s, &controls));
    ASSERT_EQ(controls.size(), pings);
    for (std::size_t i = 0; i < pings; ++i) {
        EXPECT_EQ(controls[i].op, op_pong) << controls[i];
        EXPECT_EQ(controls[i].payload, "p" + std::to_string(i));
    }
    EXPECT_EQ(m.op, op_text);
    EXPECT_TRUE(m.data == msg) << "echo differs";
    expect_clean_close();
}

// The server inflates incrementally: a compressed message written one byte per send().
TEST_F(PmdMessages, Case12_7_4_CompressedMessagePerByte) {
    auto const msg = text_corpus(3000, 75);
    ASSERT_TRUE(ws().send_raw(compressed_frames(op_text, msg, 100), true)) << ws().error();
    expect_echo_of(op_text, msg);
    expect_clean_close();
}

// /ws/echo compresses what it sends (compress_threshold 128 in ws::options; not an RFC rule): the
// echo of a compressible 16 KB message comes compressed and much smaller, so the checks of
// read_message() on server messages really run. And the server keeps its context (its default,
// server_no_context_takeover not agreed): 8000 random characters, which have nothing to match
// within themselves, come back a second time as a few back-references into the first echo.
TEST_F(PmdMessages, Case12_7_5_ServerCompressesEchoes) {
    auto const text = text_corpus(16000, 76);
    pmd_message m;
    send_compressed(op_text, text);
    ASSERT_NO_FATAL_FAILURE(expect_echo_of(op_text, text, &m));
    EXPECT_TRUE(m.compressed);
    EXPECT_LT(m.wire_bytes * 2, text.size());

    auto const random = payload_of(8000, true, 77);
    pmd_message first, second;
    send_compressed(op_text, random);
    ASSERT_NO_FATAL_FAILURE(expect_echo_of(op_text, random, &first));
    send_compressed(op_text, random);
    ASSERT_NO_FATAL_FAILURE(expect_echo_of(op_text, random, &second));
    EXPECT_TRUE(second.compressed);
    EXPECT_LT(second.wire_bytes * 10, first.wire_bytes) << "the second echo does not use the server's context";
    expect_clean_close();
}

// ---- 12.8: failures ----

// §6.1: RSV1 is set on the first frame of a compressed message only; on a continuation frame it has
// no meaning, and RFC 6455 §5.2 fails the connection (1002).
TEST_F(PmdMessages, Case12_8_1_Rsv1OnContinuationFails) {
    auto const payload = tx_->compress(text_corpus(1000, 81));
    ASSERT_TRUE(ws().send_frame(op_text, std::string_view{payload}.substr(0, 10), false, rsv1));
    ASSERT_TRUE(ws().send_frame(op_continuation, std::string_view{payload}.substr(10), true, rsv1));
    expect_fail(1002);
}

TEST_F(PmdMessages, Case12_8_2_Rsv1OnUncompressedContinuationFails) {
    ASSERT_TRUE(ws().send_frame(op_text, "plain ", false, 0));
    ASSERT_TRUE(ws().send_frame(op_continuation, "\xf2\x48\xcd\xc9\xc9\x07\x00"s, true, rsv1));
    expect_fail(1002);
}

// §6.1: never RSV1 on a control frame.
TEST_F(PmdMessages, Case12_8_3_Rsv1OnPingFails) {
    ASSERT_TRUE(ws().send_frame(op_ping, "\xf2\x48\xcd\xc9\xc9\x07\x00"s, true, rsv1));
    expect_fail(1002);
}

TEST_F(PmdMessages, Case12_8_4_Rsv1OnCloseFails) {
    ASSERT_TRUE(ws().send_frame(op_close, close_body(1000), true, rsv1));
    expect_fail(1002);
}

// Not DEFLATE (BTYPE 11 is reserved, RFC 1951 §3.2.3): the message cannot be decoded, the server fails
// the connection with 1007 (invalid payload data; ws/server.hpp's documented choice).
TEST_F(PmdMessages, Case12_8_5_CorruptDeflateFails) {
    ASSERT_TRUE(ws().send_frame(op_text, "before"));
    expect_echo_of(op_text, "before");
    ASSERT_TRUE(ws().send_frame(op_binary, "\xff\xff\xff\xff\xff"s, true, rsv1));
    expect_fail(1007);
}

// RFC 6455 §8.1: text is checked once inflated; invalid UTF-8 fails with 1007.
TEST_F(PmdMessages, Case12_8_6_CompressedInvalidUtf8Fails) {
    send_compressed(op_text, "valid, then \xC0\xAF invalid"s);
    expect_fail(1007);
}

// The limit applies to the inflated size: 65 MiB of zeros is about 64 KiB compressed, and inflates
// beyond /ws/echo's 64 MiB: 1009 (RFC 6455 §7.4.1 "message too big").
TEST_F(PmdMessages, Case12_8_7_InflatesBeyondLimitFails) {
    auto const payload = tx_->compress(std::string(std::size_t{65} << 20, '\0'));
    ASSERT_LT(payload.size(), std::size_t{1} << 20);
    ASSERT_TRUE(ws().send_raw(client_frame(op_binary, payload, {.rsv = rsv1}), false, 30s)) << ws().error();
    expect_fail(1009);
}

// A compressed message with no payload at all is not DEFLATE data ending in a flush (§7.2.1): with
// 00 00 ff ff appended (§7.2.2) the octets start a stored block instead of completing one. Failing
// is the only safe answer (1007, as for other corrupt data): accepting it leaves the context
// mid-block, and the next message would inflate to something the client never sent.
TEST_F(PmdMessages, Case12_8_8_EmptyCompressedPayloadFails) {
    ASSERT_TRUE(ws().send_frame(op_text, "", true, rsv1));
    ASSERT_TRUE(ws().send_frame(op_binary, "\x00"s, true, rsv1));
    expect_fail(1007);
}

} // namespace
} // namespace upshift::test::conformance
