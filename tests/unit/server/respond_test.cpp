// exchange::respond(): framing, Date/Server, HEAD, 204/304, persistence.
#include <ctime>
#include <set>

#include "server_fixture.hpp"
#include "upshift/http1/serializer.hpp"

namespace upshift::test {
namespace {

class RespondTest : public server_fixture {};

std::set<std::string> header_names(http_response const& r) {
    std::set<std::string> out;
    for (auto const& [n, v] : r.headers) out.insert(ascii::lowered(n));
    return out;
}

TEST_F(RespondTest, SetsContentLengthDateAndServer) {
    ASSERT_TRUE(start([](exchange& ex) { ex.respond(status::ok, {{"Content-Type", "text/plain"}}, "hello"); }));
    auto c = connect();
    ASSERT_TRUE(c.connected()) << c.error();
    ASSERT_TRUE(c.send_all(get("/")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->version_major, 1);
    EXPECT_EQ(r->version_minor, 1);
    EXPECT_EQ(r->body, "hello");
    EXPECT_EQ(r->header_count("Content-Length"), 1u) << *r;
    EXPECT_EQ(r->header("Content-Length"), "5");
    EXPECT_EQ(r->header_count("Transfer-Encoding"), 0u) << *r;
    EXPECT_EQ(r->header("Content-Type"), "text/plain");
    // RFC 9110 §6.6.1: an origin server with a clock MUST send Date in 2xx, 3xx and 4xx responses,
    // as an IMF-fixdate (RFC 9110 §5.6.7).
    ASSERT_EQ(r->header_count("Date"), 1u) << *r;
    auto const date = http1::parse_http_date(*r->header("Date"));
    EXPECT_NE(date, -1) << *r->header("Date");
    EXPECT_LE(std::llabs(date - static_cast<long long>(std::time(nullptr))), 5) << *r->header("Date");
    EXPECT_EQ(r->header("Server"), "upshift");
    EXPECT_FALSE(r->has_token("Connection", "close")) << *r;
}

TEST_F(RespondTest, UserDateAndServerAreNotDuplicated) {
    ASSERT_TRUE(start([](exchange& ex) {
        ex.respond(status::ok, {{"server", "custom/1"}, {"DATE", "Sun, 06 Nov 1994 08:49:37 GMT"}}, "x");
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->header_count("Server"), 1u) << *r;
    EXPECT_EQ(r->header("Server"), "custom/1");
    EXPECT_EQ(r->header_count("Date"), 1u) << *r;
    EXPECT_EQ(r->header("Date"), "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST_F(RespondTest, ServerAndDateHeadersCanBeTurnedOff) {
    ASSERT_TRUE(start([](exchange& ex) { ex.respond(status::ok, {}, "x"); },
                      [](server::options& o) {
                          o.server_header.clear();
                          o.date_header = false;
                      }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->header_count("Server"), 0u) << *r;
    EXPECT_EQ(r->header_count("Date"), 0u) << *r;
}

// The library frames the body itself: handler-supplied Content-Length / Transfer-Encoding are
// replaced, otherwise the next response on the connection would be misparsed (RFC 9112 §6.3).
TEST_F(RespondTest, HandlerFramingHeadersAreReplaced) {
    ASSERT_TRUE(start([](exchange& ex) {
        if (ex.request().target == "/next") {
            ex.respond(status::ok, {}, "next");
            return;
        }
        ex.respond(status::ok, {{"Content-Length", "999"}, {"Transfer-Encoding", "chunked"}}, "abc");
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/") + get("/next")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->header_count("Content-Length"), 1u) << *r;
    EXPECT_EQ(r->header("Content-Length"), "3");
    EXPECT_EQ(r->header_count("Transfer-Encoding"), 0u) << *r;
    EXPECT_EQ(r->body, "abc");
    auto r2 = c.read_response();
    ASSERT_TRUE(r2) << c.error();
    EXPECT_EQ(r2->body, "next");
}

// RFC 9110 §5.5: CR/LF in a field value must never reach the wire (header injection / response splitting).
TEST_F(RespondTest, FieldValuesWithCrLfAreNotInjected) {
    ASSERT_TRUE(start([](exchange& ex) {
        ex.respond(status::ok, {{"X-Evil", "a\r\nInjected: yes"}, {"X-Good", "fine"}}, "body");
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->header_count("Injected"), 0u) << *r;
    EXPECT_EQ(r->header("X-Good"), "fine");
    EXPECT_EQ(r->body, "body");
}

// RFC 9110 §9.3.2: the response to HEAD carries the same header fields as GET would, and no content
// (RFC 9112 §6.3 item 1). RFC 9110 §8.6: a Content-Length sent for HEAD MUST equal GET's length.
TEST_F(RespondTest, HeadGetsSameHeadersButNoBody) {
    ASSERT_TRUE(start([](exchange& ex) { ex.respond(status::ok, {{"Content-Type", "text/plain"}}, "hello world"); }));
    auto c = connect();
    // HEAD then GET pipelined: any body byte sent for HEAD would corrupt the GET response.
    ASSERT_TRUE(c.send_all(request("HEAD", "/") + get("/")));
    auto head = c.read_response(5s, /*head_request=*/true);
    ASSERT_TRUE(head) << c.error();
    auto getr = c.read_response();
    ASSERT_TRUE(getr) << c.error();
    EXPECT_EQ(head->status, 200);
    EXPECT_EQ(head->header("Content-Length"), "11") << *head;
    EXPECT_EQ(head->header("Content-Type"), "text/plain");
    EXPECT_TRUE(head->body.empty());
    EXPECT_EQ(getr->body, "hello world") << *getr;
    EXPECT_EQ(header_names(*head), header_names(*getr));
    EXPECT_FALSE(c.read_response(200ms)) << "unexpected extra bytes: " << c.received();
}

// respond_shared() over HTTP/1.1 (the exchange's default): the body is copied into the send queue,
// so the handler's reference may go at once; HEAD gets GET's Content-Length and no body.
TEST_F(RespondTest, SharedBodyIsSentAndHeadGetsOnlyItsLength) {
    std::string const big(300 * 1024, 'z');
    ASSERT_TRUE(start([&big](exchange& ex) {
        auto body = std::make_shared<std::string const>(ex.request().target == "/empty" ? "" : big);
        ex.respond_shared(status::ok, {{"Content-Type", "text/plain"}}, std::move(body));
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("HEAD", "/") + get("/") + get("/empty")));
    auto head = c.read_response(5s, /*head_request=*/true);
    ASSERT_TRUE(head) << c.error();
    EXPECT_EQ(head->header("Content-Length"), std::to_string(big.size())) << *head;
    EXPECT_TRUE(head->body.empty());
    auto getr = c.read_response();
    ASSERT_TRUE(getr) << c.error();
    EXPECT_EQ(getr->header("Content-Length"), std::to_string(big.size()));
    EXPECT_TRUE(getr->body == big) << "body of " << getr->body.size() << " bytes differs";
    auto empty = c.read_response();
    ASSERT_TRUE(empty) << c.error();
    EXPECT_EQ(empty->status, 200);
    EXPECT_EQ(empty->header("Content-Length"), "0");
    EXPECT_TRUE(empty->body.empty());
}

// A streamed HEAD response of unknown length: RFC 9110 §8.6 forbids a Content-Length that differs
// from what GET would send, so "Content-Length: 0" would be wrong here.
TEST_F(RespondTest, HeadWithUnknownLengthDoesNotClaimZeroLength) {
    ASSERT_TRUE(start([](exchange& ex) {
        auto& w = ex.start_response(status::ok, {{"Content-Type", "text/plain"}});
        w.write("some body");
        w.finish();
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("HEAD", "/") + get("/")));
    auto head = c.read_response(5s, true);
    ASSERT_TRUE(head) << c.error();
    EXPECT_EQ(head->status, 200);
    EXPECT_EQ(head->header_count("Content-Length"), 0u) << *head;
    EXPECT_TRUE(head->body.empty());
    auto getr = c.read_response();
    ASSERT_TRUE(getr) << c.error();
    EXPECT_EQ(getr->body, "some body");
}

// RFC 9110 §15.3.5: 204 has no content; RFC 9110 §8.6: a server MUST NOT send Content-Length in a 204.
TEST_F(RespondTest, NoContentHasNoBodyAndNoContentLength) {
    ASSERT_TRUE(start([](exchange& ex) {
        if (ex.request().target == "/next") ex.respond(status::ok, {}, "next");
        else ex.respond(status::no_content, {}, "handler body that must not be sent");
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/") + get("/next")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 204);
    EXPECT_EQ(r->header_count("Content-Length"), 0u) << *r;
    EXPECT_EQ(r->header_count("Transfer-Encoding"), 0u) << *r;
    auto r2 = c.read_response();
    ASSERT_TRUE(r2) << c.error();
    EXPECT_EQ(r2->status, 200);
    EXPECT_EQ(r2->body, "next") << "the 204 leaked body bytes";
}

// RFC 9110 §15.4.5: 304 has no content. RFC 9110 §8.6 lets it state the selected representation's
// Content-Length; a handler-supplied one is kept, none is invented.
TEST_F(RespondTest, NotModifiedHasNoBody) {
    ASSERT_TRUE(start([](exchange& ex) {
        if (ex.request().target == "/next") ex.respond(status::ok, {}, "next");
        else if (ex.request().target == "/with-length")
            ex.respond(status::not_modified, {{"ETag", "\"v1\""}, {"Content-Length", "42"}});
        else ex.respond(status::not_modified, {{"ETag", "\"v1\""}}, "ignored");
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/") + get("/with-length") + get("/next")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 304);
    EXPECT_EQ(r->header("ETag"), "\"v1\"");
    EXPECT_EQ(r->header_count("Content-Length"), 0u) << *r;
    EXPECT_EQ(r->header_count("Transfer-Encoding"), 0u) << *r;
    auto r2 = c.read_response();
    ASSERT_TRUE(r2) << c.error();
    EXPECT_EQ(r2->status, 304);
    EXPECT_EQ(r2->header("Content-Length"), "42") << *r2;
    auto r3 = c.read_response();
    ASSERT_TRUE(r3) << c.error();
    EXPECT_EQ(r3->body, "next") << "a 304 leaked body bytes";
}

// RFC 9112 §9.3: HTTP/1.1 connections persist by default.
TEST_F(RespondTest, Http11KeepsConnectionAliveByDefault) {
    ASSERT_TRUE(start([this](exchange& ex) {
        events.add(std::string("remote ") + std::string(ex.remote()));
        ex.respond(status::ok, {}, std::string(ex.request().target));
    }));
    auto c = connect();
    for (char const* t : {"/a", "/b", "/c"}) {
        ASSERT_TRUE(c.send_all(get(t)));
        auto r = c.read_response();
        ASSERT_TRUE(r) << c.error();
        EXPECT_EQ(r->body, t);
        EXPECT_FALSE(r->has_token("Connection", "close")) << *r;
    }
    auto remotes = events.with_prefix("remote ");
    ASSERT_EQ(remotes.size(), 3u);
    EXPECT_TRUE(remotes[0].starts_with("remote 127.0.0.1:")) << remotes[0];
    EXPECT_EQ(remotes[0], remotes[2]) << "requests arrived on different connections";
}

// RFC 9112 §9.6: a server that receives "close" MUST initiate closure after the final response to
// that request, and SHOULD send "close" in it. A request pipelined behind it is not answered.
TEST_F(RespondTest, ConnectionCloseFromClientIsHonoured) {
    ASSERT_TRUE(start([](exchange& ex) { ex.respond(status::ok, {}, "bye"); }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/", "Connection: close\r\n") + get("/never")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->body, "bye");
    EXPECT_TRUE(r->has_token("Connection", "close")) << *r;
    EXPECT_TRUE(c.wait_closed(3s));
    EXPECT_TRUE(c.received().empty()) << c.received();
}

// RFC 9112 §9.3: for HTTP/1.0 the connection closes after the response unless "keep-alive" was sent.
TEST_F(RespondTest, Http10ClosesUnlessKeepAlive) {
    ASSERT_TRUE(start([](exchange& ex) { ex.respond(status::ok, {}, "ten"); }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("GET", "/", {}, {}, "HTTP/1.0")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->body, "ten");
    EXPECT_EQ(r->header("Content-Length"), "3");
    EXPECT_FALSE(r->has_token("Connection", "keep-alive")) << *r;
    EXPECT_TRUE(c.wait_closed(3s));
}

TEST_F(RespondTest, Http10KeepAliveIsHonoured) {
    ASSERT_TRUE(start([](exchange& ex) { ex.respond(status::ok, {}, std::string(ex.request().target)); }));
    auto c = connect();
    for (char const* t : {"/one", "/two"}) {
        ASSERT_TRUE(c.send_all(request("GET", t, "Connection: keep-alive\r\n", {}, "HTTP/1.0")));
        auto r = c.read_response();
        ASSERT_TRUE(r) << c.error();
        EXPECT_EQ(r->body, t);
        // RFC 9112 §9.3 / RFC 7230 Appendix A.1.2: a 1.0 peer only keeps the connection if told so.
        EXPECT_TRUE(r->has_token("Connection", "keep-alive")) << *r;
        EXPECT_FALSE(r->has_token("Connection", "close")) << *r;
    }
    EXPECT_FALSE(c.peer_closed());
}

// A handler-supplied "Connection: close" closes the connection after the response (RFC 9112 §9.6).
TEST_F(RespondTest, HandlerConnectionCloseClosesConnection) {
    ASSERT_TRUE(start([](exchange& ex) { ex.respond(status::ok, {{"Connection", "close"}}, "x"); }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/") + get("/never")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->header_count("Connection"), 1u) << *r;
    EXPECT_TRUE(r->has_token("Connection", "close"));
    EXPECT_TRUE(c.wait_closed(3s));
    EXPECT_TRUE(c.received().empty()) << c.received();
}

// Only the first final response counts; later respond()/start_response() calls write nothing.
TEST_F(RespondTest, SecondRespondIsIgnored) {
    ASSERT_TRUE(start([](exchange& ex) {
        ex.respond(status::ok, {}, "first");
        ex.respond(status::not_found, {}, "second");
        ex.start_response(status::accepted).write("third");
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/") + get("/")));
    for (int i = 0; i < 2; ++i) {
        auto r = c.read_response();
        ASSERT_TRUE(r) << c.error();
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body, "first");
    }
    EXPECT_FALSE(c.read_response(200ms)) << "stray bytes: " << c.received();
}

TEST_F(RespondTest, RequestHeadIsVisibleToHandler) {
    ASSERT_TRUE(start([this](exchange& ex) {
        auto const& rq = ex.request();
        events.add("method " + std::string(rq.method_text));
        events.add("path " + std::string(rq.path()));
        events.add("query " + std::string(rq.query()));
        events.add("host " + std::string(rq.host));
        events.add("x-test " + std::string(rq.find("x-TEST")));
        events.add(ex.responded() ? "responded-before" : "not-responded");
        ex.respond(status::ok);
        events.add(ex.responded() ? "responded-after" : "still-not-responded");
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("OPTIONS", "/p/q?a=1&b=2", "X-Test:  value \r\n")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->header("Content-Length"), "0");
    EXPECT_TRUE(events.contains("method OPTIONS"));
    EXPECT_TRUE(events.contains("path /p/q"));
    EXPECT_TRUE(events.contains("query a=1&b=2"));
    EXPECT_TRUE(events.contains("host test"));
    EXPECT_TRUE(events.contains("x-test value"));
    EXPECT_TRUE(events.contains("not-responded"));
    EXPECT_TRUE(events.contains("responded-after"));
}

TEST_F(RespondTest, AccessLogSeesEachResponse) {
    ASSERT_TRUE(start([](exchange& ex) { ex.respond(status::not_found, {}, "nope!"); },
                      [this](server::options& o) {
                          o.access_log = [this](server::access_entry const& e) {
                              events.add("log " + std::string(e.method) + " " + std::string(e.target) + " " +
                                         std::to_string(e.status) + " " + std::to_string(e.body_bytes) + " 1." +
                                         std::to_string(e.version_minor));
                          };
                      }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/missing") + request("HEAD", "/missing")));
    ASSERT_TRUE(c.read_response());
    ASSERT_TRUE(c.read_response(5s, true));
    ASSERT_TRUE(events.wait_count("log HEAD /missing 404 0 1.1", 1));
    EXPECT_TRUE(events.contains("log GET /missing 404 5 1.1")) << ::testing::PrintToString(events.all());
}

} // namespace
} // namespace upshift::test
