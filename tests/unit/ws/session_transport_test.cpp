// A session on a transport other than a plain TCP socket (TLS is one): it keeps the socket
// alone for plain TCP and the stream object otherwise (bench/README.md, memory per idle
// connection), so the other path must read, write, half-close and close through the stream.
#include <gtest/gtest.h>

#include "ws_loops.hpp"

namespace upshift::test {
namespace {

using ws::opcode;
using ws::test::frame;

class WsSessionTransportTest : public ws_loops_fixture {};

ws::behaviour echo() {
    ws::behaviour b;
    b.on_message = [](ws::session& s, std::string_view m, ws::message_kind k) { s.send(m, k); };
    return b;
}

// RFC 6455 §5.6 (echo of a text frame) and §7.1.1 (the server closes TCP after the Close
// handshake), through the stream's read, writev and close.
TEST_F(WsSessionTransportTest, EchoAndCloseGoThroughTheStream) {
    stream_counts = std::make_shared<counting_stream::counts>();
    ASSERT_TRUE(start(1, {}, echo()));
    std::string name;
    auto c = connect_on(0, &name);
    ASSERT_TRUE(c.send_all(frame(opcode::text, "through the stream")));
    EXPECT_EQ(read_text(c), "through the stream");
    EXPECT_GE(stream_counts->reads.load(), 1);
    EXPECT_GE(stream_counts->writes.load(), 1);
    close_client(c, name);
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_EQ(stream_counts->closes.load(), 1);
}

// §7.1.7: failing the connection (an unmasked frame, §5.1: 1002) half-closes through the stream
// once the Close is out.
TEST_F(WsSessionTransportTest, FailingHalfClosesThroughTheStream) {
    stream_counts = std::make_shared<counting_stream::counts>();
    ASSERT_TRUE(start(1, {}, echo()));
    std::string name;
    auto c = connect_on(0, &name);
    std::string unmasked = "\x81\x02hi";
    ASSERT_TRUE(c.send_all(unmasked));
    auto f = read_server_frame(c);
    ASSERT_TRUE(f) << c.error();
    EXPECT_EQ(f->op, op_close);
    EXPECT_EQ(f->close_code(), 1002);
    EXPECT_TRUE(c.wait_closed(5s));  // our FIN follows the server's (half-close), then its close
    EXPECT_EQ(stream_counts->shutdowns.load(), 1);
}

// §5.6: every frame is echoed, also when the stream keeps bytes readiness does not announce
// (TLS: decrypted records beyond what one read returns). Eight frames arrive in one segment and
// the stream hands them out 7 bytes at a time: the session reads on without waiting for the
// socket, past its bound of reads per wakeup.
TEST_F(WsSessionTransportTest, BytesHeldInTheStreamAreReadWithoutReadiness) {
    stream_counts = std::make_shared<counting_stream::counts>();
    stream_counts->piece = 7;
    ASSERT_TRUE(start(1, {}, echo()));
    std::string name;
    auto c = connect_on(0, &name);
    std::string burst;
    for (int i = 0; i < 8; ++i) burst += frame(opcode::text, "message " + std::to_string(i));
    ASSERT_TRUE(c.send_all(burst));
    for (int i = 0; i < 8; ++i) EXPECT_EQ(read_text(c), "message " + std::to_string(i));
    close_client(c, name);
}

} // namespace
} // namespace upshift::test
