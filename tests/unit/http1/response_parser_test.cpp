// Response-head parser: status line (RFC 9112 §4) and body framing (§6.3).
#include "upshift/http1/response_parser.hpp"

#include <gtest/gtest.h>

#include "parse_helpers.hpp"

namespace upshift::http1 {
namespace {

using test::expect_response;
using test::expect_response_error;

TEST(ResponseParser, ParsesStatusLineAndFields) {
    std::string_view const in = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer:  x \r\n\r\nhello";
    expect_response(in, [&](response_head const& h, std::size_t consumed) {
        EXPECT_EQ(consumed, in.size() - 5);
        EXPECT_EQ(h.status_code, 200u);
        EXPECT_EQ(h.reason, "OK");
        EXPECT_EQ(h.body, body_kind::length);
        EXPECT_EQ(h.content_length, 5u);
        EXPECT_EQ(h.find("server"), "x");
    });
}

TEST(ResponseParser, ReasonPhraseShapes) {
    // RFC 9112 §4: reason-phrase may be empty but the SP before it is required;
    // it may contain HTAB, SP and obs-text.
    expect_response("HTTP/1.1 200 \r\n\r\n", [](response_head const& h, std::size_t) { EXPECT_EQ(h.reason, ""); });
    expect_response("HTTP/1.1 404 Not\tFound \xE9t\xE9\r\n\r\n",
                    [](response_head const& h, std::size_t) { EXPECT_EQ(h.reason, "Not\tFound \xE9t\xE9"); });
}

TEST(ResponseParser, RejectsMalformedStatusLine) {
    // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
    expect_response_error("HTTP/1.1 200\r\n\r\n", error::bad_status_line);
    expect_response_error("HTTP/1.1  200 OK\r\n\r\n", error::bad_status_code);
    expect_response_error("HTTP/1.1 20 OK\r\n\r\n", error::bad_status_code);
    expect_response_error("HTTP/1.1 2000 OK\r\n\r\n", error::bad_status_code);
    expect_response_error("HTTP/1.1 099 Low\r\n\r\n", error::bad_status_code);  // RFC 9110 §15: 100..599
    expect_response_error("HTTP/1.1 600 High\r\n\r\n", error::bad_status_code);
    expect_response_error("HTTP/1.1 200 O\x01K\r\n\r\n", error::bad_status_line);
    expect_response_error("HTTP/1.1\r\n\r\n", error::bad_status_line);
    expect_response_error("HTTP/1.10 200 OK\r\n\r\n", error::bad_version);
    expect_response_error("http/1.1 200 OK\r\n\r\n", error::bad_version);
    expect_response_error("HTTP/2.0 200 OK\r\n\r\n", error::unsupported_version);
}

TEST(ResponseParser, RejectsBareCrAndLf) {
    // RFC 9112 §2.2.
    expect_response_error("HTTP/1.1 200 OK\n\r\n", error::bare_lf);
    expect_response_error("HTTP/1.1 200 OK\rX\r\n\r\n", error::bare_cr);
    expect_response_error("HTTP/1.1 200 OK\r\nA: b\n\r\n", error::bare_lf);
}

TEST(ResponseParser, RejectsObsFold) {
    // RFC 9112 §5.2 lets a user agent unfold; we reject (documented in the header).
    expect_response_error("HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", error::obs_fold);
}

TEST(ResponseParser, RejectsFieldErrorsLikeRequests) {
    expect_response_error("HTTP/1.1 200 OK\r\nA : b\r\n\r\n", error::whitespace_before_colon);  // RFC 9112 §5.1
    expect_response_error("HTTP/1.1 200 OK\r\nA: \x7F\r\n\r\n", error::bad_field_value);        // RFC 9110 §5.5
}

TEST(ResponseParser, NoBodyStatuses) {
    // RFC 9112 §6.3 item 1: 1xx, 204 and 304 never have content.
    for (std::string_view line : {"HTTP/1.1 100 Continue\r\n", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n",
                                  "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n",
                                  "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n"}) {
        SCOPED_TRACE(line);
        expect_response(std::string(line) + "\r\n",
                        [](response_head const& h, std::size_t) { EXPECT_EQ(h.body, body_kind::none); });
    }
}

TEST(ResponseParser, HeadAndConnectResponses) {
    // RFC 9112 §6.3 item 1 (HEAD) and item 2 (2xx to CONNECT is a tunnel).
    expect_response("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
                    [](response_head const& h, std::size_t) {
                        EXPECT_EQ(h.body, body_kind::none);
                        EXPECT_EQ(h.content_length, 100u);
                    },
                    {method::head});
    expect_response("HTTP/1.1 200 Connection Established\r\n\r\n",
                    [](response_head const& h, std::size_t) { EXPECT_EQ(h.body, body_kind::none); },
                    {method::connect});
    expect_response("HTTP/1.1 407 Auth\r\n\r\n",
                    [](response_head const& h, std::size_t) { EXPECT_EQ(h.body, body_kind::until_close); },
                    {method::connect});
}

TEST(ResponseParser, ChunkedLengthAndUntilClose) {
    // RFC 9112 §6.3 items 4, 6 and 8.
    expect_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                    [](response_head const& h, std::size_t) { EXPECT_EQ(h.body, body_kind::chunked); });
    expect_response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", [](response_head const& h, std::size_t) {
        EXPECT_EQ(h.body, body_kind::length);
        EXPECT_EQ(h.content_length, 0u);
    });
    expect_response("HTTP/1.0 200 OK\r\n\r\n",
                    [](response_head const& h, std::size_t) { EXPECT_EQ(h.body, body_kind::until_close); });
}

TEST(ResponseParser, SwitchingProtocols) {
    expect_response("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
                    [](response_head const& h, std::size_t) {
                        EXPECT_EQ(h.status_code, 101u);
                        EXPECT_TRUE(h.connection_upgrade);
                        EXPECT_TRUE(h.has_upgrade);
                        EXPECT_EQ(h.body, body_kind::none);
                    });
}

TEST(ResponseParser, RejectsFramingConflicts) {
    // RFC 9112 §6.3 item 3: both present -> smuggling shape, rejected.
    expect_response_error("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                          error::content_length_with_transfer_encoding);
    expect_response_error("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
                          error::multiple_content_length);  // RFC 9112 §6.3 item 5
    expect_response_error("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", error::bad_content_length);
    expect_response_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", error::unsupported_transfer_encoding);
    expect_response_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                          error::unsupported_transfer_encoding);
    expect_response_error("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                          error::transfer_encoding_in_http10);  // RFC 9112 §6.1
}

TEST(ResponseParser, InterimThenFinalWithReset) {
    std::string const in = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    response_parser p;
    auto r = p.parse(in);
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(p.head().status_code, 100u);
    p.reset();
    auto r2 = p.parse(std::string_view(in).substr(r.consumed));
    ASSERT_FALSE(r2.ec);
    EXPECT_EQ(p.head().status_code, 200u);
    EXPECT_EQ(r.consumed + r2.consumed, in.size());
}

TEST(ResponseParser, HeadLimit) {
    limits lim;
    lim.max_header_bytes = 32;
    expect_response_error("HTTP/1.1 200 OK\r\nX: 0123456789abcdef\r\n\r\n", error::header_too_large, {}, lim);
    response_parser p(lim);
    EXPECT_EQ(p.parse("HTTP/1.1 200 " + std::string(40, 'r')).ec, error::header_too_large);
}

} // namespace
} // namespace upshift::http1
