// The `upshift` command line: help and version, exit codes for bad usage (2) and failure to
// start (1), the ready line, --opt=value, the access-log format and --log-level.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <regex>
#include <string>
#include <vector>

#include "integration_helpers.hpp"

namespace upshift::test {
namespace {

command_result run_app(std::vector<std::string> args) {
    args.insert(args.begin(), app_path());
    return run_command(args, std::chrono::seconds{10});
}

void expect_exit(command_result const& r, int code) {
    ASSERT_TRUE(r.exit) << r;
    EXPECT_TRUE(r.exit->exited) << r;
    EXPECT_EQ(r.exit->code, code) << r;
}

TEST(Cli, HelpGoesToStdoutAndExitsZero) {
    for (auto flag : {"--help", "-h"}) {
        auto r = run_app({flag});
        expect_exit(r, 0);
        EXPECT_NE(r.out.find("Usage: upshift"), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("serve"), std::string::npos) << r.out;
        EXPECT_TRUE(r.err.empty()) << r.err;
    }
}

TEST(Cli, ServeHelpListsEveryOption) {
    auto r = run_app({"serve", "--help"});
    expect_exit(r, 0);
    EXPECT_TRUE(r.err.empty()) << r.err;
    for (auto opt : {"--listen", "--root", "--threads", "--log-level", "--access-log", "--header-timeout",
                     "--idle-timeout", "--body-timeout", "--write-timeout", "--max-header-bytes",
                     "--max-body-bytes", "--max-connections"})
        EXPECT_NE(r.out.find(opt), std::string::npos) << opt << " missing from:\n" << r.out;
    // --help wins wherever it appears, and nothing is started.
    auto late = run_app({"serve", "--listen", "127.0.0.1:0", "--help"});
    expect_exit(late, 0);
    EXPECT_EQ(late.out.find("listening"), std::string::npos) << late.out;
}

TEST(Cli, Version) {
    auto r = run_app({"--version"});
    expect_exit(r, 0);
    EXPECT_EQ(r.out, "upshift 0.1.0\n");
}

// Bad usage: a message on stderr naming the problem, nothing on stdout, exit code 2.
TEST(Cli, BadUsageExitsTwo) {
    struct bad {
        std::vector<std::string> args;
        std::string_view mentions;
    };
    std::vector<bad> const cases{
        {{}, "command"},
        {{"bogus"}, "bogus"},
        {{"--bogus"}, "--bogus"},
        {{"serve", "--bogus"}, "--bogus"},
        {{"serve", "--bogus=1"}, "--bogus"},
        {{"serve", "extra"}, "extra"},
        {{"serve", "--threads"}, "--threads"},
        {{"serve", "--threads", "abc"}, "--threads"},
        {{"serve", "--threads", "0"}, "--threads"},
        {{"serve", "--threads=-1"}, "--threads"},
        {{"serve", "--listen", "nonsense"}, "--listen"},
        {{"serve", "--listen", "127.0.0.1"}, "--listen"},
        {{"serve", "--listen", "127.0.0.1:70000"}, "--listen"},
        {{"serve", "--listen=example.com:80"}, "--listen"},
        {{"serve", "--log-level", "loud"}, "--log-level"},
        {{"serve", "--access-log=yes"}, "--access-log"},
        {{"serve", "--header-timeout", "0"}, "--header-timeout"},
        {{"serve", "--idle-timeout", "-1"}, "--idle-timeout"},
        {{"serve", "--body-timeout", "soon"}, "--body-timeout"},
        {{"serve", "--write-timeout", "1e3"}, "--write-timeout"},
        {{"serve", "--write-timeout", "nan"}, "--write-timeout"},
        {{"serve", "--max-header-bytes", "12k"}, "--max-header-bytes"},
        {{"serve", "--max-body-bytes", "-5"}, "--max-body-bytes"},
        {{"serve", "--max-connections", "0"}, "--max-connections"},
        {{"serve", "--root"}, "--root"},
    };
    for (auto const& c : cases) {
        std::string shown;
        for (auto const& a : c.args) shown += " " + a;
        auto r = run_app(c.args);
        ASSERT_TRUE(r.exit) << shown << ": " << r;
        EXPECT_TRUE(r.exit->exited) << shown << ": " << r;
        EXPECT_EQ(r.exit->code, 2) << "upshift" << shown << ": " << r;
        EXPECT_NE(r.err.find(c.mentions), std::string::npos) << "upshift" << shown << ": " << r.err;
        EXPECT_TRUE(r.out.empty()) << "upshift" << shown << ": " << r.out;
    }
}

TEST(Cli, MissingRootExitsTwo) {
    auto r = run_app({"serve", "--listen", "127.0.0.1:0", "--root", "/nonexistent/upshift-root"});
    expect_exit(r, 2);
    EXPECT_NE(r.err.find("/nonexistent/upshift-root"), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("listening"), std::string::npos) << r.out;
}

// A port that is already taken: the server cannot start, says why, and exits 1.
TEST(Cli, ListenFailureExitsOne) {
    server_process first{};
    ASSERT_TRUE(first.ready()) << first.error();
    auto r = run_app({"serve", "--listen", first.authority()});
    expect_exit(r, 1);
    EXPECT_NE(r.err.find(first.authority()), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("listening"), std::string::npos) << r.out;
    EXPECT_TRUE(healthy(first.port()));
}

// The ready line is the first line of stdout and names the bound port (not 0).
TEST(Cli, ReadyLineNamesTheBoundPort) {
    server_process server{};
    ASSERT_TRUE(server.ready()) << server.error();
    std::string out = server.output();
    std::string const expected = "upshift listening on http://127.0.0.1:" + std::to_string(server.port()) + "\n";
    EXPECT_EQ(out.substr(0, expected.size()), expected) << out;
}

TEST(Cli, ReadyLineForIpv6) {
    int probe = ::socket(AF_INET6, SOCK_STREAM, 0);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    bool const have_v6 = probe >= 0 && ::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    if (probe >= 0) ::close(probe);
    if (!have_v6) GTEST_SKIP() << "no IPv6 loopback here";
    spawn_options o;
    o.argv = {app_path(), "serve", "--listen", "[::1]:0"};
    server_process server{o};
    ASSERT_TRUE(server.ready()) << server.error();
    EXPECT_EQ(server.output().rfind("upshift listening on http://[::1]:" + std::to_string(server.port()) + "\n", 0),
              0U)
        << server.output();
}

// --name=value is the same as --name value.
TEST(Cli, EqualsFormIsAccepted) {
    server_process server{{"--threads=2", "--log-level=warn", "--header-timeout=0.5", "--idle-timeout=2.5",
                           "--max-body-bytes=10", "--max-header-bytes=4096", "--max-connections=50"}};
    ASSERT_TRUE(server.ready()) << server.error();
    EXPECT_TRUE(healthy(server.port()));
    auto ok = fetch(server.port(), request("POST", "/echo-body", {}, "0123456789"));
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
    auto too_big = fetch(server.port(), request("POST", "/echo-body", {}, "0123456789A"));
    ASSERT_TRUE(too_big);
    EXPECT_EQ(too_big->status, 413);
}

TEST(Cli, SeveralThreadsServe) {
    server_process server{{"--threads", "4"}};
    ASSERT_TRUE(server.ready()) << server.error();
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(healthy(server.port())) << "request " << i;
}

// One line per response: <remote> "<METHOD> <target> HTTP/1.x" <status> <bytes> <micros>us
TEST(Cli, AccessLogLineFormat) {
    server_process server{{"--access-log"}};
    ASSERT_TRUE(server.ready()) << server.error();
    ASSERT_TRUE(healthy(server.port()));
    auto r = fetch(server.port(), request("GET", "/no-such-page?x=1", {}, {}, "HTTP/1.0"));
    ASSERT_TRUE(r);
    ASSERT_TRUE(server.wait_output("/no-such-page", 5s)) << server.output();
    std::string const out = server.output();
    std::regex const health{R"(\n127\.0\.0\.1:[0-9]+ "GET /healthz HTTP/1\.1" 200 3 [0-9]+us\n)"};
    std::regex const missing{R"(\n127\.0\.0\.1:[0-9]+ "GET /no-such-page\?x=1 HTTP/1\.0" 404 [0-9]+ [0-9]+us\n)"};
    EXPECT_TRUE(std::regex_search(out, health)) << out;
    EXPECT_TRUE(std::regex_search(out, missing)) << out;
}

// Without --access-log, stdout carries only the ready line.
TEST(Cli, NoAccessLogByDefault) {
    server_process server{};
    ASSERT_TRUE(server.ready()) << server.error();
    ASSERT_TRUE(healthy(server.port()));
    server.terminate(SIGTERM);
    ASSERT_TRUE(server.wait_exit(5s));
    EXPECT_EQ(server.output(), "upshift listening on http://127.0.0.1:" + std::to_string(server.port()) + "\n");
}

// --log-level filters the diagnostics on stderr (captured here through a shell redirect).
TEST(Cli, LogLevelFiltersStderr) {
    temp_dir dir;
    ASSERT_TRUE(dir.ok());
    auto run_at = [&](std::string const& level) {
        std::string const err_file = dir.file(level + ".err");
        spawn_options o;
        o.argv = {"sh", "-c", "exec \"$0\" serve --listen 127.0.0.1:0 --log-level " + level + " 2>\"$1\"",
                  app_path(), err_file};
        {
            server_process server{o};
            EXPECT_TRUE(server.ready()) << server.error();
            if (server.ready()) {
                auto r = fetch(server.port(), request("GET", "/missing-for-log-test"));
                EXPECT_TRUE(r && r->status == 404);
                server.terminate(SIGTERM);
                EXPECT_TRUE(server.wait_exit(5s));
            }
        }
        return read_file(err_file).value_or("<unreadable>");
    };
    std::string const debug = run_at("debug");
    EXPECT_NE(debug.find("missing-for-log-test"), std::string::npos) << debug;
    EXPECT_NE(debug.find("info"), std::string::npos) << debug;
    std::string const error = run_at("error");
    EXPECT_TRUE(error.empty()) << error;
}

} // namespace
} // namespace upshift::test
