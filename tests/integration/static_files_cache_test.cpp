// The static file cache (app/file_cache.hpp) formats a file's Content-Type, ETag and Last-Modified
// once, when the file enters it, and sends the cached body without a per-request copy: a hit must
// answer exactly as the miss before it did, over HTTP/1.1 and HTTP/2, for GET and HEAD, empty files
// included; and a file stamped in the future still reports "now" on a hit (RFC 9110 §8.8.2.1).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "integration_helpers.hpp"

namespace upshift::test {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view page = "<!doctype html>\n<title>cached</title>\n<p>served from the cache</p>\n";

class StaticFilesCache : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(dir_.ok());
        ASSERT_TRUE(dir_.write("page.html", page));
        ASSERT_TRUE(dir_.write("empty.txt", ""));
        ASSERT_TRUE(dir_.write("future.txt", "from the future\n"));
        std::error_code ec;
        fs::last_write_time(dir_.file("future.txt"), fs::file_time_type::clock::now() + std::chrono::hours{48}, ec);
        ASSERT_FALSE(ec) << ec.message();
        // The default window (1 s): the requests below are hits without even a stat().
        // One thread: the cache is per thread, and every connection must find the same one.
        server_ = std::make_unique<server_process>(std::vector<std::string>{"--root", dir_.path(), "--threads", "1"});
        ASSERT_TRUE(server_->ready()) << server_->error();
    }
    std::uint16_t port() const { return server_->port(); }

    temp_dir dir_;
    std::unique_ptr<server_process> server_;
};

constexpr char const* metadata_fields[] = {"Content-Type",  "Content-Length", "ETag",
                                           "Last-Modified", "Cache-Control",  "X-Content-Type-Options"};

TEST_F(StaticFilesCache, HitsAnswerLikeTheMissOverHttp11) {
    for (std::string_view target : {"/page.html", "/empty.txt"}) {
        SCOPED_TRACE(target);
        raw_client c{port()};
        ASSERT_TRUE(c.connected()) << c.error();
        // Pipelined: the miss, two hits, and a HEAD hit (RFC 9110 §9.3.2: GET's fields, no content).
        ASSERT_TRUE(c.send_all(request("GET", target) + request("GET", target) + request("GET", target) +
                               request("HEAD", target)));
        auto first = c.read_response();
        ASSERT_TRUE(first) << c.error();
        EXPECT_EQ(first->status, 200);
        EXPECT_EQ(first->body, target == "/page.html" ? page : "");
        for (int i = 0; i < 3; ++i) {
            bool const is_head = i == 2;
            auto r = c.read_response(5s, is_head);
            ASSERT_TRUE(r) << c.error();
            EXPECT_EQ(r->status, 200) << *r;
            EXPECT_EQ(r->body, is_head ? "" : first->body);
            for (auto name : metadata_fields) {
                ASSERT_TRUE(first->header(name)) << name << "\n" << *first;
                EXPECT_EQ(r->header(name), first->header(name)) << name;
            }
        }
    }
}

TEST_F(StaticFilesCache, HitsAnswerLikeTheMissOverHttp2) {
    UPSHIFT_REQUIRE_TOOL(nghttp, "nghttp");
    // Prior knowledge (RFC 9113 §3.3), three streams on one connection: the query differs (nghttp
    // fetches each URI once) but the file is the same, so the first is the miss and the rest hit.
    std::string const url = "http://127.0.0.1:" + std::to_string(port()) + "/page.html?";
    auto out = run_command({*nghttp, "-t", "20", "-v", url + "1", url + "2", url + "3"});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    // Each stream's response fields, from "recv (stream_id=N) name: value" lines; Date may tick
    // between the responses, everything else must be the same.
    std::map<std::string, std::string> fields;
    std::istringstream lines{out.out};
    for (std::string line; std::getline(lines, line);) {
        static constexpr std::string_view tag = "recv (stream_id=";
        auto const at = line.find(tag);
        if (at == std::string::npos) continue;
        auto const close = line.find(") ", at);
        ASSERT_NE(close, std::string::npos) << line;
        std::string const field = line.substr(close + 2);
        if (field.rfind("date: ", 0) == 0) continue;
        fields[line.substr(at + tag.size(), close - at - tag.size())] += field + "\n";
    }
    ASSERT_EQ(fields.size(), 3u) << out.out;
    auto const& first = fields.begin()->second;
    for (std::string const& field : std::vector<std::string>{":status: 200", "content-type: text/html", "etag: \"",
                                                            "last-modified: ", "cache-control: no-cache",
                                                            "content-length: " + std::to_string(page.size()),
                                                            "x-content-type-options: nosniff"})
        EXPECT_NE(first.find(field), std::string::npos) << field << "\n" << first;
    for (auto const& [stream, f] : fields) EXPECT_EQ(f, first) << "stream " << stream;
    // The bodies (nghttp writes them to stdout between its frame log).
    std::size_t bodies = 0;
    for (auto at = out.out.find(page); at != std::string::npos; at = out.out.find(page, at + 1)) ++bodies;
    EXPECT_EQ(bodies, 3u) << out.out;
}

TEST_F(StaticFilesCache, FutureStampedFileReportsNowOnAHit) {
    // RFC 9110 §8.8.2.1: Last-Modified never later than Date, on the miss and on later hits.
    raw_client c{port()};
    ASSERT_TRUE(c.connected()) << c.error();
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(c.send_all(request("GET", "/future.txt")));
        auto r = c.read_response();
        ASSERT_TRUE(r) << c.error();
        EXPECT_EQ(r->body, "from the future\n");
        ASSERT_TRUE(r->header("Last-Modified") && r->header("Date")) << *r;
        EXPECT_EQ(r->header("Last-Modified"), r->header("Date")) << "response " << i << "\n" << *r;
    }
}

} // namespace
} // namespace upshift::test
