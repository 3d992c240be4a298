// Expect: 100-continue (RFC 9110 §10.1.1) and exchange::send_interim (RFC 9110 §15.2, RFC 8297).
#include "server_fixture.hpp"

namespace upshift::test {
namespace {

class ExpectTest : public server_fixture {
protected:
    /// Reads the body when the test says so (with_parked), then echoes it.
    server::handler deferred_reader() {
        return [this](exchange& ex) {
            park(ex);
            events.add("handler");
        };
    }
    static void echo_body(exchange& ex) {
        ex.read_body_all(1 << 20, [&ex](std::error_code ec, std::string body) {
            ex.respond(ec ? status::bad_request : status::ok, {}, body);
        });
    }
};

// RFC 9110 §10.1.1: the server sends 100 (Continue) when it wants the content; here that is when
// the handler asks for the body, not before.
TEST_F(ExpectTest, ContinueSentOnlyWhenHandlerReadsBody) {
    ASSERT_TRUE(start(deferred_reader()));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("POST", "/", "Expect: 100-continue\r\nContent-Length: 5\r\n")));
    ASSERT_TRUE(events.wait_for("handler"));
    EXPECT_FALSE(c.read_response(300ms)) << "sent before read_body: " << c.received();
    ASSERT_TRUE(with_parked([](exchange& ex) { echo_body(ex); }));
    auto interim = c.read_response();
    ASSERT_TRUE(interim) << c.error();
    EXPECT_EQ(interim->status, 100);
    EXPECT_EQ(interim->header_count("Content-Length"), 0u);  // RFC 9110 §8.6: never in 1xx
    ASSERT_TRUE(c.send_all("hello"));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hello");
    EXPECT_FALSE(r->has_token("Connection", "close")) << *r;
}

// Exactly one 100, even if the handler also sends one explicitly.
TEST_F(ExpectTest, OnlyOneContinue) {
    ASSERT_TRUE(start([this](exchange& ex) {
        auto ec = ex.send_interim(status::continue_);
        events.add("interim:" + (ec ? ec.message() : std::string("ok")));
        echo_body(ex);
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("POST", "/", "Expect: 100-continue\r\nContent-Length: 3\r\n")));
    auto interim = c.read_response();
    ASSERT_TRUE(interim) << c.error();
    EXPECT_EQ(interim->status, 100);
    ASSERT_TRUE(c.send_all("abc"));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200) << "a second 100 was sent";
    EXPECT_EQ(r->body, "abc");
    EXPECT_TRUE(events.contains("interim:ok"));
}

