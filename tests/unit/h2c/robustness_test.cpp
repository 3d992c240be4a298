// Abuse a server must survive, in raw frames on a real socket: a stream reset
// by the client (the handler hears on_abort, the connection lives on), rapid
// reset (CVE-2023-44487) and CONTINUATION floods (CVE-2024-28182) end the
// connection with GOAWAY (RFC 9113 §6.8, §10.5).
#include <thread>

#include "h2c_fixture.hpp"

namespace upshift::test {
namespace {

constexpr std::uint8_t end_stream = 0x1, end_headers = 0x4;
constexpr std::uint8_t frame_rst_stream = 0x3, frame_ping = 0x6, frame_continuation = 0x9;

/// An HPACK block for GET http://test<path>: :method GET (static 2), :scheme http (static 6),
/// :authority and :path as literals without indexing naming static entries 1 and 4 (RFC 7541 §6.2.2).
std::string get_block(std::string_view path) {
    std::string b = "\x82\x86\x01\x04test";
    b.push_back('\x04');
    b.push_back(static_cast<char>(path.size()));
    b.append(path);
    return b;
}

std::string rst_cancel(std::uint32_t stream) {
    return frame(frame_rst_stream, 0, stream, std::string("\0\0\0\x08", 4));
}

class H2cRobustness : public h2c_fixture {
protected:
    void start_with(h2c::options o = {}) {
        ASSERT_TRUE(start_h2c(
            [this](exchange& ex) {
                if (ex.request().path() == "/hold") {
                    // Never answered: only a reset or the connection's end finishes it.
                    ex.on_abort([this] { events.add("abort"); });
                    events.add("held");
                    return;
                }
                ex.respond(status::ok, {}, "ok");
            },
            o));
    }

    raw_client open_h2() {
        auto c = connect();
        EXPECT_TRUE(c.send_all(std::string(h2c::client_preface) + empty_settings_frame()));
        return c;
    }
};

TEST_F(H2cRobustness, ClientResetAbortsTheExchangeAndTheConnectionLivesOn) {
    start_with();
    auto c = open_h2();
    ASSERT_TRUE(c.send_all(frame(frame_headers, end_stream | end_headers, 1, get_block("/hold"))));
    ASSERT_TRUE(events.wait_for("held"));
    // RFC 9113 §6.4: RST_STREAM ends that stream at once; the handler must hear it.
    ASSERT_TRUE(c.send_all(rst_cancel(1)));
    EXPECT_TRUE(events.wait_for("abort"));
    ASSERT_TRUE(c.send_all(frame(frame_headers, end_stream | end_headers, 3, get_block("/"))));
    auto frames = read_frames_until(c, frame_data);
    bool ok_on_3 = false;
    for (auto const& f : frames)
        if (f.type == frame_data && f.stream_id == 3 && f.payload == "ok") ok_on_3 = true;
    EXPECT_TRUE(ok_on_3) << c.error();
}

TEST_F(H2cRobustness, RapidResetEndsTheConnectionWithGoaway) {
    // CVE-2023-44487: streams opened and cancelled at once cost the server work the
    // client does not pay for; beyond the burst the connection is closed with GOAWAY.
    h2c::options o;
    o.reset_burst = 20;
    o.reset_rate = 1;
    start_with(o);
    auto c = open_h2();
    // About 200 KiB of HEADERS + RST_STREAM pairs: far more than one read of the server's.
    constexpr std::uint32_t pairs = 5000;
    std::string flood;
    for (std::uint32_t id = 1; id < 2 * pairs; id += 2)
        flood += frame(frame_headers, end_stream | end_headers, id, get_block("/hold")) + rst_cancel(id);
    c.send_all(flood); // the server may close before it has read everything
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_TRUE(has_frame(c.received(), frame_goaway)) << "no GOAWAY";
    // The connection ended after the read that crossed the limit: most streams never reached the handler.
    EXPECT_LT(events.count("held"), pairs / 2);
    EXPECT_EQ(events.count("held"), events.count("abort"));
}

TEST_F(H2cRobustness, ContinuationFloodEndsTheConnectionWithGoaway) {
    // CVE-2024-28182: a header block continued without end is cut off after max_continuations.
    start_with();
    auto c = open_h2();
    std::string flood = frame(frame_headers, end_stream, 1, "\x82\x86");
    for (int i = 0; i < 100; ++i) flood += frame(frame_continuation, 0, 1, "");
    c.send_all(flood);
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_TRUE(has_frame(c.received(), frame_goaway)) << "no GOAWAY";
    EXPECT_FALSE(events.contains("held"));
}

TEST_F(H2cRobustness, GarbageAfterThePrefaceEndsTheConnectionWithGoaway) {
    // RFC 9113 §3.4: the preface must be followed by a SETTINGS frame; anything else is a
    // connection error (PROTOCOL_ERROR), which is answered with GOAWAY (RFC 9113 §5.4.1).
    start_with();
    auto c = connect();
    ASSERT_TRUE(c.send_all(std::string(h2c::client_preface) + frame(frame_ping, 0, 0, std::string(8, 'x'))));
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_TRUE(has_frame(c.received(), frame_goaway)) << "no GOAWAY";
}

} // namespace
} // namespace upshift::test

