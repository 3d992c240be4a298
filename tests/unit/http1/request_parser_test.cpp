// Request-head parser: acceptance of valid shapes and every rejection, each
// fed whole, byte by byte, at every split offset and before a guard page.
#include "upshift/http1/request_parser.hpp"

#include <gtest/gtest.h>

#include <string>

#include "parse_helpers.hpp"

namespace upshift::http1 {
namespace {

using namespace std::literals;
using test::expect_request;
using test::expect_request_error;

constexpr std::string_view chrome_get =
    "GET /index.html?lang=en HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "Connection: keep-alive\r\n"
    "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
    "Sec-Fetch-Site: none\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-User: ?1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "\r\n";

std::string with_host(std::string_view line_and_fields) {
    return std::string(line_and_fields) + "Host: h\r\n\r\n";
}

// ---- acceptance -------------------------------------------------------------

TEST(RequestParser, ParsesSimpleGet) {
    std::string_view const in = "GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept:  */* \t\r\n\r\n";
    expect_request(in, [&](request_head const& h, std::size_t consumed) {
        EXPECT_EQ(consumed, in.size());
        EXPECT_EQ(h.method, method::get);
        EXPECT_EQ(h.method_text, "GET");
        EXPECT_EQ(h.target, "/a/b?x=1");
        EXPECT_EQ(h.path(), "/a/b");
        EXPECT_EQ(h.query(), "x=1");
        EXPECT_EQ(h.version_major, 1);
        EXPECT_EQ(h.version_minor, 1);
        EXPECT_EQ(h.host, "example.com");
        ASSERT_EQ(h.fields.size(), 2u);
        EXPECT_EQ(h.fields[1].name, "Accept");
        EXPECT_EQ(h.fields[1].value, "*/*");  // RFC 9112 §5.1: OWS around the value is not part of it
        EXPECT_EQ(h.body, body_kind::none);   // RFC 9112 §6.3 item 7
        EXPECT_TRUE(h.keep_alive());
        EXPECT_FALSE(h.expect_continue);
    });
}

TEST(RequestParser, ParsesChromeLikeGet) {
    expect_request(chrome_get, [&](request_head const& h, std::size_t consumed) {
        EXPECT_EQ(consumed, chrome_get.size());
        EXPECT_EQ(h.fields.size(), 14u);
        EXPECT_EQ(h.find("accept-language"), "en-US,en;q=0.9");
        EXPECT_EQ(h.find("SEC-CH-UA-PLATFORM"), "\"Linux\"");
        EXPECT_TRUE(h.connection_keep_alive);
        EXPECT_FALSE(h.has_upgrade);
    });
}

TEST(RequestParser, ViewsPointIntoTheInput) {
    std::string const in(chrome_get);
    request_parser p;
    auto r = p.parse(in);
    ASSERT_FALSE(r.ec);
    auto const inside = [&](std::string_view v) { return v.data() >= in.data() && v.data() + v.size() <= in.data() + in.size(); };
    EXPECT_TRUE(inside(p.head().target));
    EXPECT_TRUE(inside(p.head().host));
    for (auto const& f : p.head().fields) EXPECT_TRUE(inside(f.name) && inside(f.value));
}

TEST(RequestParser, SkipsLeadingEmptyLines) {
    // RFC 9112 §2.2: SHOULD ignore at least one empty line before the request-line.
    std::string_view const in = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    expect_request(in, [&](request_head const& h, std::size_t consumed) {
        EXPECT_EQ(consumed, in.size());
        EXPECT_EQ(h.method_text, "GET");
    });
}

TEST(RequestParser, StopsAtEndOfHead) {
    std::string_view const head = "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n";
    std::string const in = std::string(head) + "helloGET / HTTP/1.1\r\n";
    expect_request(in, [&](request_head const& h, std::size_t consumed) {
        EXPECT_EQ(consumed, head.size());
        EXPECT_EQ(h.body, body_kind::length);
        EXPECT_EQ(h.content_length, 5u);
    });
}

TEST(RequestParser, Http10WithoutHost) {
    // RFC 9112 §3.2 requires Host only from HTTP/1.1 clients; §9.3: 1.0 closes by default.
    expect_request("GET / HTTP/1.0\r\n\r\n", [](request_head const& h, std::size_t) {
        EXPECT_EQ(h.version_minor, 0);
        EXPECT_EQ(h.host, "");
        EXPECT_FALSE(h.keep_alive());
    });
    expect_request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
                   [](request_head const& h, std::size_t) { EXPECT_TRUE(h.keep_alive()); });
}

TEST(RequestParser, HigherMinorVersionIsHttp11) {
    // RFC 9110 §6.2: a higher minor version is compatible with 1.1.
    expect_request(with_host("GET / HTTP/1.2\r\n"), [](request_head const& h, std::size_t) {
        EXPECT_EQ(h.version_minor, 2);
        EXPECT_TRUE(h.is_http11_or_later());
    });
}

TEST(RequestParser, ConnectionOptionsCombineAcrossLines) {
    // RFC 9110 §7.6.1: Connection is a list; lines combine; options are case-insensitive.
    expect_request(with_host("GET / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: , Upgrade\r\nUpgrade: websocket\r\n"),
                   [](request_head const& h, std::size_t) {
                       EXPECT_TRUE(h.connection_keep_alive);
                       EXPECT_TRUE(h.connection_upgrade);
                       EXPECT_TRUE(h.has_upgrade);
                       EXPECT_FALSE(h.connection_close);
                   });
    expect_request(with_host("GET / HTTP/1.1\r\nConnection: foo, CLOSE\r\n"), [](request_head const& h, std::size_t) {
        EXPECT_TRUE(h.connection_close);
        EXPECT_FALSE(h.keep_alive());  // RFC 9112 §9.3
    });
}

TEST(RequestParser, ExpectContinueAndUnknown) {
    // RFC 9110 §10.1.1: 100-continue is case-insensitive; anything else -> 417.
    expect_request(with_host("PUT /x HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-Continue\r\n"),
                   [](request_head const& h, std::size_t) {
                       EXPECT_TRUE(h.expect_continue);
                       EXPECT_FALSE(h.expect_unknown);
                   });
    expect_request(with_host("PUT /x HTTP/1.1\r\nExpect: something-else\r\n"), [](request_head const& h, std::size_t) {
        EXPECT_FALSE(h.expect_continue);
        EXPECT_TRUE(h.expect_unknown);
    });
}

TEST(RequestParser, TrailerFieldIsNoted) {
    expect_request(with_host("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTrailer: Expires\r\n"),
                   [](request_head const& h, std::size_t) { EXPECT_TRUE(h.has_trailer_field); });
}

TEST(RequestParser, UnknownMethodIsOther) {
    // RFC 9110 §9.1: methods are case-sensitive tokens.
    expect_request(with_host("PROPFIND /d HTTP/1.1\r\n"), [](request_head const& h, std::size_t) {
        EXPECT_EQ(h.method, method::other);
        EXPECT_EQ(h.method_text, "PROPFIND");
    });
    expect_request(with_host("get / HTTP/1.1\r\n"), [](request_head const& h, std::size_t) {
        EXPECT_EQ(h.method, method::other);
        EXPECT_EQ(h.method_text, "get");
    });
}

TEST(RequestParser, TargetForms) {
    // RFC 9112 §3.2.2 absolute-form, §3.2.3 authority-form (CONNECT), §3.2.4 asterisk-form (OPTIONS).
    expect_request(with_host("GET http://example.com/x?y HTTP/1.1\r\n"),
                   [](request_head const& h, std::size_t) { EXPECT_EQ(h.target, "http://example.com/x?y"); });
    expect_request(with_host("CONNECT example.com:443 HTTP/1.1\r\n"), [](request_head const& h, std::size_t) {
        EXPECT_EQ(h.method, method::connect);
        EXPECT_EQ(h.target, "example.com:443");
    });
    expect_request(with_host("CONNECT [::1]:8443 HTTP/1.1\r\n"),
                   [](request_head const& h, std::size_t) { EXPECT_EQ(h.target, "[::1]:8443"); });
    expect_request(with_host("OPTIONS * HTTP/1.1\r\n"),
                   [](request_head const& h, std::size_t) { EXPECT_EQ(h.method, method::options); });
}

TEST(RequestParser, FieldValueShapes) {
    // RFC 9110 §5.5: obs-text and HTAB/SP inside values are allowed; empty values too.
    expect_request(with_host("GET / HTTP/1.1\r\nX-Obs: caf\xC3\xA9\x80\xFF\r\nX-Tab: a\tb\r\nX-Empty:\r\nX-Spaces:   \r\n"),
                   [](request_head const& h, std::size_t) {
                       EXPECT_EQ(h.find("x-obs"), "caf\xC3\xA9\x80\xFF");
                       EXPECT_EQ(h.find("x-tab"), "a\tb");
                       EXPECT_TRUE(h.has("x-empty"));
                       EXPECT_EQ(h.find("x-empty"), "");
                       EXPECT_EQ(h.find("x-spaces"), "");
                   });
}

TEST(RequestParser, HostShapes) {
    // RFC 9112 §3.2: Host = uri-host [ ":" port ]; an empty value is allowed.
    for (std::string_view host : {"example.com", "example.com:8080", "127.0.0.1:80", "[::1]", "[::1]:443",
                                  "xn--bcher-kva.example", "a%20b", ""}) {
        SCOPED_TRACE(host);
        std::string const in = "GET / HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n";
        expect_request(in, [&](request_head const& h, std::size_t) { EXPECT_EQ(h.host, host); });
    }
}

TEST(RequestParser, ContentLengthIdenticalDuplicatesAccepted) {
    // RFC 9110 §8.6: a recipient MAY accept a list of identical values; we do.
    for (std::string_view cl : {"Content-Length: 5, 5\r\n", "Content-Length: 5\r\nContent-Length: 5\r\n",
                                "Content-Length: 005\r\n"}) {
        SCOPED_TRACE(cl);
        expect_request(with_host("POST / HTTP/1.1\r\n" + std::string(cl)), [](request_head const& h, std::size_t) {
            EXPECT_EQ(h.body, body_kind::length);
            EXPECT_EQ(h.content_length, 5u);
        });
    }
}

TEST(RequestParser, ChunkedRequest) {
    // RFC 9112 §6.3 item 4; coding names are case-insensitive (§7).
    expect_request(with_host("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n"),
                   [](request_head const& h, std::size_t) { EXPECT_EQ(h.body, body_kind::chunked); });
}

TEST(RequestParser, BodyAtTheLimitIsAccepted) {
    limits lim;
    lim.max_body_bytes = 10;
    expect_request(with_host("POST / HTTP/1.1\r\nContent-Length: 10\r\n"),
                   [](request_head const& h, std::size_t) { EXPECT_EQ(h.content_length, 10u); }, lim);
}

TEST(RequestParser, HeadExactlyAtTheLimitsIsAccepted) {
    std::string_view const in = "GET /abc HTTP/1.1\r\nHost: a\r\n\r\n";
    limits lim;
    lim.max_request_line = 17;  // "GET /abc HTTP/1.1"
    lim.max_header_bytes = in.size();
    lim.max_header_count = 1;
    expect_request(in, [](request_head const& h, std::size_t) { EXPECT_EQ(h.target, "/abc"); }, lim);
}

TEST(RequestParser, NeedMoreUntilTheEmptyLine) {
    request_parser p;
    std::string_view const in = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    for (std::size_t k = 0; k < in.size(); ++k) {
        auto r = p.parse(in.substr(0, k));
        EXPECT_EQ(r.ec, error::need_more) << k;
        EXPECT_EQ(r.consumed, 0u);
    }
    EXPECT_FALSE(p.parse(in).ec);
    EXPECT_EQ(p.parse(in).consumed, in.size());  // repeated calls after success are stable
}

TEST(RequestParser, ResetKeepsFieldStorage) {
    request_parser p;
    ASSERT_FALSE(p.parse(chrome_get).ec);
    auto const* storage = p.head().fields.data();
    p.reset();
    ASSERT_FALSE(p.parse(chrome_get).ec);
    EXPECT_EQ(p.head().fields.data(), storage);
    EXPECT_EQ(p.head().fields.size(), 14u);
}

TEST(RequestParser, ResetClearsState) {
    request_parser p;
    ASSERT_FALSE(p.parse(with_host("POST / HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\n")).ec);
    p.reset();
    ASSERT_FALSE(p.parse(with_host("GET / HTTP/1.1\r\n")).ec);
    EXPECT_EQ(p.head().body, body_kind::none);
    EXPECT_FALSE(p.head().connection_close);
    EXPECT_EQ(p.head().fields.size(), 1u);
}

TEST(RequestParser, ErrorsAreSticky) {
    request_parser p;
    EXPECT_EQ(p.parse("GET / HTTP/1.1\n").ec, error::bare_lf);
    EXPECT_EQ(p.parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n").ec, error::bare_lf);
}

// ---- request line rejections (RFC 9112 §3) ----------------------------------

TEST(RequestParser, RejectsMalformedRequestLine) {
    // RFC 9112 §3: request-line = method SP request-target SP HTTP-version, single SPs.
    expect_request_error(with_host("GET  / HTTP/1.1\r\n"), error::bad_request_line);
    expect_request_error(with_host("GET /  HTTP/1.1\r\n"), error::bad_request_line);
    expect_request_error(with_host("GET / HTTP/1.1 \r\n"), error::bad_request_line);
    expect_request_error(with_host(" GET / HTTP/1.1\r\n"), error::bad_request_line);
    expect_request_error(with_host("GET\t/ HTTP/1.1\r\n"), error::bad_request_line);
    expect_request_error(with_host("GET /\tHTTP/1.1\r\n"), error::bad_request_line);
    expect_request_error("GET /\r\n\r\n", error::bad_request_line);  // HTTP/0.9 shape
    expect_request_error("GET\r\n\r\n", error::bad_request_line);
}

TEST(RequestParser, RejectsNonTokenMethod) {
    // RFC 9110 §9.1: method = token.
    expect_request_error(with_host("GE(T / HTTP/1.1\r\n"), error::bad_method);
    expect_request_error(with_host("G\x80T / HTTP/1.1\r\n"), error::bad_method);
}

TEST(RequestParser, RejectsOverlongMethodEarly) {
    // 501 for a method longer than any we implement (RFC 9110 §9.1), before the SP arrives.
    std::string const long_method(request_parser::max_method_length + 1, 'A');
    expect_request_error(with_host(long_method + " / HTTP/1.1\r\n"), error::method_too_long);
    request_parser p;
    EXPECT_EQ(p.parse(long_method).ec, error::method_too_long);
    std::string const ok_method(request_parser::max_method_length, 'A');
    expect_request(with_host(ok_method + " / HTTP/1.1\r\n"),
                   [&](request_head const& h, std::size_t) { EXPECT_EQ(h.method_text, ok_method); });
}

TEST(RequestParser, RejectsBadTargetBytes) {
    // RFC 9112 §3.2 / RFC 3986: no CTL, DEL or non-ASCII in a request-target.
    expect_request_error(with_host(std::string("GET /a\x01 HTTP/1.1\r\n")), error::bad_target);
    expect_request_error(with_host(std::string("GET /a\x7F HTTP/1.1\r\n")), error::bad_target);
    expect_request_error(with_host(std::string("GET /caf\xC3\xA9 HTTP/1.1\r\n")), error::bad_target);
    expect_request_error(with_host(std::string("GET /a\0b HTTP/1.1\r\n"sv)), error::bad_target);
}

TEST(RequestParser, RejectsWrongTargetForm) {
    // RFC 9112 §3.2: asterisk-form only for OPTIONS, authority-form only for CONNECT.
    expect_request_error(with_host("GET * HTTP/1.1\r\n"), error::bad_target);
    expect_request_error(with_host("OPTIONS *x HTTP/1.1\r\n"), error::bad_target);
    expect_request_error(with_host("GET example.com:80 HTTP/1.1\r\n"), error::bad_target);
    expect_request_error(with_host("GET foo HTTP/1.1\r\n"), error::bad_target);
    expect_request_error(with_host("GET 1http://x/ HTTP/1.1\r\n"), error::bad_target);
    expect_request_error(with_host("GET mailto:a@b HTTP/1.1\r\n"), error::bad_target);
    expect_request_error(with_host("CONNECT / HTTP/1.1\r\n"), error::bad_target);
    expect_request_error(with_host("CONNECT example.com HTTP/1.1\r\n"), error::bad_target);
    expect_request_error(with_host("CONNECT example.com: HTTP/1.1\r\n"), error::bad_target);
    expect_request_error(with_host("CONNECT user@example.com:443 HTTP/1.1\r\n"), error::bad_target);
}

TEST(RequestParser, RejectsBadVersion) {
    // RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive.
    for (std::string_view v : {"HTTP/1.1x", "HTTP/11", "http/1.1", "HTTP/1.", "HTTP/a.1", "HTTP/1.10", "HTTPS/1.1", "H"}) {
        SCOPED_TRACE(v);
        expect_request_error(with_host("GET / " + std::string(v) + "\r\n"), error::bad_version);
    }
}

TEST(RequestParser, RejectsOtherMajorVersions) {
    // RFC 9110 §6.2 / §15.6.6: a major version we do not speak -> 505.
    expect_request_error(with_host("GET / HTTP/2.0\r\n"), error::unsupported_version);
    expect_request_error(with_host("GET / HTTP/0.9\r\n"), error::unsupported_version);
    EXPECT_EQ(status_for(make_error_code(error::unsupported_version)), status::http_version_not_supported);
}

TEST(RequestParser, RejectsLongRequestLineEarly) {
    // RFC 9112 §3: a server that receives a request-target longer than it wishes
    // to parse MUST respond with 414; we notice before the CRLF arrives.
    limits lim;
    lim.max_request_line = 32;
    std::string const target = "/" + std::string(40, 'a');
    expect_request_error(with_host("GET " + target + " HTTP/1.1\r\n"), error::uri_too_long, lim);
    request_parser p(lim);
    EXPECT_EQ(p.parse("GET " + target.substr(0, 29)).ec, error::uri_too_long);  // 33 bytes, no CRLF yet
    request_parser q(lim);
    EXPECT_EQ(q.parse("GET " + target.substr(0, 28)).ec, error::need_more);  // exactly 32
}

TEST(RequestParser, RejectsLargeHeadEarly) {
    // 431 (RFC 6585 §5) once max_header_bytes are in without the empty line.
    limits lim;
    lim.max_header_bytes = 64;
    std::string const in = with_host("GET / HTTP/1.1\r\nX-Long: " + std::string(60, 'v') + "\r\n");
    expect_request_error(in, error::header_too_large, lim);
    request_parser p(lim);
    EXPECT_EQ(p.parse(in.substr(0, 65)).ec, error::header_too_large);
    request_parser q(lim);
    EXPECT_EQ(q.parse(in.substr(0, 64)).ec, error::need_more);
    // Leading empty lines count too: they cannot be used to stall the parser.
    request_parser r(lim);
    std::string crlfs;
    for (int i = 0; i < 40; ++i) crlfs += "\r\n";
    EXPECT_EQ(r.parse(crlfs).ec, error::header_too_large);
}

TEST(RequestParser, RejectsTooManyFields) {
    limits lim;
    lim.max_header_count = 3;
    expect_request_error("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", error::too_many_headers, lim);
    EXPECT_EQ(status_for(make_error_code(error::too_many_headers)), status::request_header_fields_too_large);
}

// ---- field line rejections (RFC 9112 §5, RFC 9110 §5) -----------------------

TEST(RequestParser, RejectsBadFieldNames) {
    // RFC 9110 §5.1: field-name = token, non-empty.
    expect_request_error(with_host("GET / HTTP/1.1\r\n: empty\r\n"), error::bad_field_name);
    expect_request_error(with_host("GET / HTTP/1.1\r\nBad(Name: x\r\n"), error::bad_field_name);
    expect_request_error(with_host("GET / HTTP/1.1\r\nNoColon\r\n"), error::bad_field_name);
    expect_request_error(with_host("GET / HTTP/1.1\r\nN\x80me: x\r\n"), error::bad_field_name);
}

TEST(RequestParser, RejectsWhitespaceBeforeColon) {
    // RFC 9112 §5.1: a server MUST reject whitespace between field name and colon (400).
    expect_request_error(with_host("GET / HTTP/1.1\r\nX-Foo : bar\r\n"), error::whitespace_before_colon);
    expect_request_error("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", error::whitespace_before_colon);
}

TEST(RequestParser, RejectsObsFold) {
    // RFC 9112 §5.2: a server MUST reject obs-fold in a request (400) or replace it; we reject.
    expect_request_error(with_host("GET / HTTP/1.1\r\nX-Foo: a\r\n b\r\n"), error::obs_fold);
    expect_request_error(with_host("GET / HTTP/1.1\r\nX-Foo: a\r\n\tb\r\n"), error::obs_fold);
}

TEST(RequestParser, RejectsWhitespaceAfterRequestLine) {
    // RFC 9112 §2.2: whitespace between the start-line and the first field: reject.
    expect_request_error(with_host("GET / HTTP/1.1\r\n X: y\r\n"), error::bad_field_name);
}

TEST(RequestParser, RejectsBareCr) {
    // RFC 9112 §2.2: a bare CR MUST be rejected or replaced by SP; we reject.
    expect_request_error(with_host("GET / HTTP/1.1\r\nX: a\rb\r\n"), error::bare_cr);
    expect_request_error(with_host("GET / HTTP/1.1\rX\r\n"), error::bare_cr);
    expect_request_error("GET / HTTP/1.1\r\nHost: a\r\n\rX", error::bare_cr);
    expect_request_error("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", error::bare_cr);
}

TEST(RequestParser, RejectsBareLf) {
    // RFC 9112 §2.2 allows a recipient to accept a bare LF; this parser is strict.
    expect_request_error("GET / HTTP/1.1\nHost: a\r\n\r\n", error::bare_lf);
    expect_request_error("GET / HTTP/1.1\r\nHost: a\n\r\n", error::bare_lf);
    expect_request_error("GET / HTTP/1.1\r\nHost: a\r\n\n", error::bare_lf);
    expect_request_error("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", error::bare_lf);
}

TEST(RequestParser, RejectsControlCharactersInValues) {
    // RFC 9110 §5.5: CTL (except HTAB), NUL and DEL are invalid in field values.
    expect_request_error(with_host(std::string("GET / HTTP/1.1\r\nX: a\0b\r\n"sv)), error::bad_field_value);
    expect_request_error(with_host("GET / HTTP/1.1\r\nX: a\x01" "b\r\n"), error::bad_field_value);
    expect_request_error(with_host("GET / HTTP/1.1\r\nX: a\x7F" "b\r\n"), error::bad_field_value);
    expect_request_error(with_host("GET / HTTP/1.1\r\nX: a\x1B[0m\r\n"), error::bad_field_value);
}

TEST(RequestParser, RejectsMissingHost) {
    // RFC 9112 §3.2: a server MUST respond 400 to an HTTP/1.1 request without Host.
    expect_request_error("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", error::missing_host);
}

TEST(RequestParser, RejectsRepeatedHost) {
    // RFC 9112 §3.2: ... or with more than one Host field line.
    expect_request_error("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", error::multiple_host);
}

TEST(RequestParser, RejectsInvalidHost) {
    // RFC 9112 §3.2: ... or with a Host field value that is invalid.
    for (std::string_view host : {"a b", "a/b", "user@host", "host:80a", "[::1", "[::1]x", "a%2", "a%zz", "h\"x"}) {
        SCOPED_TRACE(host);
        expect_request_error("GET / HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n", error::bad_host);
    }
}

// ---- framing rejections (RFC 9110 §8.6, RFC 9112 §6) -------------------------

TEST(RequestParser, RejectsBadContentLength) {
    // RFC 9110 §8.6: Content-Length = 1*DIGIT; RFC 9112 §6.3 item 5: invalid -> 400.
    for (std::string_view v : {"abc", "-1", "+1", "1.0", "1 2", "0x10", "", "5,", "\"5\"",
                               "99999999999999999999999"}) {
        SCOPED_TRACE(v);
        expect_request_error(with_host("POST / HTTP/1.1\r\nContent-Length: " + std::string(v) + "\r\n"),
                             error::bad_content_length);
    }
    // 18446744073709551615 fits in 64 bits; one more does not.
    expect_request_error(with_host("POST / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n"),
                         error::bad_content_length);
}

TEST(RequestParser, RejectsDifferingContentLengths) {
    // RFC 9112 §6.3 item 5: differing values make the framing invalid.
    expect_request_error(with_host("POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n"), error::multiple_content_length);
    expect_request_error(with_host("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n"),
                         error::multiple_content_length);
}

TEST(RequestParser, RejectsContentLengthWithTransferEncoding) {
    // RFC 9112 §6.3 item 3: a server MAY reject; we always do (request smuggling shape).
    expect_request_error(with_host("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
                         error::content_length_with_transfer_encoding);
    expect_request_error(with_host("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n"),
                         error::content_length_with_transfer_encoding);
}

TEST(RequestParser, RejectsChunkedNotFinal) {
    // RFC 9112 §6.3 item 4: chunked not the final coding of a request -> MUST 400.
    expect_request_error(with_host("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n"), error::bad_transfer_encoding);
    expect_request_error(with_host("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n"),
                         error::bad_transfer_encoding);
    expect_request_error(with_host("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"),
                         error::bad_transfer_encoding);
    EXPECT_EQ(status_for(make_error_code(error::bad_transfer_encoding)), status::bad_request);
}

TEST(RequestParser, RejectsUnsupportedCodings) {
    // RFC 9112 §6.1: a coding we do not understand -> 501; chunked only once.
    expect_request_error(with_host("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n"),
                         error::unsupported_transfer_encoding);
    expect_request_error(with_host("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n"),
                         error::unsupported_transfer_encoding);
    EXPECT_EQ(status_for(make_error_code(error::unsupported_transfer_encoding)), status::not_implemented);
}

TEST(RequestParser, RejectsMalformedTransferEncoding) {
    expect_request_error(with_host("POST / HTTP/1.1\r\nTransfer-Encoding:\r\n"), error::bad_transfer_encoding);
    expect_request_error(with_host("POST / HTTP/1.1\r\nTransfer-Encoding: chunked;x=1\r\n"),
                         error::bad_transfer_encoding);
}

TEST(RequestParser, RejectsTransferEncodingInHttp10) {
    // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means the framing is faulty.
    expect_request_error("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", error::transfer_encoding_in_http10);
}

TEST(RequestParser, RejectsDeclaredBodyOverLimit) {
    // 413 (RFC 9110 §15.5.14) as soon as the head declares too much.
    limits lim;
    lim.max_body_bytes = 10;
    expect_request_error(with_host("POST / HTTP/1.1\r\nContent-Length: 11\r\n"), error::body_too_large, lim);
    EXPECT_EQ(status_for(make_error_code(error::body_too_large)), status::content_too_large);
}

TEST(RequestParser, FirstErrorInByteOrderWins) {
    // The answer never depends on how the bytes were split: an error earlier in
    // the input beats a later one, and a limit counts from the byte past it.
    limits lim;
    lim.max_header_bytes = 40;
    expect_request_error("GET / HTTP/1.1\r\nX: \x01 then a very long value past the limit\r\n\r\n",
                         error::bad_field_value, lim);
    expect_request_error("GET / HTTP/1.1\r\nX: a very long value past the limit \x01\r\n\r\n",
                         error::header_too_large, lim);
    // A bare CR whose next byte is the first one past the limit: the limit comes first.
    expect_request_error("GET / HTTP/1.1\r\nX: " + std::string(20, 'a') + "\rX\r\n\r\n", error::header_too_large, lim);
}

} // namespace
} // namespace upshift::http1
