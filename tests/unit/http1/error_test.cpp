#include "upshift/http1/error.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace upshift::http1 {
namespace {

TEST(Error, EveryCodeHasADistinctMessage) {
    std::set<std::string> seen;
    for (int e = static_cast<int>(error::need_more); e <= static_cast<int>(error::trailer_too_large); ++e) {
        auto const msg = make_error_code(static_cast<error>(e)).message();
        EXPECT_FALSE(msg.empty());
        EXPECT_EQ(msg.find("unknown"), std::string::npos) << e;
        EXPECT_TRUE(seen.insert(msg).second) << msg;
    }
    EXPECT_STREQ(error_category().name(), "upshift.http1");
    std::error_code ec = error::bare_lf;  // implicit conversion via is_error_code_enum
    EXPECT_EQ(ec, error::bare_lf);
}

TEST(Error, StatusMapping) {
    auto const s = [](error e) { return status_for(make_error_code(e)); };
    EXPECT_EQ(s(error::uri_too_long), status::uri_too_long);                                 // 414
    EXPECT_EQ(s(error::header_too_large), status::request_header_fields_too_large);         // 431
    EXPECT_EQ(s(error::too_many_headers), status::request_header_fields_too_large);
    EXPECT_EQ(s(error::trailer_too_large), status::request_header_fields_too_large);
    EXPECT_EQ(s(error::body_too_large), status::content_too_large);                         // 413
    EXPECT_EQ(s(error::unsupported_transfer_encoding), status::not_implemented);            // 501
    EXPECT_EQ(s(error::method_too_long), status::not_implemented);
    EXPECT_EQ(s(error::unsupported_version), status::http_version_not_supported);           // 505
    for (auto e : {error::bad_request_line, error::bad_method, error::bad_target, error::bad_version,
                   error::bad_field_name, error::whitespace_before_colon, error::obs_fold, error::bare_cr,
                   error::bare_lf, error::missing_host, error::multiple_host, error::bad_host,
                   error::bad_content_length, error::multiple_content_length,
                   error::content_length_with_transfer_encoding, error::bad_transfer_encoding,
                   error::transfer_encoding_in_http10, error::bad_chunk_size, error::bad_chunk_terminator}) {
        EXPECT_EQ(s(e), status::bad_request) << make_error_code(e).message();
    }
    EXPECT_EQ(status_for(std::make_error_code(std::errc::io_error)), status::bad_request);
}

} // namespace
} // namespace upshift::http1
