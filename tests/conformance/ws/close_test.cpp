// Autobahn category 7: the closing handshake. RFC 6455 §5.5.1 (a Close body is empty or a 2-byte
// status code plus a UTF-8 reason; the answer echoes the status code), §7.1.1 (the server closes
// the TCP connection first), §7.4 (status codes: 1004-1006 and 1015 are reserved and never sent,
// 1000-2999 are for the protocol and its extensions, 3000-4999 for applications/libraries) and §8.1
// (an invalid reason is invalid UTF-8 → 1007). A Close whose body is 1 byte long, or carries a code
// not allowed on the wire, is a protocol error (1002).
#include "ws_client.hpp"

namespace upshift::test::conformance {
namespace {

/// The server's answer to our Close: a Close with `want_code` (0: an empty body is also accepted
/// when `allow_empty`), then the TCP close.
void expect_close_answer(ws_client& c, int want_code, bool allow_empty = false) {
    auto f = c.read_frame();
    ASSERT_TRUE(f) << c.error();
    EXPECT_EQ(f->op, op_close) << *f;
    EXPECT_FALSE(f->masked) << *f;
    if (allow_empty && f->payload.empty()) {
        SUCCEED();
    } else {
        EXPECT_EQ(f->close_code(), want_code) << *f;
    }
    EXPECT_TRUE(c.server_closes_tcp()) << "TCP still open after the closing handshake";
}

TEST_F(WsConformance, Case7_1_1_CloseAfterEcho) {
    expect_echo(op_text, "Hello World!");
    ASSERT_TRUE(ws().send_close(1000));
    expect_close_answer(ws(), 1000);
}

// §5.5.1: no body; the answer may be empty or 1000.
TEST_F(WsConformance, Case7_3_1_CloseEmptyBody) {
    ASSERT_TRUE(ws().send_frame(op_close, ""));
    expect_close_answer(ws(), 1000, true);
}

TEST_F(WsConformance, Case7_3_2_CloseBodyOneByteFails) {
    ASSERT_TRUE(ws().send_frame(op_close, "\x03"));
    expect_fail(1002);
}

TEST_F(WsConformance, Case7_3_3_Close1000WithReason) {
    ASSERT_TRUE(ws().send_close(1000, "bye, and thanks"));
    expect_close_answer(ws(), 1000);
}

TEST_F(WsConformance, Case7_3_4_Close1000With123ByteReason) {
    ASSERT_TRUE(ws().send_close(1000, payload_of(123, true)));
    expect_close_answer(ws(), 1000);
}

// 2 + 124 = 126 bytes: too long for a control frame (§5.5).
TEST_F(WsConformance, Case7_3_5_Close1000With124ByteReasonFails) {
    ASSERT_TRUE(ws().send_close(1000, payload_of(124, true)));
    expect_fail(1002);
}

// §5.5.1: after the Close nothing more is processed.
TEST_F(WsConformance, Case7_1_2_TextAfterCloseIgnored) {
    std::string all = client_frame(op_close, close_body(1000)) + client_frame(op_text, "after close");
    ASSERT_TRUE(ws().send_raw(all));
    expect_close_answer(ws(), 1000);
}

#define UPSHIFT_VALID_CODE_CASE(name, code)       \
    TEST_F(WsConformance, name) {                 \
        ASSERT_TRUE(ws().send_close(code, "ok")); \
        expect_close_answer(ws(), code);          \
    }

UPSHIFT_VALID_CODE_CASE(Case7_7_1_Code1000, 1000)
UPSHIFT_VALID_CODE_CASE(Case7_7_2_Code1001, 1001)
UPSHIFT_VALID_CODE_CASE(Case7_7_3_Code1002, 1002)
UPSHIFT_VALID_CODE_CASE(Case7_7_4_Code1003, 1003)
UPSHIFT_VALID_CODE_CASE(Case7_7_5_Code1007, 1007)
UPSHIFT_VALID_CODE_CASE(Case7_7_6_Code1008, 1008)
UPSHIFT_VALID_CODE_CASE(Case7_7_7_Code1009, 1009)
UPSHIFT_VALID_CODE_CASE(Case7_7_8_Code1010, 1010)
UPSHIFT_VALID_CODE_CASE(Case7_7_9_Code1011, 1011)
UPSHIFT_VALID_CODE_CASE(Case7_7_10_Code3000, 3000)
UPSHIFT_VALID_CODE_CASE(Case7_7_11_Code3999, 3999)
UPSHIFT_VALID_CODE_CASE(Case7_7_12_Code4000, 4000)
UPSHIFT_VALID_CODE_CASE(Case7_7_13_Code4999, 4999)
#undef UPSHIFT_VALID_CODE_CASE

#define UPSHIFT_INVALID_CODE_CASE(name, code) \
    TEST_F(WsConformance, name) {             \
        ASSERT_TRUE(ws().send_close(code));   \
        expect_fail(1002);                    \
    }

UPSHIFT_INVALID_CODE_CASE(Case7_9_1_Code0, 0)
UPSHIFT_INVALID_CODE_CASE(Case7_9_2_Code999, 999)
UPSHIFT_INVALID_CODE_CASE(Case7_9_3_Code1004, 1004)
UPSHIFT_INVALID_CODE_CASE(Case7_9_4_Code1005, 1005)
UPSHIFT_INVALID_CODE_CASE(Case7_9_5_Code1006, 1006)
UPSHIFT_INVALID_CODE_CASE(Case7_9_6_Code1015, 1015)
UPSHIFT_INVALID_CODE_CASE(Case7_9_7_Code1016, 1016)
UPSHIFT_INVALID_CODE_CASE(Case7_9_8_Code1100, 1100)
UPSHIFT_INVALID_CODE_CASE(Case7_9_9_Code2000, 2000)
UPSHIFT_INVALID_CODE_CASE(Case7_9_10_Code2999, 2999)
UPSHIFT_INVALID_CODE_CASE(Case7_13_1_Code5000, 5000)
UPSHIFT_INVALID_CODE_CASE(Case7_13_2_Code65535, 65535)
#undef UPSHIFT_INVALID_CODE_CASE

TEST_F(WsConformance, Case7_5_1_InvalidUtf8ReasonFails) {
    ASSERT_TRUE(ws().send_close(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64"));
    expect_fail(1007);
}

} // namespace
} // namespace upshift::test::conformance
