// static_lower_name(): the lower-case static spellings handed to nghttp2 with
// NGHTTP2_NV_FLAG_NO_COPY_NAME (RFC 9113 §8.2.1: field names MUST be lower case
// in HTTP/2; nghttp2 lowers only the names it copies). A wrong match would put
// another name on the wire, so near misses are checked byte by byte.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "h2c/detail/static_names.hpp"

namespace upshift::h2c::detail {
namespace {

TEST(H2cStaticNames, KnownNamesInAnyCaseGiveTheLowerCaseSpelling) {
    EXPECT_EQ(static_lower_name("Content-Type"), "content-type");
    EXPECT_EQ(static_lower_name("content-type"), "content-type");
    EXPECT_EQ(static_lower_name("CONTENT-TYPE"), "content-type");
    EXPECT_EQ(static_lower_name("ETag"), "etag");
    EXPECT_EQ(static_lower_name("Last-Modified"), "last-modified");
    EXPECT_EQ(static_lower_name("X-Content-Type-Options"), "x-content-type-options");
    EXPECT_EQ(static_lower_name("Access-Control-Allow-Credentials"), "access-control-allow-credentials");
    EXPECT_EQ(static_lower_name("Via"), "via");
    EXPECT_EQ(static_lower_name("Age"), "age");
}

TEST(H2cStaticNames, TheSpellingHasStaticStorage) {
    std::string const name = "Cache-Control";
    auto const a = static_lower_name(name);
    auto const b = static_lower_name(std::string("cache-control"));
    EXPECT_EQ(a.data(), b.data()); // one spelling for every lookup, not a view of the argument
    EXPECT_NE(a.data(), name.data());
}

TEST(H2cStaticNames, UnknownNamesAndNearMissesAreNotFound) {
    EXPECT_TRUE(static_lower_name("").empty());
    EXPECT_TRUE(static_lower_name("X-Custom").empty());
    EXPECT_TRUE(static_lower_name("content-typ").empty());
    EXPECT_TRUE(static_lower_name("content-typee").empty());
    EXPECT_TRUE(static_lower_name("content_type").empty());  // '_' is not '-'
    EXPECT_TRUE(static_lower_name("content\rtype").empty()); // '\r' | 0x20 is '-': must not match
    EXPECT_TRUE(static_lower_name("content\x0dtype").empty());
    EXPECT_TRUE(static_lower_name("contentMtype").empty()); // 'M' | 0x20 is 'm', not '-'
    EXPECT_TRUE(static_lower_name("etaG ").empty());
    EXPECT_TRUE(static_lower_name("et\x01g").empty()); // 0x01 | 0x20 is '!', not 'a'
    EXPECT_TRUE(static_lower_name(std::string_view("et\0g", 4)).empty());
    EXPECT_TRUE(static_lower_name("x-content-type-optionz").empty()); // differs in the last chunk only
    EXPECT_TRUE(static_lower_name("y-content-type-options").empty()); // differs in the first chunk only
    EXPECT_TRUE(static_lower_name(std::string(40, 'a')).empty());     // longer than any known name
}

TEST(H2cStaticNames, EveryByteOfALongNameCounts) {
    std::string const name = "strict-transport-security";
    ASSERT_EQ(static_lower_name(name), name);
    for (std::size_t i = 0; i < name.size(); ++i) {
        std::string changed = name;
        changed[i] = changed[i] == '-' ? '_' : static_cast<char>(changed[i] ^ 0x01);
        EXPECT_TRUE(static_lower_name(changed).empty()) << changed;
    }
}

} // namespace
} // namespace upshift::h2c::detail
