// The pure rules of h2c's entry points: which HTTP/1.1 requests may switch by
// Upgrade (RFC 7540 §3.2, §3.2.1), base64url decoding of HTTP2-Settings, and
// the prior-knowledge preface (RFC 9113 §3.3, §3.4).
#include <gtest/gtest.h>

#include "unit/upgrade/request_text.hpp"
#include "upshift/h2c/upgrade_request.hpp"
#include "upshift/upgrade/offer.hpp"

namespace upshift::h2c {
namespace {

using upgrade::test::parsed_request;
using upgrade::test::request_with;

// curl's HTTP2-Settings: MAX_CONCURRENT_STREAMS=100, INITIAL_WINDOW_SIZE=33554432, ENABLE_PUSH=0.
constexpr std::string_view curl_settings = "AAMAAABkAAQCAAAAAAIAAAAA";

std::string upgrade_fields(std::string_view settings_lines,
                           std::string_view connection = "Upgrade, HTTP2-Settings") {
    std::string s = "Upgrade: h2c\r\nConnection: ";
    s += connection;
    s += "\r\n";
    s += settings_lines;
    return s;
}

TEST(H2cUpgradeRules, AcceptsOneDecodableSettingsFieldListedInConnection) {
    parsed_request r{request_with(upgrade_fields("HTTP2-Settings: " + std::string(curl_settings) + "\r\n"))};
    auto payload = upgrade_settings(r.head());
    ASSERT_TRUE(payload.has_value());
    EXPECT_EQ(payload->size(), 18u); // three 6-octet settings
    EXPECT_EQ(payload->substr(0, 6), std::string("\x00\x03\x00\x00\x00\x64", 6));
}

TEST(H2cUpgradeRules, EmptySettingsPayloadIsValid) {
    // RFC 7540 §3.2.1: the payload is a SETTINGS frame's, which may hold no settings.
    parsed_request r{request_with(upgrade_fields("HTTP2-Settings: \r\n"))};
    auto payload = upgrade_settings(r.head());
    ASSERT_TRUE(payload.has_value());
    EXPECT_TRUE(payload->empty());
}

TEST(H2cUpgradeRules, MissingSettingsMustNotUpgrade) {
    // RFC 7540 §3.2.1: "A server MUST NOT upgrade the connection to HTTP/2 if this
    // header field is not present".
    parsed_request r{request_with(upgrade_fields(""))};
    EXPECT_FALSE(upgrade_settings(r.head()).has_value());
}

TEST(H2cUpgradeRules, RepeatedSettingsMustNotUpgrade) {
    // RFC 7540 §3.2.1: "... or if more than one is present."
    std::string const line = "HTTP2-Settings: " + std::string(curl_settings) + "\r\n";
    parsed_request r{request_with(upgrade_fields(line + line))};
    EXPECT_FALSE(upgrade_settings(r.head()).has_value());
}

TEST(H2cUpgradeRules, UndecodableSettingsMustNotUpgrade) {
    // RFC 7540 §3.2.1: the value is token68 base64url; '+' and '/' are plain base64.
    for (std::string_view bad :
         {"AAMAAABk+AQCAAAAAAIAAAAA", "AAMA/ABkAAQCAAAAAAIAAAAA", "A", "AAMAAABk AQC"}) {
        parsed_request r{request_with(upgrade_fields("HTTP2-Settings: " + std::string(bad) + "\r\n"))};
        EXPECT_FALSE(upgrade_settings(r.head()).has_value()) << bad;
    }
}

TEST(H2cUpgradeRules, PayloadThatIsNotWholeSettingsMustNotUpgrade) {
    // RFC 9113 §6.5: a SETTINGS payload is a multiple of 6 octets; "AAMAAA" decodes to 4.
    parsed_request r{request_with(upgrade_fields("HTTP2-Settings: AAMAAA\r\n"))};
    EXPECT_FALSE(upgrade_settings(r.head()).has_value());
}

TEST(H2cUpgradeRules, InvalidSettingValueMustNotUpgrade) {
    // RFC 9113 §6.5.2: ENABLE_PUSH other than 0 or 1 is a connection error; refuse before the 101.
    // 0x0002 = 2 -> "AAIAAAAC"
    parsed_request r{request_with(upgrade_fields("HTTP2-Settings: AAIAAAAC\r\n"))};
    EXPECT_FALSE(upgrade_settings(r.head()).has_value());
}

TEST(H2cUpgradeRules, SettingsNotListedInConnectionMustNotUpgrade) {
    // RFC 7540 §3.2.1: a client sending HTTP2-Settings MUST also list it as a
    // connection option; without it the field may have been forwarded.
    parsed_request r{
        request_with(upgrade_fields("HTTP2-Settings: " + std::string(curl_settings) + "\r\n", "Upgrade"))};
    EXPECT_FALSE(upgrade_settings(r.head()).has_value());
}

TEST(H2cUpgradeRules, ConnectionOptionsMayBeSplitAcrossLines) {
    parsed_request r{request_with("Upgrade: h2c\r\nConnection: Upgrade\r\nConnection: http2-settings\r\n"
                                  "HTTP2-Settings: " +
                                  std::string(curl_settings) + "\r\n")};
    EXPECT_TRUE(upgrade_settings(r.head()).has_value());
}

TEST(H2cUpgradeRules, OnlyTheH2cTokenIsAnOffer) {
    // RFC 7540 §3.2: "h2" names HTTP/2 over TLS; a server MUST ignore it in Upgrade.
    std::vector<upgrade::offer> offers{{"h2", ""}, {"h2c", "2"}, {"websocket", ""}};
    EXPECT_EQ(find_h2c_offer(offers), nullptr);
    offers.push_back({"H2C", ""});
    ASSERT_NE(find_h2c_offer(offers), nullptr);
    EXPECT_EQ(find_h2c_offer(offers), &offers.back());
}

TEST(H2cBase64url, DecodesWithoutPaddingAndRejectsNonCanonicalBits) {
    EXPECT_EQ(decode_base64url("aGk"), "hi");
    EXPECT_EQ(decode_base64url("aGk="), "hi"); // padding tolerated
    EXPECT_EQ(decode_base64url("_-8"), std::string("\xff\xef", 2));
    EXPECT_EQ(decode_base64url(""), "");
    EXPECT_FALSE(decode_base64url("aGl").has_value()); // leftover bits not zero
    EXPECT_FALSE(decode_base64url("aGk!").has_value());
}

TEST(H2cPreface, MatchesWholePrefixOrNothing) {
    // RFC 9113 §3.4: the client preface is exactly these 24 octets.
    EXPECT_EQ(client_preface.size(), 24u);
    EXPECT_EQ(match_preface(client_preface), preface_match::full);
    EXPECT_EQ(match_preface(std::string(client_preface) + "\x00\x00\x00\x04"), preface_match::full);
    EXPECT_EQ(match_preface("PRI * HTTP/2.0\r\n"), preface_match::partial);
    EXPECT_EQ(match_preface("P"), preface_match::partial);
    EXPECT_EQ(match_preface("POST / HTTP/1.1\r\n"), preface_match::no);
    EXPECT_EQ(match_preface("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"), preface_match::no);
}

} // namespace
} // namespace upshift::h2c
