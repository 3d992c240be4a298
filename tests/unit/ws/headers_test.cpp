// The public ws headers compile together (each is also checked alone with
// `g++ -fsyntax-only`, see the module report).
#include "upshift/ws/close_code.hpp"
#include "upshift/ws/close_payload.hpp"
#include "upshift/ws/error.hpp"
#include "upshift/ws/frame.hpp"
#include "upshift/ws/frame_parser.hpp"
#include "upshift/ws/frame_writer.hpp"
#include "upshift/ws/handshake.hpp"
#include "upshift/ws/mask.hpp"
#include "upshift/ws/utf8.hpp"

#include <gtest/gtest.h>

namespace upshift::ws {
namespace {

TEST(WsHeaders, Opcodes) {
    // §5.2 / §11.8: the opcode registry.
    static_assert(is_control(opcode::close) && is_control(opcode::ping) && is_control(opcode::pong));
    static_assert(!is_control(opcode::continuation) && !is_control(opcode::text) && !is_control(opcode::binary));
    for (int v = 0; v < 16; ++v) {
        bool const defined = v == 0 || v == 1 || v == 2 || v == 8 || v == 9 || v == 10;
        EXPECT_EQ(is_defined(static_cast<opcode>(v)), defined) << v;
    }
    EXPECT_EQ(max_header_size, 14u);
    EXPECT_EQ(frame_parser_options{}.max_message_size, 16u * 1024 * 1024);
    EXPECT_FALSE(frame_parser_options{}.allow_rsv1);
}

} // namespace
} // namespace upshift::ws