// RFC 9110 §10.1.1: a server may answer with a final status instead of 100; it then SHOULD say
// whether it closes. Here: no 100, the final response says close, the connection closes (the
// client may or may not send the body: docs/decisions/0003).
TEST_F(ExpectTest, FinalResponseWithoutReadingBodySendsNoContinue) {
    ASSERT_TRUE(start([](exchange& ex) { ex.respond(status::unauthorized, {{"WWW-Authenticate", "Basic"}}, "who?"); }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("PUT", "/", "Expect: 100-continue\r\nContent-Length: 100000\r\n") + get("/never")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 401) << "got an interim response before the final one";
    EXPECT_TRUE(r->has_token("Connection", "close")) << *r;
    EXPECT_TRUE(c.wait_closed(3s));
    EXPECT_TRUE(c.received().empty()) << c.received();
}

// RFC 9110 §10.1.1: a server that receives 100-continue in an HTTP/1.0 request MUST ignore it.
TEST_F(ExpectTest, Http10ExpectationIsIgnored) {
    ASSERT_TRUE(start([](exchange& ex) { echo_body(ex); }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("POST", "/", "Expect: 100-continue\r\n", "hello", "HTTP/1.0")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200) << "1xx sent to an HTTP/1.0 client";
    EXPECT_EQ(r->body, "hello");
}

// RFC 9110 §10.1.1: an expectation other than 100-continue MAY be answered with 417. The handler
// does not run; the body (if any) may follow, so the connection closes.
TEST_F(ExpectTest, UnknownExpectationIs417) {
    ASSERT_TRUE(start([this](exchange& ex) {
        events.add("handler");
        ex.respond(status::ok);
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("POST", "/", "Expect: teapot\r\n", "abc") + get("/never")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 417);
    EXPECT_TRUE(r->has_token("Connection", "close")) << *r;
    EXPECT_TRUE(c.wait_closed(3s));
    EXPECT_TRUE(c.received().empty()) << c.received();
    EXPECT_FALSE(events.contains("handler"));
}

class InterimTest : public server_fixture {
protected:
    void record(std::string_view what, std::error_code ec) {
        events.add(std::string(what) + ":" + (ec ? ec.message() : std::string("ok")));
    }
};

// RFC 8297: 103 Early Hints with Link fields, flushed at once, before the final response.
TEST_F(InterimTest, EarlyHintsArriveBeforeFinalResponse) {
    ASSERT_TRUE(start([this](exchange& ex) {
        park(ex);
        record("103", ex.send_interim(status::early_hints,
                                      {{"Link", "</style.css>; rel=preload; as=style"}, {"Link", "</app.js>; rel=preload"}}));
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/")));
    auto hints = c.read_response();  // the final response is not produced yet
    ASSERT_TRUE(hints) << c.error();
    EXPECT_EQ(hints->status, 103);
    EXPECT_EQ(hints->header_count("Link"), 2u) << *hints;
    EXPECT_EQ(hints->header("Link"), "</style.css>; rel=preload; as=style");
    EXPECT_EQ(hints->header_count("Content-Length"), 0u);  // RFC 9110 §8.6: MUST NOT in 1xx
    EXPECT_EQ(hints->header_count("Transfer-Encoding"), 0u);  // RFC 9112 §6.1: MUST NOT in 1xx
    ASSERT_TRUE(with_parked([](exchange& ex) { ex.respond(status::ok, {}, "final"); }));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "final");
    EXPECT_TRUE(events.contains("103:ok"));
}

// RFC 9110 §8.6: a server MUST NOT send Content-Length in a 1xx; RFC 9112 §6.1: nor
// Transfer-Encoding. Fields a handler gives for an interim response are dropped, the rest kept.
TEST_F(InterimTest, FramingFieldsAHandlerGivesAreNotSentInAnInterimResponse) {
    ASSERT_TRUE(start([this](exchange& ex) {
        record("103", ex.send_interim(status::early_hints, {{"Content-Length", "5"},
                                                             {"Link", "</a.css>; rel=preload"},
                                                             {"transfer-encoding", "chunked"}}));
        ex.respond(status::ok, {}, "final");
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/")));
    auto hints = c.read_response();
    ASSERT_TRUE(hints) << c.error();
    EXPECT_EQ(hints->status, 103);
    EXPECT_EQ(hints->header("Link"), "</a.css>; rel=preload") << *hints;
    EXPECT_EQ(hints->header_count("Content-Length"), 0u) << *hints;
    EXPECT_EQ(hints->header_count("Transfer-Encoding"), 0u) << *hints;
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "final");
    EXPECT_TRUE(events.contains("103:ok"));
}

TEST_F(InterimTest, SeveralInterimResponsesInOrder) {
    ASSERT_TRUE(start([this](exchange& ex) {
        record("a", ex.send_interim(status::early_hints, {{"Link", "</a>; rel=preload"}}));
        record("b", ex.send_interim(status::processing));
        record("c", ex.send_interim(status::early_hints, {{"Link", "</c>; rel=preload"}}));
        ex.respond(status::ok, {}, "done");
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/")));
    std::vector<int> statuses;
    for (int i = 0; i < 4; ++i) {
        auto r = c.read_response();
        ASSERT_TRUE(r) << c.error();
        statuses.push_back(r->status);
        if (i == 2) {
            EXPECT_EQ(r->header("Link"), "</c>; rel=preload");
        }
        if (i == 3) {
            EXPECT_EQ(r->body, "done");
        }
    }
    EXPECT_EQ(statuses, (std::vector<int>{103, 102, 103, 200}));
    EXPECT_TRUE(events.contains("a:ok") && events.contains("b:ok") && events.contains("c:ok"));
}

TEST_F(InterimTest, InterimAfterFinalIsRefused) {
    ASSERT_TRUE(start([this](exchange& ex) {
        if (ex.request().target == "/stream") {
            auto& w = ex.start_response(status::ok);
            record("after-start", ex.send_interim(status::early_hints));
            w.write("s");
            w.finish();
        } else {
            ex.respond(status::ok, {}, "r");
            // The exchange is complete here; only query the return value.
            if (ex.send_interim(status::early_hints) == server::error::interim_after_final)
                events.add("after-respond:interim_after_final");
        }
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/stream") + get("/respond")));
    auto r1 = c.read_response();
    ASSERT_TRUE(r1) << c.error();
    EXPECT_EQ(r1->status, 200);
    EXPECT_EQ(r1->body, "s");
    auto r2 = c.read_response();
    ASSERT_TRUE(r2) << c.error();
    EXPECT_EQ(r2->status, 200);
    EXPECT_EQ(r2->body, "r");
    EXPECT_FALSE(c.read_response(200ms)) << "stray bytes: " << c.received();
    EXPECT_TRUE(events.contains("after-start:" + make_error_code(server::error::interim_after_final).message()))
        << ::testing::PrintToString(events.all());
    EXPECT_TRUE(events.contains("after-respond:interim_after_final")) << ::testing::PrintToString(events.all());
}

// 101 only through a protocol switch, and a final status is not interim: bad_interim_status, and
// nothing is written.
TEST_F(InterimTest, BadInterimStatus) {
    ASSERT_TRUE(start([this](exchange& ex) {
        std::error_code const bad = server::error::bad_interim_status;
        if (ex.send_interim(status::switching_protocols, {{"Upgrade", "x"}}) == bad) events.add("101 refused");
        if (ex.send_interim(status::ok) == bad) events.add("200 refused");
        if (ex.send_interim(status::not_found) == bad) events.add("404 refused");
        if (ex.send_interim(static_cast<status>(99)) == bad) events.add("99 refused");
        ex.respond(status::ok, {}, "final");
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200) << "an interim response was written";
    EXPECT_EQ(r->body, "final");
    for (char const* e : {"101 refused", "200 refused", "404 refused", "99 refused"})
        EXPECT_TRUE(events.contains(e)) << e;
}

// RFC 9110 §15.2: a server MUST NOT send a 1xx response to an HTTP/1.0 client.
TEST_F(InterimTest, NoInterimToHttp10) {
    ASSERT_TRUE(start([this](exchange& ex) {
        if (ex.send_interim(status::early_hints, {{"Link", "</a>"}}) == server::error::interim_to_http10)
            events.add("refused");
        ex.respond(status::ok, {}, "final");
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("GET", "/", {}, {}, "HTTP/1.0")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200) << "1xx sent to an HTTP/1.0 client";
    EXPECT_EQ(r->body, "final");
    EXPECT_TRUE(c.wait_closed(3s));
    EXPECT_TRUE(c.received().empty()) << c.received();
    EXPECT_TRUE(events.contains("refused"));
}

} // namespace
} // namespace upshift::test
