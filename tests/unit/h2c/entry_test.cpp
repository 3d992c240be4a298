// How a connection becomes HTTP/2, seen in raw bytes on a real socket: the
// Upgrade route (RFC 7540 §3.2, §3.2.1), prior knowledge (RFC 9113 §3.3), the
// server preface (RFC 9113 §3.4), and requests that must stay HTTP/1.1.
#include <thread>

#include "h2c_fixture.hpp"

namespace upshift::test {
namespace {

/// Answers "h1" or "h2" by the version the request arrived in.
void version_handler(exchange& ex) {
    ex.respond(status::ok, {{"Content-Type", "text/plain"}}, ex.request().version_major == 2 ? "h2" : "h1");
}

std::string h2c_upgrade(std::string_view settings_lines,
                        std::string_view connection = "Upgrade, HTTP2-Settings") {
    std::string h = "Upgrade: h2c\r\nConnection: ";
    h.append(connection).append("\r\n").append(settings_lines);
    return request("GET", "/", h);
}

class H2cEntry : public h2c_fixture {};

TEST_F(H2cEntry, UpgradeGets101ThenTheServerPrefaceThenStream1) {
    ASSERT_TRUE(start_h2c(version_handler));
    auto c = connect();
    ASSERT_TRUE(c.send_all(h2c_upgrade("HTTP2-Settings: " + std::string(curl_http2_settings) + "\r\n")));
    auto head = c.read_until("\r\n\r\n");
    ASSERT_TRUE(head) << c.error();
    auto r = parse_head(*head);
    ASSERT_TRUE(r);
    // RFC 7540 §3.2: the server accepts with 101 Switching Protocols and Upgrade: h2c.
    EXPECT_EQ(r->status, 101);
    EXPECT_EQ(r->header("Upgrade"), "h2c");
    // RFC 7540 §3.5: the server connection preface (a SETTINGS frame, RFC 9113 §3.4)
    // MUST be the first frame the server sends after the 101.
    ASSERT_TRUE(c.send_all(std::string(h2c::client_preface) + empty_settings_frame()));
    auto frames = read_frames_until(c, frame_data);
    ASSERT_FALSE(frames.empty()) << c.error();
    EXPECT_EQ(frames.front().type, frame_settings);
    EXPECT_EQ(frames.front().stream_id, 0u);
    EXPECT_EQ(frames.front().flags & 0x1, 0); // not an ACK
    // RFC 7540 §3.2: the response to the upgrade request is on stream 1.
    bool headers_on_1 = false, body_h2 = false;
    for (auto const& f : frames) {
        if (f.type == frame_headers && f.stream_id == 1) headers_on_1 = true;
        if (f.type == frame_data && f.stream_id == 1 && f.payload == "h2") body_h2 = true;
    }
    EXPECT_TRUE(headers_on_1);
    EXPECT_TRUE(body_h2);
}

TEST_F(H2cEntry, MissingHttp2SettingsIsAnsweredOverHttp11) {
    // RFC 7540 §3.2.1: a server MUST NOT upgrade if HTTP2-Settings is not present.
    ASSERT_TRUE(start_h2c(version_handler));
    auto c = connect();
    ASSERT_TRUE(c.send_all(h2c_upgrade("", "Upgrade")));
    auto r = c.read_final_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "h1");
}

TEST_F(H2cEntry, RepeatedHttp2SettingsIsAnsweredOverHttp11) {
    // RFC 7540 §3.2.1: ... nor if more than one HTTP2-Settings is present.
    ASSERT_TRUE(start_h2c(version_handler));
    auto c = connect();
    std::string const line = "HTTP2-Settings: " + std::string(curl_http2_settings) + "\r\n";
    ASSERT_TRUE(c.send_all(h2c_upgrade(line + line)));
    auto r = c.read_final_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "h1");
}

TEST_F(H2cEntry, UndecodableHttp2SettingsIsAnsweredOverHttp11) {
    // RFC 7540 §3.2.1: the value is base64url of a SETTINGS payload; anything else cannot switch.
    ASSERT_TRUE(start_h2c(version_handler));
    for (std::string_view bad : {"AAMA*ABk", "AAMAAA", "AAIAAAAC"}) {
        auto c = connect();
        ASSERT_TRUE(c.send_all(h2c_upgrade("HTTP2-Settings: " + std::string(bad) + "\r\n")));
        auto r = c.read_final_response();
        ASSERT_TRUE(r) << bad << ": " << c.error();
        EXPECT_EQ(r->status, 200) << bad;
        EXPECT_EQ(r->body, "h1") << bad;
    }
}

