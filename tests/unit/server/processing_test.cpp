// options::processing_interval: "102 Processing" while a handler has not answered.
#include "server_fixture.hpp"

namespace upshift::test {
namespace {

class ProcessingTest : public server_fixture {
protected:
    ::testing::AssertionResult start_slow(std::chrono::milliseconds interval) {
        return start([this](exchange& ex) { park(ex); },
                     [interval](server::options& o) { o.processing_interval = interval; });
    }
};

// RFC 2518 §10.1 (102 Processing), sent as any 1xx per RFC 9110 §15.2: interim responses keep
// coming while the handler works, and stop once the final response starts.
TEST_F(ProcessingTest, RepeatsUntilTheFinalResponse) {
    ASSERT_TRUE(start_slow(100ms));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/slow")));
    for (int i = 0; i < 3; ++i) {
        auto interim = c.read_response();
        ASSERT_TRUE(interim) << c.error();
        EXPECT_EQ(interim->status, 102);
    }
    ASSERT_TRUE(with_parked([](exchange& ex) { ex.respond(status::ok, {}, "done"); }));
    // Any 102 already in flight may precede the 200; nothing follows it.
    std::optional<http_response> r;
    do {
        r = c.read_response();
        ASSERT_TRUE(r) << c.error();
    } while (r->status == 102);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "done");
    EXPECT_FALSE(c.read_response(400ms)) << "sent after the final response: " << c.received();
}

// RFC 9110 §15.2: a server MUST NOT send a 1xx response to an HTTP/1.0 client.
TEST_F(ProcessingTest, NeverSentToHttp10) {
    ASSERT_TRUE(start_slow(50ms));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("GET", "/slow", {}, {}, "HTTP/1.0")));
    EXPECT_FALSE(c.read_response(400ms)) << "sent to HTTP/1.0: " << c.received();
    ASSERT_TRUE(with_parked([](exchange& ex) { ex.respond(status::ok, {}, "done"); }));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
}

TEST_F(ProcessingTest, OffByDefault) {
    ASSERT_TRUE(start([this](exchange& ex) { park(ex); }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/slow")));
    EXPECT_FALSE(c.read_response(500ms)) << c.received();
}

} // namespace
} // namespace upshift::test
