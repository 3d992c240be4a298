// Server frame headers (RFC 6455 §5.2), checked byte for byte and by parsing them back.
#include "upshift/ws/frame_writer.hpp"

#include <gtest/gtest.h>

#include <string>

#include "upshift/ws/frame_parser.hpp"
#include "unit/ws/client_frames.hpp"

namespace upshift::ws {
namespace {

using test::bytes;

TEST(FrameWriter, Rfc5_7Examples) {
    // §5.7: "A single-frame unmasked text message: 0x81 0x05 ..." and the unmasked ping.
    EXPECT_EQ(server_frame_header(opcode::text, 5).view(), bytes({0x81, 0x05}));
    EXPECT_EQ(server_frame_header(opcode::ping, 5).view(), bytes({0x89, 0x05}));
    // "A fragmented unmasked text message": 0x01 0x03 ..., then 0x80 0x02 ...
    EXPECT_EQ(server_frame_header(opcode::text, 3, {.fin = false}).view(), bytes({0x01, 0x03}));
    EXPECT_EQ(server_frame_header(opcode::continuation, 2).view(), bytes({0x80, 0x02}));
    // "256 bytes binary message in a single unmasked frame: 0x82 0x7E 0x0100"
    EXPECT_EQ(server_frame_header(opcode::binary, 256).view(), bytes({0x82, 0x7e, 0x01, 0x00}));
    // "64KiB binary message in a single unmasked frame: 0x82 0x7F 0x0000000000010000"
    EXPECT_EQ(server_frame_header(opcode::binary, 65536).view(), bytes({0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}));
}

TEST(FrameWriter, MinimalLengthEncoding) {
    // §5.2: "the minimal number of bytes MUST be used to encode the length".
    struct { std::uint64_t n; std::size_t size; } const cases[] = {
        {0, 2}, {125, 2}, {126, 4}, {65535, 4}, {65536, 10}, {0x7fffffffffffffffULL, 10}};
    for (auto const& c : cases) {
        auto const h = server_frame_header(opcode::binary, c.n);
        EXPECT_EQ(h.size, c.size) << c.n;
        EXPECT_EQ(header_size(c.n), c.size) << c.n;
        EXPECT_EQ(static_cast<unsigned char>(h.bytes[1]) & 0x80, 0) << "§5.1: a server MUST NOT mask";
    }
    EXPECT_EQ(server_frame_header(opcode::binary, 65535).view(), bytes({0x82, 0x7e, 0xff, 0xff}));
    EXPECT_EQ(server_frame_header(opcode::binary, 0x7fffffffffffffffULL).view(),
              bytes({0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
}

TEST(FrameWriter, Flags) {
    EXPECT_EQ(server_frame_header(opcode::text, 1, {.rsv1 = true}).view(), bytes({0xc1, 0x01}));  // RFC 7692 §6
    EXPECT_EQ(server_frame_header(opcode::binary, 0, {.fin = false, .rsv1 = true}).view(), bytes({0x42, 0x00}));
    EXPECT_EQ(server_frame_header(opcode::close, 2).view(), bytes({0x88, 0x02}));
    EXPECT_EQ(server_frame_header(opcode::pong, 125).view(), bytes({0x8a, 0x7d}));
}

TEST(FrameWriter, RefusesWhatMayNotBeSent) {
    EXPECT_EQ(server_frame_header(opcode::ping, 126).size, 0u);                 // §5.5: ≤ 125
    EXPECT_EQ(server_frame_header(opcode::close, 0, {.fin = false}).size, 0u);  // §5.5: not fragmented
    EXPECT_EQ(server_frame_header(opcode::ping, 0, {.rsv1 = true}).size, 0u);   // RFC 7692 §6
    EXPECT_EQ(server_frame_header(opcode::continuation, 0, {.rsv1 = true}).size, 0u);
    EXPECT_EQ(server_frame_header(static_cast<opcode>(3), 0).size, 0u);         // §5.2 reserved
    EXPECT_EQ(server_frame_header(opcode::binary, 0x8000000000000000ULL).size, 0u);  // §5.2 MSB 0
}

TEST(FrameWriter, ParsesBack) {
    // The same header with the MASK bit and a key is what a client would send: the parser agrees.
    for (std::uint64_t n : {0ULL, 1ULL, 125ULL, 126ULL, 65535ULL, 65536ULL, 1ULL << 40}) {
        for (auto op : {opcode::text, opcode::binary, opcode::ping}) {
            if (is_control(op) && n > 125) continue;
            auto const h = server_frame_header(op, n);
            std::string buf(h.view());
            buf[1] = static_cast<char>(buf[1] | 0x80);
            buf += bytes({1, 2, 3, 4});
            frame_parser_options o;
            o.max_message_size = UINT64_MAX >> 1;
            frame_parser p(o);
            if (is_control(op)) buf += std::string(static_cast<std::size_t>(n), 'p');
            auto const st = p.parse(buf);
            ASSERT_FALSE(st.ec) << st.ec.message() << " n=" << n;
            EXPECT_TRUE(st.header_done);
            EXPECT_EQ(p.header().op, op);
            EXPECT_EQ(p.header().length, n);
            EXPECT_TRUE(p.header().fin);
        }
    }
}

} // namespace
} // namespace upshift::ws