TEST_F(H2cEntry, UpgradeRequestBodyReachesStream1) {
    // RFC 7540 §3.2: a request body is sent in HTTP/1.1 before the switch; it is
    // still the body of the request answered on stream 1.
    ASSERT_TRUE(start_h2c([](exchange& ex) {
        ex.read_body_all(1 << 20, [&ex](std::error_code ec, std::string body) {
            ex.respond(status::ok, {},
                       ec ? "error" : (ex.request().version_major == 2 ? "h2:" : "h1:") + body);
        });
    }));
    auto c = connect();
    std::string h = "Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: " +
                    std::string(curl_http2_settings) + "\r\n";
    ASSERT_TRUE(c.send_all(request("POST", "/", h, "payload-before-switch")));
    auto head = c.read_until("\r\n\r\n");
    ASSERT_TRUE(head) << c.error();
    EXPECT_TRUE(head->starts_with("HTTP/1.1 101 ")) << *head;
    ASSERT_TRUE(c.send_all(std::string(h2c::client_preface) + empty_settings_frame()));
    auto frames = read_frames_until(c, frame_data);
    std::string body;
    for (auto const& f : frames)
        if (f.type == frame_data && f.stream_id == 1) body += f.payload;
    EXPECT_EQ(body, "h2:payload-before-switch");
}

TEST_F(H2cEntry, UpgradeBodyOverTheLimitIs413WithoutSwitching) {
    // The body must be held until stream 1 exists; beyond max_upgrade_body it is refused in HTTP/1.1.
    h2c::options o;
    o.max_upgrade_body = 10;
    ASSERT_TRUE(start_h2c(version_handler, o));
    auto c = connect();
    std::string h = "Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: " +
                    std::string(curl_http2_settings) + "\r\n";
    ASSERT_TRUE(c.send_all(request("POST", "/", h, "eleven bytes")));
    auto r = c.read_final_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 413);
    EXPECT_FALSE(r->header("Upgrade").has_value());
}

TEST_F(H2cEntry, PriorKnowledgeSpeaksHttp2AtOnce) {
    // RFC 9113 §3.3: a client that knows the server speaks HTTP/2 sends the
    // preface first; RFC 9113 §3.4: the server's first frame MUST be SETTINGS.
    ASSERT_TRUE(start_h2c(version_handler));
    auto c = connect();
    ASSERT_TRUE(c.send_all(std::string(h2c::client_preface) + empty_settings_frame()));
    auto frames = read_frames_until(c, frame_settings);
    ASSERT_FALSE(frames.empty()) << c.error() << " received: " << c.received().size() << " bytes";
    EXPECT_EQ(frames.front().type, frame_settings);
    EXPECT_EQ(frames.front().stream_id, 0u);
}

TEST_F(H2cEntry, PrefaceSplitAcrossWritesIsStillHttp2) {
    // The first bytes may arrive in pieces: a prefix of the preface waits for the rest.
    ASSERT_TRUE(start_h2c(version_handler));
    auto c = connect();
    std::string const preface{h2c::client_preface};
    ASSERT_TRUE(c.send_all(preface.substr(0, 3)));
    std::this_thread::sleep_for(50ms); // let the server see the prefix alone (no assertion on time)
    ASSERT_TRUE(c.send_all(preface.substr(3, 14)));
    std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(c.send_all(preface.substr(17) + empty_settings_frame()));
    auto frames = read_frames_until(c, frame_settings);
    ASSERT_FALSE(frames.empty()) << c.error() << " received: " << c.received();
    EXPECT_EQ(frames.front().type, frame_settings);
}

TEST_F(H2cEntry, WithoutPriorKnowledgeThePrefaceIsNotHttp2) {
    ASSERT_TRUE(start_h2c(version_handler, {}, /*prior_knowledge=*/false));
    auto c = connect();
    ASSERT_TRUE(c.send_all(std::string(h2c::client_preface) + empty_settings_frame()));
    auto r = c.read_final_response();
    ASSERT_TRUE(r) << c.error() << " received: " << c.received();
    EXPECT_GE(r->status, 400); // an HTTP/1.1 error, not a SETTINGS frame
}

TEST_F(H2cEntry, PrefaceLaterInTheConnectionIsNotHttp2) {
    // RFC 9113 §3.3: prior knowledge means the preface is the connection's first bytes.
    ASSERT_TRUE(start_h2c(version_handler));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/")));
    auto first = c.read_final_response();
    ASSERT_TRUE(first) << c.error();
    EXPECT_EQ(first->body, "h1");
    ASSERT_TRUE(c.send_all(std::string(h2c::client_preface)));
    auto r = c.read_final_response();
    ASSERT_TRUE(r) << c.error() << " received: " << c.received();
    EXPECT_GE(r->status, 400);
}

TEST_F(H2cEntry, ShutdownSendsGoawayAndCloses) {
    // RFC 9113 §6.8: a server that stops sends GOAWAY before closing the connection.
    ASSERT_TRUE(start_h2c(version_handler));
    auto c = connect();
    ASSERT_TRUE(c.send_all(std::string(h2c::client_preface) + empty_settings_frame()));
    ASSERT_FALSE(read_frames_until(c, frame_settings).empty()) << c.error();
    c.clear_received();
    stop_and_join();
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_TRUE(has_frame(c.received(), frame_goaway)) << "no GOAWAY";
}

} // namespace
} // namespace upshift::test
