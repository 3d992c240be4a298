// exchange::start_response() and response_writer: framing choice, trailers, backpressure.
#include "server_fixture.hpp"

namespace upshift::test {
namespace {

class StreamingTest : public server_fixture {};

// RFC 9112 §7.1: with no known length an HTTP/1.1 response is chunked; each write() is one chunk
// "<hex size>CRLF<data>CRLF", and the body ends with the last chunk "0" CRLF CRLF. An empty write
// must not produce a zero-size chunk (that would end the body early).
TEST_F(StreamingTest, UnknownLengthIsChunkedForHttp11) {
    ASSERT_TRUE(start([](exchange& ex) {
        auto& w = ex.start_response(status::ok, {{"Content-Type", "text/plain"}});
        EXPECT_TRUE(w.write("hello"));
        EXPECT_TRUE(w.write(""));
        EXPECT_TRUE(w.write(" world, this is chunk two"));
        w.finish();
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/") + get("/again")));
    auto head_bytes = c.read_until("\r\n\r\n");
    ASSERT_TRUE(head_bytes) << c.error();
    auto head = parse_head(*head_bytes);
    ASSERT_TRUE(head) << *head_bytes;
    EXPECT_EQ(head->status, 200);
    EXPECT_EQ(head->header("Transfer-Encoding"), "chunked") << *head;
    EXPECT_EQ(head->header_count("Content-Length"), 0u) << *head;  // RFC 9112 §6.2: not with TE
    auto body = c.read_until("0\r\n\r\n");
    ASSERT_TRUE(body) << c.error();
    EXPECT_EQ(*body, "5\r\nhello\r\n19\r\n world, this is chunk two\r\n0\r\n\r\n");
    // Framing intact: the pipelined second request is answered normally.
    auto r2 = c.read_response();
    ASSERT_TRUE(r2) << c.error();
    EXPECT_TRUE(r2->chunked);
    EXPECT_EQ(r2->body, "hello world, this is chunk two");
}

// Each write() goes out at once: the client sees a chunk before the handler produced the next.
TEST_F(StreamingTest, WritesAreFlushedAsTheyHappen) {
    ASSERT_TRUE(start([this](exchange& ex) {
        park(ex);
        ex.start_response(status::ok).write("first");
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/")));
    ASSERT_TRUE(c.read_until("\r\n\r\n")) << c.error();
    auto first = c.read_until("first\r\n");
    ASSERT_TRUE(first) << c.error();
    EXPECT_EQ(*first, "5\r\nfirst\r\n");
    ASSERT_TRUE(with_parked([](exchange& ex) {
        // start_response after the response started returns the same writer.
        auto& w = ex.start_response(status::internal_server_error);
        w.write("second");
        w.finish();
    }));
    auto rest = c.read_until("0\r\n\r\n");
    ASSERT_TRUE(rest) << c.error();
    EXPECT_EQ(*rest, "6\r\nsecond\r\n0\r\n\r\n");
}

// RFC 9112 §6.1: a server MUST NOT send Transfer-Encoding to an HTTP/1.0 request; with no length the
// body is delimited by closing the connection (RFC 9112 §6.3 item 8).
TEST_F(StreamingTest, UnknownLengthIsCloseDelimitedForHttp10) {
    ASSERT_TRUE(start([](exchange& ex) {
        auto& w = ex.start_response(status::ok);
        w.write("part one, ");
        w.write("part two");
        w.finish();
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("GET", "/", "Connection: keep-alive\r\n", {}, "HTTP/1.0")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header_count("Transfer-Encoding"), 0u) << *r;
    EXPECT_EQ(r->header_count("Content-Length"), 0u) << *r;
    EXPECT_TRUE(r->close_delimited);
    EXPECT_EQ(r->body, "part one, part two");
    EXPECT_TRUE(r->has_token("Connection", "close")) << *r;
    EXPECT_FALSE(r->has_token("Connection", "keep-alive")) << *r;
}

TEST_F(StreamingTest, KnownLengthUsesContentLength) {
    ASSERT_TRUE(start([](exchange& ex) {
        auto& w = ex.start_response(status::ok, {}, 11);
        w.write("hello");
        w.write(" world");
        w.finish();
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/") + get("/again")));
    for (int i = 0; i < 2; ++i) {
        auto r = c.read_response();
        ASSERT_TRUE(r) << c.error();
        EXPECT_EQ(r->header("Content-Length"), "11") << *r;
        EXPECT_EQ(r->header_count("Transfer-Encoding"), 0u) << *r;
        EXPECT_FALSE(r->chunked);
        EXPECT_EQ(r->body, "hello world");
        EXPECT_FALSE(r->has_token("Connection", "close")) << *r;
    }
}

// Writing more than the declared length must not leak bytes into the next response's framing.
TEST_F(StreamingTest, KnownLengthNeverSendsMoreThanDeclared) {
    ASSERT_TRUE(start([](exchange& ex) {
        if (ex.request().target == "/next") {
            ex.respond(status::ok, {}, "next");
            return;
        }
        auto& w = ex.start_response(status::ok, {}, 5);
        w.write("hello world");
        w.write("more");
        w.finish();
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/") + get("/next")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->body, "hello");
    auto r2 = c.read_response();
    ASSERT_TRUE(r2) << c.error();
    EXPECT_EQ(r2->body, "next");
}

// A body shorter than its Content-Length: the server closes the connection so the client can tell
// the message is incomplete (RFC 9112 §8) instead of waiting or misreading the next response.
TEST_F(StreamingTest, KnownLengthShortBodyClosesConnection) {
    ASSERT_TRUE(start([](exchange& ex) {
        auto& w = ex.start_response(status::ok, {}, 10);
        w.write("abc");
        w.finish();
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/") + get("/never")));
    EXPECT_TRUE(c.wait_closed(3s));
    EXPECT_TRUE(c.received().ends_with("\r\n\r\nabc")) << c.received();
    EXPECT_EQ(c.received().find("HTTP/1.1", 1), std::string::npos) << "second request was answered";
}

// RFC 9112 §7.1.2: trailer fields follow the last chunk.
TEST_F(StreamingTest, TrailersWithChunkedFraming) {
    ASSERT_TRUE(start([](exchange& ex) {
        auto& w = ex.start_response(status::ok, {{"Trailer", "X-Checksum"}});
        w.write("data");
        w.finish({{"X-Checksum", "abc123"}, {"X-Count", "1"}});
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_TRUE(r->chunked);
    EXPECT_EQ(r->body, "data");
    ASSERT_EQ(r->trailers.size(), 2u) << *r;
    EXPECT_EQ(r->trailers[0], (std::pair<std::string, std::string>{"X-Checksum", "abc123"}));
    EXPECT_EQ(r->trailers[1], (std::pair<std::string, std::string>{"X-Count", "1"}));
}

// Trailers need chunked framing; with Content-Length they are dropped and framing stays intact.
TEST_F(StreamingTest, TrailersDroppedWithContentLength) {
    ASSERT_TRUE(start([](exchange& ex) {
        auto& w = ex.start_response(status::ok, {}, 4);
        w.write("data");
        w.finish({{"X-Checksum", "abc123"}});
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/") + get("/")));
    for (int i = 0; i < 2; ++i) {
        auto r = c.read_response();
        ASSERT_TRUE(r) << c.error();
        EXPECT_EQ(r->body, "data");
        EXPECT_EQ(r->header_count("X-Checksum"), 0u);
    }
}

constexpr std::size_t backpressure_high_water = 64 * 1024;
constexpr std::size_t backpressure_total = 48u << 20;

TEST_F(StreamingTest, WriteReportsBackpressureAndOnDrainResumes) {
    constexpr std::size_t high_water = backpressure_high_water;
    constexpr std::size_t total = backpressure_total;
    ASSERT_TRUE(start(
        [this](exchange& ex) {
            auto p = std::make_shared<pump>();
            p->w = &ex.start_response(status::ok, {}, backpressure_total);
            p->log = &events;
            p->high_water = high_water;
            p->total = total;
            p->run();
        },
        [](server::options& o) { o.send_high_water = high_water; }));
    auto c = connect();
    set_small_rcvbuf(c);
    ASSERT_TRUE(c.send_all(get("/")));

    // The client reads nothing: the socket fills up and the handler must end up blocked, with no
    // drain callback while nobody reads.
    ASSERT_TRUE(events.wait_for("blocked")) << "write() never returned false";
    std::size_t drains = events.count("drain");
    for (int i = 0; i < 50; ++i) {  // until stable for 300 ms
        std::this_thread::sleep_for(300ms);
        std::size_t const now = events.count("drain");
        if (now == drains) break;
        drains = now;
    }
    EXPECT_FALSE(events.contains("finished")) << "the whole body fit in socket buffers; raise total";
    std::size_t const blocked_before = events.count("blocked");
    EXPECT_EQ(events.count("drain") + 1, blocked_before) << "on_drain must wait for the client to read";

    auto r = c.read_response(60s);
    ASSERT_TRUE(r) << c.error();
    ASSERT_EQ(r->body.size(), total);
    for (std::size_t off = 0; off < total; off += pump::chunk_size)
        ASSERT_EQ(r->body[off], pump::fill_for(off)) << "at offset " << off;
    EXPECT_TRUE(events.wait_for("finished"));
    EXPECT_GT(events.count("drain"), drains);
    EXPECT_TRUE(events.with_prefix("inconsistent").empty()) << events.with_prefix("inconsistent")[0];
}

} // namespace
} // namespace upshift::test
