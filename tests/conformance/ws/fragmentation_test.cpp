// Autobahn category 5: fragmentation. RFC 6455 §5.4: a message may be split into a first frame
// (FIN clear) and continuation frames; control frames may be injected between fragments and MUST
// NOT themselves be fragmented; fragments of different messages MUST NOT interleave. Violations
// fail the connection with 1002 (§7.4.1). /ws/echo echoes the reassembled message as one frame.
#include "ws_client.hpp"

namespace upshift::test::conformance {
namespace {

TEST_F(WsConformance, Case5_1_PingFragmentedFails) {
    ASSERT_TRUE(ws().send_frame(op_ping, "frag", false));
    ASSERT_TRUE(ws().send_frame(op_continuation, "ment", true));
    expect_fail(1002);
}

TEST_F(WsConformance, Case5_2_PongFragmentedFails) {
    ASSERT_TRUE(ws().send_frame(op_pong, "frag", false));
    ASSERT_TRUE(ws().send_frame(op_continuation, "ment", true));
    expect_fail(1002);
}

TEST_F(WsConformance, Case5_3_TextTwoFragments) {
    ASSERT_TRUE(ws().send_frame(op_text, "fragment1", false));
    ASSERT_TRUE(ws().send_frame(op_continuation, "fragment2", true));
    expect_message(op_text, "fragment1fragment2");
    expect_clean_close();
}

TEST_F(WsConformance, Case5_4_TextTwoFragmentsPerByte) {
    ASSERT_TRUE(ws().send_frame(op_text, "fragment1", false, 0, true));
    ASSERT_TRUE(ws().send_frame(op_continuation, "fragment2", true, 0, true));
    expect_message(op_text, "fragment1fragment2");
    expect_clean_close();
}

TEST_F(WsConformance, Case5_5_BinaryManyFragmentsInOneWrite) {
    auto const whole = payload_of(1000, false);
    std::string all = client_frame(op_binary, whole.substr(0, 100), {.fin = false});
    for (std::size_t at = 100; at < 1000; at += 100)
        all += client_frame(op_continuation, whole.substr(at, 100), {.fin = at + 100 == 1000});
    ASSERT_TRUE(ws().send_raw(all));
    expect_message(op_binary, whole);
    expect_clean_close();
}

// §5.4: a Ping between fragments is answered at once; the message continues after it.
TEST_F(WsConformance, Case5_6_TextFragmentsWithPingBetween) {
    ASSERT_TRUE(ws().send_frame(op_text, "fragment1", false));
    ASSERT_TRUE(ws().send_frame(op_ping, "ping payload"));
    auto pong = ws().read_frame();
    ASSERT_TRUE(pong) << ws().error();
    EXPECT_EQ(pong->op, op_pong) << *pong;
    EXPECT_EQ(pong->payload, "ping payload");
    ASSERT_TRUE(ws().send_frame(op_continuation, "fragment2", true));
    expect_message(op_text, "fragment1fragment2");
    expect_clean_close();
}

TEST_F(WsConformance, Case5_7_TextFragmentsWithPingBetweenOneWrite) {
    std::string all = client_frame(op_text, "fragment1", {.fin = false}) + client_frame(op_ping, "p") +
                      client_frame(op_continuation, "fragment2");
    ASSERT_TRUE(ws().send_raw(all, true));
    auto pong = ws().read_frame();
    ASSERT_TRUE(pong) << ws().error();
    EXPECT_EQ(pong->op, op_pong) << *pong;
    expect_message(op_text, "fragment1fragment2");
    expect_clean_close();
}

// A continuation frame with no message started.
TEST_F(WsConformance, Case5_9_ContinuationWithoutStartFails) {
    ASSERT_TRUE(ws().send_frame(op_continuation, "fragment", true));
    expect_fail(1002);
}

TEST_F(WsConformance, Case5_10_ContinuationNotFinWithoutStartFails) {
    ASSERT_TRUE(ws().send_frame(op_continuation, "fragment", false));
    expect_fail(1002);
}

// A new data frame while a fragmented message is open.
TEST_F(WsConformance, Case5_11_NewTextWhileFragmentedFails) {
    ASSERT_TRUE(ws().send_frame(op_text, "fragment1", false));
    ASSERT_TRUE(ws().send_frame(op_text, "fragment2", true));
    expect_fail(1002);
}

TEST_F(WsConformance, Case5_12_NewBinaryNotFinWhileFragmentedFails) {
    ASSERT_TRUE(ws().send_frame(op_binary, "fragment1", false));
    ASSERT_TRUE(ws().send_frame(op_binary, "fragment2", false));
    expect_fail(1002);
}

// Empty fragments are legal (§5.4 places no minimum on a fragment).
TEST_F(WsConformance, Case5_13_EmptyFragments) {
    ASSERT_TRUE(ws().send_frame(op_text, "", false));
    ASSERT_TRUE(ws().send_frame(op_continuation, "abc", false));
    ASSERT_TRUE(ws().send_frame(op_continuation, "", true));
    expect_message(op_text, "abc");
    expect_clean_close();
}

} // namespace
} // namespace upshift::test::conformance
