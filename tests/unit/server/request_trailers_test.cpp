// Request trailers over HTTP/1.1 (exchange::request_trailers()): RFC 9112 §7.1.2 lets a chunked
// body end with a trailer section; RFC 9110 §6.5 says a recipient may use those fields, kept
// apart from the header section, once the body has been received. The handler below reports
// what request_trailers() says when it is called, while body pieces arrive and at the body's end.
#include "server_fixture.hpp"

namespace upshift::test {
namespace {

std::string describe(std::span<http1::field const> trailers) {
    std::string out;
    for (auto const& f : trailers) out.append(f.name).append("=").append(f.value).append(";");
    return out;
}

class RequestTrailersTest : public server_fixture {
protected:
    /// Records "early:<trailers>" when trailers are visible before the body ended, and answers
    /// "<body>|<trailers>" from a callback posted after the body's end (so the trailers are read
    /// after the bytes they came in have been consumed).
    server::handler report_trailers() {
        return [this](exchange& ex) {
            if (!ex.request_trailers().empty()) events.add("early:" + describe(ex.request_trailers()));
            auto body = std::make_shared<std::string>();
            server::body_reader r;
            r.on_data = [this, body, &ex](std::string_view piece) {
                if (!ex.request_trailers().empty()) events.add("early:" + describe(ex.request_trailers()));
                body->append(piece);
                events.add("piece");
            };
            r.on_end = [this, body, &ex](std::error_code ec) {
                if (ec) return;
                events.add("end:" + describe(ex.request_trailers()));
                ex.loop().post([body, &ex] {
                    ex.respond(status::ok, {}, *body + "|" + describe(ex.request_trailers()));
                });
            };
            ex.read_body(std::move(r));
        };
    }

    static std::string chunked_post(std::string_view target, std::string_view chunks) {
        return request("POST", target, "Transfer-Encoding: chunked\r\n") + std::string(chunks);
    }
};

// RFC 9112 §7.1.2 (trailer section after the last chunk), RFC 9110 §6.5: the fields reach the
// handler, in order, names and values as sent (values without surrounding whitespace, §5.5).
TEST_F(RequestTrailersTest, TrailersReachTheHandler) {
    ASSERT_TRUE(start(report_trailers()));
    auto c = connect();
    ASSERT_TRUE(c.send_all(chunked_post("/", "5\r\nhello\r\n0\r\nX-Checksum: abc123\r\nX-Count:  2 \r\n\r\n")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hello|X-Checksum=abc123;X-Count=2;");
    EXPECT_TRUE(events.contains("end:X-Checksum=abc123;X-Count=2;"));
}

// RFC 9112 §7.1.2: the trailer section may be empty; then request_trailers() is empty, for a
// chunked body as for a Content-Length one.
TEST_F(RequestTrailersTest, NoTrailersGiveAnEmptySpan) {
    ASSERT_TRUE(start(report_trailers()));
    auto c = connect();
    ASSERT_TRUE(c.send_all(chunked_post("/", "5\r\nhello\r\n0\r\n\r\n") + request("POST", "/len", {}, "plain")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->body, "hello|");
    auto r2 = c.read_response();
    ASSERT_TRUE(r2) << c.error();
    EXPECT_EQ(r2->body, "plain|");
}

// RFC 9110 §6.5: trailers arrive after the content, so they cannot be known while it arrives:
// request_trailers() is empty at dispatch and in every on_data, and filled at the body's end.
TEST_F(RequestTrailersTest, TrailersAreNotVisibleBeforeTheBodyEnded) {
    ASSERT_TRUE(start(report_trailers()));
    auto c = connect();
    ASSERT_TRUE(c.send_all(chunked_post("/", "4\r\nfirs\r\n")));
    ASSERT_TRUE(events.wait_for("piece"));
    // The last data chunk, the last chunk and the trailers in one segment: one decode.
    ASSERT_TRUE(c.send_all("6\r\nt part\r\n0\r\nX-Late: yes\r\n\r\n"));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->body, "first part|X-Late=yes;");
    EXPECT_EQ(events.count("piece"), 2u);
    EXPECT_EQ(events.with_prefix("early:"), std::vector<std::string>{});
}

// Trailers belong to their request (RFC 9112 §7.1.2): the next request on the connection,
// pipelined behind them, starts with none, whether it is chunked or not.
TEST_F(RequestTrailersTest, PipelinedNextRequestHasNone) {
    ASSERT_TRUE(start(report_trailers()));
    auto c = connect();
    ASSERT_TRUE(c.send_all(chunked_post("/1", "3\r\none\r\n0\r\nX-First: 1\r\n\r\n") +
                           chunked_post("/2", "3\r\ntwo\r\n0\r\n\r\n") + request("POST", "/3", {}, "three")));
    std::vector<std::string> bodies;
    for (int i = 0; i < 3; ++i) {
        auto r = c.read_response();
        ASSERT_TRUE(r) << c.error();
        bodies.push_back(r->body);
    }
    EXPECT_EQ(bodies, (std::vector<std::string>{"one|X-First=1;", "two|", "three|"}));
    EXPECT_EQ(events.with_prefix("early:"), std::vector<std::string>{});
}

} // namespace
} // namespace upshift::test
