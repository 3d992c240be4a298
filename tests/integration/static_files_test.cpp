// `upshift serve --root DIR`: static files over a raw socket. Content types, directory
// handling, HEAD, validators and conditional requests (RFC 9110 §13), and requests that try to
// leave the document root. The root is a fresh temp directory whose parent holds a secret file;
// no response may ever contain it.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "integration_helpers.hpp"

namespace upshift::test {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view secret = "upshift-secret-b7e1d9: this must never be served\n";

// Resident set size of `pid` in KiB, from /proc (0 if unreadable).
std::size_t resident_kib(pid_t pid) {
    std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
    return 0;
}

class StaticFilesTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(dir_.ok());
        std::error_code ec;
        for (auto d : {"root/sub", "root/empty-dir", "root/.hidden-dir", "root/.well-known"}) {
            fs::create_directories(dir_.file(d), ec);
            ASSERT_FALSE(ec) << d << ": " << ec.message();
        }
        ASSERT_TRUE(dir_.write("secret.txt", secret));
        ASSERT_TRUE(put("index.html", index_html_));
        ASSERT_TRUE(put("style.css", "body { margin: 0; }\n"));
        ASSERT_TRUE(put("app.js", "console.log(1);\n"));
        ASSERT_TRUE(put("module.mjs", "export {};\n"));
        ASSERT_TRUE(put("data.json", "{\"a\": 1}\n"));
        ASSERT_TRUE(put("icon.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n"));
        ASSERT_TRUE(put("pixel.png", std::string{"\x89PNG\r\n\x1a\n", 8}));
        ASSERT_TRUE(put("notes.txt", "notes\n"));
        ASSERT_TRUE(put("UPPER.HTML", "<p>upper</p>\n"));
        ASSERT_TRUE(put("blob.xyz", "?\n"));
        ASSERT_TRUE(put("noext", "no extension\n"));
        ASSERT_TRUE(put("empty.txt", ""));
        ASSERT_TRUE(put("hello world.txt", "spaced\n"));
        ASSERT_TRUE(put("caf\xC3\xA9.txt", "utf-8 name\n"));
        ASSERT_TRUE(put("sub/index.html", sub_index_));
        ASSERT_TRUE(put("sub/page.html", "<p>page</p>\n"));
        ASSERT_TRUE(put(".env", secret));
        ASSERT_TRUE(put(".hidden-dir/file.txt", secret));
        ASSERT_TRUE(put(".well-known/security.txt", "Contact: mailto:security@example.com\n"));
        fs::create_symlink("../secret.txt", dir_.file("root/link-out"), ec);
        ASSERT_FALSE(ec) << ec.message();
        fs::create_symlink(dir_.path(), dir_.file("root/dir-link-out"), ec);
        ASSERT_FALSE(ec) << ec.message();
        fs::create_symlink("style.css", dir_.file("root/link-in.css"), ec);
        ASSERT_FALSE(ec) << ec.message();

        // These tests edit files between requests; the default cache window (1 s) is tested below.
        server_ = std::make_unique<server_process>(
            std::vector<std::string>{"--root", root(), "--file-cache-valid", "0"});
        ASSERT_TRUE(server_->ready()) << server_->error();
    }

    std::string root() const { return dir_.file("root"); }
    bool put(std::string_view name, std::string_view content) const {
        return dir_.write("root/" + std::string{name}, content);
    }
    std::uint16_t port() const { return server_->port(); }

    std::optional<http_response> get(std::string_view target, std::vector<std::string> const& headers = {}) {
        return fetch(port(), request("GET", target, headers));
    }
    std::optional<http_response> head(std::string_view target, std::vector<std::string> const& headers = {}) {
        return fetch(port(), request("HEAD", target, headers), true);
    }

    // Asserts a 404 (or `status`) that does not leak the secret.
    void expect_refused(std::string_view target, int status = 404) {
        auto r = get(target);
        ASSERT_TRUE(r) << target;
        EXPECT_EQ(r->status, status) << target << "\n" << *r;
        EXPECT_EQ(r->body.find(secret), std::string::npos) << target << " leaked the secret";
    }

    temp_dir dir_;
    std::string index_html_ = "<!doctype html>\n<title>root</title>\n";
    std::string sub_index_ = "<!doctype html>\n<title>sub</title>\n";
    std::unique_ptr<server_process> server_;
};

