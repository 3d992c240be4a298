// What an HTTP/2 stream gives the application besides the head and the body, driven by real
// clients: request trailers (RFC 9113 §8.1: a HEADERS block after DATA that ends the stream;
// nghttp --trailer), Expect: 100-continue (RFC 9110 §10.1.1 over RFC 9113 §8.1: an interim 100
// HEADERS once the handler reads the body; curl --http2-prior-knowledge), an unknown
// expectation (417), and one access-log entry per answered stream, as for HTTP/1.1.
#include <fstream>
#include <memory>
#include <mutex>
#include <regex>

#include "h2c_fixture.hpp"
#include "upshift/http1/error.hpp"

namespace upshift::test {
namespace {

class H2cRequestSide : public h2c_fixture {
protected:
    void SetUp() override {
        nghttp_ = find_program("nghttp");
        curl_ = find_program("curl");
        if (!nghttp_ || !curl_) {
            if (in_ci()) GTEST_FAIL() << "nghttp or curl is not on PATH but CI is set: scripts/install-deps";
            GTEST_SKIP() << "nghttp or curl is not on PATH (run scripts/install-deps)";
        }
        ASSERT_TRUE(dir_.ok());
        body_file_ = dir_.path() + "/body.bin";
        std::ofstream{body_file_, std::ios::binary} << std::string(body_size, 'b');
        h2c::options o;
        o.access_log = [this](server::access_entry const& e) {
            std::lock_guard lock{log_mu_};
            log_.push_back(std::string(e.method) + ' ' + std::string(e.target) + " HTTP/" +
                           std::to_string(e.version_major) + '.' + std::to_string(e.version_minor) + ' ' +
                           std::to_string(e.status) + ' ' + std::to_string(e.body_bytes));
            events.add("logged");
        };
        ASSERT_TRUE(start_h2c([this](exchange& ex) { route(ex); }, o));
    }

    void route(exchange& ex) {
        auto const path = ex.request().path();
        if (path == "/echo-trailers") {
            // Answers with the body's size and the trailers it came with, read after on_end.
            ex.read_body_all(1 << 20, [&ex](std::error_code ec, std::string body) {
                if (ec) return;
                std::string out = "bytes=" + std::to_string(body.size());
                for (auto const& f : ex.request_trailers())
                    out += ";" + std::string(f.name) + "=" + std::string(f.value);
                ex.respond(status::ok, {}, out);
            });
        } else if (path == "/trailers-before-end") {
            // Before the body has ended there are no trailers to see.
            auto const before = ex.request_trailers().size();
            ex.read_body_all(1 << 20, [&ex, before](std::error_code ec, std::string) {
                if (!ec) ex.respond(status::ok, {}, "before=" + std::to_string(before));
            });
        } else if (path == "/trailer-limit") {
            // Says how the body ended.
            ex.read_body_all(1 << 20, [&ex](std::error_code ec, std::string) {
                ex.respond(status::ok, {}, ec == http1::error::trailer_too_large ? "too large" : "ok");
            });
        } else if (path == "/refuse") {
            // Answers without reading: no 100 may precede the final response.
            ex.respond(status::content_too_large, {}, "no");
        } else {
            ex.respond(status::ok, {}, "hello");
        }
    }

    command_result nghttp(std::vector<std::string> args, std::string_view path) {
        std::vector<std::string> argv{*nghttp_, "-t", "20"};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back(url(path));
        return run_command(argv, 30s);
    }

    /// curl -v over HTTP/2 by prior knowledge; the body goes to stdout, the trace to stderr.
    command_result curl(std::vector<std::string> args, std::string_view path) {
        std::vector<std::string> argv{*curl_, "-v", "-sS", "--max-time", "20", "--http2-prior-knowledge"};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back(url(path));
        return run_command(argv, 30s);
    }

    std::vector<std::string> logged() {
        std::lock_guard lock{log_mu_};
        return log_;
    }

