// The /ws/echo WebSocket route of `upshift serve` against the npm `ws` client (Node.js), a second
// independent implementation beside python's websockets (ws_python_test). The client script is
// tests/clients/ws_echo_client.mjs; its package is pinned in tests/clients/package-lock.json and
// installed by scripts/install-deps (`npm ci --prefix tests/clients`). Text, binary, 1 MiB messages,
// a fragmented message (RFC 6455 §5.4), ping/pong (§5.5.2) and the closing handshake with 1000
// (§7.1.2), with permessage-deflate off and on (RFC 7692).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "integration_helpers.hpp"

namespace upshift::test {
namespace {

class WsNodeTest : public ::testing::Test {
public:
    void SetUp() override { ASSERT_TRUE(server_.ready()) << server_.error(); }

    server_process server_{std::vector<std::string>{"--access-log"}};
};

void run_echo_client(WsNodeTest& t, bool deflate);

TEST_F(WsNodeTest, EchoWithoutDeflate) { run_echo_client(*this, false); }

// RFC 7692: the npm ws client offers permessage-deflate; /ws/echo accepts it, and every echo
// (compressed both ways above the server's 128-byte threshold) still matches.
TEST_F(WsNodeTest, EchoWithDeflate) { run_echo_client(*this, true); }

void run_echo_client(WsNodeTest& t, bool deflate) {
    UPSHIFT_REQUIRE_NODE_WS(node, clients_dir);
    auto& server_ = t.server_;
    std::string const url = "ws://" + server_.authority() + "/ws/echo";
    std::vector<std::string> argv{*node, clients_dir + "/ws_echo_client.mjs", url};
    if (deflate) argv.emplace_back("--deflate");
    auto out = run_command(argv, std::chrono::seconds{90});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    EXPECT_NE(out.out.find("\"ok\":true"), std::string::npos) << out;
    for (auto const* check : {"\"text\"", "\"binary\"", "\"1 MiB binary\"", "\"1 MiB text\"", "\"fragmented text\"",
                              "\"ping\"", "\"close 1000\""})
        EXPECT_NE(out.out.find(check), std::string::npos) << check << "\n" << out;
    EXPECT_TRUE(server_.wait_output("\"GET /ws/echo HTTP/1.1\" 101", 5s)) << server_.output();
    EXPECT_TRUE(healthy(server_.port()));
}

} // namespace
} // namespace upshift::test