// RFC 9110 §8.3: a response with content SHOULD carry Content-Type; text types name their charset.
TEST_F(StaticFilesTest, ContentTypesByExtension) {
    struct expectation {
        std::string_view target;
        std::string_view type;
    };
    for (auto const& [target, type] : {
             expectation{"/index.html", "text/html; charset=utf-8"},
             expectation{"/UPPER.HTML", "text/html; charset=utf-8"},
             expectation{"/style.css", "text/css; charset=utf-8"},
             expectation{"/app.js", "text/javascript; charset=utf-8"},
             expectation{"/module.mjs", "text/javascript; charset=utf-8"},
             expectation{"/notes.txt", "text/plain; charset=utf-8"},
             expectation{"/data.json", "application/json"},
             expectation{"/icon.svg", "image/svg+xml"},
             expectation{"/pixel.png", "image/png"},
             expectation{"/blob.xyz", "application/octet-stream"},
             expectation{"/noext", "application/octet-stream"},
         }) {
        auto r = get(target);
        ASSERT_TRUE(r) << target;
        EXPECT_EQ(r->status, 200) << target << "\n" << *r;
        EXPECT_EQ(r->header("Content-Type"), std::string{type}) << target;
        // Browsers must not second-guess the type of files from an arbitrary directory.
        EXPECT_EQ(r->header("X-Content-Type-Options"), "nosniff") << target;
    }
    auto png = get("/pixel.png");
    ASSERT_TRUE(png);
    EXPECT_EQ(png->body, std::string("\x89PNG\r\n\x1a\n", 8));
}

TEST_F(StaticFilesTest, EmptyFileHasZeroLength) {
    auto r = get("/empty.txt");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("Content-Length"), "0");
    EXPECT_TRUE(r->body.empty());
}

// RFC 3986 §2.1: the path is percent-decoded before it names a file; the query is not part of it.
TEST_F(StaticFilesTest, PercentEncodedNamesAndQueryString) {
    auto spaced = get("/hello%20world.txt");
    ASSERT_TRUE(spaced);
    EXPECT_EQ(spaced->status, 200) << *spaced;
    EXPECT_EQ(spaced->body, "spaced\n");
    auto utf8 = get("/caf%C3%A9.txt");
    ASSERT_TRUE(utf8);
    EXPECT_EQ(utf8->status, 200) << *utf8;
    EXPECT_EQ(utf8->body, "utf-8 name\n");
    auto lower_hex = get("/caf%c3%a9.txt");
    ASSERT_TRUE(lower_hex);
    EXPECT_EQ(lower_hex->status, 200) << *lower_hex;
    auto query = get("/style.css?v=3&x=%2e%2e");
    ASSERT_TRUE(query);
    EXPECT_EQ(query->status, 200) << *query;
    EXPECT_EQ(query->body, "body { margin: 0; }\n");
    auto dot_segments = get("/./sub//page.html");
    ASSERT_TRUE(dot_segments);
    EXPECT_EQ(dot_segments->status, 200) << *dot_segments;
}

// RFC 9112 §3.2.2: a server MUST accept the absolute-form of request-target.
TEST_F(StaticFilesTest, AbsoluteFormTarget) {
    auto r = get("http://127.0.0.1/style.css");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << *r;
    EXPECT_EQ(r->body, "body { margin: 0; }\n");
}

TEST_F(StaticFilesTest, DirectoryWithSlashServesIndex) {
    auto root_index = get("/");
    ASSERT_TRUE(root_index);
    EXPECT_EQ(root_index->status, 200);
    EXPECT_EQ(root_index->body, index_html_);
    EXPECT_EQ(root_index->header("Content-Type"), "text/html; charset=utf-8");
    auto sub = get("/sub/");
    ASSERT_TRUE(sub);
    EXPECT_EQ(sub->status, 200) << *sub;
    EXPECT_EQ(sub->body, sub_index_);
}

// RFC 9110 §15.4.2: 301 with a Location; relative links on the index page need the slash.
TEST_F(StaticFilesTest, DirectoryWithoutSlashRedirects) {
    auto r = get("/sub");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 301) << *r;
    EXPECT_EQ(r->header("Location"), "/sub/");
    auto with_query = get("/sub?page=2");
    ASSERT_TRUE(with_query);
    EXPECT_EQ(with_query->status, 301);
    EXPECT_EQ(with_query->header("Location"), "/sub/?page=2");
    auto head_redirect = head("/sub");
    ASSERT_TRUE(head_redirect);
    EXPECT_EQ(head_redirect->status, 301);
    EXPECT_EQ(head_redirect->header("Location"), "/sub/");
}

