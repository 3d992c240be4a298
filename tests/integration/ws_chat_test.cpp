// The /ws/chat/<room> route and the /chat.html page of `upshift serve --threads 2`, with real clients:
// - several python websockets clients per room (tests/clients/chat_clients.py): everyone in a room
//   receives every message of the room, in each sender's order, and nothing of other rooms; join
//   and leave notices; permessage-deflate (RFC 7692); the 64 KiB limit (RFC 6455 §7.4.1: 1009);
// - headless Chromium driven over the DevTools protocol (tests/clients/chat_browser.py) next to a
//   python client in the same room: lines typed into the page come back into it and reach the
//   python client, and the python client's line shows up in the page;
// - bad room names get 404 and no switch; a valid room without an upgrade gets 426.
// With two worker loops the kernel spreads the connections over both (SO_REUSEPORT), so messages
// cross threads; tests/unit/ws/hub_test.cpp pins subscribers to each loop deterministically.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "integration_helpers.hpp"

namespace upshift::test {
namespace {

class WsChatTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(server_.ready()) << server_.error(); }

    bool have_python_websockets() {
        if (::access(python.c_str(), X_OK) != 0) return false;
        auto r = run_command({python, "-c", "import websockets"}, std::chrono::seconds{30});
        return r.exit && r.exit->success();
    }

    std::string const python = "/usr/bin/python3";
    std::string const clients_dir = std::string{UPSHIFT_SOURCE_DIR} + "/tests/clients";
    // The default document root is demo/site, which holds chat.html.
    server_process server_{std::vector<std::string>{"--threads", "2", "--access-log"}};
};

#define REQUIRE_PYTHON_WEBSOCKETS()                                                                    \
    if (!have_python_websockets()) {                                                                   \
        if (in_ci()) FAIL() << python << " with the websockets package is missing but CI is set";     \
        GTEST_SKIP() << python << " with the websockets package is missing";                          \
    }

TEST_F(WsChatTest, RoomsBroadcastToEveryMemberAcrossThreads) {
    REQUIRE_PYTHON_WEBSOCKETS();
    auto out = run_command({python, clients_dir + "/chat_clients.py", std::to_string(server_.port())},
                           std::chrono::seconds{90});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    for (auto const* line : {"OK bad room 404\n", "OK deflate\n", "OK joins\n", "OK broadcast 6+2 clients\n",
                             "OK leave\n", "OK limits\n", "OK done\n"})
        EXPECT_NE(out.out.find(line), std::string::npos) << line << out;
    EXPECT_TRUE(server_.wait_output("\"GET /ws/chat/alpha HTTP/1.1\" 101", 5s)) << server_.output();
    EXPECT_TRUE(healthy(server_.port()));
}

// Room names are [A-Za-z0-9_-]{1,64}: anything else is 404 and the handshake is never answered
// with a 101.
TEST_F(WsChatTest, BadRoomNamesGet404) {
    std::vector<std::string> const upgrade{"Upgrade: websocket", "Connection: Upgrade",
                                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                                           "Sec-WebSocket-Version: 13"};
    std::vector<std::string> const bad{"", "a.b", "a/b", "%41", "caf%C3%A9", std::string(65, 'r')};
    for (auto const& room : bad) {
        auto r = fetch(server_.port(), request("GET", "/ws/chat/" + room, upgrade));
        ASSERT_TRUE(r) << room;
        EXPECT_EQ(r->status, 404) << "room '" << room << "'\n" << *r;
    }
    raw_client c{server_.port()};
    ASSERT_TRUE(c.send_all(request("GET", "/ws/chat/" + std::string(64, 'r'), upgrade))) << c.error();
    auto ok = c.read_response();
    ASSERT_TRUE(ok) << c.error();
    EXPECT_EQ(ok->status, 101) << *ok;
}

// RFC 9110 §15.5.22: without an upgrade, a 426 that names what the resource speaks.
TEST_F(WsChatTest, PlainGetGets426) {
    auto r = fetch(server_.port(), request("GET", "/ws/chat/lobby"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 426) << *r;
    EXPECT_EQ(r->header("Upgrade"), "websocket") << *r;
    EXPECT_EQ(r->header("Sec-WebSocket-Version"), "13") << *r;
}

// The page and its script and stylesheet are served, with no external resources.
TEST_F(WsChatTest, ChatPageIsServedSelfContained) {
    for (std::string const path : {"/chat.html", "/chat.js", "/chat.css"}) {
        auto r = fetch(server_.port(), request("GET", path));
        ASSERT_TRUE(r) << path;
        EXPECT_EQ(r->status, 200) << path;
        EXPECT_EQ(r->body.find("http://"), std::string::npos) << path << " refers to another origin";
        EXPECT_EQ(r->body.find("https://"), std::string::npos) << path << " refers to another origin";
    }
    auto index = fetch(server_.port(), request("GET", "/index.html"));
    ASSERT_TRUE(index);
    EXPECT_NE(index->body.find("href=\"/chat.html\""), std::string::npos) << "index.html does not link the chat";
}

TEST_F(WsChatTest, ChromiumPageAndPythonClientShareARoom) {
    REQUIRE_PYTHON_WEBSOCKETS();
    UPSHIFT_REQUIRE_TOOL(chromium, "chromium");
    temp_dir profile;
    ASSERT_TRUE(profile.ok());
    auto out = run_command({python, clients_dir + "/chat_browser.py", *chromium, std::to_string(server_.port()),
                            "browser-room", profile.path()},
                           std::chrono::seconds{90});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    for (auto const* line : {"OK page open as guest-", "OK peer saw the page join\n", "OK page shows its own lines\n",
                             "OK peer got the page's lines\n", "OK page shows the peer's line\n",
                             "OK page shows the leave\n", "OK done\n"})
        EXPECT_NE(out.out.find(line), std::string::npos) << line << out;
    EXPECT_TRUE(server_.wait_output("\"GET /chat.html?room=browser-room HTTP/1.1\" 200", 5s)) << server_.output();
    EXPECT_TRUE(server_.wait_output("\"GET /ws/chat/browser-room HTTP/1.1\" 101", 5s)) << server_.output();
}

} // namespace
} // namespace upshift::test
