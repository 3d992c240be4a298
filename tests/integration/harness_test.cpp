// Self-tests of the integration harness (tests/support/spawn_server, raw_client) against things that
// are not upshift: canned bytes, shell commands and Python's http.server. When an upshift integration
// test fails, these passing means the failure is the server's, not the harness's.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "integration_helpers.hpp"

namespace upshift::test {
namespace {

TEST(HarnessParser, ContentLengthBodyAndPipelinedRest) {
    std::string bytes =
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhelloHTTP/1.1 404 Not Found\r\n";
    auto o = parse_response(bytes);
    ASSERT_EQ(o.what, parse_outcome::kind::complete) << o.error;
    EXPECT_EQ(o.response.status, 200);
    EXPECT_EQ(o.response.reason, "OK");
    EXPECT_EQ(o.response.body, "hello");
    EXPECT_EQ(o.response.header("x-a"), "1");
    EXPECT_EQ(bytes.substr(o.consumed), "HTTP/1.1 404 Not Found\r\n");
    EXPECT_EQ(parse_response(bytes.substr(o.consumed)).what, parse_outcome::kind::need_more);
}

TEST(HarnessParser, ChunkedWithTrailersAndExtensions) {
    std::string bytes = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n";
    for (std::size_t cut = 0; cut < bytes.size(); ++cut)
        EXPECT_EQ(parse_response(bytes.substr(0, cut)).what, parse_outcome::kind::need_more) << cut;
    auto o = parse_response(bytes);
    ASSERT_EQ(o.what, parse_outcome::kind::complete) << o.error;
    EXPECT_TRUE(o.response.chunked);
    EXPECT_EQ(o.response.body, "hello0123456789");
    ASSERT_EQ(o.response.trailers.size(), 1U);
    EXPECT_EQ(o.consumed, bytes.size());
}

TEST(HarnessParser, CloseDelimitedNeedsEof) {
    std::string bytes = "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nabc";
    EXPECT_EQ(parse_response(bytes).what, parse_outcome::kind::need_more);
    auto o = parse_response(bytes, false, true);
    ASSERT_EQ(o.what, parse_outcome::kind::complete);
    EXPECT_TRUE(o.response.close_delimited);
    EXPECT_EQ(o.response.body, "abc");
    EXPECT_EQ(o.response.version_minor, 0);
}

TEST(HarnessParser, NoBodyForHeadAnd304And1xx) {
    std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
    auto o = parse_response(head, true);
    ASSERT_EQ(o.what, parse_outcome::kind::complete);
    EXPECT_EQ(o.consumed, head.size());
    auto n = parse_response("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n");
    EXPECT_EQ(n.what, parse_outcome::kind::complete);
    auto all =
        parse_responses("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false);
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 2U);
    EXPECT_EQ((*all)[0].status, 100);
    EXPECT_EQ((*all)[1].body, "ok");
}

TEST(HarnessParser, RejectsMalformedResponses) {
    EXPECT_EQ(parse_response("HTTP/1.1 200OK\r\n\r\n").what, parse_outcome::kind::error);
    EXPECT_EQ(parse_response("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n").what, parse_outcome::kind::error);
    EXPECT_EQ(parse_response("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n").what, parse_outcome::kind::error);
    EXPECT_EQ(parse_response("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab").what,
              parse_outcome::kind::error);
    EXPECT_EQ(parse_response("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab", false, true).what,
              parse_outcome::kind::error);
    EXPECT_EQ(parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").what,
              parse_outcome::kind::error);
}

TEST(HarnessParser, TokensAndPortLines) {
    auto o = parse_response("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n");
    ASSERT_EQ(o.what, parse_outcome::kind::complete);
    EXPECT_TRUE(o.response.has_token("connection", "close"));
    EXPECT_FALSE(o.response.has_token("connection", "upgrade"));
    EXPECT_EQ(parse_url_port("upshift listening on http://127.0.0.1:43210"), 43210);
    EXPECT_EQ(parse_url_port("Serving HTTP on 127.0.0.1 port 8000 (http://127.0.0.1:8000/) ..."), 8000);
    EXPECT_EQ(parse_url_port("upshift listening on http://[::1]:99"), 99);
    EXPECT_FALSE(parse_url_port("listening soon"));
    EXPECT_FALSE(parse_url_port("http://127.0.0.1:0"));
}

TEST(HarnessProcess, RunCommandCapturesOutputAndExitCode) {
    auto ok = run_command({"sh", "-c", "printf 'out'; printf 'err' >&2; exit 3"});
    ASSERT_TRUE(ok.exit) << ok;
    EXPECT_TRUE(ok.exit->exited);
    EXPECT_EQ(ok.exit->code, 3);
    EXPECT_EQ(ok.out, "out");
    EXPECT_EQ(ok.err, "err");
    auto slow = run_command({"sleep", "5"}, std::chrono::milliseconds{200});
    EXPECT_TRUE(slow.timed_out);
    auto missing = run_command({"/nonexistent/upshift-test-binary"});
    EXPECT_FALSE(missing.exit);
}

TEST(HarnessProcess, ReportsAChildThatExitsBeforeReady) {
    spawn_options o;
    o.argv = {"sh", "-c", "echo starting; exit 7"};
    server_process p{o};
    EXPECT_FALSE(p.ready());
    EXPECT_NE(p.error().find("exited with code 7"), std::string::npos) << p.error();
    EXPECT_NE(p.error().find("starting"), std::string::npos) << p.error();
}

TEST(HarnessProcess, ReadyLineOutputAndSignals) {
    spawn_options o;
    // A stand-in server: announces a port like upshift, logs a line per signal, exits 0 on TERM.
    o.argv = {"sh", "-c",
              "trap 'echo got-term; exit 0' TERM; echo 'upshift listening on http://127.0.0.1:4321'; "
              "echo extra; while :; do sleep 0.05; done"};
    server_process p{o};
    ASSERT_TRUE(p.ready()) << p.error();
    EXPECT_EQ(p.port(), 4321);
    EXPECT_TRUE(p.wait_output("extra\n", 5s)) << p.output();
    EXPECT_FALSE(p.wait_exit(std::chrono::milliseconds{50}));
    p.terminate(SIGTERM);
    auto st = p.wait_exit(5s);
    ASSERT_TRUE(st);
    EXPECT_TRUE(st->success()) << *st;
    EXPECT_TRUE(p.wait_output("got-term", 5s)) << p.output();
}

// Python's http.server is HTTP/1.0 by default: a Content-Length response, then close.
TEST(HarnessPython, RawClientAgainstPythonHttpServer) {
    UPSHIFT_REQUIRE_TOOL(python, "python3");
    test_site site;
    spawn_options o;
    o.argv = {*python, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", site.root()};
    server_process p{o};
    ASSERT_TRUE(p.ready()) << p.error();

    raw_client c{p.port()};
    ASSERT_TRUE(c.connected()) << c.error();
    ASSERT_TRUE(c.send_all(request("GET", "/style.css")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, site.style_css);
    EXPECT_TRUE(c.wait_closed(5s));

    auto head = fetch(p.port(), request("HEAD", "/index.html"), true);
    ASSERT_TRUE(head);
    EXPECT_EQ(head->header("Content-Length"), std::to_string(site.index_html.size()));
    EXPECT_TRUE(head->body.empty());

    // An open connection that sends nothing is not closed by http.server: wait_closed must time out.
    raw_client idle{p.port()};
    ASSERT_TRUE(idle.connected());
    EXPECT_FALSE(idle.wait_closed(std::chrono::milliseconds{200}));

    UPSHIFT_REQUIRE_TOOL(curl, "curl");
    auto out = run_command({*curl, "-sS", "-i", "http://" + p.authority() + "/index.html"});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    std::string err;
    auto parsed = parse_responses(out.out, false, &err);
    ASSERT_TRUE(parsed) << err;
    EXPECT_EQ(parsed->back().status, 200);
    EXPECT_EQ(parsed->back().body, site.index_html);

    p.terminate(SIGTERM);
    auto st = p.wait_exit(5s);
    ASSERT_TRUE(st);
    // Python does not handle SIGTERM: it dies of it.
    EXPECT_FALSE(st->exited);
    EXPECT_EQ(st->signal, SIGTERM);
}

} // namespace
} // namespace upshift::test
