// Head and chunk writers, including refusal of framing injection.
#include "upshift/http1/serializer.hpp"

#include <gtest/gtest.h>

#include "upshift/http1/chunked_decoder.hpp"
#include "upshift/http1/response_parser.hpp"

namespace upshift::http1 {
namespace {

TEST(Serializer, StatusLineUsesRegistryPhraseWhenEmpty) {
    byte_buffer b;
    write_status_line(b, 413);
    EXPECT_EQ(b.data(), "HTTP/1.1 413 Content Too Large\r\n");
    b.clear();
    write_status_line(b, 200, "Fine");
    EXPECT_EQ(b.data(), "HTTP/1.1 200 Fine\r\n");
    b.clear();
    write_status_line(b, 299);
    EXPECT_EQ(b.data(), "HTTP/1.1 299 Success\r\n");
}

TEST(Serializer, StatusLineRefusesInjectedReason) {
    // RFC 9112 §4: reason-phrase has no CR/LF; a bad one falls back to the registry phrase.
    byte_buffer b;
    write_status_line(b, 404, "Nope\r\nSet-Cookie: x=1");
    EXPECT_EQ(b.data(), "HTTP/1.1 404 Not Found\r\n");
    b.clear();
    write_status_line(b, 42);
    EXPECT_EQ(b.data(), "HTTP/1.1 500 Internal Server Error\r\n");
}

TEST(Serializer, RequestLine) {
    byte_buffer b;
    EXPECT_TRUE(write_request_line(b, "GET", "/a?b=c"));
    EXPECT_EQ(b.data(), "GET /a?b=c HTTP/1.1\r\n");
    b.clear();
    // RFC 9112 §3: method is a token, the target has no whitespace/CTL.
    EXPECT_FALSE(write_request_line(b, "GET", "/a b"));
    EXPECT_FALSE(write_request_line(b, "GET", "/a\r\nX: y"));
    EXPECT_FALSE(write_request_line(b, "G T", "/"));
    EXPECT_FALSE(write_request_line(b, "GET", ""));
    EXPECT_TRUE(b.empty());
}

TEST(Serializer, FieldsRefuseInjection) {
    // RFC 9110 §5.5: CR, LF and NUL are never allowed in a value; names are tokens (§5.1).
    byte_buffer b;
    EXPECT_TRUE(write_field(b, "X-Ok", "a\tb \xE9"));
    EXPECT_FALSE(write_field(b, "X-Bad", "a\r\nSet-Cookie: evil"));
    EXPECT_FALSE(write_field(b, "X-Bad", "a\nb"));
    EXPECT_FALSE(write_field(b, "X-Bad", std::string_view("a\0b", 3)));
    EXPECT_FALSE(write_field(b, "X Bad", "v"));
    EXPECT_FALSE(write_field(b, "X-Bad:", "v"));
    EXPECT_FALSE(write_field(b, "", "v"));
    EXPECT_EQ(b.data(), "X-Ok: a\tb \xE9\r\n");
    EXPECT_TRUE(is_safe_field("A", ""));
    EXPECT_FALSE(is_safe_field("A\r\n", "x"));
}

TEST(Serializer, WriteFieldsDropsOnlyUnsafeLines) {
    byte_buffer b;
    fields f{{"A", "1"}, {"B", "2\r\n"}, {"C", "3"}};
    EXPECT_FALSE(write_fields(b, f));
    EXPECT_EQ(b.data(), "A: 1\r\nC: 3\r\n");
}

TEST(Serializer, ContentLengthAndChunks) {
    byte_buffer b;
    write_content_length(b, 18446744073709551615ull);
    EXPECT_EQ(b.data(), "Content-Length: 18446744073709551615\r\n");
    b.clear();
    write_chunk(b, "");  // would be the last chunk: nothing is written
    EXPECT_TRUE(b.empty());
    write_chunk(b, std::string(26, 'x'));
    EXPECT_EQ(b.data(), "1a\r\n" + std::string(26, 'x') + "\r\n");
    b.clear();
    write_chunk_header(b, 4096);
    EXPECT_EQ(b.data(), "1000\r\n");
    b.clear();
    write_last_chunk(b);
    EXPECT_EQ(b.data(), "0\r\n\r\n");
    b.clear();
    write_last_chunk(b, {{"Expires", "never"}});
    EXPECT_EQ(b.data(), "0\r\nExpires: never\r\n\r\n");
}

TEST(Serializer, RoundTripsThroughTheParsers) {
    byte_buffer b;
    write_status_line(b, 200);
    write_field(b, "Transfer-Encoding", "chunked");
    write_end_of_head(b);
    write_chunk(b, "hello ");
    write_chunk(b, "world");
    write_last_chunk(b, {{"X-Check", "ok"}});
    response_parser p;
    auto r = p.parse(b.data());
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(p.head().body, body_kind::chunked);
    chunked_decoder d;
    std::string_view rest = b.data().substr(r.consumed);
    std::string body;
    while (!d.done()) {
        auto st = d.decode(rest);
        ASSERT_FALSE(st.ec);
        body.append(st.data);
        if (d.done()) {
            ASSERT_EQ(d.trailers().size(), 1u);
            EXPECT_EQ(d.trailers()[0].value, "ok");
        }
        rest.remove_prefix(st.consumed);
    }
    EXPECT_EQ(body, "hello world");
    EXPECT_TRUE(rest.empty());
}

} // namespace
} // namespace upshift::http1
