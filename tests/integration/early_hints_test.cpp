// 103 Early Hints (RFC 8297) and 102 Processing from `upshift serve`, seen by curl and raw sockets.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "integration_helpers.hpp"

namespace upshift::test {
namespace {

std::vector<std::string> links_of(http_response const& r) {
    std::vector<std::string> out;
    for (auto const& [name, value] : r.headers)
        if (name == "Link") out.push_back(value);
    return out;
}

std::string run_curl_verbose(std::string const& curl, std::string const& url) {
    auto out = run_command({curl, "-sS", "-v", "--http1.1", "--max-time", "20", "-o", "/dev/null", url});
    EXPECT_TRUE(out.exit && out.exit->success()) << out;
    return out.out + out.err;
}

// RFC 8297 §2: a server sends 103 before the final response, with the Link fields it expects the
// final response to carry. The demo (no --root) hints the index page's stylesheet and script.
TEST(EarlyHints, CurlSees103BeforeTheDemoIndex) {
    auto curl = find_program("curl");
    if (!curl) {
        if (in_ci()) GTEST_FAIL() << "curl missing in CI";
        GTEST_SKIP() << "curl is not on PATH";
    }
    server_process server{std::vector<std::string>{}};
    ASSERT_TRUE(server.ready()) << server.error();
    std::string const v = run_curl_verbose(*curl, "http://" + server.authority() + "/");
    auto const hints = v.find("< HTTP/1.1 103 Early Hints");
    auto const final_response = v.find("< HTTP/1.1 200 OK");
    ASSERT_NE(hints, std::string::npos) << v;
    ASSERT_NE(final_response, std::string::npos) << v;
    EXPECT_LT(hints, final_response) << v;
    auto const css = v.find("< Link: </style.css>; rel=preload; as=style");
    EXPECT_NE(css, std::string::npos) << v;
    EXPECT_LT(css, final_response) << v;
    EXPECT_NE(v.find("< Link: </app.js>; rel=preload; as=script"), std::string::npos) << v;

    // Other paths get no hints.
    std::string const css_v = run_curl_verbose(*curl, "http://" + server.authority() + "/style.css");
    EXPECT_EQ(css_v.find("103"), std::string::npos) << css_v;
}

TEST(EarlyHints, ConfiguredPerPathAndNeverToHttp10) {
    temp_dir dir;
    ASSERT_TRUE(dir.ok());
    ASSERT_TRUE(dir.write("page.html", "<p>hi</p>\n"));
    server_process server{{"--root", dir.path(), "--early-hints", "/page.html=</a.css>; rel=preload; as=style",
                           "--early-hints", "/page.html=</b.js>; rel=preload; as=script"}};
    ASSERT_TRUE(server.ready()) << server.error();

    raw_client c{server.port()};
    ASSERT_TRUE(c.send_all(request("GET", "/page.html"))) << c.error();
    auto hints = c.read_response();
    ASSERT_TRUE(hints) << c.error();
    EXPECT_EQ(hints->status, 103);
    auto links = links_of(*hints);
    ASSERT_EQ(links.size(), 2u) << *hints;
    EXPECT_EQ(links[0], "</a.css>; rel=preload; as=style");
    EXPECT_EQ(links[1], "</b.js>; rel=preload; as=script");
    auto page = c.read_response();
    ASSERT_TRUE(page) << c.error();
    EXPECT_EQ(page->status, 200);
    EXPECT_EQ(page->body, "<p>hi</p>\n");

    // RFC 9110 §15.2: a server MUST NOT send a 1xx response to an HTTP/1.0 client.
    raw_client c10{server.port()};
    ASSERT_TRUE(c10.send_all(request("GET", "/page.html", {}, {}, "HTTP/1.0"))) << c10.error();
    auto r10 = c10.read_response();
    ASSERT_TRUE(r10) << c10.error();
    EXPECT_EQ(r10->status, 200);
}

TEST(EarlyHints, BadFlagIsAUsageError) {
    auto out = run_command({app_path(), "serve", "--early-hints", "no-equals-sign"});
    ASSERT_TRUE(out.exit);
    EXPECT_EQ(out.exit->code, 2) << out;
}

} // namespace
} // namespace upshift::test
