// Autobahn category 13: permessage-deflate parameter negotiation (RFC 7692 §5, §7.1), then messages
// exchanged under what was agreed. Every accepted offer's answer is checked by read_answer() with
// the rules a client enforces: one element, known parameters only, none repeated, values 8..15;
// server_no_context_takeover answered when offered (§7.1.1.1); server_max_window_bits answered, at
// most the offered value, when offered (§7.1.2.1); client_max_window_bits never answered unless
// offered, and then at most the offered value (§7.1.2.2). The exchange then checks the server keeps
// to the agreement: its messages are inflated with the agreed window (a back-reference beyond it
// fails) and, with server_no_context_takeover, with a fresh context per message; ours are
// compressed with the window we may use. Offers the server MUST decline (§7: an unknown parameter,
// an invalid value, a repeated parameter) leave the 101 without the extension, and RSV1 then fails
// the connection (RFC 6455 §5.2).
#include "pmd_client.hpp"

namespace upshift::test::conformance {
namespace {

using namespace std::string_literals;

class PmdNegotiation : public PmdConformance {
protected:
    /// Messages whose matches lie at many distances (300 B to 24 KB back), so a server window larger
    /// than agreed shows in its echoes, and a server inflater smaller than our window shows in ours;
    /// one message twice, so context used across messages shows. Each echo is checked.
    void exchange() {
        std::vector<std::pair<int, std::string>> msgs;
        msgs.emplace_back(op_text, text_corpus(16, 1));
        msgs.emplace_back(op_text, text_corpus(200, 2));
        for (std::size_t block : {300u, 700u, 1500u, 3000u, 6000u, 12000u, 24000u})
            msgs.emplace_back(op_text, repeated_block(3 * block, block, static_cast<unsigned>(block)));
        msgs.emplace_back(op_binary, binary_records(10000, 3));
        msgs.emplace_back(op_binary, payload_of(5000, false, 4));
        msgs.emplace_back(op_text, text_corpus(4000, 5));
        msgs.emplace_back(op_text, text_corpus(4000, 5));
        std::string all;
        for (auto const& [op, m] : msgs) all += compressed_frames(op, m);
        ASSERT_TRUE(ws().send_raw(all, false, 30s)) << ws().error();
        std::size_t compressed = 0;
        for (auto const& [op, m] : msgs) {
            pmd_message got;
            ASSERT_NO_FATAL_FAILURE(expect_echo_of(op, m, &got)) << "message of " << m.size() << " bytes";
            compressed += got.compressed ? 1 : 0;
        }
        // /ws/echo compresses messages of 128 bytes or more (compress_threshold): without that the
        // window checks above would have nothing to check.
        EXPECT_GE(compressed, msgs.size() - 2);
        expect_clean_close();
    }
};

// 13.1: the bare offer. §7.1.2.2: client_max_window_bits not offered, so not answered (read_answer).
TEST_F(PmdNegotiation, Case13_1_1_DefaultOffer) {
    ASSERT_NO_FATAL_FAILURE(open(pmd_offer{}));
    exchange();
}

// 13.2: client_no_context_takeover (§7.1.1.2): the server may answer it or not; we keep to it either
// way and compress every message afresh.
TEST_F(PmdNegotiation, Case13_2_1_ClientNoContextTakeover) {
    ASSERT_NO_FATAL_FAILURE(open(pmd_offer{.client_no_context_takeover = true}));
    exchange();
}

// §7.1.1.1: server_no_context_takeover MUST be answered, and the server then compresses each message
// with an empty context: the repeated message is inflated by a decompressor reset after every
// message, which refuses any reference into the previous one.
TEST_F(PmdNegotiation, Case13_2_2_ServerNoContextTakeover) {
    ASSERT_NO_FATAL_FAILURE(open(pmd_offer{.server_no_context_takeover = true}));
    EXPECT_TRUE(answer_.server_no_context_takeover);
    exchange();
}

TEST_F(PmdNegotiation, Case13_2_3_BothNoContextTakeover) {
    ASSERT_NO_FATAL_FAILURE(open(pmd_offer{.server_no_context_takeover = true, .client_no_context_takeover = true}));
    EXPECT_TRUE(answer_.server_no_context_takeover);
    exchange();
}

// §7.1.2.2: client_max_window_bits without a value: the server may answer a value (8..15) or
// nothing (then we use up to 15).
TEST_F(PmdNegotiation, Case13_2_4_ClientMaxWindowBitsWithoutValue) {
    ASSERT_NO_FATAL_FAILURE(open(pmd_offer{.client_max_window_bits = -1}));
    exchange();
}

// 13.3 - 13.6: client_max_window_bits=N, with and without client_no_context_takeover. The answer
// may lower N (§7.1.2.2); we compress with the window agreed, the server must inflate it.
struct client_window_case {
    int bits;
    bool no_context_takeover;
};

void PrintTo(client_window_case const& c, std::ostream* os) {
    *os << "client_max_window_bits=" << c.bits << (c.no_context_takeover ? " client_no_context_takeover" : "");
}

class ClientWindow : public PmdNegotiation, public ::testing::WithParamInterface<client_window_case> {};

TEST_P(ClientWindow, Exchange) {
    auto const [bits, no_takeover] = GetParam();
    ASSERT_NO_FATAL_FAILURE(open(pmd_offer{.client_no_context_takeover = no_takeover, .client_max_window_bits = bits}));
    if (answer_.client_max_window_bits > 0) {
        EXPECT_LE(answer_.client_max_window_bits, bits);
    }
    exchange();
}

std::vector<client_window_case> client_window_cases() {
    std::vector<client_window_case> v;
    for (bool t : {false, true})
        for (int b = 8; b <= 15; ++b) v.push_back({b, t});
    return v;
}

INSTANTIATE_TEST_SUITE_P(Pmd, ClientWindow, ::testing::ValuesIn(client_window_cases()),
                         [](::testing::TestParamInfo<client_window_case> const& i) {
                             return std::string(i.param.no_context_takeover ? "Case13_4_" : "Case13_3_") +
                                    std::to_string(i.param.bits - 7) + "_ClientMaxWindowBits" +
                                    std::to_string(i.param.bits) +
                                    (i.param.no_context_takeover ? "NoContextTakeover" : "");
                         });

// server_max_window_bits=N (§7.1.2.1): MUST be answered with at most N, and the server MUST NOT use
// a larger window. exchange() has matches a little more than 2^N bytes back for every N < 15
// (repeated blocks of 300..24000 bytes): a server ignoring N would refer to them, and our
// decompressor, limited to the answered window, refuses that.
class ServerWindow : public PmdNegotiation, public ::testing::WithParamInterface<int> {};

TEST_P(ServerWindow, Exchange) {
    int const bits = GetParam();
    ASSERT_NO_FATAL_FAILURE(open(pmd_offer{.server_max_window_bits = bits}));
    EXPECT_GE(answer_.server_max_window_bits, 8);
    EXPECT_LE(answer_.server_max_window_bits, bits);
    exchange();
}

INSTANTIATE_TEST_SUITE_P(Pmd, ServerWindow, ::testing::Range(8, 16), [](::testing::TestParamInfo<int> const& i) {
    return "Case13_5_" + std::to_string(i.param - 7) + "_ServerMaxWindowBits" + std::to_string(i.param);
});

// Everything at once, the smallest windows: 8 is a 256-byte window.
TEST_F(PmdNegotiation, Case13_6_1_AllParametersSmallestWindows) {
    ASSERT_NO_FATAL_FAILURE(open(pmd_offer{.server_no_context_takeover = true,
                                           .client_no_context_takeover = true,
                                           .server_max_window_bits = 8,
                                           .client_max_window_bits = 8}));
    EXPECT_TRUE(answer_.server_no_context_takeover);
    EXPECT_EQ(answer_.server_max_window_bits, 8);  // §7.1.2.1: at most 8, and 8 is the least
    exchange();
}

// 13.7: several offers in one header (§5: in order of preference; the server accepts one of them,
// answered as that offer allows).
TEST_F(PmdNegotiation, Case13_7_1_SeveralOffers) {
    std::size_t accepted = 99;
    ASSERT_NO_FATAL_FAILURE(open({pmd_offer{.client_no_context_takeover = true, .client_max_window_bits = 8},
                                  pmd_offer{.client_no_context_takeover = true}, pmd_offer{}},
                                 &accepted));
    EXPECT_LT(accepted, 3u);
    exchange();
}

TEST_F(PmdNegotiation, Case13_7_2_SeveralOffersServerParameters) {
    ASSERT_NO_FATAL_FAILURE(open({pmd_offer{.server_no_context_takeover = true, .server_max_window_bits = 9},
                                  pmd_offer{.server_max_window_bits = 12}}));
    exchange();
}

// §5.1 with §7: a first offer the server must decline (unknown parameter) and a valid second one in
// the same header: the second is accepted, and nothing of the first is answered.
TEST_F(PmdNegotiation, Case13_7_3_InvalidOfferThenValidOne) {
    pmd_offer const second{.server_max_window_bits = 10};
    ASSERT_NO_FATAL_FAILURE(open_raw({"permessage-deflate; x_unknown_param, " + second.text()}));
    ASSERT_EQ(answer_lines(), 1u) << ws().response();
    pmd_answer a;
    ASSERT_TRUE(read_answer(answer_value(), second, a));
    use(second, a);
    exchange();
}

// RFC 6455 §9.1: Sec-WebSocket-Extensions may be split over several header lines; an extension the
// server does not know is ignored, never answered.
TEST_F(PmdNegotiation, Case13_7_4_OffersOnSeveralLinesWithUnknownExtension) {
    pmd_offer const offer{.client_max_window_bits = -1};
    ASSERT_NO_FATAL_FAILURE(open_raw({"x-webkit-deflate-frame; no_context_takeover", offer.text()}));
    ASSERT_EQ(answer_lines(), 1u) << ws().response();
    pmd_answer a;
    ASSERT_TRUE(read_answer(answer_value(), offer, a));
    use(offer, a);
    exchange();
}

// RFC 6455 §9.1: a parameter value may be a quoted-string; unescaped it is the same token, so
// client_max_window_bits="10" is client_max_window_bits=10.
TEST_F(PmdNegotiation, Case13_7_5_QuotedValue) {
    pmd_offer const offer{.server_max_window_bits = 10, .client_max_window_bits = 10};
    ASSERT_NO_FATAL_FAILURE(
        open_raw({"permessage-deflate; server_max_window_bits=\"10\"; client_max_window_bits=\"10\""}));
    ASSERT_EQ(answer_lines(), 1u) << ws().response();
    pmd_answer a;
    ASSERT_TRUE(read_answer(answer_value(), offer, a));
    use(offer, a);
    exchange();
}

// An extension the server does not support, alone: no Sec-WebSocket-Extensions in the 101
// (RFC 6455 §9.1: the server answers only extensions it accepts).
TEST_F(PmdNegotiation, Case13_8_1_UnknownExtensionOnlyIsNotAnswered) {
    ASSERT_NO_FATAL_FAILURE(open_raw({"x-webkit-deflate-frame"}));
    EXPECT_EQ(answer_lines(), 0u) << ws().response();
}

// §7: "A server MUST decline an extension negotiation offer for this extension if ... the offer
// contains an extension parameter not defined for use in an offer, ... an extension parameter with an
// invalid value, ... multiple extension parameters with the same name". Declining keeps the
// handshake: the 101 has no permessage-deflate (§5), messages go uncompressed, and RSV1 is then a
// protocol error (RFC 6455 §5.2).
struct declined_case {
    char const* name;
    char const* offer;
};

void PrintTo(declined_case const& c, std::ostream* os) { *os << c.name; }  // no ";" in CTest names

class DeclinedOffer : public PmdNegotiation, public ::testing::WithParamInterface<declined_case> {};

TEST_P(DeclinedOffer, HandshakeWithoutExtension) {
    ASSERT_NO_FATAL_FAILURE(open_raw({GetParam().offer}));
    EXPECT_EQ(answer_lines(), 0u) << "offer \"" << GetParam().offer << "\" accepted: " << ws().response();
    // Uncompressed messages still echo, unchanged and without RSV1.
    auto const msg = text_corpus(1000, 9);
    ASSERT_TRUE(ws().send_frame(op_text, msg));
    pmd_message m;
    ASSERT_TRUE(read_message(ws(), nullptr, m));
    EXPECT_TRUE(m.data == msg) << "echo differs";
    ASSERT_TRUE(ws().send_frame(op_text, "\xf2\x48\xcd\xc9\xc9\x07\x00"s, true, rsv1));
    expect_fail(1002);
}

declined_case const declined_offers[] = {
    {"UnknownParameter", "permessage-deflate; x_unknown"},
    {"UnknownParameterWithValue", "permessage-deflate; x_unknown=1"},
    {"ServerNoContextTakeoverRepeated", "permessage-deflate; server_no_context_takeover; server_no_context_takeover"},
    {"ClientNoContextTakeoverRepeated", "permessage-deflate; client_no_context_takeover; client_no_context_takeover"},
    {"ServerMaxWindowBitsRepeated", "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10"},
    {"ClientMaxWindowBitsRepeated", "permessage-deflate; client_max_window_bits; client_max_window_bits=10"},
    {"ServerNoContextTakeoverWithValue", "permessage-deflate; server_no_context_takeover=1"},       // §7.1.1.1
    {"ClientNoContextTakeoverWithValue", "permessage-deflate; client_no_context_takeover=true"},    // §7.1.1.2
    {"ServerMaxWindowBitsWithoutValue", "permessage-deflate; server_max_window_bits"},             // §7.1.2.1
    {"ServerMaxWindowBits7", "permessage-deflate; server_max_window_bits=7"},
    {"ServerMaxWindowBits16", "permessage-deflate; server_max_window_bits=16"},
    {"ServerMaxWindowBits0", "permessage-deflate; server_max_window_bits=0"},
    {"ServerMaxWindowBitsLeadingZero", "permessage-deflate; server_max_window_bits=010"},
    {"ServerMaxWindowBitsNotANumber", "permessage-deflate; server_max_window_bits=abc"},
    {"ServerMaxWindowBitsQuoted7", "permessage-deflate; server_max_window_bits=\"7\""},
    {"ClientMaxWindowBits7", "permessage-deflate; client_max_window_bits=7"},                      // §7.1.2.2
    {"ClientMaxWindowBits16", "permessage-deflate; client_max_window_bits=16"},
    {"ClientMaxWindowBitsSigned", "permessage-deflate; client_max_window_bits=+9"},
    {"ClientMaxWindowBitsEmpty", "permessage-deflate; client_max_window_bits="},
};

INSTANTIATE_TEST_SUITE_P(Pmd, DeclinedOffer, ::testing::ValuesIn(declined_offers),
                         [](::testing::TestParamInfo<declined_case> const& i) {
                             return "Case13_9_" + std::to_string(i.index + 1) + "_" + i.param.name;
                         });

// The client's checks themselves (no server): a compressor with a 32 KiB window refers to a
// 300-byte block 300 bytes back, which our decompressor limited to 256 bytes refuses; with context
// takeover off on our side, a reference into the previous message is refused too. Without this,
// the window and context checks of the exchanges above could pass vacuously.
TEST(PmdClientSelfCheck, DecompressorEnforcesWindowAndContext) {
    auto const msg = repeated_block(1200, 300, 3);
    pmd_deflater small(8, false);  // zlib's 9: distances at most 250
    pmd_inflater narrow_ok(8, false);
    auto const out = narrow_ok.inflate(small.compress(msg));
    ASSERT_TRUE(out) << narrow_ok.error();
    EXPECT_EQ(*out, msg);
    pmd_deflater wide;
    pmd_inflater narrow(8, false);
    EXPECT_FALSE(narrow.inflate(wide.compress(msg)));
    EXPECT_EQ(narrow.error(), "invalid distance too far back");

    pmd_deflater takeover;
    pmd_inflater fresh_each(15, true);
    auto const first = fresh_each.inflate(takeover.compress(msg));
    ASSERT_TRUE(first) << fresh_each.error();
    EXPECT_FALSE(fresh_each.inflate(takeover.compress(msg)));  // refers to the first message
    EXPECT_EQ(fresh_each.error(), "invalid distance too far back");
}

} // namespace
} // namespace upshift::test::conformance
