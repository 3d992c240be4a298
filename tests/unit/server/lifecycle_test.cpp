// Exchange and connection lifecycle: handler exceptions, aborts, close_after_response, pipelining
// with asynchronous handlers, graceful stop, timeouts and connection limits.
#include "server_fixture.hpp"

namespace upshift::test {
namespace {

class LifecycleTest : public server_fixture {};

TEST_F(LifecycleTest, HandlerExceptionGives500AndServerKeepsServing) {
    ASSERT_TRUE(start([](exchange& ex) {
        if (ex.request().target == "/throw") throw std::runtime_error("boom");
        ex.respond(status::ok, {}, "fine");
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/throw") + get("/never")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 500);
    EXPECT_TRUE(r->has_token("Connection", "close")) << *r;
    EXPECT_TRUE(c.wait_closed(3s));
    EXPECT_TRUE(c.received().empty()) << c.received();

    for (int i = 0; i < 2; ++i) {
        auto c2 = connect();
        ASSERT_TRUE(c2.send_all(get("/ok")));
        auto r2 = c2.read_response();
        ASSERT_TRUE(r2) << c2.error();
        EXPECT_EQ(r2->status, 200);
        EXPECT_EQ(r2->body, "fine");
    }
}

// An exception after the response started cannot become a 500: the connection is cut, so the
// client never sees a complete response (RFC 9112 §8: it can tell the message is incomplete).
TEST_F(LifecycleTest, ExceptionAfterResponseStartedCutsConnection) {
    ASSERT_TRUE(start([](exchange& ex) {
        ex.start_response(status::ok).write("partial");
        throw std::runtime_error("boom");
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/")));
    EXPECT_FALSE(c.read_response(3s));
    EXPECT_TRUE(c.peer_closed());
    EXPECT_EQ(c.received().find("0\r\n\r\n"), std::string::npos) << c.received();
    EXPECT_EQ(c.received().find("500"), std::string::npos) << c.received();
}

// The connection is reset by the client while the handler has not answered: on_abort runs.
TEST_F(LifecycleTest, OnAbortWhenClientResets) {
    ASSERT_TRUE(start([this](exchange& ex) {
        park(ex);
        events.add("handler");
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/")));
    ASSERT_TRUE(events.wait_for("handler"));
    set_abortive_close(c);
    c.close();
    EXPECT_TRUE(events.wait_for("abort", 3s));
    EXPECT_FALSE(with_parked([](exchange&) {})) << "exchange still parked after abort";
}

// The client closes (FIN) while the handler has not answered. The server only learns the peer is
// gone once it writes; streaming makes that happen, and then on_abort runs.
TEST_F(LifecycleTest, OnAbortWhenStreamingToClosedClient) {
    ASSERT_TRUE(start([this](exchange& ex) {
        park(ex);
        ex.start_response(status::ok).write("first");
        events.add("handler");
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/")));
    ASSERT_TRUE(events.wait_for("handler"));
    ASSERT_TRUE(c.read_until("first\r\n"));
    c.close();
    for (int i = 0; i < 100 && !events.contains("abort"); ++i) {
        with_parked([](exchange& ex) { ex.start_response(status::ok).write(std::string(1024, 'x')); });
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_TRUE(events.contains("abort"));
}

// The client closes (FIN) without reading while the handler has not answered at all. A server
// cannot tell a half-close from a full close; it must at least not leak the exchange forever: when
// the handler finally answers, the write fails and the connection is freed.
TEST_F(LifecycleTest, ClientCloseBeforeResponseFreesConnection) {
    ASSERT_TRUE(start([this](exchange& ex) {
        park(ex);
        events.add("handler");
    }));
    {
        auto c = connect();
        ASSERT_TRUE(c.send_all(get("/")));
        ASSERT_TRUE(events.wait_for("handler"));
        EXPECT_EQ(srv().connection_count(), 1u);
    }
    std::this_thread::sleep_for(100ms);
    with_parked([](exchange& ex) { ex.respond(status::ok, {}, std::string(100'000, 'x')); });
    for (int i = 0; i < 100 && srv().connection_count() != 0; ++i) std::this_thread::sleep_for(20ms);
    EXPECT_EQ(srv().connection_count(), 0u);
}

TEST_F(LifecycleTest, CloseAfterResponse) {
    ASSERT_TRUE(start([](exchange& ex) {
        ex.close_after_response();
        ex.respond(status::ok, {}, "last");
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/") + get("/never")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->body, "last");
    EXPECT_TRUE(r->has_token("Connection", "close")) << *r;
    EXPECT_TRUE(c.wait_closed(3s));
    EXPECT_TRUE(c.received().empty()) << c.received();
}

TEST_F(LifecycleTest, CloseAfterResponseWithStreaming) {
    ASSERT_TRUE(start([](exchange& ex) {
        auto& w = ex.start_response(status::ok);
        ex.close_after_response();  // after the head went out: still closes after the body
        w.write("body");
        w.finish();
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/") + get("/never")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->body, "body");
    EXPECT_TRUE(c.wait_closed(3s));
    EXPECT_TRUE(c.received().empty()) << c.received();
}

// RFC 9112 §9.3.2: responses to pipelined requests go out in request order, here with handlers that
// answer later (timers, defer) with the earliest request taking longest.
TEST_F(LifecycleTest, PipelinedAsyncResponsesStayInOrder) {
    ASSERT_TRUE(start([this](exchange& ex) {
        std::string const t(ex.request().target);
        events.add("handler " + t);
        int const n = std::stoi(t.substr(1));
        auto answer = [this, &ex, t] {
            events.add("respond " + t);
            ex.respond(status::ok, {{"X-Target", t}}, "body of " + t);
        };
        int const delay_ms = (n % 3 == 0) ? 120 : (n % 3 == 1) ? 30 : 0;
        if (delay_ms == 0) ex.loop().defer(std::move(answer));
        else make_timer(ex.loop()).start(std::chrono::milliseconds(delay_ms), std::move(answer));
    }));
    auto c = connect();
    std::string all;
    constexpr int count = 9;
    std::vector<std::string> targets;
    for (int i = 0; i < count; ++i) targets.push_back(std::string(1, '/').append(std::to_string(i)));
    for (int i = 0; i < count; ++i) {
        auto const& t = targets[static_cast<std::size_t>(i)];
        all += (i % 2 == 0) ? get(t) : request("POST", t, {}, "payload");
    }
    ASSERT_TRUE(c.send_all(all));
    for (auto const& t : targets) {
        auto r = c.read_response(5s);
        ASSERT_TRUE(r) << "response " << t << ": " << c.error();
        EXPECT_EQ(r->header("X-Target"), t);
        EXPECT_EQ(r->body, std::string("body of ").append(t));
    }
    EXPECT_EQ(events.with_prefix("respond ").size(), static_cast<std::size_t>(count));
}

// Answering from another thread through loop().post (the documented way).
TEST_F(LifecycleTest, AnswerFromAnotherThreadViaPost) {
    ASSERT_TRUE(start([](exchange& ex) {
        std::thread([&ex, &l = ex.loop()] {
            std::this_thread::sleep_for(20ms);
            l.post([&ex] { ex.respond(status::ok, {}, "from thread"); });
        }).detach();
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/a") + get("/b")));
    for (int i = 0; i < 2; ++i) {
        auto r = c.read_response();
        ASSERT_TRUE(r) << c.error();
        EXPECT_EQ(r->body, "from thread");
    }
}

// Graceful stop while a response streams: the response completes, then run() returns
// (server::stop() contract; docs/decisions/0003).
TEST_F(LifecycleTest, GracefulStopFinishesStreamingResponse) {
    ASSERT_TRUE(start(
        [this](exchange& ex) {
            park(ex);
            ex.start_response(status::ok).write("part1,");
            events.add("handler");
        },
        [](server::options& o) { o.shutdown_grace = 10s; }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/")));
    ASSERT_TRUE(c.read_until("part1,\r\n")) << c.error();

    srv().stop();
    std::this_thread::sleep_for(300ms);
    EXPECT_FALSE(run_returned()) << "run() returned with a response in flight";
    {
        auto late = connect(1s);
        bool answered = false;
        if (late.connected() && late.send_all(get("/late"), 1s)) answered = late.read_response(500ms).has_value();
        EXPECT_FALSE(answered) << "a new connection was served after stop()";
    }

    ASSERT_TRUE(with_parked([](exchange& ex) {
        auto& w = ex.start_response(status::ok);
        w.write("part2");
        w.finish();
    }));
    auto rest = c.read_until("0\r\n\r\n");
    ASSERT_TRUE(rest) << c.error();
    EXPECT_EQ(*rest, "5\r\npart2\r\n0\r\n\r\n");
    EXPECT_TRUE(c.wait_closed(3s)) << "connection kept open after the response during shutdown";
    c.close();
    EXPECT_TRUE(events.wait_for("run returned", 3s));
}

TEST_F(LifecycleTest, GracefulStopClosesIdleConnectionsAtOnce) {
    ASSERT_TRUE(start([](exchange& ex) { ex.respond(status::ok, {}, "x"); },
                      [](server::options& o) { o.shutdown_grace = 10s; }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/")));
    ASSERT_TRUE(c.read_response());
    auto const t0 = std::chrono::steady_clock::now();
    srv().stop();
    EXPECT_TRUE(c.wait_closed(3s));
    EXPECT_TRUE(events.wait_for("run returned", 3s));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

// A request that arrives during shutdown, before its response starts, is answered with close.
TEST_F(LifecycleTest, ResponseDuringShutdownSaysClose) {
    ASSERT_TRUE(start(
        [this](exchange& ex) {
            park(ex);
            events.add("handler");
        },
        [](server::options& o) { o.shutdown_grace = 10s; }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/")));
    ASSERT_TRUE(events.wait_for("handler"));
    srv().stop();
    std::this_thread::sleep_for(100ms);
    ASSERT_TRUE(with_parked([](exchange& ex) { ex.respond(status::ok, {}, "bye"); }));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->body, "bye");
    EXPECT_TRUE(r->has_token("Connection", "close")) << *r;
    EXPECT_TRUE(c.wait_closed(3s));
    c.close();
    EXPECT_TRUE(events.wait_for("run returned", 3s));
}

// A handler that never finishes does not hold up shutdown past shutdown_grace: the connection is
// closed and the handler learns it through on_abort.
TEST_F(LifecycleTest, GracefulStopGivesUpAfterGrace) {
    ASSERT_TRUE(start(
        [this](exchange& ex) {
            park(ex);
            events.add("handler");
        },
        [](server::options& o) { o.shutdown_grace = 300ms; }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/")));
    ASSERT_TRUE(events.wait_for("handler"));
    auto const t0 = std::chrono::steady_clock::now();
    srv().stop();
    EXPECT_TRUE(events.wait_for("run returned", 3s));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    EXPECT_TRUE(events.contains("abort"));
    EXPECT_TRUE(c.wait_closed(1s));
}

// Pipelined GETs whose 32 KiB responses start with their own target, for the backpressure tests
// below: far more than the socket buffers hold, so the server must hold responses back.
constexpr std::size_t held_body_size = 32 * 1024;

void respond_with_target(exchange& ex) {
    std::string body(held_body_size, 'p');
    body.replace(0, ex.request().target.size(), ex.request().target);
    ex.respond(status::ok, {}, std::move(body));
}

struct pipelined_gets {
    std::vector<std::string> targets;
    std::string wire;  // every request, back to back
};

pipelined_gets make_pipelined_gets(std::string_view prefix, int count) {
    pipelined_gets p;
    for (int i = 0; i < count; ++i) {
        p.targets.push_back(std::string(prefix).append(std::to_string(i)).append("/"));
        p.wire += get(p.targets.back());
    }
    return p;
}

/// Reads one response per target, in order: each a 200 whose body starts with its target.
void expect_responses_in_order(raw_client& c, std::vector<std::string> const& targets) {
    for (auto const& t : targets) {
        auto r = c.read_response(10s);
        ASSERT_TRUE(r) << t << ": " << c.error();
        ASSERT_EQ(r->status, 200) << t;
        ASSERT_EQ(r->body.size(), held_body_size) << t;
        ASSERT_TRUE(r->body.starts_with(t)) << "expected " << t << ", got " << r->body.substr(0, 10);
    }
}

// Many pipelined requests whose responses exceed send_high_water while the client is not reading:
// the server holds back, then resumes when the client reads, and everything arrives in order.
TEST_F(LifecycleTest, PipelinedResponsesAboveHighWater) {
    ASSERT_TRUE(start(respond_with_target, [](server::options& o) { o.send_high_water = 64 * 1024; }));
    auto c = connect();
    set_small_rcvbuf(c);
    auto const gets = make_pipelined_gets("/r", 200);  // 6.4 MB of responses
    ASSERT_TRUE(c.send_all(gets.wire));
    std::this_thread::sleep_for(300ms);
    expect_responses_in_order(c, gets.targets);
}

// The same, with a client that reads only after longer than the header timeout: the requests held
// back are complete and wait on the server, not on the client, so none of them is answered 408
// (RFC 9110 §15.5.9 is for a client that was slow to send its request). The write timeout bounds
// a client that never reads.
TEST_F(LifecycleTest, RequestsHeldBackByBackpressureDoNotHitTheHeaderTimeout) {
    ASSERT_TRUE(start(respond_with_target, [](server::options& o) {
        o.send_high_water = 64 * 1024;
        o.header_timeout = 200ms;
    }));
    auto c = connect();
    set_small_rcvbuf(c);
    auto const gets = make_pipelined_gets("/h", 400);  // 12.8 MB: far more than the socket buffers hold
    ASSERT_TRUE(c.send_all(gets.wire));
    std::this_thread::sleep_for(700ms);  // more than three header timeouts
    expect_responses_in_order(c, gets.targets);
}

// The client resets the connection while the handler reads the body: the reader ends with
// connection_lost, then on_abort runs.
TEST_F(LifecycleTest, ResetDuringBodyEndsReaderWithConnectionLost) {
    ASSERT_TRUE(start([this](exchange& ex) {
        park(ex);
        server::body_reader r;
        r.on_data = [this](std::string_view) { events.add("piece"); };
        r.on_end = [this](std::error_code ec) {
            if (ec == server::error::connection_lost) events.add("end:connection_lost");
            else events.add("end:other");
        };
        ex.read_body(std::move(r));
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("POST", "/", "Content-Length: 1000\r\n") + "some"));
    ASSERT_TRUE(events.wait_for("piece"));
    set_abortive_close(c);
    c.close();
    ASSERT_TRUE(events.wait_for("abort"));
    auto all = events.all();
    auto end_at = std::find(all.begin(), all.end(), "end:connection_lost");
    auto abort_at = std::find(all.begin(), all.end(), "abort");
    EXPECT_NE(end_at, all.end()) << ::testing::PrintToString(all);
    EXPECT_LT(end_at, abort_at) << ::testing::PrintToString(all);
}

// RFC 9110 §15.5.9: a request head that does not arrive in time gets 408, then close.
TEST_F(LifecycleTest, HeaderTimeoutIs408) {
    ASSERT_TRUE(start([](exchange& ex) { ex.respond(status::ok); },
                      [](server::options& o) { o.header_timeout = 200ms; }));
    auto c = connect();
    ASSERT_TRUE(c.send_all("GET / HTTP/1.1\r\nHost: te"));
    auto r = c.read_response(3s);
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 408);
    EXPECT_TRUE(r->has_token("Connection", "close")) << *r;
    EXPECT_TRUE(c.wait_closed(3s));
}

TEST_F(LifecycleTest, IdleKeepAliveConnectionIsClosed) {
    ASSERT_TRUE(start([](exchange& ex) { ex.respond(status::ok, {}, "x"); },
                      [](server::options& o) { o.idle_timeout = 200ms; }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/")));
    ASSERT_TRUE(c.read_response());
    EXPECT_TRUE(c.wait_closed(3s));
    EXPECT_TRUE(c.received().empty()) << "idle close must not send a response: " << c.received();
}

// options::write_timeout: a client that stops reading a streamed response is dropped and the
// handler learns it through on_abort.
TEST_F(LifecycleTest, WriteTimeoutAbortsStalledStream) {
    ASSERT_TRUE(start(
        [this](exchange& ex) {
            park(ex);
            auto p = std::make_shared<pump>();
            p->w = &ex.start_response(status::ok);
            p->log = &events;
            p->high_water = 64 * 1024;
            p->total = std::size_t{1} << 40;  // never finishes: the client stops reading
            p->run();
        },
        [](server::options& o) {
            o.write_timeout = 300ms;
            o.send_high_water = 64 * 1024;
        }));
    auto c = connect();
    set_small_rcvbuf(c);
    ASSERT_TRUE(c.send_all(get("/")));
    ASSERT_TRUE(events.wait_for("blocked"));
    EXPECT_TRUE(events.wait_for("abort", 5s));
}

// max_connections: beyond it, new connections are closed at once; existing ones keep working.
TEST_F(LifecycleTest, MaxConnections) {
    ASSERT_TRUE(start([](exchange& ex) { ex.respond(status::ok, {}, "x"); },
                      [](server::options& o) { o.max_connections = 1; }));
    auto c1 = connect();
    ASSERT_TRUE(c1.send_all(get("/")));
    ASSERT_TRUE(c1.read_response());
    auto c2 = connect();
    EXPECT_TRUE(c2.wait_closed(3s));
    ASSERT_TRUE(c1.send_all(get("/")));
    EXPECT_TRUE(c1.read_response());
    EXPECT_EQ(srv().connection_count(), 1u);
}

} // namespace
} // namespace upshift::test
