// Pipelining (RFC 9112 §9.3.2): a client may send many requests without waiting; the server must
// answer them in the order received, on the same connection.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "integration_helpers.hpp"

namespace upshift::test {
namespace {

// Request i of the pipeline and what its response must look like. The mix has per-request identity
// (the echoed body), so any reordering, loss or duplication shows up.
struct step {
    std::string bytes;
    bool head = false;
    int status = 200;
    std::string body;
};

step make_step(std::size_t i, test_site const& site) {
    switch (i % 5) {
        case 0: return {request("GET", "/healthz"), false, 200, "ok\n"};
        case 1: return {request("GET", "/style.css"), false, 200, site.style_css};
        case 2: {
            std::string body = "request-" + std::to_string(i);
            return {request("POST", "/echo-body", {}, body), false, 200, body};
        }
        case 3: return {request("GET", "/missing-" + std::to_string(i)), false, 404, ""};
        default: return {request("HEAD", "/index.html"), true, 200, ""};
    }
}

// RFC 9112 §9.3.2: responses to pipelined requests are sent in the same order as the requests.
TEST(Pipelining, ThousandRequestsAnsweredInOrder) {
    test_site site;
    server_process server{{"--root", site.root()}};
    ASSERT_TRUE(server.ready()) << server.error();
    raw_client c{server.port()};
    ASSERT_TRUE(c.connected()) << c.error();

    constexpr std::size_t count = 1000;
    std::vector<step> steps;
    for (std::size_t i = 0; i < count; ++i) steps.push_back(make_step(i, site));

    // A few big writes, each holding many whole and split requests.
    std::string all;
    for (auto const& s : steps) all += s.bytes;
    std::size_t const writes = 4;
    std::size_t const per_write = all.size() / writes + 1;
    for (std::size_t off = 0; off < all.size(); off += per_write)
        ASSERT_TRUE(c.send_all(std::string_view{all}.substr(off, per_write))) << c.error();

    for (std::size_t i = 0; i < count; ++i) {
        auto r = c.read_response(10s, steps[i].head);
        ASSERT_TRUE(r) << "response " << i << ": " << c.error();
        ASSERT_EQ(r->status, steps[i].status) << "response " << i << "\n" << *r;
        if (steps[i].status == 200) {
            ASSERT_EQ(r->body, steps[i].body) << "response " << i;
        }
        if (steps[i].head) {
            ASSERT_EQ(r->header("Content-Length"), std::to_string(site.index_html.size()))
                << "response " << i;
        }
    }
    EXPECT_TRUE(c.received().empty()) << "unexpected extra bytes: " << c.received().substr(0, 200);

    // The connection is still usable afterwards.
    ASSERT_TRUE(c.send_all(request("GET", "/healthz")));
    auto last = c.read_response();
    ASSERT_TRUE(last) << c.error();
    EXPECT_EQ(last->status, 200);
    EXPECT_EQ(last->body, "ok\n");
}

// RFC 9112 §9.6: after a request with "Connection: close" the server MUST NOT process further
// requests on that connection, and closes it after the response.
TEST(Pipelining, NothingAfterConnectionClose) {
    test_site site;
    server_process server{{"--root", site.root()}};
    ASSERT_TRUE(server.ready()) << server.error();
    raw_client c{server.port()};
    ASSERT_TRUE(c.connected()) << c.error();
    ASSERT_TRUE(c.send_all(request("GET", "/healthz") +
                           request("POST", "/echo-body", {"Connection: close"}, "last") +
                           request("POST", "/echo-body", {}, "never")));
    auto first = c.read_response();
    ASSERT_TRUE(first) << c.error();
    EXPECT_EQ(first->body, "ok\n");
    auto second = c.read_response();
    ASSERT_TRUE(second) << c.error();
    EXPECT_EQ(second->body, "last");
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_TRUE(c.received().empty()) << "third request was answered: " << c.received();
}

// Requests split at awkward places (inside the request line, between CR and LF) still parse.
TEST(Pipelining, RequestsSplitAcrossWrites) {
    test_site site;
    server_process server{{"--root", site.root()}};
    ASSERT_TRUE(server.ready()) << server.error();
    raw_client c{server.port()};
    ASSERT_TRUE(c.connected()) << c.error();
    std::string two = request("GET", "/style.css") + request("POST", "/echo-body", {}, "split-body");
    for (std::size_t off = 0; off < two.size(); off += 7) {
        ASSERT_TRUE(c.send_all(std::string_view{two}.substr(off, 7)));
        // Let each fragment reach the server on its own; the server must not answer early.
        EXPECT_FALSE(c.wait_closed(std::chrono::milliseconds{2}));
    }
    auto a = c.read_response();
    ASSERT_TRUE(a) << c.error();
    EXPECT_EQ(a->body, site.style_css);
    auto b = c.read_response();
    ASSERT_TRUE(b) << c.error();
    EXPECT_EQ(b->body, "split-body");
}

} // namespace
} // namespace upshift::test