// "//host" in a Location is a network-path reference (RFC 3986 §4.2): another origin. A request
// for "//sub" must be redirected to the local path, not to a host named "sub".
TEST_F(StaticFilesTest, RedirectNeverLeavesTheOrigin) {
    auto r = get("//sub");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 301) << *r;
    EXPECT_EQ(r->header("Location"), "/sub/");
    auto dot = get("/.");
    ASSERT_TRUE(dot);
    if (dot->status == 301) {
        EXPECT_EQ(dot->header("Location"), "/");
    }
}

TEST_F(StaticFilesTest, DirectoryWithoutIndexIs404) {
    auto r = get("/empty-dir/");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404) << *r;
}

// RFC 9110 §15.5.5.
TEST_F(StaticFilesTest, MissingFileIs404WithSmallTextBody) {
    auto r = get("/does/not/exist.html");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404);
    EXPECT_EQ(r->header("Content-Type").value_or("").rfind("text/plain", 0), 0U) << *r;
    EXPECT_FALSE(r->body.empty());
    EXPECT_LT(r->body.size(), 100U);
    // A file name followed by '/' is not a directory.
    auto file_as_dir = get("/style.css/");
    ASSERT_TRUE(file_as_dir);
    EXPECT_EQ(file_as_dir->status, 404) << *file_as_dir;
}

// RFC 9110 §15.5.6: an origin server MUST generate an Allow field in a 405 response.
TEST_F(StaticFilesTest, OtherMethodsAre405WithAllow) {
    for (auto method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"}) {
        auto r = fetch(port(), request(method, "/index.html", {}, method == std::string_view{"POST"} ? "x" : ""));
        ASSERT_TRUE(r) << method;
        EXPECT_EQ(r->status, 405) << method << "\n" << *r;
        EXPECT_TRUE(r->has_token("Allow", "GET")) << method << "\n" << *r;
        EXPECT_TRUE(r->has_token("Allow", "HEAD")) << method << "\n" << *r;
    }
}

// RFC 9110 §9.3.2: HEAD gets the same header fields as GET (Content-Length included, §8.6) and no
// content. Pipelining a GET behind the HEAD proves that no body bytes followed the head.
TEST_F(StaticFilesTest, HeadMatchesGetWithoutBody) {
    auto g = get("/style.css");
    ASSERT_TRUE(g);
    raw_client c{port()};
    ASSERT_TRUE(c.connected()) << c.error();
    ASSERT_TRUE(c.send_all(request("HEAD", "/style.css") + request("GET", "/healthz")));
    auto h = c.read_response(5s, true);
    ASSERT_TRUE(h) << c.error();
    EXPECT_EQ(h->status, 200);
    EXPECT_TRUE(h->body.empty());
    for (auto name : {"Content-Type", "Content-Length", "ETag", "Last-Modified", "Cache-Control"})
        EXPECT_EQ(h->header(name), g->header(name)) << name;
    auto next = c.read_response();
    ASSERT_TRUE(next) << c.error();
    EXPECT_EQ(next->status, 200);
    EXPECT_EQ(next->body, "ok\n");
}

TEST_F(StaticFilesTest, HeadOfLargeFileHasItsLengthAndNoBody) {
    std::string big = random_bytes(3u << 20, 5);
    ASSERT_TRUE(put("big.bin", big));
    raw_client c{port()};
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send_all(request("HEAD", "/big.bin") + request("GET", "/healthz")));
    auto h = c.read_response(5s, true);
    ASSERT_TRUE(h) << c.error();
    EXPECT_EQ(h->status, 200);
    EXPECT_EQ(h->header("Content-Length"), std::to_string(big.size()));
    auto next = c.read_response();
    ASSERT_TRUE(next) << c.error();
    EXPECT_EQ(next->body, "ok\n");
}

