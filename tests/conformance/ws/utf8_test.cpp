// Autobahn category 6: UTF-8 handling. RFC 6455 §5.6 and §8.1: the payload of a text message is
// UTF-8 (RFC 3629); an endpoint that finds invalid UTF-8 fails the connection with 1007 (§7.4.1).
// Validation is of the whole message, so a code point may be split across fragments, and a
// message may not end in the middle of one.
#include "ws_client.hpp"

namespace upshift::test::conformance {
namespace {

// "κόσμε" (Autobahn 6.2.x's Greek word) and a 4-byte code point.
std::string const kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
std::string const emoji = "\xf0\x9f\x98\x80";

TEST_F(WsConformance, Case6_1_1_EmptyText) {
    expect_echo(op_text, "");
    expect_clean_close();
}

TEST_F(WsConformance, Case6_2_1_ValidMultiByteWhole) {
    expect_echo(op_text, "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!" + kosme + emoji);
    expect_clean_close();
}

// Every code point split at every byte into its own fragment.
TEST_F(WsConformance, Case6_2_2_ValidMultiByteSplitAcrossFragments) {
    std::string const msg = kosme + emoji + "\xe2\x82\xac";
    ASSERT_TRUE(ws().send_frame(op_text, msg.substr(0, 1), false));
    for (std::size_t i = 1; i < msg.size(); ++i)
        ASSERT_TRUE(ws().send_frame(op_continuation, msg.substr(i, 1), i + 1 == msg.size()));
    expect_message(op_text, msg);
    expect_clean_close();
}

TEST_F(WsConformance, Case6_2_3_ValidMultiByteSplitFramePerByte) {
    std::string const msg = emoji + kosme;
    ASSERT_TRUE(ws().send_frame(op_text, msg.substr(0, 2), false, 0, true));
    ASSERT_TRUE(ws().send_frame(op_continuation, msg.substr(2), true, 0, true));
    expect_message(op_text, msg);
    expect_clean_close();
}

#define UPSHIFT_INVALID_UTF8_CASE(name, bytes)            \
    TEST_F(WsConformance, name) {                         \
        ASSERT_TRUE(ws().send_frame(op_text, bytes));     \
        expect_fail(1007);                                \
    }

UPSHIFT_INVALID_UTF8_CASE(Case6_3_1_InvalidByteFF, "abc\xff" "def")
UPSHIFT_INVALID_UTF8_CASE(Case6_3_2_LoneContinuationByte, "\x80")
UPSHIFT_INVALID_UTF8_CASE(Case6_3_3_TruncatedAtMessageEnd, "abc\xe2\x82")
UPSHIFT_INVALID_UTF8_CASE(Case6_4_1_OverlongSlash2Bytes, "\xc0\xaf")
UPSHIFT_INVALID_UTF8_CASE(Case6_4_2_OverlongSlash3Bytes, "\xe0\x80\xaf")
UPSHIFT_INVALID_UTF8_CASE(Case6_4_3_OverlongSlash4Bytes, "\xf0\x80\x80\xaf")
UPSHIFT_INVALID_UTF8_CASE(Case6_5_1_SurrogateHigh, "\xed\xa0\x80")
UPSHIFT_INVALID_UTF8_CASE(Case6_5_2_SurrogateLow, "\xed\xbf\xbf")
UPSHIFT_INVALID_UTF8_CASE(Case6_5_3_SurrogatePair, "\xed\xa0\x80\xed\xb0\x80")
UPSHIFT_INVALID_UTF8_CASE(Case6_6_1_AboveU10FFFF, "\xf4\x90\x80\x80")
UPSHIFT_INVALID_UTF8_CASE(Case6_6_2_FiveByteForm, "\xf8\x88\x80\x80\x80")
#undef UPSHIFT_INVALID_UTF8_CASE

// Invalid UTF-8 in a later fragment (the first one valid).
TEST_F(WsConformance, Case6_7_1_InvalidInLaterFragment) {
    ASSERT_TRUE(ws().send_frame(op_text, kosme, false));
    ASSERT_TRUE(ws().send_frame(op_continuation, "ok", false));
    ASSERT_TRUE(ws().send_frame(op_continuation, "\xed\xa0\x80", true));
    expect_fail(1007);
}

// A fragmented message that ends in the middle of a code point.
TEST_F(WsConformance, Case6_7_2_FragmentedEndsMidCodePoint) {
    ASSERT_TRUE(ws().send_frame(op_text, "abc\xf0\x9f", false));
    ASSERT_TRUE(ws().send_frame(op_continuation, "\x98", true));
    expect_fail(1007);
}

// Fail fast (Autobahn 6.4.x): the invalid first fragment is rejected before the message ends.
TEST_F(WsConformance, Case6_7_3_InvalidFirstFragmentFailsBeforeFin) {
    ASSERT_TRUE(ws().send_frame(op_text, "abc\xc0\xaf", false));
    expect_fail(1007);
}

// Binary messages are not validated.
TEST_F(WsConformance, Case6_8_1_BinaryNotValidated) {
    expect_echo(op_binary, "\xff\xfe\xc0\xaf\xed\xa0\x80");
    expect_clean_close();
}

} // namespace
} // namespace upshift::test::conformance
