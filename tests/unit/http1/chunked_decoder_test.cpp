// Chunked transfer coding decoder (RFC 9112 §7.1).
#include "upshift/http1/chunked_decoder.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/guard_page_buffer.hpp"
#include "support/split.hpp"

namespace upshift::http1 {
namespace {

struct decoded {
    std::error_code ec;
    std::string body;
    std::vector<std::pair<std::string, std::string>> trailers;
    std::size_t leftover = 0;  ///< unconsumed bytes after done
    bool done = false;
};

/// Runs the decoder like a connection would: append each piece to the
/// unconsumed buffer, decode until need_more, consume what each step used.
decoded run(test::split const& s, limits const& lim = {}) {
    chunked_decoder d(lim);
    decoded out;
    std::string buf;
    for (auto piece : s.pieces) {
        buf.append(piece);
        for (;;) {
            auto st = d.decode(buf);
            if (!st.data.empty()) {
                // Zero-copy: the data is a view into the input.
                EXPECT_TRUE(st.data.data() >= buf.data() && st.data.data() + st.data.size() <= buf.data() + buf.size());
            }
            out.body.append(st.data);
            if (!st.ec && d.done())
                for (auto const& f : d.trailers()) out.trailers.emplace_back(f.name, f.value);
            buf.erase(0, st.consumed);
            if (st.ec == error::need_more) break;
            if (st.ec) {
                out.ec = st.ec;
                return out;
            }
            if (d.done()) {
                out.done = true;
                out.leftover = buf.size();
                break;
            }
        }
        if (out.done) break;
    }
    if (!out.done && !out.ec) out.ec = error::need_more;
    out.leftover = buf.size();
    return out;
}

void expect_body(std::string_view in, std::string_view body, limits const& lim = {},
                 std::vector<std::pair<std::string, std::string>> trailers = {}) {
    SCOPED_TRACE(::testing::PrintToString(std::string(in)));
    test::for_each_split(in, [&](test::split const& s) {
        SCOPED_TRACE(s.name);
        auto r = run(s, lim);
        EXPECT_FALSE(r.ec) << r.ec.message();
        EXPECT_TRUE(r.done);
        EXPECT_EQ(r.body, body);
        EXPECT_EQ(r.trailers, trailers);
    });
}

void expect_error(std::string_view in, error e, limits const& lim = {}) {
    SCOPED_TRACE(::testing::PrintToString(std::string(in)));
    test::for_each_split(in, [&](test::split const& s) {
        SCOPED_TRACE(s.name);
        EXPECT_EQ(run(s, lim).ec, e);
    });
    // Guard page: every prefix sits at the end of readable memory.
    for (std::size_t k = 0; k <= in.size(); ++k) {
        test::guard_page_buffer g(in.substr(0, k));
        chunked_decoder d(lim);
        std::string_view rest = g.view();
        for (;;) {
            auto st = d.decode(rest);
            rest.remove_prefix(st.consumed);
            if (st.ec || d.done()) break;
        }
    }
}

TEST(ChunkedDecoder, DecodesChunks) {
    expect_body("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world");
    expect_body("A\r\n0123456789\r\n0\r\n\r\n", "0123456789");          // HEXDIG is case-insensitive
    expect_body("a\r\n0123456789\r\n0000\r\n\r\n", "0123456789");        // leading zeros
    expect_body("0\r\n\r\n", "");
}

TEST(ChunkedDecoder, StopsAfterTheBody) {
    test::split s{"whole", {"3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n"}};
    auto r = run(s);
    EXPECT_TRUE(r.done);
    EXPECT_EQ(r.body, "abc");
    EXPECT_EQ(r.leftover, 16u);
}

TEST(ChunkedDecoder, AcceptsValidExtensions) {
    // RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )
    expect_body("3;foo\r\nabc\r\n0\r\n\r\n", "abc");
    expect_body("3;foo=bar;baz\r\nabc\r\n0;last\r\n\r\n", "abc");
    expect_body("3 ; foo = \"q \\\" v\"\t;x=y\r\nabc\r\n0\r\n\r\n", "abc");
    expect_body("3;name=\"\xE9\"\r\nabc\r\n0\r\n\r\n", "abc");
}

TEST(ChunkedDecoder, RejectsBadExtensions) {
    for (std::string_view ext : {";", ";=x", "; a=", ";a=\"open", ";a=b c", ";a b", ";a=\"\x01\"", ";a;"}) {
        SCOPED_TRACE(ext);
        expect_error("3" + std::string(ext) + "\r\nabc\r\n0\r\n\r\n", error::bad_chunk_extension);
    }
}

TEST(ChunkedDecoder, RejectsBadChunkSize) {
    // RFC 9112 §7.1: chunk-size = 1*HEXDIG
    expect_error("\r\nabc\r\n", error::bad_chunk_size);
    expect_error("x\r\n", error::bad_chunk_size);
    expect_error("-3\r\nabc\r\n", error::bad_chunk_size);
    expect_error("3 \r\nabc\r\n", error::bad_chunk_size);
    expect_error("0x3\r\nabc\r\n", error::bad_chunk_size);
}

TEST(ChunkedDecoder, RejectsOverflowingSize) {
    limits lim;
    lim.max_body_bytes = UINT64_MAX;
    expect_error("10000000000000000\r\n", error::chunk_size_overflow, lim);  // 2^64
    test::split s{"whole", {"ffffffffffffffff\r\n"}};
    EXPECT_EQ(run(s, lim).ec, error::need_more);  // 2^64 - 1 fits
}

TEST(ChunkedDecoder, RejectsLongChunkLineEarly) {
    limits lim;
    lim.max_chunk_line = 16;
    expect_error("3;" + std::string(20, 'e') + "\r\nabc\r\n0\r\n\r\n", error::chunk_line_too_long, lim);
    chunked_decoder d(lim);
    EXPECT_EQ(d.decode("3;" + std::string(15, 'e')).ec, error::chunk_line_too_long);  // 17 bytes, no CRLF yet
    expect_body("3;" + std::string(14, 'e') + "\r\nabc\r\n0\r\n\r\n", "abc", lim);   // exactly 16
}

TEST(ChunkedDecoder, RequiresCrlfAfterData) {
    // RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
    expect_error("3\r\nabcX\r\n0\r\n\r\n", error::bad_chunk_terminator);
    expect_error("3\r\nabc\rX0\r\n\r\n", error::bad_chunk_terminator);
    expect_error("3\r\nabc\n0\r\n\r\n", error::bad_chunk_terminator);
}

TEST(ChunkedDecoder, RejectsBareLfAndCrInSizeLine) {
    // RFC 9112 §2.2: CRLF is the line terminator.
    expect_error("3\nabc\r\n0\r\n\r\n", error::bare_lf);
    expect_error("3\r;a\r\nabc\r\n0\r\n\r\n", error::bare_cr);
}

TEST(ChunkedDecoder, EnforcesBodyLimit) {
    limits lim;
    lim.max_body_bytes = 8;
    expect_body("4\r\nabcd\r\n4\r\nefgh\r\n0\r\n\r\n", "abcdefgh", lim);
    expect_error("4\r\nabcd\r\n5\r\nefghi\r\n0\r\n\r\n", error::body_too_large, lim);
    EXPECT_EQ(status_for(make_error_code(error::body_too_large)), status::content_too_large);
}

TEST(ChunkedDecoder, ParsesTrailers) {
    // RFC 9112 §7.1.2: trailer-section = *( field-line CRLF )
    expect_body("3\r\nabc\r\n0\r\nExpires: never\r\nX-Sum:  1 2 \r\n\r\n", "abc", {},
                {{"Expires", "never"}, {"X-Sum", "1 2"}});
}

TEST(ChunkedDecoder, RejectsBadTrailers) {
    expect_error("0\r\nNoColon\r\n\r\n", error::bad_trailer);
    expect_error("0\r\nA: b\r\n c\r\n\r\n", error::bad_trailer);  // RFC 9112 §5.2 obs-fold
    expect_error("0\r\nA : b\r\n\r\n", error::bad_trailer);      // RFC 9112 §5.1
    expect_error("0\r\nA: b\n\r\n", error::bad_trailer);         // bare LF
    expect_error("0\r\n\rX", error::bad_trailer);                 // bare CR
}

TEST(ChunkedDecoder, TrailerLimit) {
    limits lim;
    lim.max_trailer_bytes = 16;
    expect_error("0\r\nX-Long: 0123456789\r\n\r\n", error::trailer_too_large, lim);
    expect_body("0\r\nX: 012345678\r\n\r\n", "", lim, {{"X", "012345678"}});  // exactly 16
    EXPECT_EQ(status_for(make_error_code(error::trailer_too_large)), status::request_header_fields_too_large);
}

TEST(ChunkedDecoder, ErrorsAreStickyAndResetRestarts) {
    chunked_decoder d;
    EXPECT_EQ(d.decode("x\r\n").ec, error::bad_chunk_size);
    EXPECT_EQ(d.decode("3\r\nabc\r\n").ec, error::bad_chunk_size);
    d.reset();
    auto st = d.decode("3\r\nabc\r\n");
    EXPECT_FALSE(st.ec);
    EXPECT_EQ(st.data, "abc");
    EXPECT_EQ(d.body_bytes(), 3u);
}

} // namespace
} // namespace upshift::http1