// RFC 9110 §13.1.2: If-None-Match uses the weak comparison and accepts a list or "*"; for GET and
// HEAD a match is answered 304. §15.4.5: the 304 MUST carry the ETag (and Date) a 200 would,
// and never content.
TEST_F(StaticFilesTest, IfNoneMatchGives304) {
    auto first = get("/style.css");
    ASSERT_TRUE(first);
    auto etag = first->header("ETag");
    ASSERT_TRUE(etag) << *first;
    ASSERT_GE(etag->size(), 2U);
    EXPECT_EQ(etag->front(), '"') << *etag;

    std::vector<std::string> const matching{*etag, "\"other\", " + *etag, "*", "W/" + *etag,
                                            "\"a\",\t" + *etag + " , \"b\""};
    for (auto const& inm : matching) {
        // Pipelined with a following request: a 304 with a body would corrupt the next response.
        raw_client c{port()};
        ASSERT_TRUE(c.connected());
        ASSERT_TRUE(c.send_all(request("GET", "/style.css", {"If-None-Match: " + inm}) + request("GET", "/healthz")));
        auto r = c.read_response();
        ASSERT_TRUE(r) << c.error();
        EXPECT_EQ(r->status, 304) << "If-None-Match: " << inm << "\n" << *r;
        EXPECT_TRUE(r->body.empty());
        EXPECT_EQ(r->header("ETag"), etag);
        EXPECT_TRUE(r->header("Date"));
        EXPECT_EQ(r->header("Cache-Control"), first->header("Cache-Control"));
        auto next = c.read_response();
        ASSERT_TRUE(next) << c.error();
        EXPECT_EQ(next->body, "ok\n");
    }
    // The list may also be split over several field lines (RFC 9110 §5.3).
    auto split = get("/style.css", {"If-None-Match: \"x\"", "If-None-Match: " + *etag});
    ASSERT_TRUE(split);
    EXPECT_EQ(split->status, 304) << *split;

    auto head_r = head("/style.css", {"If-None-Match: " + *etag});
    ASSERT_TRUE(head_r);
    EXPECT_EQ(head_r->status, 304);

    for (std::string const& miss : {std::string{"\"nope\""}, std::string{"\"a\", \"b\""}, etag->substr(1)}) {
        auto r = get("/style.css", {"If-None-Match: " + miss});
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 200) << "If-None-Match: " << miss;
        EXPECT_EQ(r->body, "body { margin: 0; }\n");
    }
}

// RFC 9110 §13.1.3: If-Modified-Since: not modified since the date -> 304; a date that is not a
// valid HTTP-date is ignored.
TEST_F(StaticFilesTest, IfModifiedSinceGives304) {
    auto first = get("/app.js");
    ASSERT_TRUE(first);
    auto lm = first->header("Last-Modified");
    ASSERT_TRUE(lm) << *first;
    auto same = get("/app.js", {"If-Modified-Since: " + *lm});
    ASSERT_TRUE(same);
    EXPECT_EQ(same->status, 304) << *same;
    EXPECT_TRUE(same->body.empty());
    EXPECT_TRUE(same->header("ETag"));
    auto later = get("/app.js", {"If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT"});
    ASSERT_TRUE(later);
    EXPECT_EQ(later->status, 304) << *later;
    auto older = get("/app.js", {"If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT"});
    ASSERT_TRUE(older);
    EXPECT_EQ(older->status, 200);
    EXPECT_EQ(older->body, "console.log(1);\n");
    auto junk = get("/app.js", {"If-Modified-Since: yesterday"});
    ASSERT_TRUE(junk);
    EXPECT_EQ(junk->status, 200);
}

// RFC 9110 §13.1.3: a recipient MUST ignore If-Modified-Since if the request contains
// If-None-Match, which is the more accurate validator.
TEST_F(StaticFilesTest, IfNoneMatchTakesPrecedenceOverIfModifiedSince) {
    auto first = get("/notes.txt");
    ASSERT_TRUE(first);
    auto lm = first->header("Last-Modified");
    auto etag = first->header("ETag");
    ASSERT_TRUE(lm && etag);
    auto r = get("/notes.txt", {"If-None-Match: \"stale\"", "If-Modified-Since: " + *lm});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << *r;
    EXPECT_EQ(r->body, "notes\n");
    auto both = get("/notes.txt", {"If-None-Match: " + *etag, "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT"});
    ASSERT_TRUE(both);
    EXPECT_EQ(both->status, 304) << *both;
}

