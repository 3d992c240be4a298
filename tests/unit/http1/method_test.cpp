#include "upshift/http1/method.hpp"

#include <gtest/gtest.h>

namespace upshift::http1 {
namespace {

TEST(Method, ParsesKnownMethodsCaseSensitively) {
    // RFC 9110 §9.1: the method token is case-sensitive.
    for (auto m : {method::get, method::head, method::post, method::put, method::delete_, method::connect,
                   method::options, method::trace, method::patch}) {
        EXPECT_EQ(parse_method(to_string(m)), m) << to_string(m);
    }
    EXPECT_EQ(parse_method("get"), method::other);
    EXPECT_EQ(parse_method("PROPFIND"), method::other);
    EXPECT_EQ(parse_method(""), method::other);
    EXPECT_EQ(to_string(method::other), "");
}

} // namespace
} // namespace upshift::http1
