#include "upshift/ws/error.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace upshift::ws {
namespace {

TEST(WsError, EveryCodeHasADistinctMessage) {
    std::set<std::string> seen;
    for (int e = static_cast<int>(error::need_more); e <= static_cast<int>(error::bad_sec_version); ++e) {
        auto const msg = make_error_code(static_cast<error>(e)).message();
        EXPECT_FALSE(msg.empty());
        EXPECT_EQ(msg.find("unknown"), std::string::npos) << e;
        EXPECT_TRUE(seen.insert(msg).second) << msg;
    }
    EXPECT_STREQ(error_category().name(), "upshift.ws");
    std::error_code ec = error::invalid_utf8;
    EXPECT_EQ(ec, error::invalid_utf8);
}

TEST(WsError, Conditions) {
    EXPECT_EQ(std::error_code(error::unmasked_frame), condition::protocol_violation);
    EXPECT_EQ(std::error_code(error::invalid_close_reason), condition::protocol_violation);
    EXPECT_EQ(std::error_code(error::message_too_big), condition::protocol_violation);
    EXPECT_EQ(std::error_code(error::bad_sec_key), condition::handshake_failed);
    EXPECT_EQ(std::error_code(error::bad_method), condition::handshake_failed);
    EXPECT_NE(std::error_code(error::bad_sec_key), condition::protocol_violation);
    EXPECT_NE(std::error_code(error::need_more), condition::protocol_violation);
    EXPECT_NE(std::error_code(error::need_more), condition::handshake_failed);
    EXPECT_FALSE(make_error_condition(condition::handshake_failed).message().empty());
}

TEST(WsError, CloseCodes) {
    // §7.4.1: 1002 protocol error, 1007 data inconsistent with the type, 1009 too big.
    for (auto e : {error::unmasked_frame, error::reserved_bits, error::reserved_opcode, error::fragmented_control,
                   error::control_too_long, error::unexpected_continuation, error::expected_continuation,
                   error::non_minimal_length, error::length_msb_set, error::close_payload_too_short,
                   error::invalid_close_code})
        EXPECT_EQ(close_code_for(e), close_code::protocol_error) << make_error_code(e).message();
    EXPECT_EQ(close_code_for(error::invalid_utf8), close_code::invalid_payload);
    EXPECT_EQ(close_code_for(error::invalid_close_reason), close_code::invalid_payload);
    EXPECT_EQ(close_code_for(error::message_too_big), close_code::message_too_big);
    EXPECT_EQ(close_code_for(error::need_more), close_code::internal_error);
    EXPECT_EQ(close_code_for(make_error_code(error::invalid_utf8)), close_code::invalid_payload);
    EXPECT_EQ(close_code_for(std::make_error_code(std::errc::io_error)), close_code::internal_error);
    // Every code a server sends is one it may send (§7.4.1).
    for (int e = static_cast<int>(error::need_more); e <= static_cast<int>(error::bad_sec_version); ++e)
        EXPECT_TRUE(is_valid_close_code_on_wire(close_code_for(static_cast<error>(e))));
}

} // namespace
} // namespace upshift::ws
