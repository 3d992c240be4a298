// --access-log: one stdout line per response, in the order the responses were produced. The line
// format is the app's business; these tests only rely on each line naming its request target.
#include <gtest/gtest.h>

#include <string>

#include "integration_helpers.hpp"

namespace upshift::test {
namespace {

TEST(AccessLog, LogsEachPipelinedRequestInOrder) {
    server_process server{{"--access-log"}};
    ASSERT_TRUE(server.ready()) << server.error();
    raw_client c{server.port()};
    ASSERT_TRUE(c.connected()) << c.error();
    constexpr int count = 20;
    std::string batch;
    for (int i = 0; i < count; ++i)
        batch += request("GET", "/healthz?access-log-" + std::to_string(i) + "-end");
    ASSERT_TRUE(c.send_all(batch));
    for (int i = 0; i < count; ++i) {
        auto r = c.read_response();
        ASSERT_TRUE(r) << c.error();
        EXPECT_EQ(r->status, 200);
    }
    std::string const last = "access-log-" + std::to_string(count - 1) + "-end";
    ASSERT_TRUE(server.wait_output(last, 5s)) << "stdout:\n" << server.output();
    std::string out = server.output();
    std::size_t pos = 0;
    for (int i = 0; i < count; ++i) {
        std::string marker = "access-log-" + std::to_string(i) + "-end";
        auto at = out.find(marker, pos);
        ASSERT_NE(at, std::string::npos) << marker << " missing or out of order in:\n" << out;
        // The entry for this request names its status on the same line.
        auto bol = out.rfind('\n', at);
        auto eol = out.find('\n', at);
        std::string line = out.substr(bol == std::string::npos ? 0 : bol + 1,
                                      eol - (bol == std::string::npos ? 0 : bol + 1));
        EXPECT_NE(line.find("200"), std::string::npos) << line;
        pos = at + marker.size();
    }
}

TEST(AccessLog, LogsErrorStatuses) {
    server_process server{{"--access-log"}};
    ASSERT_TRUE(server.ready()) << server.error();
    auto r = fetch(server.port(), request("GET", "/no-such-file-access-log"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404);
    ASSERT_TRUE(server.wait_output("/no-such-file-access-log", 5s)) << "stdout:\n" << server.output();
    std::string out = server.output();
    auto at = out.find("/no-such-file-access-log");
    auto eol = out.find('\n', at);
    auto bol = out.rfind('\n', at);
    std::string line = out.substr(bol + 1, eol - bol - 1);
    EXPECT_NE(line.find("404"), std::string::npos) << line;
}

} // namespace
} // namespace upshift::test
