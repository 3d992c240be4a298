// HTTP-date (RFC 9110 §5.6.7): IMF-fixdate out; IMF-fixdate, rfc850-date and
// asctime-date in. All in UTC ("GMT"), proleptic Gregorian calendar.
#include <ctime>

#include "upshift/base/ascii.hpp"
#include "upshift/http1/serializer.hpp"

namespace upshift::http1 {
namespace {

constexpr std::string_view day_names[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view long_day_names[7] = {"Sunday", "Monday", "Tuesday", "Wednesday",
                                                "Thursday", "Friday", "Saturday"};
constexpr std::string_view month_names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr long long seconds_per_day = 86400;

constexpr bool is_leap(long long y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

constexpr int days_in_month(long long y, int m) noexcept {  // m in 1..12
    constexpr int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/// Days from 0001-01-01 to the first day of year y (y >= 1).
constexpr long long days_before_year(long long y) noexcept {
    long long const p = y - 1;
    return p * 365 + p / 4 - p / 100 + p / 400;
}

constexpr long long epoch_days = days_before_year(1970);

/// Days since 1970-01-01 for a valid civil date.
constexpr long long days_from_civil(long long y, int m, int d) noexcept {
    long long days = days_before_year(y) - epoch_days;
    for (int i = 1; i < m; ++i) days += days_in_month(y, i);
    return days + d - 1;
}

struct civil {
    long long year;
    int month;
    int day;
};

constexpr civil civil_from_days(long long days) noexcept {
    long long y = 1970 + days / 366;  // never past the answer for days >= 0; adjusted below
    while (days_before_year(y) - epoch_days > days) --y;
    while (days_before_year(y + 1) - epoch_days <= days) ++y;
    long long rest = days - (days_before_year(y) - epoch_days);
    int m = 1;
    while (rest >= days_in_month(y, m)) rest -= days_in_month(y, m++);
    return {y, m, static_cast<int>(rest) + 1};
}

void put2(char* p, long long v) noexcept {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
}

/// A tiny cursor over the input for the fixed-layout date formats.
struct reader {
    std::string_view s;
    std::size_t i = 0;

    bool lit(std::string_view t) noexcept {
        if (s.substr(i, t.size()) != t) return false;
        i += t.size();
        return true;
    }
    bool digits(std::size_t count, int& out) noexcept {
        out = 0;
        for (std::size_t k = 0; k < count; ++k) {
            if (i >= s.size() || !ascii::is_digit(s[i])) return false;
            out = out * 10 + (s[i++] - '0');
        }
        return true;
    }
    bool month(int& out) noexcept {
        for (int m = 0; m < 12; ++m)
            if (lit(month_names[m])) {
                out = m + 1;
                return true;
            }
        return false;
    }
    bool time_of_day(int& h, int& mi, int& se) noexcept {
        return digits(2, h) && lit(":") && digits(2, mi) && lit(":") && digits(2, se);
    }
    bool at_end() const noexcept { return i == s.size(); }
};

long long to_unix(long long y, int mo, int d, int h, int mi, int se) noexcept {
    if (y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return -1;
    if (h > 23 || mi > 59 || se > 60) return -1;  // 60: a leap second
    long long const t = days_from_civil(y, mo, d) * seconds_per_day + h * 3600 + mi * 60 + se;
    return t < 0 ? -1 : t;
}

/// RFC 9110 §5.6.7: a two-digit year more than 50 years in the future means the
/// most recent past year with the same last two digits.
long long expand_two_digit_year(int yy) noexcept {
    std::time_t const now = std::time(nullptr);
    long long const this_year = civil_from_days(static_cast<long long>(now) / seconds_per_day).year;
    long long y = this_year - this_year % 100 + yy;
    if (y > this_year + 50) y -= 100;
    return y;
}

long long parse_imf_fixdate(reader r) noexcept {
    // day-name "," SP 2DIGIT SP month SP 4DIGIT SP hh:mm:ss SP "GMT"
    bool named = false;
    for (auto dn : day_names) named = named || r.lit(dn);
    int d = 0, mo = 0, y = 0, h = 0, mi = 0, se = 0;
    if (!named || !r.lit(", ") || !r.digits(2, d) || !r.lit(" ") || !r.month(mo) || !r.lit(" ") ||
        !r.digits(4, y) || !r.lit(" ") || !r.time_of_day(h, mi, se) || !r.lit(" GMT") || !r.at_end())
        return -1;
    return to_unix(y, mo, d, h, mi, se);
}

long long parse_rfc850(reader r) noexcept {
    // day-name-l "," SP 2DIGIT "-" month "-" 2DIGIT SP hh:mm:ss SP "GMT"
    bool named = false;
    for (auto dn : long_day_names) named = named || r.lit(dn);
    int d = 0, mo = 0, yy = 0, h = 0, mi = 0, se = 0;
    if (!named || !r.lit(", ") || !r.digits(2, d) || !r.lit("-") || !r.month(mo) || !r.lit("-") ||
        !r.digits(2, yy) || !r.lit(" ") || !r.time_of_day(h, mi, se) || !r.lit(" GMT") || !r.at_end())
        return -1;
    return to_unix(expand_two_digit_year(yy), mo, d, h, mi, se);
}

long long parse_asctime(reader r) noexcept {
    // day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP hh:mm:ss SP 4DIGIT
    bool named = false;
    for (auto dn : day_names) named = named || r.lit(dn);
    int d = 0, mo = 0, y = 0, h = 0, mi = 0, se = 0;
    if (!named || !r.lit(" ") || !r.month(mo) || !r.lit(" ")) return -1;
    if (r.lit(" ")) {
        if (!r.digits(1, d)) return -1;
    } else if (!r.digits(2, d)) {
        return -1;
    }
    if (!r.lit(" ") || !r.time_of_day(h, mi, se) || !r.lit(" ") || !r.digits(4, y) || !r.at_end()) return -1;
    return to_unix(y, mo, d, h, mi, se);
}

} // namespace

std::string_view format_http_date(long long unix_seconds, char (&buf)[32]) noexcept {
    // Years 1970..9999 fit IMF-fixdate's 4DIGIT year; anything else is refused.
    if (unix_seconds < 0 || unix_seconds > 253402300799LL) return {};
    long long const days = unix_seconds / seconds_per_day;
    long long const secs = unix_seconds % seconds_per_day;
    civil const c = civil_from_days(days);
    auto const wd = static_cast<std::size_t>((days + 4) % 7);  // 1970-01-01 was a Thursday
    char* p = buf;
    auto const put = [&](std::string_view s) {
        for (char ch : s) *p++ = ch;
    };
    put(day_names[wd]);
    put(", ");
    put2(p, c.day);
    p += 2;
    put(" ");
    put(month_names[c.month - 1]);
    put(" ");
    put2(p, c.year / 100);
    put2(p + 2, c.year % 100);
    p += 4;
    put(" ");
    put2(p, secs / 3600);
    put2(p + 3, secs / 60 % 60);
    put2(p + 6, secs % 60);
    p[2] = ':';
    p[5] = ':';
    p += 8;
    put(" GMT");
    *p = '\0';
    return {buf, static_cast<std::size_t>(p - buf)};
}

long long parse_http_date(std::string_view s) noexcept {
    // RFC 9110 §5.6.7: recipients MUST accept all three formats.
    reader const r{s};
    if (s.size() == 29) return parse_imf_fixdate(r);
    if (s.size() == 24) return parse_asctime(r);
    return parse_rfc850(r);
}

} // namespace upshift::http1
