// Opening handshake, server side (RFC 6455 §4.2.1, §4.2.2).
#include "upshift/ws/handshake.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "upshift/http1/request_parser.hpp"
#include "upshift/ws/error.hpp"

namespace upshift::ws {
namespace {

/// A parsed request head kept alive with the bytes it points into.
class parsed {
public:
    explicit parsed(std::string text) : text_(std::make_unique<std::string>(std::move(text))) {
        auto const r = parser_.parse(*text_);
        EXPECT_FALSE(r.ec) << r.ec.message() << "\n" << *text_;
    }
    http1::request_head const& head() const noexcept { return parser_.head(); }

private:
    std::unique_ptr<std::string> text_;
    http1::request_parser parser_;
};

// §1.3/§4.1's example handshake.
constexpr std::string_view rfc_fields =
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Origin: http://example.com\r\n"
    "Sec-WebSocket-Version: 13\r\n";

std::string request(std::string_view fields, std::string_view start = "GET /chat HTTP/1.1") {
    std::string s(start);
    s += "\r\nHost: server.example.com\r\n";
    s += fields;
    s += "\r\n";
    return s;
}

/// rfc_fields with the line starting with `name` replaced by `line` ("" removes it).
std::string with(std::string_view name, std::string_view line) {
    std::string out;
    std::string_view rest = rfc_fields;
    while (!rest.empty()) {
        auto const eol = rest.find("\r\n") + 2;
        auto const l = rest.substr(0, eol);
        rest.remove_prefix(eol);
        if (l.starts_with(name)) {
            out += line;
        } else {
            out += l;
        }
    }
    return out;
}

/// The verdict only: `key` would dangle once the request is gone.
handshake_check check(std::string const& text) {
    parsed p(text);
    auto c = check_request(p.head());
    c.key = {};
    return c;
}

TEST(Handshake, Rfc4_2_2AcceptKey) {
    // §1.3: "dGhlIHNhbXBsZSBub25jZQ==" -> "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    // Another pair, computed independently (Python: base64(sha1(key + GUID))).
    EXPECT_EQ(accept_key("x3JJHMbDL1EzLkh9GBhXDw=="), "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

TEST(Handshake, ValidClientKey) {
    // §4.2.1 item 5: "a base64-encoded value that, when decoded, is 16 bytes in length".
    EXPECT_TRUE(valid_client_key("dGhlIHNhbXBsZSBub25jZQ=="));
    EXPECT_TRUE(valid_client_key("AAAAAAAAAAAAAAAAAAAAAA=="));
    EXPECT_TRUE(valid_client_key("+/+/+/+/+/+/+/+/+/+/+w=="));
    EXPECT_FALSE(valid_client_key(""));
    EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25jZQ="));     // 23 characters
    EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25jZQ==="));   // 25
    EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25jZQAA"));    // 18 bytes' worth, no padding
    EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25jZ==="));    // 15 bytes
    EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25j+Q=A"));
    EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25jZ-_=="));   // base64url alphabet is not base64
    EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25jZ\x80=="));
    EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25j ZQ=="));
}

TEST(Handshake, AcceptsTheRfcExample) {
    parsed const p(request(rfc_fields));  // c.key is a view into the request
    auto const c = check_request(p.head());
    EXPECT_FALSE(c.ec) << c.ec.message();
    EXPECT_EQ(c.status, http1::status::switching_protocols);
    EXPECT_EQ(c.key, "dGhlIHNhbXBsZSBub25jZQ==");
    auto const f = response_fields(c);
    EXPECT_EQ(f.size(), 1u);
    EXPECT_EQ(f.find("Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");  // §4.2.2 item 5.4
}

TEST(Handshake, TokensAreCaseInsensitiveLists) {
    // §4.2.1 items 3 and 4: "websocket" and "Upgrade", ASCII case-insensitive, in lists.
    EXPECT_FALSE(check(request(with("Upgrade", "Upgrade: WebSocket\r\n"))).ec);
    EXPECT_FALSE(check(request(with("Upgrade", "Upgrade: foo/2, websocket\r\n"))).ec);
    EXPECT_FALSE(check(request(with("Upgrade", "Upgrade: foo\r\nUpgrade: websocket\r\n"))).ec);
    EXPECT_FALSE(check(request(with("Connection", "Connection: keep-alive, upgrade\r\n"))).ec);
    EXPECT_FALSE(check(request(with("Connection", "Connection: keep-alive\r\nConnection: UPGRADE\r\n"))).ec);
    EXPECT_FALSE(check(request(rfc_fields, "GET /chat HTTP/1.2")).ec);  // "HTTP/1.1 or higher"
}

TEST(Handshake, RefusesWithBadRequest) {
    // §4.2.2: "the server MUST stop processing the client's handshake and return an HTTP
    // response with an appropriate error code (such as 400 Bad Request)".
    struct { std::string text; error e; } const cases[] = {
        {request(rfc_fields, "POST /chat HTTP/1.1"), error::bad_method},                        // §4.2.1 item 1
        {request(rfc_fields, "HEAD /chat HTTP/1.1"), error::bad_method},
        {request(with("Upgrade", ""), "GET /chat HTTP/1.0"), error::bad_http_version},          // item 1
        {request(rfc_fields, "GET /chat HTTP/1.0"), error::bad_http_version},
        {request(with("Upgrade", "")), error::no_upgrade_websocket},                              // item 3
        {request(with("Upgrade", "Upgrade: websocket2\r\n")), error::no_upgrade_websocket},
        {request(with("Upgrade", "Upgrade: websocket/13\r\n")), error::no_upgrade_websocket},
        {request(with("Connection", "")), error::no_connection_upgrade},                          // item 4
        {request(with("Connection", "Connection: keep-alive\r\n")), error::no_connection_upgrade},
        {request(with("Sec-WebSocket-Key", "")), error::no_sec_key},                              // item 5
        {request(with("Sec-WebSocket-Key", "Sec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\n")), error::bad_sec_key},
        {request(with("Sec-WebSocket-Key", "Sec-WebSocket-Key: \r\n")), error::bad_sec_key},
        // §11.3.1: "MUST NOT appear more than once in an HTTP request".
        {request(with("Sec-WebSocket-Key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")), error::bad_sec_key},
        {request(with("Sec-WebSocket-Key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==, dGhlIHNhbXBsZSBub25jZQ==\r\n")),
         error::bad_sec_key},
    };
    for (auto const& c : cases) {
        SCOPED_TRACE(c.text);
        auto const r = check(c.text);
        EXPECT_EQ(r.ec, c.e);
        EXPECT_EQ(r.ec, condition::handshake_failed);
        EXPECT_EQ(r.status, http1::status::bad_request);
        EXPECT_TRUE(response_fields(r).empty());
    }
}

TEST(Handshake, UnsupportedVersionGets426) {
    // §4.2.2 item 4 / §4.4: a version the server does not understand gets 426 and
    // Sec-WebSocket-Version listing the versions it does.
    struct { std::string text; error e; } const cases[] = {
        {request(with("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8\r\n")), error::bad_sec_version},
        {request(with("Sec-WebSocket-Version", "Sec-WebSocket-Version: 14\r\n")), error::bad_sec_version},
        {request(with("Sec-WebSocket-Version", "Sec-WebSocket-Version: 13, 8\r\n")), error::bad_sec_version},
        {request(with("Sec-WebSocket-Version", "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 13\r\n")),
         error::bad_sec_version},  // §11.3.5: not more than once in a request
        {request(with("Sec-WebSocket-Version", "")), error::no_sec_version},  // §4.2.1 item 6
    };
    for (auto const& c : cases) {
        SCOPED_TRACE(c.text);
        auto const r = check(c.text);
        EXPECT_EQ(r.ec, c.e);
        EXPECT_EQ(r.status, http1::status::upgrade_required);
        auto const f = response_fields(r);
        EXPECT_EQ(f.find("Sec-WebSocket-Version"), "13");
        EXPECT_EQ(f.find("Upgrade"), "websocket");  // RFC 9110 §15.5.22: a 426 MUST send Upgrade
    }
    // Version before key: no key and a wrong version is a 426.
    auto const r = check(request("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\n"));
    EXPECT_EQ(r.ec, error::bad_sec_version);
}

} // namespace
} // namespace upshift::ws
