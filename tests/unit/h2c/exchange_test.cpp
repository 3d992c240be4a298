// One application API over HTTP/2: the server::exchange a handler gets for an
// HTTP/2 stream, driven by a real client (nghttp, from nghttp2-client): request
// bodies under flow control, streamed responses with backpressure, trailers and
// interim responses as HEADERS (RFC 9113 §8.1), multiplexed streams (RFC 9113 §5),
// and the header list limit (RFC 9113 §6.5.2, RFC 6585 §5).
#include <memory>
#include <regex>
#include <stdexcept>

#include "h2c_fixture.hpp"

namespace upshift::test {
namespace {

class H2cExchange : public h2c_fixture {
protected:
    void SetUp() override {
        nghttp_ = find_program("nghttp");
        if (!nghttp_) {
            if (in_ci())
                GTEST_FAIL() << "nghttp is not on PATH but CI is set: scripts/install-deps installs it";
            GTEST_SKIP() << "nghttp is not on PATH (run scripts/install-deps)";
        }
        ASSERT_TRUE(dir_.ok());
        ASSERT_TRUE(start_h2c([this](exchange& ex) { route(ex); }));
    }

    /// nghttp with prior knowledge (its default for http://): `args` then the URL of `path`.
    command_result nghttp(std::vector<std::string> args, std::string_view path) {
        std::vector<std::string> argv{*nghttp_, "-t", "20"};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back(url(path));
        return run_command(argv, 30s);
    }

    static std::size_t count(std::string const& hay, std::string_view needle) {
        std::size_t n = 0;
        for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
        return n;
    }

    void route(exchange& ex) {
        auto const path = ex.request().path();
        if (path == "/trailers") {
            auto& w = ex.start_response(status::ok, {{"Content-Type", "text/plain"}});
            w.write("part1;");
            w.write("part2");
            w.finish({{"X-Checksum", "42"}});
        } else if (path == "/hints") {
            auto ec = ex.send_interim(status::early_hints, {{"Link", "</style.css>; rel=preload; as=style"}});
            ex.respond(status::ok, {{"Content-Type", "text/plain"}}, ec ? "interim failed" : "page");
        } else if (path == "/upload") {
            upload(ex);
        } else if (path == "/big") {
            auto p = std::make_shared<pump>();
            p->w = &ex.start_response(status::ok, {{"Content-Type", "application/octet-stream"}}, big_size);
            p->log = &events;
            p->high_water = h2c::options{}.send_high_water;
            p->total = big_size;
            p->run();
        } else if (path == "/shared") {
            // The handler keeps no reference: the stream's own keeps the body alive while
            // flow control holds most of it back.
            auto body = std::make_shared<std::string const>(shared_body());
            ex.respond_shared(status::ok, {{"Content-Type", "application/octet-stream"}}, std::move(body));
        } else if (path == "/throw") {
            throw std::runtime_error("handler failed");
        } else if (path == "/gate") {
            // Answers only once gate_size requests are in: completes only if they are multiplexed.
            gated_.push_back(&ex);
            ex.on_abort([this] { events.add("gate abort"); });
            if (gated_.size() == gate_size) {
                for (auto* e : gated_) e->respond(status::ok, {}, "through");
                gated_.clear();
            }
        } else {
            ex.respond(status::ok, {}, ex.request().version_major == 2 ? "h2" : "h1");
        }
    }

    /// Reads the body with pause_body() after every piece and resume_body() on the next loop
    /// iteration: the client can only go on if windows reopen as the handler takes the bytes.
    void upload(exchange& ex) {
        struct state {
            std::size_t bytes = 0;
            std::uint64_t sum = 0;
            std::size_t pauses = 0;
        };
        auto st = std::make_shared<state>();
        server::body_reader r;
        r.on_data = [&ex, st](std::string_view piece) {
            st->bytes += piece.size();
            for (char c : piece) st->sum = st->sum * 31 + static_cast<unsigned char>(c);
            ex.pause_body();
            ++st->pauses;
            ex.loop().defer([&ex] { ex.resume_body(); });
        };
        r.on_end = [&ex, st](std::error_code ec) {
            if (ec) return;
            ex.respond(status::ok, {},
                       "bytes=" + std::to_string(st->bytes) + " sum=" + std::to_string(st->sum));
        };
        ex.read_body(std::move(r));
    }

    /// Larger than a DATA frame (16 KiB) and than the initial flow-control window (64 KiB).
    static std::string shared_body() {
        std::string b(200 * 1024, '\0');
        for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
        return b;
    }