// RFC 9110 §13.1.1 and §13.1.4: an origin server MUST evaluate If-Match (strong comparison) and
// If-Unmodified-Since; a false condition is 412.
TEST_F(StaticFilesTest, IfMatchAndIfUnmodifiedSince) {
    auto first = get("/notes.txt");
    ASSERT_TRUE(first);
    auto etag = first->header("ETag");
    ASSERT_TRUE(etag);
    auto match = get("/notes.txt", {"If-Match: " + *etag});
    ASSERT_TRUE(match);
    EXPECT_EQ(match->status, 200);
    auto any = get("/notes.txt", {"If-Match: *"});
    ASSERT_TRUE(any);
    EXPECT_EQ(any->status, 200);
    auto miss = get("/notes.txt", {"If-Match: \"other\""});
    ASSERT_TRUE(miss);
    EXPECT_EQ(miss->status, 412) << *miss;
    auto weak = get("/notes.txt", {"If-Match: W/" + *etag});  // weak tags never match strongly
    ASSERT_TRUE(weak);
    EXPECT_EQ(weak->status, 412) << *weak;
    auto unmodified = get("/notes.txt", {"If-Unmodified-Since: Sat, 01 Jan 2000 00:00:00 GMT"});
    ASSERT_TRUE(unmodified);
    EXPECT_EQ(unmodified->status, 412) << *unmodified;
    auto fine = get("/notes.txt", {"If-Unmodified-Since: Fri, 01 Jan 2100 00:00:00 GMT"});
    ASSERT_TRUE(fine);
    EXPECT_EQ(fine->status, 200);
}

// A changed file gets a new validator, so a cached copy is not revalidated as current.
TEST_F(StaticFilesTest, EtagChangesWithContent) {
    ASSERT_TRUE(put("changing.txt", "version one\n"));
    auto v1 = get("/changing.txt");
    ASSERT_TRUE(v1);
    auto tag1 = v1->header("ETag");
    ASSERT_TRUE(tag1);
    ASSERT_TRUE(put("changing.txt", "version two, longer\n"));
    auto v2 = get("/changing.txt", {"If-None-Match: " + *tag1});
    ASSERT_TRUE(v2);
    EXPECT_EQ(v2->status, 200) << *v2;
    EXPECT_EQ(v2->body, "version two, longer\n");
    EXPECT_NE(v2->header("ETag"), tag1);
}

// The small-file cache trusts an entry for --file-cache-valid seconds, then one stat() notices the edit.
TEST_F(StaticFilesTest, CachedFileIsRevalidatedAfterItsWindow) {
    server_process cached{{"--root", root(), "--file-cache-valid", "0.3"}};
    ASSERT_TRUE(cached.ready()) << cached.error();
    ASSERT_TRUE(put("cached.txt", "first\n"));
    auto v1 = fetch(cached.port(), request("GET", "/cached.txt"));
    ASSERT_TRUE(v1);
    EXPECT_EQ(v1->body, "first\n");
    ASSERT_TRUE(put("cached.txt", "second, longer\n"));
    auto const edited = std::chrono::steady_clock::now();
    // Poll: within the window the old bytes are allowed; after it, only the new ones.
    std::optional<http_response> v2;
    do {
        v2 = fetch(cached.port(), request("GET", "/cached.txt"));
        ASSERT_TRUE(v2);
        if (v2->body == "second, longer\n") break;
        EXPECT_EQ(v2->body, "first\n");
        std::this_thread::sleep_for(std::chrono::milliseconds{50});
    } while (std::chrono::steady_clock::now() - edited < std::chrono::seconds{5});
    EXPECT_EQ(v2->body, "second, longer\n");
    EXPECT_EQ(v2->header("Content-Length"), "15");
}

// RFC 9110 §8.8.2.1: an origin server MUST NOT send a Last-Modified date later than the message's
// origination date; a file stamped in the future is reported as modified "now".
TEST_F(StaticFilesTest, FutureModificationTimeIsClamped) {
    ASSERT_TRUE(put("future.txt", "from the future\n"));
    std::error_code ec;
    fs::last_write_time(dir_.file("root/future.txt"), fs::file_time_type::clock::now() + std::chrono::hours{48}, ec);
    ASSERT_FALSE(ec) << ec.message();
    auto r = get("/future.txt");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    ASSERT_TRUE(r->header("Last-Modified") && r->header("Date")) << *r;
    // Both come from the same cached clock reading, so "now" is the Date value exactly.
    EXPECT_EQ(r->header("Last-Modified"), r->header("Date")) << *r;
}

// Requests that try to leave the document root are refused however they are spelled.
TEST_F(StaticFilesTest, TraversalIsRefused) {
    for (auto target : {
             "/../secret.txt",
             "/sub/../../secret.txt",
             "/%2e%2e/secret.txt",
             "/%2E%2E/secret.txt",
             "/.%2e/secret.txt",
             "/sub/%2e%2e/%2e%2e/secret.txt",
             "/..%2fsecret.txt",        // encoded slash: one segment "../secret.txt"
             "/sub%2f..%2f..%2fsecret.txt",
             "/%2fetc%2fpasswd",
             "/..%5csecret.txt",        // backslash is an ordinary name character on POSIX
             "/secret.txt%00.html",     // NUL would truncate a C string path
             "/index.html%00",
             "http://127.0.0.1/../secret.txt",
         })
        expect_refused(target);
}

