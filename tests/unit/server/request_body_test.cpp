// Request bodies: read_body, read_body_all, pause/resume, unread bodies and limits.
#include "server_fixture.hpp"

namespace upshift::test {
namespace {

class RequestBodyTest : public server_fixture {
protected:
    /// A handler that reads the body piecewise, records "piece" per on_data and "end:<ec>" at the end,
    /// and echoes the body (or lets the server answer the error).
    server::handler echo_pieces() {
        return [this](exchange& ex) {
            auto body = std::make_shared<std::string>();
            events.add(ex.has_body() ? "has_body" : "no_body");
            server::body_reader r;
            r.on_data = [this, body](std::string_view piece) {
                events.add("piece");
                body->append(piece);
            };
            r.on_end = [this, body, &ex](std::error_code ec) {
                events.add("end:" + (ec ? ec.message() : std::string("ok")));
                if (!ec) ex.respond(status::ok, {}, *body);
            };
            ex.read_body(std::move(r));
        };
    }
};

TEST_F(RequestBodyTest, ContentLengthBodyArrivesInPieces) {
    ASSERT_TRUE(start(echo_pieces()));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("POST", "/", "Content-Length: 10\r\n")));
    ASSERT_TRUE(events.wait_for("has_body"));
    std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(c.send_all("01234"));
    ASSERT_TRUE(events.wait_count("piece", 1));
    ASSERT_TRUE(c.send_all("56789"));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->body, "0123456789");
    EXPECT_EQ(events.count("piece"), 2u);
    EXPECT_TRUE(events.contains("end:ok"));
}

// RFC 9112 §7.1: chunked body; §7.1.1: a recipient MUST ignore unrecognized chunk extensions;
// §7.1.2: trailer fields after the last chunk. The pipelined request behind it must still parse.
TEST_F(RequestBodyTest, ChunkedBodyWithExtensionsAndTrailers) {
    ASSERT_TRUE(start(echo_pieces()));
    auto c = connect();
    std::string const chunked = request("POST", "/", "Transfer-Encoding: chunked\r\n") +
                                "4;name=value\r\nWiki\r\n"
                                "5;quoted=\"a b;c\";flag\r\npedia\r\n"
                                "A\r\n in chunks\r\n"
                                "0\r\nX-Trailer: yes\r\nX-Other: 2\r\n\r\n";
    ASSERT_TRUE(c.send_all(chunked + request("POST", "/two", {}, "second")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "Wikipedia in chunks");
    auto r2 = c.read_response();
    ASSERT_TRUE(r2) << c.error();
    EXPECT_EQ(r2->body, "second");
    EXPECT_EQ(events.count("end:ok"), 2u);
    EXPECT_EQ(events.count("has_body"), 2u);
}

// The same chunked body delivered one byte per segment.
TEST_F(RequestBodyTest, ChunkedBodyByteByByte) {
    ASSERT_TRUE(start(echo_pieces()));
    auto c = connect();
    std::string const bytes = request("POST", "/", "Transfer-Encoding: chunked\r\n") +
                              "3;x=y\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n";
    for (char ch : bytes) {
        ASSERT_TRUE(c.send_all(std::string_view(&ch, 1)));
        std::this_thread::sleep_for(1ms);
    }
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->body, "abc0123456789abcdef");
}

TEST_F(RequestBodyTest, NoBodyEndsAtOnce) {
    ASSERT_TRUE(start(echo_pieces()));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/") + request("POST", "/", "Content-Length: 0\r\n")));
    for (int i = 0; i < 2; ++i) {
        auto r = c.read_response();
        ASSERT_TRUE(r) << c.error();
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body, "");
    }
    EXPECT_EQ(events.count("no_body"), 2u);
    EXPECT_EQ(events.count("piece"), 0u);
    EXPECT_EQ(events.count("end:ok"), 2u);
}