    static constexpr std::size_t big_size = 3 * 1024 * 1024;
    static constexpr std::size_t gate_size = 10;
    std::optional<std::string> nghttp_;
    temp_dir dir_;
    std::vector<exchange*> gated_; // loop thread only
};

TEST_F(H2cExchange, TrailersFollowTheBodyAsHeadersThatEndTheStream) {
    // RFC 9113 §8.1: trailers are a HEADERS frame after the DATA, carrying END_STREAM.
    auto r = nghttp({"-v"}, "/trailers");
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    EXPECT_NE(r.out.find("part1;part2"), std::string::npos) << r.out;
    std::regex const trailer{R"(recv \(stream_id=\d+\) x-checksum: 42)"};
    EXPECT_TRUE(std::regex_search(r.out, trailer)) << r.out;
    // The DATA frame does not end the stream; the trailer HEADERS does.
    std::regex const trailer_frame{R"(recv HEADERS frame <length=\d+, flags=0x05)"};
    EXPECT_TRUE(std::regex_search(r.out, trailer_frame)) << r.out;
}

TEST_F(H2cExchange, EarlyHintsAreAnInterimHeadersFrameBeforeTheFinalOne) {
    // RFC 9113 §8.1: an interim (1xx) response is HEADERS without END_STREAM, before the final HEADERS.
    auto r = nghttp({"-v"}, "/hints");
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    auto const hint = r.out.find(":status: 103");
    auto const link = r.out.find("link: </style.css>; rel=preload; as=style");
    auto const final_status = r.out.find(":status: 200");
    ASSERT_NE(hint, std::string::npos) << r.out;
    ASSERT_NE(link, std::string::npos) << r.out;
    ASSERT_NE(final_status, std::string::npos) << r.out;
    EXPECT_LT(hint, final_status);
    EXPECT_NE(r.out.find("page"), std::string::npos);
}

TEST_F(H2cExchange, UploadLargerThanTheWindowCompletesAsTheHandlerConsumes) {
    // RFC 9113 §5.2: the client may send no more than the window; 1 MiB needs many WINDOW_UPDATEs,
    // which the server sends only as the (pausing) handler takes the bytes.
    std::string body(1 << 20, '\0');
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < body.size(); ++i) {
        body[i] = static_cast<char>((i * 7 + i / 1000) & 0xff);
        sum = sum * 31 + static_cast<unsigned char>(body[i]);
    }
    ASSERT_TRUE(dir_.write("upload.bin", body));
    auto r = nghttp({"-d", dir_.file("upload.bin")}, "/upload");
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    EXPECT_EQ(r.out, "bytes=" + std::to_string(body.size()) + " sum=" + std::to_string(sum));
}

TEST_F(H2cExchange, StreamedResponseHonoursBackpressure) {
    // 3 MiB through a writer whose high-water mark is 1 MiB: write() returns false and on_drain resumes.
    auto r = nghttp({}, "/big");
    ASSERT_TRUE(r.exit && r.exit->success()) << r.err;
    ASSERT_EQ(r.out.size(), big_size);
    EXPECT_EQ(r.out[0], pump::fill_for(0));
    EXPECT_EQ(r.out[big_size - 1], pump::fill_for(big_size - 1));
    EXPECT_TRUE(events.wait_for("finished"));
    EXPECT_GE(events.count("blocked"), 1u);
    EXPECT_EQ(events.count("blocked"), events.count("drain"));
    EXPECT_TRUE(events.with_prefix("inconsistent").empty());
}

TEST_F(H2cExchange, SharedBodyIsSentWholeAcrossFramesAndWindowUpdates) {
    // respond_shared(): the body is sent from the caller's buffer, in DATA frames of at most
    // SETTINGS_MAX_FRAME_SIZE (RFC 9113 §4.2) and within the flow-control window (§5.2).
    auto r = nghttp({}, "/shared");
    ASSERT_TRUE(r.exit && r.exit->success()) << r.err;
    ASSERT_EQ(r.out.size(), shared_body().size());
    EXPECT_TRUE(r.out == shared_body()) << "the body arrived changed";
    // Three at once on one connection, all from their own shared buffers.
    auto m = nghttp({"-m", "3"}, "/shared");
    ASSERT_TRUE(m.exit && m.exit->success()) << m.err;
    EXPECT_TRUE(m.out == shared_body() + shared_body() + shared_body());
}

TEST_F(H2cExchange, SharedBodyForHeadSendsOnlyItsLength) {
    // RFC 9110 §9.3.2: HEAD gets GET's fields, Content-Length included (§8.6), and no content.
    auto r = nghttp({"-v", "-H", ":method: HEAD"}, "/shared");
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    EXPECT_NE(r.out.find("content-length: " + std::to_string(shared_body().size())), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("recv DATA frame"), std::string::npos) << r.out;
}

TEST_F(H2cExchange, StreamsAreMultiplexed) {
    // RFC 9113 §5: many requests in flight on one connection. The handler answers none until
    // all ten have arrived, so this completes only if they are concurrent streams.
    auto r = nghttp({"-v", "-m", std::to_string(gate_size)}, "/gate");
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    EXPECT_EQ(count(r.out, ":status: 200"), gate_size) << r.out;
    EXPECT_EQ(count(r.out, "through"), gate_size);
    EXPECT_FALSE(events.contains("gate abort"));
}

TEST_F(H2cExchange, HandlerExceptionIs500OnItsStreamOnly) {
    auto r = nghttp({"-v"}, "/throw");
    EXPECT_NE(r.out.find(":status: 500"), std::string::npos) << r;
    // The connection lives on: the next request on a new connection is fine too.
    auto ok = nghttp({}, "/");
    ASSERT_TRUE(ok.exit && ok.exit->success()) << ok;
    EXPECT_EQ(ok.out, "h2");
}

TEST_F(H2cExchange, HeaderListOverTheLimitIs431) {
    // RFC 9113 §6.5.2: SETTINGS_MAX_HEADER_LIST_SIZE announces the limit; a larger head is
    // refused on its stream (RFC 6585 §5: 431) instead of reaching the handler.
    auto r = nghttp({"-v", "-H", "x-big: " + std::string(20000, 'a')}, "/");
    EXPECT_NE(r.out.find(":status: 431"), std::string::npos) << r;
}

TEST_F(H2cExchange, UpgradeRouteWithNghttpAnswersOnStream1) {
    // nghttp -u: HTTP/1.1 Upgrade first (RFC 7540 §3.2), the response arrives on stream 1.
    auto r = nghttp({"-u", "-v"}, "/");
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    EXPECT_NE(r.out.find("HTTP/1.1 101 Switching Protocols"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("recv (stream_id=1) :status: 200"), std::string::npos) << r.out;
}

} // namespace
} // namespace upshift::test