// A symlink inside the root that resolves outside it is not followed out (realpath check);
// one that stays inside works.
TEST_F(StaticFilesTest, SymlinksLeavingTheRootAre404) {
    expect_refused("/link-out");
    expect_refused("/dir-link-out/secret.txt");
    expect_refused("/dir-link-out/");
    auto inside = get("/link-in.css");
    ASSERT_TRUE(inside);
    EXPECT_EQ(inside->status, 200);
    EXPECT_EQ(inside->body, "body { margin: 0; }\n");
}

// Hidden names (".env", ".git/") are not served; ".well-known" (RFC 8615) is.
TEST_F(StaticFilesTest, HiddenFilesAre404ExceptWellKnown) {
    expect_refused("/.env");
    expect_refused("/%2eenv");
    expect_refused("/.hidden-dir/file.txt");
    auto wk = get("/.well-known/security.txt");
    ASSERT_TRUE(wk);
    EXPECT_EQ(wk->status, 200) << *wk;
}

// RFC 3986 §2.1: '%' must start a two-hex-digit escape; anything else is a malformed target (400).
TEST_F(StaticFilesTest, MalformedPercentEncodingIs400) {
    for (auto target : {"/a%zz", "/a%2", "/%", "/%g0/x"}) expect_refused(target, 400);
}

// Large files are streamed: a client that stops reading costs the server a bounded amount of
// memory (about the send high-water mark), not the file, and others are served meanwhile.
TEST_F(StaticFilesTest, LargeFileStreamsWithBoundedMemory) {
    std::string big = random_bytes(48u << 20, 11);
    ASSERT_TRUE(put("big.bin", big));
    std::size_t const before = resident_kib(server_->pid());
    ASSERT_GT(before, 0U);

    raw_client c{port()};
    ASSERT_TRUE(c.connected()) << c.error();
    ASSERT_TRUE(c.send_all(request("GET", "/big.bin")));
    auto head_bytes = c.read_until("\r\n\r\n");
    ASSERT_TRUE(head_bytes) << c.error();
    auto h = parse_response(*head_bytes, true);
    ASSERT_EQ(h.what, parse_outcome::kind::complete) << h.error;
    EXPECT_EQ(h.response.status, 200);
    EXPECT_EQ(h.response.header("Content-Length"), std::to_string(big.size()));
    EXPECT_EQ(h.response.header("Content-Type"), "application/octet-stream");

    // Not reading: the server fills the socket buffers and its queue, then must wait.
    std::this_thread::sleep_for(std::chrono::milliseconds{500});
    std::size_t const stalled = resident_kib(server_->pid());
    EXPECT_LT(stalled, before + 24 * 1024) << "server RSS grew from " << before << " KiB to " << stalled << " KiB";
    EXPECT_TRUE(healthy(port()));

    auto body = c.read_exactly(big.size(), 30s);
    ASSERT_TRUE(body) << c.error() << " (" << c.received().size() << " bytes received)";
    EXPECT_TRUE(*body == big) << "streamed body differs";
    // The connection stays usable after a streamed response.
    ASSERT_TRUE(c.send_all(request("GET", "/healthz")));
    auto next = c.read_response();
    ASSERT_TRUE(next) << c.error();
    EXPECT_EQ(next->body, "ok\n");
}

// Files at and around the whole-read threshold (1 MiB) arrive intact.
TEST_F(StaticFilesTest, FilesAroundTheStreamingThreshold) {
    for (std::size_t size : {(1u << 20) - 1, 1u << 20, (1u << 20) + 1, (1u << 20) + 65'537}) {
        std::string content = random_bytes(size, static_cast<std::uint32_t>(size));
        ASSERT_TRUE(put("edge.bin", content));
        auto r = fetch(port(), request("GET", "/edge.bin"));
        ASSERT_TRUE(r) << size;
        EXPECT_EQ(r->status, 200) << size;
        EXPECT_EQ(r->header("Content-Length"), std::to_string(size));
        EXPECT_TRUE(r->body == content) << "body differs at size " << size;
    }
}

} // namespace
} // namespace upshift::test
