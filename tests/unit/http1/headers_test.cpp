// The public http1 headers compile together (each is also checked alone with
// `g++ -fsyntax-only`, see the module report).
#include "upshift/http1/chunked_decoder.hpp"
#include "upshift/http1/detail/head_state.hpp"
#include "upshift/http1/error.hpp"
#include "upshift/http1/fields.hpp"
#include "upshift/http1/limits.hpp"
#include "upshift/http1/message.hpp"
#include "upshift/http1/method.hpp"
#include "upshift/http1/request_parser.hpp"
#include "upshift/http1/response_parser.hpp"
#include "upshift/http1/serializer.hpp"
#include "upshift/http1/status.hpp"

#include <gtest/gtest.h>

namespace upshift::http1 {
namespace {

TEST(Headers, DefaultLimits) {
    limits const l;
    EXPECT_EQ(l.max_header_bytes, 16u * 1024);
    EXPECT_EQ(request_parser(l).get_limits().max_request_line, 8u * 1024);
}

} // namespace
} // namespace upshift::http1
