#pragma once
// The Date header value changes once a second; format it once per second per
// loop rather than once per response.
#include <string_view>

#include "upshift/http1/serializer.hpp"

namespace upshift::server::detail {

class date_cache {
public:
    std::string_view get(long long unix_now) noexcept {
        if (unix_now != cached_at_) {
            value_ = http1::format_http_date(unix_now, buf_);
            cached_at_ = unix_now;
        }
        return value_;
    }

private:
    long long cached_at_ = -1;
    char buf_[32] = {};
    std::string_view value_;
};

} // namespace upshift::server::detail
