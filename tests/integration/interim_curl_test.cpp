// Interim responses seen by a real client: curl sending `Expect: 100-continue` to POST /echo-body
// waits for "100 Continue" before it sends the body (RFC 9110 §10.1.1), then gets the final 200
// with the body echoed (RFC 9110 §15.2.1).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "integration_helpers.hpp"

namespace upshift::test {
namespace {

class InterimCurlTest : public ::testing::Test {
protected:
    void SetUp() override {
        curl_ = find_program("curl");
        if (!curl_) {
            if (in_ci())
                GTEST_FAIL() << "curl is not on PATH but CI is set: scripts/install-deps installs it";
            GTEST_SKIP() << "curl is not on PATH (run scripts/install-deps)";
        }
        ASSERT_TRUE(dir_.ok());
        server_ = std::make_unique<server_process>();
        ASSERT_TRUE(server_->ready()) << server_->error();
    }

    struct outcome {
        command_result run;
        std::string body;
        std::chrono::milliseconds took{0};
    };

    /// POSTs `body` to /echo-body with Expect: 100-continue and curl -v; curl waits up to 10 s for the
    /// 100 (--expect100-timeout) before sending the body anyway.
    outcome post_expecting_continue(std::string const& body, std::vector<std::string> extra = {}) {
        EXPECT_TRUE(dir_.write("upload.bin", body));
        std::string upload = "@"; // two steps: GCC 12's false -Wrestrict (bug 105329)
        upload += dir_.file("upload.bin");
        std::vector<std::string> argv{*curl_,
                                      "-v",
                                      "-sS",
                                      "--http1.1",
                                      "--max-time",
                                      "30",
                                      "--expect100-timeout",
                                      "10",
                                      "-H",
                                      "Expect: 100-continue",
                                      "-H",
                                      "Content-Type: application/octet-stream",
                                      "--data-binary",
                                      upload,
                                      "-o",
                                      dir_.file("out.bin")};
        argv.insert(argv.end(), extra.begin(), extra.end());
        argv.push_back("http://" + server_->authority() + "/echo-body");
        auto const t0 = std::chrono::steady_clock::now();
        outcome o;
        o.run = run_command(argv, std::chrono::seconds{40});
        o.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
        o.body = read_file(dir_.file("out.bin")).value_or("<no body file>");
        return o;
    }

    /// The response status lines curl -v printed ("< HTTP/1.1 ..."), in order.
    static std::vector<std::string> status_lines(std::string const& verbose) {
        std::vector<std::string> out;
        std::size_t pos = 0;
        while ((pos = verbose.find("< HTTP/", pos)) != std::string::npos) {
            auto const end = verbose.find_first_of("\r\n", pos);
            out.push_back(
                verbose.substr(pos + 2, end == std::string::npos ? std::string::npos : end - pos - 2));
            pos = end == std::string::npos ? verbose.size() : end;
        }
        return out;
    }

    std::optional<std::string> curl_;
    temp_dir dir_;
    std::unique_ptr<server_process> server_;
};

// RFC 9110 §10.1.1: the server sends 100 (Continue) when it wants the content; the client sends it
// then, and the final response follows. With Content-Length the body streams back.
TEST_F(InterimCurlTest, ContinueBeforeFinalResponseWithContentLength) {
    std::string const body = random_bytes(200 * 1024, 5);
    auto o = post_expecting_continue(body);
    ASSERT_TRUE(o.run.exit && o.run.exit->success()) << o.run;
    auto lines = status_lines(o.run.err);
    ASSERT_EQ(lines.size(), 2u) << o.run.err;
    EXPECT_EQ(lines[0].rfind("HTTP/1.1 100 Continue", 0), 0u) << lines[0];
    EXPECT_EQ(lines[1].rfind("HTTP/1.1 200", 0), 0u) << lines[1];
    EXPECT_NE(o.run.err.find("> Expect: 100-continue"), std::string::npos) << o.run.err;
    // The 100 came at once: curl did not have to give up waiting for it.
    EXPECT_LT(o.took, std::chrono::milliseconds{8000}) << o.run.err;
    EXPECT_EQ(o.body.size(), body.size());
    EXPECT_TRUE(o.body == body) << "echoed body differs";
}

// Same with a chunked upload (RFC 9112 §7.1): the body is collected and echoed after the 100.
TEST_F(InterimCurlTest, ContinueBeforeFinalResponseWithChunkedBody) {
    std::string const body = random_bytes(64 * 1024, 6);
    auto o = post_expecting_continue(body, {"-H", "Transfer-Encoding: chunked"});
    ASSERT_TRUE(o.run.exit && o.run.exit->success()) << o.run;
    auto lines = status_lines(o.run.err);
    ASSERT_EQ(lines.size(), 2u) << o.run.err;
    EXPECT_EQ(lines[0].rfind("HTTP/1.1 100 Continue", 0), 0u) << lines[0];
    EXPECT_EQ(lines[1].rfind("HTTP/1.1 200", 0), 0u) << lines[1];
    EXPECT_LT(o.took, std::chrono::milliseconds{8000}) << o.run.err;
    EXPECT_TRUE(o.body == body) << "echoed body differs (" << o.body.size() << " bytes)";
}

} // namespace
} // namespace upshift::test
