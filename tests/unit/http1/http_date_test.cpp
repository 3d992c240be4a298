// HTTP-date (RFC 9110 §5.6.7).
#include <gtest/gtest.h>

#include <ctime>

#include "upshift/http1/serializer.hpp"

namespace upshift::http1 {
namespace {

constexpr long long rfc_example = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

TEST(HttpDate, FormatsImfFixdate) {
    char buf[32];
    EXPECT_EQ(format_http_date(rfc_example, buf), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(format_http_date(0, buf), "Thu, 01 Jan 1970 00:00:00 GMT");
    EXPECT_EQ(format_http_date(951782400, buf), "Tue, 29 Feb 2000 00:00:00 GMT");  // leap day
    EXPECT_EQ(format_http_date(4107542399, buf), "Sun, 28 Feb 2100 23:59:59 GMT");  // 2100 is not leap
    EXPECT_EQ(format_http_date(4107542400, buf), "Mon, 01 Mar 2100 00:00:00 GMT");
    EXPECT_EQ(format_http_date(253402300799, buf), "Fri, 31 Dec 9999 23:59:59 GMT");
    EXPECT_EQ(format_http_date(253402300800, buf), "");
    EXPECT_EQ(format_http_date(-1, buf), "");
}

TEST(HttpDate, ParsesAllThreeFormats) {
    // RFC 9110 §5.6.7: recipients MUST accept IMF-fixdate, rfc850-date and asctime-date.
    EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), rfc_example);
    EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), rfc_example);
    EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), rfc_example);
    EXPECT_EQ(parse_http_date("Sun Nov 16 08:49:37 1994"), rfc_example + 10 * 86400);
}

TEST(HttpDate, Rfc850TwoDigitYearIsNeverFarFuture) {
    // RFC 9110 §5.6.7: a two-digit year more than 50 years ahead is in the past.
    long long const t = parse_http_date("Thursday, 01-Jan-70 00:00:00 GMT");
    std::time_t const now = std::time(nullptr);
    ASSERT_NE(t, -1);
    EXPECT_LE(t, static_cast<long long>(now) + 51LL * 366 * 86400);
    EXPECT_EQ(t % 86400, 0);
}

TEST(HttpDate, RejectsMalformed) {
    for (std::string_view s : {"", "Sun, 06 Nov 1994 08:49:37 UTC", "sun, 06 Nov 1994 08:49:37 GMT",
                               "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 31 Feb 1994 08:49:37 GMT",
                               "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
                               "Sun, 06 Nov 1994 08:60:00 GMT", "Sun, 06 Nov 1994 08:49:37 GMT ",
                               "Sunday, 06-Nov-1994 08:49:37 GMT", "Sun Nov 6 08:49:37 1994", "garbage"}) {
        EXPECT_EQ(parse_http_date(s), -1) << s;
    }
}

TEST(HttpDate, RoundTrips) {
    char buf[32];
    for (long long t = 0; t < 4'000'000'000LL; t += 86'399'987LL) {
        auto s = format_http_date(t, buf);
        EXPECT_EQ(parse_http_date(s), t) << s;
    }
}

} // namespace
} // namespace upshift::http1