TEST_F(RequestBodyTest, ReadBodyAllCollectsWholeBody) {
    ASSERT_TRUE(start([](exchange& ex) {
        ex.read_body_all(1 << 20, [&ex](std::error_code ec, std::string body) {
            std::string out = std::to_string(body.size());
            out.append(":").append(std::string_view(body).substr(0, 8));
            ex.respond(ec ? status::bad_request : status::ok, {}, std::move(out));
        });
    }));
    auto c = connect();
    std::string big(300'000, 'q');
    big.replace(0, 8, "12345678");
    ASSERT_TRUE(c.send_all(request("PUT", "/", {}, big)));
    auto r = c.read_response(10s);
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->body, "300000:12345678");
}

// read_body_all(max): a body above `max` ends with server::error::body_too_large, once.
TEST_F(RequestBodyTest, ReadBodyAllOverMaxIsBodyTooLarge) {
    ASSERT_TRUE(start([this](exchange& ex) {
        ex.read_body_all(10, [this, &ex](std::error_code ec, std::string body) {
            events.add("done:" + (ec ? ec.message() : std::string("ok")) + ":" + std::to_string(body.size()));
            if (ec == server::error::body_too_large) events.add("is body_too_large");
            ex.respond(ec ? status::content_too_large : status::ok, {}, "x");
        });
    }));
    for (bool chunked : {false, true}) {
        SCOPED_TRACE(chunked ? "chunked" : "content-length");
        auto c = connect();
        std::string const body(100, 'b');
        if (chunked)
            ASSERT_TRUE(c.send_all(request("POST", "/", "Transfer-Encoding: chunked\r\n") + "64\r\n" + body + "\r\n0\r\n\r\n"));
        else
            ASSERT_TRUE(c.send_all(request("POST", "/", {}, body)));
        auto r = c.read_response();
        ASSERT_TRUE(r) << c.error();
        EXPECT_EQ(r->status, 413);
        // The rest of the body is never parsed as a request: the connection closes.
        EXPECT_TRUE(r->has_token("Connection", "close")) << *r;
        EXPECT_TRUE(c.wait_closed(3s));
    }
    EXPECT_EQ(events.count("is body_too_large"), 2u) << ::testing::PrintToString(events.all());
    EXPECT_EQ(events.with_prefix("done:").size(), 2u) << "done must be called exactly once per request";
}

TEST_F(RequestBodyTest, PauseAndResumeBody) {
    ASSERT_TRUE(start([this](exchange& ex) {
        park(ex);
        auto body = std::make_shared<std::string>();
        server::body_reader r;
        r.on_data = [this, body, &ex](std::string_view piece) {
            events.add("piece");
            body->append(piece);
            if (body->size() == 4) {
                ex.pause_body();
                events.add("paused");
            }
        };
        r.on_end = [body, &ex](std::error_code ec) { ex.respond(ec ? status::bad_request : status::ok, {}, *body); };
        ex.read_body(std::move(r));
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("POST", "/", "Content-Length: 8\r\n") + "AAAA"));
    ASSERT_TRUE(events.wait_for("paused"));
    ASSERT_TRUE(c.send_all("BBBB"));
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(events.count("piece"), 1u) << "on_data ran while paused";
    EXPECT_FALSE(c.read_response(10ms)) << "responded while paused";
    ASSERT_TRUE(with_parked([](exchange& ex) { ex.resume_body(); }));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "AAAABBBB");
}

// Pausing is the application's choice: it must not count as the client stalling (body_timeout).
TEST_F(RequestBodyTest, PauseLongerThanBodyTimeoutDoesNotTimeOut) {
    ASSERT_TRUE(start(
        [this](exchange& ex) {
            park(ex);
            auto body = std::make_shared<std::string>();
            server::body_reader r;
            r.on_data = [this, body, &ex](std::string_view piece) {
                body->append(piece);
                if (!events.contains("paused")) {
                    ex.pause_body();
                    events.add("paused");
                }
            };
            r.on_end = [this, body, &ex](std::error_code ec) {
                events.add("end:" + (ec ? ec.message() : std::string("ok")));
                if (!ec) ex.respond(status::ok, {}, *body);
            };
            ex.read_body(std::move(r));
        },
        [](server::options& o) { o.body_timeout = 200ms; }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("POST", "/", "Content-Length: 10\r\n") + "01234"));
    ASSERT_TRUE(events.wait_for("paused"));
    ASSERT_TRUE(c.send_all("56789"));
    std::this_thread::sleep_for(700ms);
    ASSERT_TRUE(with_parked([](exchange& ex) { ex.resume_body(); }))
        << ::testing::PrintToString(events.all());
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "0123456789");
    EXPECT_TRUE(events.contains("end:ok")) << ::testing::PrintToString(events.all());
}

