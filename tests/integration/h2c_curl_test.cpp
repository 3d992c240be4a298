// HTTP/2 cleartext with curl against `upshift serve`: the Upgrade route (RFC 7540 §3.2: curl
// --http2 shows the 101, then HTTP/2 200) and prior knowledge (RFC 9113 §3.3: curl
// --http2-prior-knowledge), with and without request bodies, interim 103 on HTTP/2, several
// transfers multiplexed, and --no-h2c keeping everything HTTP/1.1.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "integration_helpers.hpp"

namespace upshift::test {
namespace {

class H2cCurlTest : public ::testing::Test {
protected:
    void start(std::vector<std::string> args = {}) {
        curl_ = find_program("curl");
        if (!curl_) {
            if (in_ci())
                GTEST_FAIL() << "curl is not on PATH but CI is set: scripts/install-deps installs it";
            GTEST_SKIP() << "curl is not on PATH (run scripts/install-deps)";
        }
        ASSERT_TRUE(dir_.ok());
        server_ = std::make_unique<server_process>(std::move(args));
        ASSERT_TRUE(server_->ready()) << server_->error();
    }

    std::string url(std::string_view path) const {
        return "http://" + server_->authority() + std::string(path);
    }

    /// curl -v -sS <args> <urls...>; the body goes to stdout.
    command_result curl(std::vector<std::string> args) {
        std::vector<std::string> argv{*curl_, "-v", "-sS", "--max-time", "20"};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv, std::chrono::seconds{30});
    }

    /// The response status lines curl -v printed ("HTTP/1.1 101 ...", "HTTP/2 200"), in order.
    static std::vector<std::string> status_lines(std::string const& verbose) {
        std::vector<std::string> out;
        std::size_t pos = 0;
        while ((pos = verbose.find("< HTTP/", pos)) != std::string::npos) {
            auto const end = verbose.find_first_of("\r\n", pos);
            auto line = verbose.substr(pos + 2, end == std::string::npos ? std::string::npos : end - pos - 2);
            while (!line.empty() && line.back() == ' ') line.pop_back();
            out.push_back(line);
            pos = end == std::string::npos ? verbose.size() : end;
        }
        return out;
    }