    static constexpr std::size_t body_size = 100'000;
    std::optional<std::string> nghttp_, curl_;
    temp_dir dir_;
    std::string body_file_;
    std::mutex log_mu_;
    std::vector<std::string> log_; // written on the loop thread
};

TEST_F(H2cRequestSide, RequestTrailersReachTheHandlerAfterTheBody) {
    // RFC 9113 §8.1: the request's trailer section is a HEADERS frame after the DATA frames,
    // carrying END_STREAM. The handler sees it through request_trailers() once on_end ran.
    auto r = nghttp({"-v", "-d", body_file_, "--trailer", "x-checksum: 42", "--trailer", "x-note: done"},
                    "/echo-trailers");
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    std::regex const trailer_frame{R"(send HEADERS frame <length=\d+, flags=0x05, stream_id=13>)"};
    EXPECT_TRUE(std::regex_search(r.out, trailer_frame)) << "nghttp sent no trailer HEADERS:\n" << r.out;
    EXPECT_NE(r.out.find("bytes=100000;x-checksum=42;x-note=done"), std::string::npos) << r.out;
}

TEST_F(H2cRequestSide, WithoutTrailersTheListIsEmpty) {
    auto r = nghttp({"-d", body_file_}, "/echo-trailers");
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    EXPECT_EQ(r.out, "bytes=100000");
}

TEST_F(H2cRequestSide, TrailersAreNotVisibleBeforeTheBodyEnds) {
    auto r = nghttp({"-d", body_file_, "--trailer", "x-checksum: 42"}, "/trailers-before-end");
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    EXPECT_EQ(r.out, "before=0");
}

TEST_F(H2cRequestSide, TrailersOverTheHeaderListLimitEndTheBodyInError) {
    // RFC 9113 §6.5.2: SETTINGS_MAX_HEADER_LIST_SIZE (16 KiB here) bounds the trailer section
    // as it bounds the head; a larger one reaches the handler as trailer_too_large, not as fields.
    auto r = nghttp({"-d", body_file_, "--trailer", "x-big: " + std::string(20000, 't')}, "/trailer-limit");
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    EXPECT_EQ(r.out, "too large");
    auto ok = nghttp({"-d", body_file_, "--trailer", "x-small: 1"}, "/trailer-limit");
    ASSERT_TRUE(ok.exit && ok.exit->success()) << ok;
    EXPECT_EQ(ok.out, "ok");
}

TEST_F(H2cRequestSide, ExpectContinueGetsAnInterim100WhenTheHandlerReads) {
    // RFC 9110 §10.1.1: the client waits for 100 (Continue) before sending the content; over
    // HTTP/2 the 100 is an interim HEADERS frame on the stream (RFC 9113 §8.1).
    auto r = curl({"-H", "Expect: 100-continue", "--data-binary", "@" + body_file_}, "/echo-trailers");
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    auto const interim = r.err.find("< HTTP/2 100");
    auto const final_status = r.err.find("< HTTP/2 200");
    ASSERT_NE(interim, std::string::npos) << r.err;
    ASSERT_NE(final_status, std::string::npos) << r.err;
    EXPECT_LT(interim, final_status);
    EXPECT_EQ(r.out, "bytes=100000");
}

TEST_F(H2cRequestSide, NoContinueWhenTheHandlerAnswersWithoutReading) {
    // RFC 9110 §10.1.1: a server that answers with a final status need not (and here does not)
    // send 100 first; the client learns it need not send the content.
    auto r = curl({"-H", "Expect: 100-continue", "--data-binary", "@" + body_file_}, "/refuse");
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    EXPECT_EQ(r.err.find("< HTTP/2 100"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("< HTTP/2 413"), std::string::npos) << r.err;
}

TEST_F(H2cRequestSide, UnknownExpectationIs417) {
    // RFC 9110 §10.1.1: a server that receives an Expect value other than 100-continue MAY
    // answer 417 (Expectation Failed); the HTTP/1.1 side does, so HTTP/2 does too.
    auto r = curl({"-H", "Expect: teapot", "--data-binary", "@" + body_file_}, "/echo-trailers");
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    EXPECT_NE(r.err.find("< HTTP/2 417"), std::string::npos) << r.err;
}

TEST_F(H2cRequestSide, EachAnsweredStreamIsLoggedAsHttp2) {
    // One entry per response, as over HTTP/1.1, naming the version 2.0 and the body bytes sent.
    auto r = nghttp({}, "/logged?x=1");
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    ASSERT_TRUE(events.wait_for("logged"));
    auto const lines = logged();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], "GET /logged?x=1 HTTP/2.0 200 5");
}

TEST_F(H2cRequestSide, MultiplexedStreamsAreLoggedOncePerStream) {
    auto r = nghttp({"-m", "5"}, "/many");
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    ASSERT_TRUE(events.wait_count("logged", 5));
    auto const lines = logged();
    ASSERT_EQ(lines.size(), 5u);
    for (auto const& l : lines) EXPECT_EQ(l, "GET /many HTTP/2.0 200 5");
}

} // namespace
} // namespace upshift::test
