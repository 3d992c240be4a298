// Autobahn categories 3 (reserved bits) and 4 (opcodes). RFC 6455 §5.2: RSV1-3 MUST be 0 unless an
// extension defining them was negotiated (none is, here), and a reserved opcode MUST fail the
// connection; §7.4.1: 1002 protocol error. The frame before the bad one is echoed first.
#include "ws_client.hpp"

namespace upshift::test::conformance {
namespace {

void rsv_case(ws_client& c, int op, int rsv) {
    std::string const payload = op == op_close ? close_body(1000) : std::string{"reserved"};
    ASSERT_TRUE(c.send_frame(op, payload, true, rsv));
}

#define UPSHIFT_RSV_CASE(name, op, rsv)      \
    TEST_F(WsConformance, name) {            \
        expect_echo(op_text, "before");      \
        rsv_case(ws(), op, rsv);             \
        expect_fail(1002);                   \
    }

UPSHIFT_RSV_CASE(Case3_1_TextRsv1, op_text, 4)
UPSHIFT_RSV_CASE(Case3_2_TextRsv2, op_text, 2)
UPSHIFT_RSV_CASE(Case3_3_TextRsv3, op_text, 1)
UPSHIFT_RSV_CASE(Case3_4_TextRsv12, op_text, 6)
UPSHIFT_RSV_CASE(Case3_5_BinaryRsv13, op_binary, 5)
UPSHIFT_RSV_CASE(Case3_6_PingRsv23, op_ping, 3)
UPSHIFT_RSV_CASE(Case3_7_CloseRsv123, op_close, 7)
#undef UPSHIFT_RSV_CASE

#define UPSHIFT_OPCODE_CASE(name, op)                          \
    TEST_F(WsConformance, name) {                              \
        expect_echo(op_text, "before");                        \
        ASSERT_TRUE(ws().send_frame(op, "reserved opcode"));   \
        expect_fail(1002);                                     \
    }

// 4.1.x: reserved non-control opcodes 3-7; 4.2.x: reserved control opcodes 0xB-0xF.
UPSHIFT_OPCODE_CASE(Case4_1_1_Opcode3, 3)
UPSHIFT_OPCODE_CASE(Case4_1_2_Opcode4, 4)
UPSHIFT_OPCODE_CASE(Case4_1_3_Opcode5, 5)
UPSHIFT_OPCODE_CASE(Case4_1_4_Opcode6, 6)
UPSHIFT_OPCODE_CASE(Case4_1_5_Opcode7, 7)
UPSHIFT_OPCODE_CASE(Case4_2_1_Opcode11, 11)
UPSHIFT_OPCODE_CASE(Case4_2_2_Opcode12, 12)
UPSHIFT_OPCODE_CASE(Case4_2_3_Opcode13, 13)
UPSHIFT_OPCODE_CASE(Case4_2_4_Opcode14, 14)
UPSHIFT_OPCODE_CASE(Case4_2_5_Opcode15, 15)
#undef UPSHIFT_OPCODE_CASE

} // namespace
} // namespace upshift::test::conformance