    std::optional<std::string> curl_;
    temp_dir dir_;
    std::unique_ptr<server_process> server_;
};

TEST_F(H2cCurlTest, UpgradeRouteShows101ThenHttp2) {
    // RFC 7540 §3.2: curl offers Upgrade: h2c with HTTP2-Settings; the server answers 101 and
    // then the response to that same request over HTTP/2.
    start();
    auto r = curl({"--http2", url("/healthz")});
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    EXPECT_NE(r.err.find("> Upgrade: h2c"), std::string::npos) << r.err;
    auto lines = status_lines(r.err);
    ASSERT_EQ(lines.size(), 2u) << r.err;
    EXPECT_EQ(lines[0].rfind("HTTP/1.1 101", 0), 0u) << lines[0];
    EXPECT_EQ(lines[1], "HTTP/2 200");
    EXPECT_EQ(r.out, "ok\n");
}

TEST_F(H2cCurlTest, PriorKnowledgeIsHttp2FromTheFirstByte) {
    // RFC 9113 §3.3: no 101; the connection starts with the preface.
    start();
    auto r = curl({"--http2-prior-knowledge", url("/healthz")});
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    auto lines = status_lines(r.err);
    ASSERT_EQ(lines.size(), 1u) << r.err;
    EXPECT_EQ(lines[0], "HTTP/2 200");
    EXPECT_EQ(r.out, "ok\n");
}

TEST_F(H2cCurlTest, PostBodyOnTheUpgradeRoute) {
    // RFC 7540 §3.2: the body goes in HTTP/1.1 before the switch and is echoed on stream 1.
    start();
    std::string const body = random_bytes(200 * 1024, 11);
    ASSERT_TRUE(dir_.write("up.bin", body));
    auto r = curl({"--http2", "-H", "Content-Type: application/octet-stream", "--data-binary",
                   "@" + dir_.file("up.bin"), "-o", dir_.file("out.bin"), url("/echo-body")});
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    auto lines = status_lines(r.err);
    ASSERT_EQ(lines.size(), 2u) << r.err;
    EXPECT_EQ(lines[0].rfind("HTTP/1.1 101", 0), 0u) << lines[0];
    EXPECT_EQ(lines[1], "HTTP/2 200");
    EXPECT_TRUE(read_file(dir_.file("out.bin")) == body) << "echoed body differs";
}

TEST_F(H2cCurlTest, PostBodyWithPriorKnowledge) {
    start();
    std::string const body = random_bytes(300 * 1024, 12);
    ASSERT_TRUE(dir_.write("up.bin", body));
    auto r = curl({"--http2-prior-knowledge", "-H", "Content-Type: application/octet-stream", "--data-binary",
                   "@" + dir_.file("up.bin"), "-o", dir_.file("out.bin"), url("/echo-body")});
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    EXPECT_EQ(status_lines(r.err), std::vector<std::string>{"HTTP/2 200"});
    EXPECT_TRUE(read_file(dir_.file("out.bin")) == body) << "echoed body differs";
}

TEST_F(H2cCurlTest, EarlyHintsArriveAsHttp2Interim) {
    // The demo page hints its stylesheet and script: 103 then 200 on the same stream.
    start();
    auto r = curl({"--http2-prior-knowledge", "-o", dir_.file("index.html"), url("/")});
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    auto lines = status_lines(r.err);
    ASSERT_EQ(lines.size(), 2u) << r.err;
    EXPECT_EQ(lines[0], "HTTP/2 103");
    EXPECT_EQ(lines[1], "HTTP/2 200");
    EXPECT_NE(r.err.find("< link: </style.css>; rel=preload; as=style"), std::string::npos) << r.err;
}

TEST_F(H2cCurlTest, ParallelTransfersShareOneConnection) {
    // RFC 9113 §5: curl --parallel multiplexes transfers on one HTTP/2 connection: the first
    // upgrades it (--http2), the others wait for it and share it. (Not with prior knowledge:
    // curl 7.88.1 fails to reuse such a connection, curl/curl#10634, fixed in 8.0.)
    start();
    std::vector<std::string> args{"--http2", "--parallel", "-w",
                                  "%{http_version} %{response_code} %{num_connects}\\n"};
    for (int i = 0; i < 8; ++i) {
        args.push_back("-o");
        args.push_back(dir_.file("p" + std::to_string(i)));
        args.push_back(url("/healthz"));
    }
    auto r = curl(args);
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    // Every transfer is HTTP/2 200; only one of them opened a connection.
    std::size_t ok = 0, connects = 0;
    std::size_t pos = 0;
    while (pos < r.out.size()) {
        auto const end = r.out.find('\n', pos);
        auto const line = r.out.substr(pos, end - pos);
        if (line.rfind("2 200 ", 0) == 0) {
            ++ok;
            connects += static_cast<std::size_t>(std::stoul(line.substr(6)));
        }
        pos = end == std::string::npos ? r.out.size() : end + 1;
    }
    EXPECT_EQ(ok, 8u) << r.out;
    EXPECT_EQ(connects, 1u) << r.out;
}

TEST_F(H2cCurlTest, HeadHasTheLengthOfGet) {
    // RFC 9110 §9.3.2 over HTTP/2: the fields GET would send, Content-Length included
    // (h2c_nghttp_test checks that no DATA follows).
    start();
    auto const file = read_file(std::string(UPSHIFT_SOURCE_DIR) + "/demo/site/style.css");
    ASSERT_TRUE(file);
    auto r = curl({"--http2-prior-knowledge", "-I", url("/style.css")});
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    EXPECT_EQ(r.out.rfind("HTTP/2 200", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("content-length: " + std::to_string(file->size()) + "\r\n"), std::string::npos)
        << r.out;
}

TEST_F(H2cCurlTest, NoH2cFlagKeepsHttp11) {
    start({"--no-h2c"});
    auto r = curl({"--http2", url("/healthz")});
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    EXPECT_EQ(status_lines(r.err), std::vector<std::string>{"HTTP/1.1 200 OK"});
    EXPECT_EQ(r.out, "ok\n");
}

} // namespace
} // namespace upshift::test
