// Requests the parser rejects: one canned error response, Connection: close, then the connection
// closes and no later byte is interpreted (docs/decisions/0003; RFC 9112 §9.6 for the close).
#include "server_fixture.hpp"

namespace upshift::test {
namespace {

struct bad_request_case {
    char const* name;
    std::string bytes;
    int status;
    std::function<void(server::options&)> configure;
};

std::ostream& operator<<(std::ostream& os, bad_request_case const& c) { return os << c.name; }

class ParseErrorTest : public server_fixture, public ::testing::WithParamInterface<bad_request_case> {};

TEST_P(ParseErrorTest, CannedResponseThenClose) {
    auto const& tc = GetParam();
    ASSERT_TRUE(start(
        [this](exchange& ex) {
            events.add("handler " + std::string(ex.request().target));
            ex.respond(status::ok, {}, "ok");
        },
        tc.configure));
    auto c = connect();
    // A valid request pipelined behind the bad one must never be answered.
    c.send_all(tc.bytes + get("/after"));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, tc.status) << *r;
    EXPECT_TRUE(r->has_token("Connection", "close")) << *r;
    EXPECT_EQ(r->header("Content-Length"), std::to_string(r->body.size())) << *r;
    EXPECT_EQ(r->header_count("Date"), 1u) << *r;  // RFC 9110 §6.6.1 (4xx: MUST; 5xx: MAY)
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_TRUE(c.received().empty()) << "bytes after the error response: " << c.received();
    EXPECT_TRUE(events.all().empty()) << "handler ran: " << ::testing::PrintToString(events.all());
}

std::string long_string(std::size_t n, char ch = 'a') { return std::string(n, ch); }

INSTANTIATE_TEST_SUITE_P(
    Server, ParseErrorTest,
    ::testing::Values(
        // RFC 9112 §3: an invalid request-line SHOULD get 400.
        bad_request_case{"BadRequestLine", "GARBAGE\r\n\r\n", 400, {}},
        bad_request_case{"BadTarget", "GET /a b HTTP/1.1\r\nHost: t\r\n\r\n", 400, {}},
        // RFC 9112 §3.2: a request without Host, or with more than one, MUST get 400.
        bad_request_case{"MissingHost", "GET / HTTP/1.1\r\n\r\n", 400, {}},
        bad_request_case{"TwoHosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, {}},
        // RFC 9112 §5.1: whitespace between field name and colon MUST be rejected with 400.
        bad_request_case{"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400, {}},
        // RFC 9112 §5.2: obs-fold in a request MUST be rejected with 400 (or replaced by SP).
        bad_request_case{"ObsFold", "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n", 400, {}},
        // RFC 9112 §6.3 item 5: an invalid Content-Length MUST get 400, then close.
        bad_request_case{"BadContentLength", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1x\r\n\r\n", 400, {}},
        bad_request_case{"ConflictingContentLength",
                         "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400, {}},
        // RFC 9112 §6.3 item 3: Content-Length with Transfer-Encoding may be rejected; the server
        // MUST close the connection after responding either way.
        bad_request_case{"ContentLengthAndChunked",
                         "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "0\r\n\r\n",
                         400, {}},
        // RFC 9112 §6.3 item 4: chunked not final in a request -> MUST 400 and close.
        bad_request_case{"ChunkedNotFinal", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 400, {}},
        // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding MUST be treated as faulty framing
        // and the connection closed.
        bad_request_case{"TransferEncodingInHttp10",
                         "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, {}},
        // RFC 9112 §6.1: a transfer coding the server does not understand SHOULD get 501.
        bad_request_case{"UnknownTransferCoding",
                         "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501, {}},
        // RFC 9110 §9.1 / §15.6.2: a method longer than any we implement -> 501.
        bad_request_case{"MethodTooLong", long_string(100, 'M') + " / HTTP/1.1\r\nHost: t\r\n\r\n", 501, {}},
        // RFC 9112 §3: a request-target longer than the server wishes to parse MUST get 414.
        bad_request_case{"UriTooLong", "GET /" + long_string(1000) + " HTTP/1.1\r\nHost: t\r\n\r\n", 414,
                         [](server::options& o) { o.limits.max_request_line = 256; }},
        // RFC 6585 §5: header fields too large -> 431.
        bad_request_case{"HeaderTooLarge", "GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + long_string(2000) + "\r\n\r\n", 431,
                         [](server::options& o) { o.limits.max_header_bytes = 1024; }},
        bad_request_case{"TooManyHeaders",
                         [] {
                             std::string s = "GET / HTTP/1.1\r\nHost: t\r\n";
                             for (int i = 0; i < 20; ++i) s += "X-H" + std::to_string(i) + ": v\r\n";
                             return s + "\r\n";
                         }(),
                         431, [](server::options& o) { o.limits.max_header_count = 10; }},
        // RFC 9110 §15.6.6: an unsupported major version -> 505.
        bad_request_case{"Http2InRequestLine", "GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505, {}},
        bad_request_case{"Http3InRequestLine", "GET / HTTP/3.0\r\nHost: t\r\n\r\n", 505, {}},
        // RFC 9110 §15.5.14: a declared body over the limit -> 413.
        bad_request_case{"BodyTooLarge", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n", 413,
                         [](server::options& o) { o.limits.max_body_bytes = 1000; }}),
    [](::testing::TestParamInfo<bad_request_case> const& p) { return std::string(p.param.name); });

class ParseErrorMiscTest : public server_fixture {};

// A bad request after a good one on the same connection: the good one is answered normally, the bad
// one gets its error, and the connection closes.
TEST_F(ParseErrorMiscTest, BadRequestAfterGoodOne) {
    ASSERT_TRUE(start([](exchange& ex) { ex.respond(status::ok, {}, "good"); }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/") + "GET / HTTP/1.1\r\n\r\n"));
    auto r1 = c.read_response();
    ASSERT_TRUE(r1) << c.error();
    EXPECT_EQ(r1->status, 200);
    EXPECT_FALSE(r1->has_token("Connection", "close")) << *r1;
    auto r2 = c.read_response();
    ASSERT_TRUE(r2) << c.error();
    EXPECT_EQ(r2->status, 400);
    EXPECT_TRUE(c.wait_closed(3s));
}

// A huge header block keeps arriving after the 431: the server answers early, and the client (still
// sending) still receives the response instead of a reset (lingering close, docs/decisions/0003).
TEST_F(ParseErrorMiscTest, ErrorResponseSurvivesClientStillSending) {
    ASSERT_TRUE(start([](exchange& ex) { ex.respond(status::ok); },
                      [](server::options& o) { o.limits.max_header_bytes = 1024; }));
    auto c = connect();
    std::string const bytes = "GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + long_string(128 * 1024) + "\r\n\r\n";
    c.send_all(bytes);
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 431);
}

} // namespace
} // namespace upshift::test
