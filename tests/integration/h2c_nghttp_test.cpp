// HTTP/2 cleartext with nghttp (nghttp2-client) against `upshift serve`: prior knowledge
// (nghttp, RFC 9113 §3.3) and the Upgrade route (nghttp -u, RFC 7540 §3.2), with request
// bodies, and ten multiplexed requests on one connection (RFC 9113 §5).
#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "integration_helpers.hpp"

namespace upshift::test {
namespace {

class H2cNghttpTest : public ::testing::Test {
protected:
    void SetUp() override {
        nghttp_ = find_program("nghttp");
        if (!nghttp_) {
            if (in_ci())
                GTEST_FAIL() << "nghttp is not on PATH but CI is set: scripts/install-deps installs it";
            GTEST_SKIP() << "nghttp is not on PATH (run scripts/install-deps)";
        }
        ASSERT_TRUE(dir_.ok());
        ASSERT_TRUE(server_.ready()) << server_.error();
    }

    command_result nghttp(std::vector<std::string> args, std::string_view path) {
        std::vector<std::string> argv{*nghttp_, "-t", "20"};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back("http://" + server_.authority() + std::string(path));
        return run_command(argv, std::chrono::seconds{30});
    }

    static std::size_t count(std::string const& hay, std::string_view needle) {
        std::size_t n = 0;
        for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
        return n;
    }

    std::optional<std::string> nghttp_;
    temp_dir dir_;
    server_process server_;
};

TEST_F(H2cNghttpTest, PriorKnowledgeGet) {
    auto r = nghttp({"-nv"}, "/healthz");
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    // RFC 9113 §3.4: the server's preface is a SETTINGS frame, the first thing it sends.
    auto const first_recv = r.out.find("recv ");
    ASSERT_NE(first_recv, std::string::npos) << r.out;
    EXPECT_EQ(r.out.compare(first_recv, 19, "recv SETTINGS frame"), 0) << r.out;
    EXPECT_NE(r.out.find(":status: 200"), std::string::npos) << r.out;
}

TEST_F(H2cNghttpTest, UpgradeGetAnswersOnStream1) {
    // RFC 7540 §3.2: the upgrade request is answered on stream 1 after the 101.
    auto r = nghttp({"-nvu"}, "/healthz");
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    EXPECT_NE(r.out.find("HTTP/1.1 101 Switching Protocols"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("recv (stream_id=1) :status: 200"), std::string::npos) << r.out;
}

TEST_F(H2cNghttpTest, PostBodyWithPriorKnowledgeAndWithUpgrade) {
    std::string const body = random_bytes(256 * 1024, 21);
    ASSERT_TRUE(dir_.write("up.bin", body));
    for (std::vector<std::string> mode : {std::vector<std::string>{}, std::vector<std::string>{"-u"}}) {
        auto args = mode;
        args.insert(args.end(), {"-d", dir_.file("up.bin"), "-H", "content-type: application/octet-stream"});
        auto r = nghttp(args, "/echo-body");
        ASSERT_TRUE(r.exit && r.exit->success())
            << (mode.empty() ? "prior knowledge: " : "upgrade: ") << r.err;
        // With -u nghttp upgrades with "OPTIONS *" first (its 405 body comes first), then POSTs.
        EXPECT_TRUE(r.out.size() >= body.size() &&
                    r.out.compare(r.out.size() - body.size(), body.size(), body) == 0)
            << (mode.empty() ? "prior knowledge" : "upgrade") << ": echoed body differs (" << r.out.size()
            << " bytes)";
    }
}

TEST_F(H2cNghttpTest, HeadEndsTheStreamWithTheHeaders) {
    // RFC 9110 §9.3.2: no content for HEAD; over HTTP/2 the HEADERS frame carries END_STREAM
    // and no DATA frame follows, while content-length is GET's.
    auto r = nghttp({"-nv", "-H", ":method: HEAD"}, "/style.css");
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    EXPECT_NE(r.out.find(":status: 200"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("content-length: "), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("content-length: 0\n"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("recv DATA frame"), std::string::npos) << r.out;
}

TEST_F(H2cNghttpTest, TenMultiplexedRequests) {
    // RFC 9113 §5: -m 10 sends the same request ten times, as ten concurrent streams.
    auto r = nghttp({"-nv", "-m", "10"}, "/");
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    EXPECT_EQ(count(r.out, ":status: 200"), 10u) << r.out;
    std::regex const stream_ids{R"(send HEADERS frame <[^>]*stream_id=(\d+)>)"};
    std::size_t streams = 0;
    for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), stream_ids); it != std::sregex_iterator();
         ++it)
        ++streams;
    EXPECT_EQ(streams, 10u);
}

} // namespace
} // namespace upshift::test
