// `upshift serve --access-log` logs HTTP/2 streams like HTTP/1.1 requests: one stdout line per
// response, naming the protocol version the request came in (HTTP/2.0 for a stream, by prior
// knowledge or after an Upgrade: h2c switch; HTTP/1.1 otherwise).
#include <gtest/gtest.h>

#include <string>

#include "integration_helpers.hpp"

namespace upshift::test {
namespace {

class H2cAccessLog : public ::testing::Test {
protected:
    void SetUp() override {
        curl_ = find_program("curl");
        if (!curl_) {
            if (in_ci()) GTEST_FAIL() << "curl is not on PATH but CI is set: scripts/install-deps installs it";
            GTEST_SKIP() << "curl is not on PATH (run scripts/install-deps)";
        }
        server_ = std::make_unique<server_process>(std::vector<std::string>{"--access-log"});
        ASSERT_TRUE(server_->ready()) << server_->error();
    }

    command_result curl(std::string_view mode, std::string_view path) {
        return run_command({*curl_, "-sS", "--max-time", "20", std::string(mode),
                            "http://" + server_->authority() + std::string(path)},
                           std::chrono::seconds{30});
    }

    /// Waits for `text` on the server's stdout (the access log).
    bool logged(std::string_view text) { return server_->wait_output(text, 5s); }

    std::optional<std::string> curl_;
    std::unique_ptr<server_process> server_;
};

TEST_F(H2cAccessLog, PriorKnowledgeStreamIsLoggedAsHttp20) {
    auto r = curl("--http2-prior-knowledge", "/healthz?h2-prior");
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    EXPECT_TRUE(logged("\"GET /healthz?h2-prior HTTP/2.0\" 200 3 ")) << "stdout:\n" << server_->output();
}

TEST_F(H2cAccessLog, UpgradedStream1IsLoggedAsHttp20) {
    // RFC 7540 §3.2: the request that asked to switch is answered on stream 1, over HTTP/2.
    auto r = curl("--http2", "/healthz?h2-upgrade");
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    EXPECT_TRUE(logged("\"GET /healthz?h2-upgrade HTTP/2.0\" 200 3 ")) << "stdout:\n" << server_->output();
}

TEST_F(H2cAccessLog, Http11RequestStillSaysHttp11) {
    auto r = curl("--http1.1", "/healthz?h1-plain");
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    EXPECT_TRUE(logged("\"GET /healthz?h1-plain HTTP/1.1\" 200 3 ")) << "stdout:\n" << server_->output();
}

} // namespace
} // namespace upshift::test
