// Autobahn category 9 (limits and performance), sized for /ws/echo, whose max_message_size is
// 64 MiB (app/ws_routes.cpp). Large messages must echo intact; a message above the limit fails the
// connection with 1009 "message too big" (§7.4.1). The declared 64-bit length (§5.2) alone is
// enough: the server must not wait for (or buffer) the payload to decide.
#include "ws_client.hpp"

namespace upshift::test::conformance {
namespace {

constexpr std::size_t mib = std::size_t{1} << 20;

TEST_F(WsConformance, Case9_1_1_Text4MiB) {
    expect_echo(op_text, payload_of(4 * mib, true), false, 60s);
    expect_clean_close();
}

TEST_F(WsConformance, Case9_2_1_Binary16MiB) {
    expect_echo(op_binary, payload_of(16 * mib, false), false, 120s);
    expect_clean_close();
}

// 4 MiB in 64 KiB fragments, all in one write.
TEST_F(WsConformance, Case9_3_1_Binary4MiBIn64KiBFragments) {
    auto const whole = payload_of(4 * mib, false, 5);
    std::string all;
    for (std::size_t at = 0; at < whole.size(); at += 64 * 1024)
        all +=
            client_frame(at == 0 ? op_binary : op_continuation, std::string_view{whole}.substr(at, 64 * 1024),
                         {.fin = at + 64 * 1024 >= whole.size()});
    ASSERT_TRUE(ws().send_raw(all, false, 60s));
    expect_message(op_binary, whole, 60s);
    expect_clean_close();
}

// Only the header (64-bit length 64 MiB + 1, masking key) is sent.
TEST_F(WsConformance, Case9_4_1_DeclaredLengthAboveLimitFailsAtHeader) {
    ASSERT_TRUE(ws().send_raw(client_frame_header(op_binary, 64 * mib + 1, {.key = {1, 2, 3, 4}})));
    expect_fail(1009);
}

// Fragments that are each small but sum above 64 MiB: 1009 once the sum passes the limit.
TEST_F(WsConformance, Case9_4_2_FragmentsSumAboveLimitFail) {
    ASSERT_TRUE(ws().send_raw(client_frame(op_binary, payload_of(mib, false), {.fin = false}), false, 60s));
    // The next fragment declares 63 MiB + 1: with the first MiB that is 64 MiB + 1.
    ASSERT_TRUE(ws().send_raw(client_frame_header(op_continuation, 63 * mib + 1, {.key = {1, 2, 3, 4}})));
    expect_fail(1009, 10s);
}

} // namespace
} // namespace upshift::test::conformance
