// Autobahn category 2: pings and pongs. RFC 6455 §5.5.2 (a Ping is answered with a Pong carrying
// the same Application data), §5.5 (control frames have at most 125 payload bytes), §5.5.3 (an
// unsolicited Pong needs no response).
#include "ws_client.hpp"

namespace upshift::test::conformance {
namespace {

void expect_pong(ws_client& c, std::string const& payload) {
    auto f = c.read_frame();
    ASSERT_TRUE(f) << c.error();
    EXPECT_EQ(f->op, op_pong) << *f;
    EXPECT_TRUE(f->fin) << *f;
    EXPECT_FALSE(f->masked) << *f;
    EXPECT_TRUE(f->payload == payload) << *f;
}

TEST_F(WsConformance, Case2_1_PingEmpty) {
    ASSERT_TRUE(ws().send_frame(op_ping, ""));
    expect_pong(ws(), "");
    expect_clean_close();
}

TEST_F(WsConformance, Case2_2_PingWithTextPayload) {
    ASSERT_TRUE(ws().send_frame(op_ping, "Hello, world!"));
    expect_pong(ws(), "Hello, world!");
    expect_clean_close();
}

TEST_F(WsConformance, Case2_3_PingWithBinaryPayload) {
    std::string const p{"\x00\xff\xfe\xfd\xfc\xfb\x00\xff", 8};
    ASSERT_TRUE(ws().send_frame(op_ping, p));
    expect_pong(ws(), p);
    expect_clean_close();
}

TEST_F(WsConformance, Case2_4_Ping125) {
    auto const p = payload_of(125, false);
    ASSERT_TRUE(ws().send_frame(op_ping, p));
    expect_pong(ws(), p);
    expect_clean_close();
}

// §5.5: a 126-byte control frame (16-bit length) is a protocol error.
TEST_F(WsConformance, Case2_5_Ping126Fails) {
    ASSERT_TRUE(ws().send_frame(op_ping, payload_of(126, false)));
    expect_fail(1002);
}

// §5.5.3: an unsolicited Pong is ignored; the connection keeps working.
TEST_F(WsConformance, Case2_6_UnsolicitedPongIgnored) {
    ASSERT_TRUE(ws().send_frame(op_pong, "unsolicited"));
    expect_echo(op_text, "still here");
    expect_clean_close();
}

TEST_F(WsConformance, Case2_7_Ping125PerByte) {
    auto const p = payload_of(125, false, 11);
    ASSERT_TRUE(ws().send_frame(op_ping, p, true, 0, true));
    expect_pong(ws(), p);
    expect_clean_close();
}

// Ten pings in one write: ten pongs in order.
TEST_F(WsConformance, Case2_8_TenPingsInOneWrite) {
    std::string all;
    for (int i = 0; i < 10; ++i) all += client_frame(op_ping, "ping " + std::to_string(i));
    ASSERT_TRUE(ws().send_raw(all));
    for (int i = 0; i < 10; ++i) expect_pong(ws(), "ping " + std::to_string(i));
    expect_clean_close();
}

} // namespace
} // namespace upshift::test::conformance
