// Close status codes (RFC 6455 §7.4, IANA registry §11.7).
#include "upshift/ws/close_code.hpp"

#include <gtest/gtest.h>

namespace upshift::ws {
namespace {

TEST(CloseCode, RegisteredValues) {
    // §7.4.1 and the IANA registry.
    EXPECT_EQ(static_cast<int>(close_code::normal), 1000);
    EXPECT_EQ(static_cast<int>(close_code::going_away), 1001);
    EXPECT_EQ(static_cast<int>(close_code::protocol_error), 1002);
    EXPECT_EQ(static_cast<int>(close_code::unsupported_data), 1003);
    EXPECT_EQ(static_cast<int>(close_code::no_status), 1005);
    EXPECT_EQ(static_cast<int>(close_code::abnormal), 1006);
    EXPECT_EQ(static_cast<int>(close_code::invalid_payload), 1007);
    EXPECT_EQ(static_cast<int>(close_code::policy_violation), 1008);
    EXPECT_EQ(static_cast<int>(close_code::message_too_big), 1009);
    EXPECT_EQ(static_cast<int>(close_code::mandatory_extension), 1010);
    EXPECT_EQ(static_cast<int>(close_code::internal_error), 1011);
    EXPECT_EQ(static_cast<int>(close_code::service_restart), 1012);
    EXPECT_EQ(static_cast<int>(close_code::try_again_later), 1013);
    EXPECT_EQ(static_cast<int>(close_code::bad_gateway), 1014);
    EXPECT_EQ(static_cast<int>(close_code::tls_handshake), 1015);
}

TEST(CloseCode, ValidOnTheWire) {
    // §7.4.1: 1005, 1006 and 1015 "MUST NOT be set as a status code in a Close control frame";
    // 1004 is reserved. §7.4.2: 0-999 unused, 1000-2999 for this protocol (registered ones only),
    // 3000-3999 registered, 4000-4999 private use.
    for (unsigned c = 0; c <= 0xFFFF; ++c) {
        auto const code = static_cast<std::uint16_t>(c);
        bool const expected = (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
        ASSERT_EQ(is_valid_close_code_on_wire(code), expected) << c;
    }
    static_assert(is_valid_close_code_on_wire(close_code::normal));
    static_assert(!is_valid_close_code_on_wire(close_code::no_status));
    static_assert(!is_valid_close_code_on_wire(close_code::abnormal));
    static_assert(!is_valid_close_code_on_wire(close_code::tls_handshake));
    static_assert(!is_valid_close_code_on_wire(close_code::reserved));
    EXPECT_TRUE(is_valid_close_code_on_wire(static_cast<close_code>(4999)));
}

} // namespace
} // namespace upshift::ws
