// Close frame bodies (RFC 6455 §5.5.1, §7.4).
#include "upshift/ws/close_payload.hpp"

#include <gtest/gtest.h>

#include <string>

#include "upshift/ws/error.hpp"
#include "upshift/ws/utf8.hpp"

namespace upshift::ws {
namespace {

TEST(ClosePayload, Parses) {
    auto const empty = parse_close_payload("");
    EXPECT_FALSE(empty.ec);
    EXPECT_EQ(empty.code, close_code::no_status);  // §7.1.5: no status code -> 1005
    auto const normal = parse_close_payload(std::string_view("\x03\xe8", 2));
    EXPECT_FALSE(normal.ec);
    EXPECT_EQ(normal.code, close_code::normal);
    EXPECT_EQ(normal.reason, "");
    auto const app = parse_close_payload(std::string_view("\x0f\xa0shutting down", 15));  // 4000
    EXPECT_FALSE(app.ec);
    EXPECT_EQ(static_cast<int>(app.code), 4000);
    EXPECT_EQ(app.reason, "shutting down");
}

TEST(ClosePayload, Rejects) {
    EXPECT_EQ(parse_close_payload("\x03").ec, error::close_payload_too_short);           // §5.5.1
    EXPECT_EQ(parse_close_payload(std::string_view("\x03\xed", 2)).ec, error::invalid_close_code);  // 1005, §7.4.1
    EXPECT_EQ(parse_close_payload(std::string_view("\x00\x00", 2)).ec, error::invalid_close_code);
    EXPECT_EQ(parse_close_payload(std::string_view("\x03\xe8\xc0\x80", 4)).ec, error::invalid_close_reason);  // §5.5.1 UTF-8
}

TEST(ClosePayload, Builds) {
    auto const p = make_close_payload(close_code::going_away, "bye");
    EXPECT_EQ(p.view(), std::string_view("\x03\xe9" "bye", 5));
    auto const back = parse_close_payload(p.view());
    EXPECT_FALSE(back.ec);
    EXPECT_EQ(back.code, close_code::going_away);
    EXPECT_EQ(back.reason, "bye");
    EXPECT_EQ(make_close_payload(close_code::normal).view(), std::string_view("\x03\xe8", 2));
    EXPECT_EQ(make_close_payload(static_cast<close_code>(4999)).size, 2u);
}

TEST(ClosePayload, CodesThatMayNotBeSentGiveAnEmptyBody) {
    // §7.4.1: 1005/1006/1015 MUST NOT be set in a Close frame; an empty body is the way to say "no status".
    EXPECT_EQ(make_close_payload(close_code::no_status, "x").size, 0u);
    EXPECT_EQ(make_close_payload(close_code::abnormal).size, 0u);
    EXPECT_EQ(make_close_payload(close_code::tls_handshake).size, 0u);
    EXPECT_EQ(make_close_payload(static_cast<close_code>(999)).size, 0u);
}

TEST(ClosePayload, TruncatesReasonAtACodePoint) {
    // §5.5: a control payload is at most 125 bytes, so the reason at most 123.
    auto const ascii = make_close_payload(close_code::normal, std::string(200, 'r'));
    EXPECT_EQ(ascii.size, 125u);
    EXPECT_EQ(ascii.view().substr(2), std::string(123, 'r'));
    // 122 ASCII + "é" (2 bytes) would be 124: the "é" is dropped whole.
    auto const accent = make_close_payload(close_code::normal, std::string(122, 'r') + "\xc3\xa9");
    EXPECT_EQ(accent.size, 124u);
    EXPECT_TRUE(is_valid_utf8(accent.view().substr(2)));
    // Every cut point of a 4-byte character straddling the limit.
    for (std::size_t pad = 118; pad <= 123; ++pad) {
        auto const p = make_close_payload(close_code::normal, std::string(pad, 'r') + "\xf0\x9f\x98\x80" + "tail");
        EXPECT_LE(p.size, 125u);
        EXPECT_TRUE(is_valid_utf8(p.view().substr(2))) << pad;
        EXPECT_FALSE(parse_close_payload(p.view()).ec) << pad;
        EXPECT_EQ(p.size, pad + 4 <= 123 ? std::min<std::size_t>(2 + pad + 4 + 4, 125) : 2 + pad) << pad;
    }
}

TEST(ClosePayload, DropsAReasonThatIsNotUtf8) {
    auto const p = make_close_payload(close_code::normal, "\xff oops");
    EXPECT_EQ(p.size, 2u);
    EXPECT_FALSE(parse_close_payload(p.view()).ec);
}

} // namespace
} // namespace upshift::ws