// A handler that answers without reading the body: the server drops the body and the pipelined
// request behind it is parsed from the right place (RFC 9112 §6.3, §9.3.2).
TEST_F(RequestBodyTest, IgnoredBodyIsDiscardedAndNextRequestWorks) {
    ASSERT_TRUE(start([](exchange& ex) { ex.respond(status::ok, {}, std::string(ex.request().target)); }));
    auto c = connect();
    std::string const chunked_post = request("POST", "/chunked", "Transfer-Encoding: chunked\r\n") +
                                     "5;e=1\r\nGET /\r\n3\r\nxyz\r\n0\r\nTr: 1\r\n\r\n";
    // Body bytes that look like a request must never be treated as one.
    std::string const fake = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_TRUE(c.send_all(request("POST", "/length", {}, fake) + chunked_post + get("/next")));
    for (char const* t : {"/length", "/chunked", "/next"}) {
        auto r = c.read_response();
        ASSERT_TRUE(r) << c.error();
        EXPECT_EQ(r->body, t);
        EXPECT_FALSE(r->has_token("Connection", "close")) << *r;
    }
    EXPECT_FALSE(c.read_response(200ms)) << "extra response: " << c.received();
}

// docs/decisions/0003: an unread declared body above 256 KiB is not drained; the response says
// Connection: close and the connection closes.
TEST_F(RequestBodyTest, LargeIgnoredBodyClosesConnection) {
    ASSERT_TRUE(start([](exchange& ex) { ex.respond(status::forbidden, {}, "no"); }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("POST", "/", "Content-Length: 10000000\r\n")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 403);
    EXPECT_TRUE(r->has_token("Connection", "close")) << *r;
    EXPECT_TRUE(c.wait_closed(5s));
}

// A small unread body that never arrives must not hold the connection forever: after body_timeout
// the connection closes (there is nothing left to answer).
TEST_F(RequestBodyTest, IgnoredBodyThatNeverArrivesTimesOut) {
    ASSERT_TRUE(start([](exchange& ex) { ex.respond(status::ok, {}, "early"); },
                      [](server::options& o) { o.body_timeout = 200ms; }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("POST", "/", "Content-Length: 100\r\n") + "only part"));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->body, "early");
    EXPECT_TRUE(c.wait_closed(3s));
    for (int i = 0; i < 50 && srv().connection_count() != 0; ++i) std::this_thread::sleep_for(20ms);
    EXPECT_EQ(srv().connection_count(), 0u);
}

// The handler answers from the first body piece, then the client stalls: after body_timeout the
// reader is told and the connection closes instead of staying open forever.
TEST_F(RequestBodyTest, EarlyResponseThenStalledBodyCloses) {
    ASSERT_TRUE(start(
        [this](exchange& ex) {
            server::body_reader r;
            r.on_data = [&ex](std::string_view) {
                if (!ex.responded()) ex.respond(status::accepted, {}, "got some");
            };
            r.on_end = [this](std::error_code ec) { events.add("end:" + (ec ? ec.message() : std::string("ok"))); };
            ex.read_body(std::move(r));
        },
        [](server::options& o) { o.body_timeout = 200ms; }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("POST", "/", "Content-Length: 100\r\n") + "first bytes"));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 202);
    EXPECT_TRUE(c.wait_closed(3s));
    EXPECT_TRUE(events.wait_for("end:" + make_error_code(server::error::timeout).message()))
        << ::testing::PrintToString(events.all());
    c.close();  // ends the server's lingering close
    for (int i = 0; i < 50 && srv().connection_count() != 0; ++i) std::this_thread::sleep_for(20ms);
    EXPECT_EQ(srv().connection_count(), 0u);
}

