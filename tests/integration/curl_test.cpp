// upshift driven by a real client: curl against `upshift serve` (static files, HEAD, conditional
// requests, echo uploads with Content-Length and chunked framing, errors).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "integration_helpers.hpp"

namespace upshift::test {
namespace {

class CurlTest : public ::testing::Test {
protected:
    void SetUp() override {
        curl_ = find_program("curl");
        if (!curl_) {
            if (in_ci())
                GTEST_FAIL() << "curl is not on PATH but CI is set: scripts/install-deps installs it";
            GTEST_SKIP() << "curl is not on PATH (run scripts/install-deps)";
        }
        ASSERT_TRUE(site_.dir.ok());
        server_ = std::make_unique<server_process>(std::vector<std::string>{"--root", site_.root()});
        ASSERT_TRUE(server_->ready()) << server_->error();
    }

    std::string url(std::string_view path) const {
        return "http://" + server_->authority() + std::string{path};
    }

    // Runs curl with `args`, asserting it exits 0, and parses the `-i`/`-I` output.
    http_response curl_response(std::vector<std::string> args, bool head = false) {
        std::vector<std::string> argv{*curl_, "-sS", "--http1.1", "--max-time", "20"};
        argv.insert(argv.end(), args.begin(), args.end());
        auto out = run_command(argv);
        EXPECT_TRUE(out.exit && out.exit->success()) << out;
        std::string err;
        auto all = parse_responses(out.out, head, &err);
        EXPECT_TRUE(all) << err << "\ncurl output:\n" << out.out.substr(0, 2000);
        if (!all) return {};
        return all->back(); // interim responses (100 Continue) come first
    }

    // Runs curl writing the body to a file; returns {status from -w, body bytes}.
    std::pair<std::string, std::string> curl_to_file(std::vector<std::string> args) {
        std::string body_path = out_dir_.file("body.out");
        std::vector<std::string> argv{*curl_, "-sS",     "--http1.1", "--max-time",  "30",
                                      "-o",   body_path, "-w",        "%{http_code}"};
        argv.insert(argv.end(), args.begin(), args.end());
        auto out = run_command(argv, std::chrono::seconds{40});
        EXPECT_TRUE(out.exit && out.exit->success()) << out;
        return {out.out, read_file(body_path).value_or("<no body file>")};
    }

