// Autobahn category 10: auto-fragmentation. Large messages are cut into many fragments (RFC 6455
// §5.4: a first frame with FIN clear, continuation frames, the last with FIN set) of sizes the
// client picks, and /ws/echo must echo the reassembled message exactly. Fragment sizes cross the
// payload length encodings (§5.2: 7-bit up to 125, 16-bit up to 65535, 64-bit above), text
// fragments may split a UTF-8 character (§5.6: only the whole message must be valid UTF-8, §8.1),
// and control frames may be injected between fragments (§5.4) and are answered in between.
#include "ws_client.hpp"

namespace upshift::test::conformance {
namespace {

/// `whole` as data frames of `fragment` bytes each (the last one shorter).
std::vector<std::string> fragments_of(int op, std::string_view whole, std::size_t fragment) {
    std::vector<std::string> frames;
    for (std::size_t at = 0; at < whole.size() || frames.empty(); at += fragment) {
        auto const piece = whole.substr(at, std::min(fragment, whole.size() - at));
        frames.push_back(client_frame(frames.empty() ? op : op_continuation, piece,
                                      {.fin = at + fragment >= whole.size()}));
    }
    return frames;
}

/// Valid UTF-8 text mixing 1- to 4-byte characters, so small fragments split characters.
std::string mixed_utf8(std::size_t at_least) {
    std::string s;
    static constexpr std::string_view chars[] = {"a", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", " ", "Z"};
    for (std::size_t i = 0; s.size() < at_least; ++i) s.append(chars[(i * 7 + i / 5) % 6]);
    return s;
}

// Autobahn 10.1.1: 65536 bytes of text in 1300-byte fragments, each in its own write.
TEST_F(WsConformance, Case10_1_1_Text64KiBIn1300ByteFragments) {
    auto const whole = payload_of(65536, true, 101);
    auto const frames = fragments_of(op_text, whole, 1300);
    ASSERT_EQ(frames.size(), 51u);  // 50 x 1300 + 536
    for (auto const& f : frames) ASSERT_TRUE(ws().send_raw(f)) << ws().error();
    expect_message(op_text, whole);
    expect_clean_close();
}

TEST_F(WsConformance, Case10_1_2_Binary64KiBIn1300ByteFragments) {
    auto const whole = payload_of(65536, false, 102);
    for (auto const& f : fragments_of(op_binary, whole, 1300)) ASSERT_TRUE(ws().send_raw(f)) << ws().error();
    expect_message(op_binary, whole);
    expect_clean_close();
}

// The same message with all 51 fragments in one write: the server parses them from one buffer.
TEST_F(WsConformance, Case10_1_3_Text64KiBIn1300ByteFragmentsOneWrite) {
    auto const whole = payload_of(65536, true, 103);
    std::string all;
    for (auto const& f : fragments_of(op_text, whole, 1300)) all += f;
    ASSERT_TRUE(ws().send_raw(all)) << ws().error();
    expect_message(op_text, whole);
    expect_clean_close();
}

// 1-byte fragments of a 2000-byte text whose characters are up to 4 bytes long: almost every
// character is split across fragments, which §5.6 allows; the reassembled message is valid (§8.1).
TEST_F(WsConformance, Case10_1_4_TextOneByteFragmentsSplitUtf8) {
    auto const whole = mixed_utf8(2000);
    std::string all;
    for (auto const& f : fragments_of(op_text, whole, 1)) all += f;
    ASSERT_TRUE(ws().send_raw(all)) << ws().error();
    expect_message(op_text, whole);
    expect_clean_close();
}

TEST_F(WsConformance, Case10_1_5_BinaryOneByteFragments) {
    auto const whole = payload_of(4096, false, 105);
    std::string all;
    for (auto const& f : fragments_of(op_binary, whole, 1)) all += f;
    ASSERT_TRUE(ws().send_raw(all)) << ws().error();
    expect_message(op_binary, whole);
    expect_clean_close();
}

// §5.2: fragments whose lengths sit on either side of the 7-bit/16-bit/64-bit length encodings
// (0, 1, 125 | 126, 127, 65535 | 65536, 70000), in one message.
TEST_F(WsConformance, Case10_1_6_FragmentsAcrossLengthEncodings) {
    std::vector<std::size_t> const sizes{125, 126, 0, 127, 65535, 1, 65536, 70000, 125};
    std::size_t total = 0;
    for (auto n : sizes) total += n;
    auto const whole = payload_of(total, false, 106);
    std::string all;
    std::size_t at = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        all += client_frame(i == 0 ? op_binary : op_continuation,
                            std::string_view{whole}.substr(at, sizes[i]), {.fin = i + 1 == sizes.size()});
        at += sizes[i];
    }
    ASSERT_TRUE(ws().send_raw(all)) << ws().error();
    expect_message(op_binary, whole);
    expect_clean_close();
}

// §5.4: control frames may be injected in the middle of a fragmented message; §5.5.2: each Ping
// is answered with a Pong carrying its payload. The message only ends with its last fragment, so
// every Pong (in order) comes before the echo.
TEST_F(WsConformance, Case10_1_7_Text64KiBWithPingsBetweenFragments) {
    auto const whole = payload_of(65536, true, 107);
    auto const frames = fragments_of(op_text, whole, 1300);
    std::string all;
    std::vector<std::string> pings;
    for (std::size_t i = 0; i < frames.size(); ++i) {
        all += frames[i];
        if (i + 1 < frames.size() && i % 10 == 0) {
            pings.push_back("ping " + std::to_string(i));
            all += client_frame(op_ping, pings.back());
        }
    }
    ASSERT_TRUE(ws().send_raw(all)) << ws().error();
    for (auto const& p : pings) {
        auto pong = ws().read_frame();
        ASSERT_TRUE(pong) << "no Pong for \"" << p << "\": " << ws().error();
        EXPECT_EQ(pong->op, op_pong) << *pong;
        EXPECT_TRUE(pong->fin) << *pong;
        EXPECT_EQ(pong->payload, p);
    }
    expect_message(op_text, whole);
    expect_clean_close();
}

// An unsolicited Pong between fragments is ignored (§5.5.3) and does not disturb the message.
TEST_F(WsConformance, Case10_1_8_BinaryWithPongsBetweenFragments) {
    auto const whole = payload_of(20000, false, 108);
    auto const frames = fragments_of(op_binary, whole, 1000);
    std::string all;
    for (auto const& f : frames) all += f + client_frame(op_pong, "unsolicited");
    ASSERT_TRUE(ws().send_raw(all)) << ws().error();
    expect_message(op_binary, whole);
    expect_clean_close();
}

// Several fragmented messages back to back, text and binary alternating, each with its own fragment
// size: §5.4 delivers them in order and §5.6 keeps each message's type (from its first frame).
TEST_F(WsConformance, Case10_1_9_ManyFragmentedMessagesInOneWrite) {
    std::vector<std::pair<int, std::string>> messages;
    std::string all;
    for (unsigned i = 0; i < 8; ++i) {
        int const op = i % 2 == 0 ? op_text : op_binary;
        messages.emplace_back(op, payload_of(3000 + 1000 * i, op == op_text, 110 + i));
        for (auto const& f : fragments_of(op, messages.back().second, 97 + 300 * i)) all += f;
    }
    ASSERT_TRUE(ws().send_raw(all)) << ws().error();
    for (auto const& [op, payload] : messages) ASSERT_NO_FATAL_FAILURE(expect_message(op, payload));
    expect_clean_close();
}

} // namespace
} // namespace upshift::test::conformance