// RFC 9110 §15.5.14: a declared body over limits::max_body_bytes gets 413 before the handler runs.
TEST_F(RequestBodyTest, DeclaredBodyOverLimitIs413) {
    ASSERT_TRUE(start(
        [this](exchange& ex) {
            events.add("handler");
            ex.respond(status::ok);
        },
        [](server::options& o) { o.limits.max_body_bytes = 1024; }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("POST", "/", "Content-Length: 2048\r\n")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 413);
    EXPECT_TRUE(r->has_token("Connection", "close")) << *r;
    EXPECT_TRUE(c.wait_closed(3s));
    EXPECT_FALSE(events.contains("handler"));
}

// A chunked body that grows over the limit while being read: the reader gets the error and, if the
// handler does not answer, the server sends 413 and closes.
TEST_F(RequestBodyTest, ChunkedBodyOverLimitIs413) {
    ASSERT_TRUE(start(echo_pieces(), [](server::options& o) { o.limits.max_body_bytes = 1024; }));
    auto c = connect();
    std::string const chunk(800, 'z');
    ASSERT_TRUE(c.send_all(request("POST", "/", "Transfer-Encoding: chunked\r\n") + "320\r\n" + chunk + "\r\n" +
                           "320\r\n" + chunk + "\r\n0\r\n\r\n"));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 413);
    EXPECT_TRUE(r->has_token("Connection", "close")) << *r;
    EXPECT_TRUE(c.wait_closed(3s));
    auto ends = events.with_prefix("end:");
    ASSERT_EQ(ends.size(), 1u);
    EXPECT_NE(ends[0], "end:ok");
}

// RFC 9112 §7.1: invalid chunked framing is a 400, then close (framing can no longer be trusted).
TEST_F(RequestBodyTest, MalformedChunkedBodyIs400) {
    ASSERT_TRUE(start(echo_pieces()));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("POST", "/", "Transfer-Encoding: chunked\r\n") + "zz\r\nabc\r\n0\r\n\r\n"));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 400);
    EXPECT_TRUE(r->has_token("Connection", "close")) << *r;
    EXPECT_TRUE(c.wait_closed(3s));
    EXPECT_EQ(events.with_prefix("end:").size(), 1u);
}

// options::body_timeout: no body progress -> the reader gets error::timeout and the client a 408
// (RFC 9110 §15.5.9), then close.
TEST_F(RequestBodyTest, BodyTimeout) {
    ASSERT_TRUE(start(echo_pieces(), [](server::options& o) { o.body_timeout = 200ms; }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("POST", "/", "Content-Length: 10\r\n") + "abc"));
    auto r = c.read_response(5s);
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 408);
    EXPECT_TRUE(r->has_token("Connection", "close")) << *r;
    EXPECT_TRUE(c.wait_closed(3s));
    EXPECT_TRUE(events.contains("end:" + make_error_code(server::error::timeout).message()))
        << ::testing::PrintToString(events.all());
}

// The request head stays valid while the body is read, even when the read buffer has to move.
TEST_F(RequestBodyTest, RequestHeadSurvivesLargeBody) {
    ASSERT_TRUE(start([](exchange& ex) {
        ex.read_body_all(4 << 20, [&ex](std::error_code ec, std::string body) {
            std::string out = std::string(ex.request().target) + "|" + std::string(ex.request().find("X-Marker")) +
                              "|" + std::string(ex.request().host) + "|" + std::to_string(body.size());
            ex.respond(ec ? status::bad_request : status::ok, {}, out);
        });
    }, [](server::options& o) { o.read_buffer_size = 4096; }));
    auto c = connect();
    std::string const body(1'000'000, 'm');
    std::string const all = request("POST", "/target?q=1", "X-Marker: marker-value\r\n", body);
    // Several writes with pauses, so the server reads (and grows / compacts its buffer) many times.
    for (std::size_t off = 0; off < all.size(); off += 100'000) {
        ASSERT_TRUE(c.send_all(std::string_view(all).substr(off, 100'000)));
        std::this_thread::sleep_for(5ms);
    }
    auto r = c.read_response(10s);
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->body, "/target?q=1|marker-value|test|1000000");
}

} // namespace
} // namespace upshift::test
