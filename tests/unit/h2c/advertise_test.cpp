// Advertising h2c on HTTP/1.1 responses (issue 5: "Servers may advertise h2c
// with `Upgrade: h2c` on HTTP/1.1 responses"): h2c::options::advertise, off by
// default, through server::options::advertise_upgrade. RFC 9110 §7.8 lets a
// server send Upgrade in any response to list the protocols it would switch to,
// and requires the "upgrade" connection option with it.
#include "h2c_fixture.hpp"

namespace upshift::test {
namespace {

void ok_handler(exchange& ex) {
    ex.respond(status::ok, {{"Content-Type", "text/plain"}}, ex.request().version_major == 2 ? "h2" : "h1");
}

h2c::options advertising() {
    h2c::options o;
    o.advertise = true;
    return o;
}

std::string h2c_upgrade_request() {
    return request("GET", "/",
                   "Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: " +
                       std::string(curl_http2_settings) + "\r\n");
}

class H2cAdvertise : public h2c_fixture {};

TEST_F(H2cAdvertise, OffByDefault) {
    EXPECT_FALSE(h2c::options{}.advertise);
    ASSERT_TRUE(start_h2c(ok_handler));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/")));
    auto r = c.read_final_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header_count("Upgrade"), 0u) << *r;
    EXPECT_FALSE(r->has_token("Connection", "upgrade")) << *r;
}

TEST_F(H2cAdvertise, ResponsesCarryUpgradeH2cAndTheUpgradeConnectionOption) {
    ASSERT_TRUE(start_h2c(ok_handler, advertising()));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/")));
    auto r = c.read_final_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "h1");
    // RFC 9110 §7.8: a server MAY send Upgrade in any other response to advertise
    // the protocols it supports; RFC 7540 §3.2 names HTTP/2 over cleartext "h2c".
    EXPECT_EQ(r->header_count("Upgrade"), 1u) << *r;
    EXPECT_EQ(r->header("Upgrade"), "h2c");
    // RFC 9110 §7.8: a sender of Upgrade MUST also send the "upgrade" connection option.
    EXPECT_TRUE(r->has_token("Connection", "upgrade")) << *r;
    // Advertising does not end the connection.
    EXPECT_FALSE(r->has_token("Connection", "close")) << *r;
}

TEST_F(H2cAdvertise, StreamedResponsesCarryItToo) {
    ASSERT_TRUE(start_h2c(
        [](exchange& ex) {
            auto& w = ex.start_response(status::ok, {{"Content-Type", "text/plain"}}, std::nullopt);
            w.write("streamed");
            w.finish();
        },
        advertising()));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/")));
    auto r = c.read_final_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_TRUE(r->chunked);
    EXPECT_EQ(r->body, "streamed");
    EXPECT_EQ(r->header("Upgrade"), "h2c");
    EXPECT_TRUE(r->has_token("Connection", "upgrade")) << *r;
}

TEST_F(H2cAdvertise, TheAdvertisedUpgradeWorksOnTheSameConnection) {
    // What is advertised must be honoured: the next request on the connection may
    // switch (RFC 7540 §3.2), and gets 101 with Upgrade: h2c exactly once.
    ASSERT_TRUE(start_h2c(ok_handler, advertising()));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/")));
    auto first = c.read_final_response();
    ASSERT_TRUE(first) << c.error();
    ASSERT_EQ(first->header("Upgrade"), "h2c");
    ASSERT_TRUE(c.send_all(h2c_upgrade_request()));
    auto head = c.read_until("\r\n\r\n");
    ASSERT_TRUE(head) << c.error();
    auto r = parse_head(*head);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 101);
    EXPECT_EQ(r->header_count("Upgrade"), 1u) << *r;
    EXPECT_EQ(r->header("Upgrade"), "h2c");
    ASSERT_TRUE(c.send_all(std::string(h2c::client_preface) + empty_settings_frame()));
    auto frames = read_frames_until(c, frame_data);
    std::string body;
    for (auto const& f : frames)
        if (f.type == frame_data && f.stream_id == 1) body += f.payload;
    EXPECT_EQ(body, "h2");
}

TEST_F(H2cAdvertise, AResponseNamingItsOwnUpgradeKeepsIt) {
    // RFC 9110 §15.5.22: a 426 MUST send Upgrade with the protocols it requires;
    // the advertisement must not add a second, contradicting field.
    ASSERT_TRUE(start_h2c(
        [](exchange& ex) {
            ex.respond(status::upgrade_required, {{"Upgrade", "websocket"}, {"Content-Type", "text/plain"}},
                       "use websocket\n");
        },
        advertising()));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/")));
    auto r = c.read_final_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 426);
    EXPECT_EQ(r->header_count("Upgrade"), 1u) << *r;
    EXPECT_EQ(r->header("Upgrade"), "websocket");
    EXPECT_TRUE(r->has_token("Connection", "upgrade")) << *r;
}

TEST_F(H2cAdvertise, NotToHttp10Clients) {
    // RFC 9110 §7.8: a server MUST ignore Upgrade in an HTTP/1.0 request, so an
    // HTTP/1.0 client could never take up the offer.
    ASSERT_TRUE(start_h2c(ok_handler, advertising()));
    auto c = connect();
    ASSERT_TRUE(c.send_all("GET / HTTP/1.0\r\nHost: test\r\n\r\n"));
    auto r = c.read_final_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header_count("Upgrade"), 0u) << *r;
    EXPECT_FALSE(r->has_token("Connection", "upgrade")) << *r;
}

TEST_F(H2cAdvertise, AdvertisementNamesH2cOnlyWhenEnabled) {
    auto const app = [](exchange& ex) { ok_handler(ex); };
    EXPECT_EQ(h2c::service(app).advertisement(), "");
    EXPECT_EQ(h2c::service(app, advertising()).advertisement(), "h2c");
}

} // namespace
} // namespace upshift::test
