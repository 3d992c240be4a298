// Autobahn category 1: framing. Text and binary messages at the payload-length encoding boundaries
// (RFC 6455 §5.2: 7-bit lengths up to 125, 126 → 16-bit, 127 → 64-bit extended length), echoed by
// /ws/echo as one unmasked frame (§5.1). Cases 1.1/1.2 send each frame whole; 1.3/1.4 (not in
// Autobahn) write every byte of the frame, header included, with its own send(), so the server's
// parser must resume at every offset.
#include "ws_client.hpp"

namespace upshift::test::conformance {
namespace {

#define UPSHIFT_FRAMING_CASE(name, op, len, per_byte)                 \
    TEST_F(WsConformance, name) {                                     \
        expect_echo(op, payload_of(len, (op) == op_text), per_byte);  \
        expect_clean_close();                                         \
    }

UPSHIFT_FRAMING_CASE(Case1_1_1_TextEmpty, op_text, 0, false)
UPSHIFT_FRAMING_CASE(Case1_1_2_Text125, op_text, 125, false)
UPSHIFT_FRAMING_CASE(Case1_1_3_Text126, op_text, 126, false)
UPSHIFT_FRAMING_CASE(Case1_1_4_Text127, op_text, 127, false)
UPSHIFT_FRAMING_CASE(Case1_1_5_Text128, op_text, 128, false)
UPSHIFT_FRAMING_CASE(Case1_1_6_Text65535, op_text, 65535, false)
UPSHIFT_FRAMING_CASE(Case1_1_7_Text65536, op_text, 65536, false)

UPSHIFT_FRAMING_CASE(Case1_2_1_BinaryEmpty, op_binary, 0, false)
UPSHIFT_FRAMING_CASE(Case1_2_2_Binary125, op_binary, 125, false)
UPSHIFT_FRAMING_CASE(Case1_2_3_Binary126, op_binary, 126, false)
UPSHIFT_FRAMING_CASE(Case1_2_4_Binary127, op_binary, 127, false)
UPSHIFT_FRAMING_CASE(Case1_2_5_Binary128, op_binary, 128, false)
UPSHIFT_FRAMING_CASE(Case1_2_6_Binary65535, op_binary, 65535, false)
UPSHIFT_FRAMING_CASE(Case1_2_7_Binary65536, op_binary, 65536, false)

UPSHIFT_FRAMING_CASE(Case1_3_1_TextEmptyPerByte, op_text, 0, true)
UPSHIFT_FRAMING_CASE(Case1_3_2_Text125PerByte, op_text, 125, true)
UPSHIFT_FRAMING_CASE(Case1_3_3_Text126PerByte, op_text, 126, true)
UPSHIFT_FRAMING_CASE(Case1_3_4_Text127PerByte, op_text, 127, true)
UPSHIFT_FRAMING_CASE(Case1_3_5_Text128PerByte, op_text, 128, true)
UPSHIFT_FRAMING_CASE(Case1_3_6_Text65535PerByte, op_text, 65535, true)
UPSHIFT_FRAMING_CASE(Case1_3_7_Text65536PerByte, op_text, 65536, true)

UPSHIFT_FRAMING_CASE(Case1_4_1_BinaryEmptyPerByte, op_binary, 0, true)
UPSHIFT_FRAMING_CASE(Case1_4_2_Binary125PerByte, op_binary, 125, true)
UPSHIFT_FRAMING_CASE(Case1_4_3_Binary126PerByte, op_binary, 126, true)
UPSHIFT_FRAMING_CASE(Case1_4_4_Binary127PerByte, op_binary, 127, true)
UPSHIFT_FRAMING_CASE(Case1_4_5_Binary128PerByte, op_binary, 128, true)
UPSHIFT_FRAMING_CASE(Case1_4_6_Binary65535PerByte, op_binary, 65535, true)
UPSHIFT_FRAMING_CASE(Case1_4_7_Binary65536PerByte, op_binary, 65536, true)

#undef UPSHIFT_FRAMING_CASE

// §5.1: a server MUST close the connection upon receiving an unmasked frame (1002, §7.4.1).
TEST_F(WsConformance, Case1_5_1_UnmaskedFrameFails) {
    std::string f;
    f += static_cast<char>(0x81);
    f += static_cast<char>(5);
    f += "hello";
    ASSERT_TRUE(ws().send_raw(f));
    expect_fail(1002);
}

} // namespace
} // namespace upshift::test::conformance