namespace upshift::test {
namespace {

class H2cStalls : public h2c_fixture {
protected:
    void SetUp() override {
        h2c::options o;
        o.idle_timeout = 200ms; // how long nothing may move; the tests wait up to seconds
        ASSERT_TRUE(start_h2c(
            [](exchange& ex) {
                if (ex.request().path() == "/big") {
                    ex.respond(status::ok, {}, std::string(256 * 1024, 'x'));
                    return;
                }
                ex.respond(status::ok, {}, "ok");
            },
            o));
    }
};

TEST_F(H2cStalls, UpgradeWithoutTheClientPrefaceIsClosed) {
    // RFC 7540 §3.5: after the 101 the client MUST send its preface; one that never does
    // does not hold the connection (and stream 1's handler never runs).
    auto c = connect();
    std::string h = "Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: " +
                    std::string(curl_http2_settings) + "\r\n";
    ASSERT_TRUE(c.send_all(request("GET", "/", h)));
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_NE(c.received().find("HTTP/1.1 101"), std::string::npos);
}

TEST_F(H2cStalls, ClientThatNeverOpensItsWindowIsClosed) {
    // RFC 9113 §6.9: the server may send no more than the client's window (64 KiB here);
    // a client that never grants more, while the response waits, is dropped when idle.
    auto c = connect();
    ASSERT_TRUE(c.send_all(std::string(h2c::client_preface) + empty_settings_frame()));
    ASSERT_TRUE(c.send_all(frame(frame_headers, end_stream | end_headers, 1, get_block("/big"))));
    EXPECT_TRUE(c.wait_closed(5s));
    std::size_t data = 0;
    for (auto const& f : parse_frames(c.received()))
        if (f.type == frame_data) data += f.payload.size();
    EXPECT_EQ(data, 65535u); // exactly the initial window, then nothing until the close
}

TEST_F(H2cStalls, IdleConnectionGetsGoawayAndIsClosed) {
    // RFC 9113 §6.8: an idle connection is closed with a GOAWAY first.
    auto c = connect();
    ASSERT_TRUE(c.send_all(std::string(h2c::client_preface) + empty_settings_frame()));
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_TRUE(has_frame(c.received(), frame_goaway)) << "no GOAWAY";
}

} // namespace
} // namespace upshift::test

namespace upshift::test {
namespace {

class H2cGracefulStop : public h2c_fixture {};

TEST_F(H2cGracefulStop, StreamInFlightFinishesAfterGoaway) {
    // RFC 9113 §6.8: GOAWAY names the last stream the server will process; that stream
    // still gets its response, and the connection closes once nothing is left.
    ASSERT_TRUE(start_h2c([this](exchange& ex) {
        park(ex);
        events.add("parked");
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(std::string(h2c::client_preface) + empty_settings_frame()));
    ASSERT_TRUE(c.send_all(frame(frame_headers, end_stream | end_headers, 1, get_block("/"))));
    ASSERT_TRUE(events.wait_for("parked"));
    std::thread stopper([this] { stop_and_join(); });
    auto frames = read_frames_until(c, frame_goaway);
    ASSERT_FALSE(frames.empty()) << c.error();
    auto const& goaway = frames.back();
    ASSERT_GE(goaway.payload.size(), 8u);
    auto const last_stream =
        (static_cast<std::uint32_t>(static_cast<unsigned char>(goaway.payload[0]) & 0x7f) << 24) |
        (static_cast<std::uint32_t>(static_cast<unsigned char>(goaway.payload[1])) << 16) |
        (static_cast<std::uint32_t>(static_cast<unsigned char>(goaway.payload[2])) << 8) |
        static_cast<std::uint32_t>(static_cast<unsigned char>(goaway.payload[3]));
    EXPECT_EQ(last_stream, 1u);
    EXPECT_TRUE(with_parked([](exchange& ex) { ex.respond(status::ok, {}, "late"); }));
    auto rest = read_frames_until(c, frame_data);
    bool late = false;
    for (auto const& f : rest)
        if (f.type == frame_data && f.stream_id == 1 && f.payload == "late") late = true;
    EXPECT_TRUE(late) << c.error();
    EXPECT_TRUE(c.wait_closed(5s));
    stopper.join();
    EXPECT_FALSE(events.contains("abort"));
}

} // namespace
} // namespace upshift::test