    std::optional<std::string> curl_;
    test_site site_;
    temp_dir out_dir_;
    std::unique_ptr<server_process> server_;
};

// RFC 9110 §6.6.1 (Date from an origin server with a clock), §10.2.4 (Server), §8.3 (Content-Type).
TEST_F(CurlTest, GetRootServesIndexHtml) {
    auto r = curl_response({"-i", url("/")});
    EXPECT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.version_major, 1);
    EXPECT_EQ(r.version_minor, 1);
    ASSERT_TRUE(r.header("Content-Type")) << r;
    EXPECT_EQ(r.header("Content-Type")->rfind("text/html", 0), 0U) << r;
    EXPECT_EQ(r.body, site_.index_html);
    EXPECT_EQ(r.header("Content-Length"), std::to_string(site_.index_html.size())) << r;
    EXPECT_TRUE(r.header("Date")) << r;
    EXPECT_EQ(r.header("Server"), "upshift") << r;
    EXPECT_TRUE(r.header("ETag")) << r;
    EXPECT_TRUE(r.header("Last-Modified")) << r;
}

TEST_F(CurlTest, StaticFilesHaveTheirContentTypes) {
    auto css = curl_response({"-i", url("/style.css")});
    EXPECT_EQ(css.status, 200);
    EXPECT_EQ(css.header("Content-Type").value_or("").rfind("text/css", 0), 0U) << css;
    EXPECT_EQ(css.body, site_.style_css);
    auto js = curl_response({"-i", url("/app.js")});
    EXPECT_EQ(js.status, 200);
    EXPECT_NE(js.header("Content-Type").value_or("").find("javascript"), std::string::npos) << js;
    EXPECT_EQ(js.body, site_.app_js);
}

// RFC 9110 §9.3.2: HEAD gets the same header fields as GET, and no content.
TEST_F(CurlTest, HeadHasGetHeadersAndNoBody) {
    auto get = curl_response({"-i", url("/index.html")});
    auto head = curl_response({"-I", url("/index.html")}, true);
    EXPECT_EQ(head.status, 200) << head;
    EXPECT_TRUE(head.body.empty());
    for (auto name : {"Content-Type", "Content-Length", "ETag", "Last-Modified"})
        EXPECT_EQ(head.header(name), get.header(name)) << name << "\nGET:\n" << get << "\nHEAD:\n" << head;
}

// RFC 9110 §13.1.2 If-None-Match and §15.4.5: a 304 carries ETag and Date and has no content.
TEST_F(CurlTest, IfNoneMatchGives304) {
    auto first = curl_response({"-i", url("/style.css")});
    auto etag = first.header("ETag");
    ASSERT_TRUE(etag) << first;
    auto again = curl_response({"-i", "-H", "If-None-Match: " + *etag, url("/style.css")});
    EXPECT_EQ(again.status, 304) << again;
    EXPECT_TRUE(again.body.empty());
    EXPECT_EQ(again.header("ETag"), etag);
    EXPECT_TRUE(again.header("Date"));
    // A different tag does not match: full response.
    auto other = curl_response({"-i", "-H", "If-None-Match: \"not-the-tag\"", url("/style.css")});
    EXPECT_EQ(other.status, 200) << other;
    EXPECT_EQ(other.body, site_.style_css);
}

// RFC 9110 §13.1.3 If-Modified-Since.
TEST_F(CurlTest, IfModifiedSinceGives304) {
    auto first = curl_response({"-i", url("/app.js")});
    auto lm = first.header("Last-Modified");
    ASSERT_TRUE(lm) << first;
    auto again = curl_response({"-i", "-H", "If-Modified-Since: " + *lm, url("/app.js")});
    EXPECT_EQ(again.status, 304) << again;
    EXPECT_TRUE(again.body.empty());
    auto old =
        curl_response({"-i", "-H", "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT", url("/app.js")});
    EXPECT_EQ(old.status, 200) << old;
}

TEST_F(CurlTest, EchoBodyRoundTripsOneMebibyte) {
    std::string body = random_bytes(1 << 20);
    ASSERT_TRUE(out_dir_.write("upload.bin", body));
    // Built in two steps: GCC 12 gives a false -Wrestrict on `"@" + std::string` (GCC bug 105329).
    std::string upload = "@";
    upload += out_dir_.file("upload.bin");
    auto [status, echoed] = curl_to_file({"--data-binary", upload, url("/echo-body")});
    EXPECT_EQ(status, "200");
    EXPECT_EQ(echoed.size(), body.size());
    EXPECT_TRUE(echoed == body) << "echoed body differs";
}

// RFC 9112 §7.1: a chunked request body is decoded before the handler sees it.
TEST_F(CurlTest, ChunkedUploadEchoes) {
    std::string body = random_bytes(300 * 1024, 99);
    ASSERT_TRUE(out_dir_.write("upload.bin", body));
    std::string upload = "@";
    upload += out_dir_.file("upload.bin");
    auto [status, echoed] =
        curl_to_file({"-H", "Transfer-Encoding: chunked", "--data-binary", upload, url("/echo-body")});
    EXPECT_EQ(status, "200");
    EXPECT_EQ(echoed.size(), body.size());
    EXPECT_TRUE(echoed == body) << "echoed body differs";
}

TEST_F(CurlTest, Healthz) {
    auto r = curl_response({"-i", url("/healthz")});
    EXPECT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.body, "ok\n");
}

// RFC 9110 §15.5.5.
TEST_F(CurlTest, MissingFileIs404) {
    auto r = curl_response({"-i", url("/no/such/file.html")});
    EXPECT_EQ(r.status, 404) << r;
}

// RFC 9110 §15.5.6: a 405 MUST carry Allow.
TEST_F(CurlTest, UnsupportedMethodIs405WithAllow) {
    auto r = curl_response({"-i", "-X", "DELETE", url("/index.html")});
    EXPECT_EQ(r.status, 405) << r;
    auto allow = r.header("Allow");
    ASSERT_TRUE(allow) << r;
    EXPECT_TRUE(r.has_token("Allow", "GET")) << *allow;
    EXPECT_TRUE(r.has_token("Allow", "HEAD")) << *allow;
}

// The default document root is the demo site shipped in demo/site/.
TEST(CurlDefaultRoot, ServesTheDemoSite) {
    UPSHIFT_REQUIRE_TOOL(curl, "curl");
    server_process server{};
    ASSERT_TRUE(server.ready()) << server.error();
    for (auto name : {"index.html", "style.css", "app.js"}) {
        auto expected = read_file(std::string{UPSHIFT_SOURCE_DIR} + "/demo/site/" + name);
        ASSERT_TRUE(expected) << "demo/site/" << name << " is missing";
        auto out = run_command({*curl, "-sS", "--max-time", "20", "-o", "-", "-w", "\n%{http_code}",
                                "http://" + server.authority() + "/" + name});
        ASSERT_TRUE(out.exit && out.exit->success()) << out;
        EXPECT_EQ(out.out, *expected + "\n200") << name;
    }
}

} // namespace
} // namespace upshift::test
