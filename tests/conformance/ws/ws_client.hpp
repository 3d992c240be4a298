#pragma once
// A deliberately small WebSocket client for the conformance suite (tests/conformance/ws): a
// connection to `upshift serve`'s /ws/echo route that writes masked client frames with any opcode,
// RSV bits, FIN and payload (§5.2, §5.3), optionally one byte per send() to exercise the server's
// incremental parser. Handshake, frame building and reading are tests/support/ws_test_client.hpp,
// which shares nothing with upshift's ws module: the tests check the server from outside. The cases
// are grouped like the Autobahn|Testsuite categories (1 framing, 2 pings/pongs, 3 reserved bits,
// 4 opcodes, 5 fragmentation, 6 UTF-8, 7 close, 9 limits, 10 auto-fragmentation; 12 and 13,
// permessage-deflate, use pmd_client.hpp on top of this).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/raw_client.hpp"
#include "support/spawn_server.hpp"
#include "support/ws_test_client.hpp"

namespace upshift::test::conformance {

using namespace std::chrono_literals;

/// A connection to /ws/echo (or `path`) of the server on `port`.
class ws_client {
public:
    explicit ws_client(std::uint16_t port, std::string path = "/ws/echo") : raw_{port}, path_{std::move(path)} {
        if (raw_.connected()) {
            int one = 1;
            // Byte-by-byte writes must leave as separate segments, not wait for Nagle.
            ::setsockopt(raw_.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
    }

    /// Connects' outcome and the opening handshake (§4.1): a 101 with the right Sec-WebSocket-Accept.
    /// `extra_headers` (whole lines, each ending in CRLF) go into the request, e.g. extension offers;
    /// the 101 stays available as response().
    ::testing::AssertionResult handshake(std::string_view extra_headers = {}) {
        return ws_handshake(raw_, path_, extra_headers, {}, &response_);
    }
    /// The 101 of the last successful handshake().
    http_response const& response() const noexcept { return response_; }

    /// Writes `bytes` whole, or one byte per send() when `per_byte`.
    bool send_raw(std::string_view bytes, bool per_byte = false, std::chrono::milliseconds timeout = 30s) {
        if (!per_byte) return raw_.send_all(bytes, timeout);
        for (char c : bytes)
            if (!raw_.send_all(std::string_view{&c, 1}, timeout)) return false;
        return true;
    }
    bool send_frame(int op, std::string_view payload, bool fin = true, int rsv = 0, bool per_byte = false) {
        return send_raw(client_frame(op, payload, {.fin = fin, .rsv = rsv}), per_byte);
    }
    bool send_close(int code, std::string_view reason = {}) { return send_frame(op_close, close_body(code, reason)); }

    /// The next server frame; nullopt on timeout or when the connection closed first.
    std::optional<server_frame> read_frame(std::chrono::milliseconds timeout = 5s) {
        return read_server_frame(raw_, timeout);
    }

    /// True when the server closes TCP (EOF or reset) within `timeout` without sending anything more.
    bool server_closes_tcp(std::chrono::milliseconds timeout = 3s) {
        return raw_.wait_closed(timeout) && raw_.received().empty();
    }

    raw_client& raw() noexcept { return raw_; }
    std::string const& error() const noexcept { return raw_.error(); }

private:
    raw_client raw_;
    std::string path_;
    http_response response_;
};

/// One `upshift serve` for the whole test program (each case opens its own connection).
class conformance_env {
public:
    static server_process& server() {
        static server_process s{std::vector<std::string>{}};
        return s;
    }
};

/// What both fixtures share: the connection in `ws_`, and the server's side of closing it.
class ws_connection_fixture : public ::testing::Test {
protected:
    ws_client& ws() { return *ws_; }

    /// The server fails the connection (§7.1.7): the next frame is a Close with `code`, then TCP closes.
    void expect_fail(int code, std::chrono::milliseconds timeout = 5s) {
        expect_server_close(ws().raw(), code, close_reply::none, timeout);
    }

    /// Closes with 1000 and expects the server's Close 1000 then the TCP close (§7.1.2, §7.1.1).
    void expect_clean_close() {
        ASSERT_TRUE(ws().send_close(1000)) << ws().error();
        expect_server_close(ws().raw(), 1000, close_reply::none);
    }

    std::optional<ws_client> ws_;
};

/// Base fixture: a handshaken connection in `ws`.
class WsConformance : public ws_connection_fixture {
protected:
    void SetUp() override {
        auto& s = conformance_env::server();
        ASSERT_TRUE(s.ready()) << s.error();
        ws_.emplace(s.port());
        ASSERT_TRUE(ws_->handshake());
    }

    /// Sends one message frame and expects it echoed as one unfragmented, unmasked frame (§5.1, §5.6).
    void expect_echo(int op, std::string const& payload, bool per_byte = false,
                     std::chrono::milliseconds timeout = 10s) {
        ASSERT_TRUE(ws().send_frame(op, payload, true, 0, per_byte)) << ws().error();
        expect_message(op, payload, timeout);
    }
    void expect_message(int op, std::string const& payload, std::chrono::milliseconds timeout = 10s) {
        auto f = ws().read_frame(timeout);
        ASSERT_TRUE(f) << ws().error();
        EXPECT_TRUE(f->fin) << *f;
        EXPECT_EQ(f->rsv, 0) << *f;
        EXPECT_FALSE(f->masked) << *f; // §5.1: a server MUST NOT mask
        EXPECT_EQ(f->op, op) << *f;
        EXPECT_EQ(f->payload.size(), payload.size());
        EXPECT_TRUE(f->payload == payload) << "payload differs";
    }
};

} // namespace upshift::test::conformance
