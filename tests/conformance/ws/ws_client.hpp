#pragma once
// A deliberately small WebSocket client for the conformance suite (tests/conformance/ws): the opening
// handshake (RFC 6455 §4.1), masked client frames with any opcode, RSV bits, FIN and payload (§5.2,
// §5.3), optionally written one byte per send() to exercise the server's incremental parser, and a
// reader of the server's frames. It shares nothing with upshift's ws module: the tests check the
// server from outside, against `upshift serve`'s /ws/echo route. The cases are grouped like the
// Autobahn|Testsuite categories (1 framing, 2 pings/pongs, 3 reserved bits, 4 opcodes,
// 5 fragmentation, 6 UTF-8, 7 close, 9 limits, 10 auto-fragmentation; 12 and 13, permessage-deflate,
// use pmd_client.hpp on top of this).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "support/raw_client.hpp"
#include "support/spawn_server.hpp"

namespace upshift::test::conformance {

using namespace std::chrono_literals;

// Opcodes (§5.2, §11.8).
inline constexpr int op_continuation = 0x0;
inline constexpr int op_text = 0x1;
inline constexpr int op_binary = 0x2;
inline constexpr int op_close = 0x8;
inline constexpr int op_ping = 0x9;
inline constexpr int op_pong = 0xA;

/// One frame as the server sent it.
struct ws_frame {
    bool fin = false;
    int rsv = 0; // RSV1..3 as bits 2..0
    int op = 0;
    bool masked = false;
    std::string payload;

    /// The status code of a Close; 0 when its body is empty (§5.5.1).
    int close_code() const {
        if (payload.size() < 2) return 0;
        return (static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]);
    }
    std::string close_reason() const { return payload.size() > 2 ? payload.substr(2) : std::string{}; }
};

inline std::ostream& operator<<(std::ostream& os, ws_frame const& f) {
    os << "{fin=" << f.fin << " rsv=" << f.rsv << " op=" << f.op << " masked=" << f.masked
       << " len=" << f.payload.size();
    if (f.op == op_close) os << " code=" << f.close_code() << " reason=\"" << f.close_reason() << "\"";
    return os << "}";
}

/// A frame header as a client sends it (MASK set, §5.2) with `declared` as payload length, followed by
/// the masking key; the payload is not included.
inline std::string frame_header(int op, std::uint64_t declared, bool fin, int rsv, std::array<unsigned char, 4> key) {
    std::string h;
    h += static_cast<char>((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (op & 0x0F));
    if (declared <= 125) {
        h += static_cast<char>(0x80 | declared);
    } else if (declared <= 0xFFFF) {
        h += static_cast<char>(0x80 | 126);
        h += static_cast<char>((declared >> 8) & 0xFF);
        h += static_cast<char>(declared & 0xFF);
    } else {
        h += static_cast<char>(0x80 | 127);
        for (int i = 7; i >= 0; --i) h += static_cast<char>((declared >> (8 * i)) & 0xFF);
    }
    for (auto k : key) h += static_cast<char>(k);
    return h;
}

/// A whole masked client frame (§5.3).
inline std::string client_frame(int op, std::string_view payload, bool fin = true, int rsv = 0,
                                std::array<unsigned char, 4> key = {0x37, 0xFA, 0x21, 0x3D}) {
    std::string f = frame_header(op, payload.size(), fin, rsv, key);
    std::size_t const at = f.size();
    f.append(payload);
    for (std::size_t i = 0; i < payload.size(); ++i) f[at + i] = static_cast<char>(f[at + i] ^ key[i % 4]);
    return f;
}

/// A Close body: the 2-byte code (network order) then the reason (§5.5.1).
inline std::string close_body(int code, std::string_view reason = {}) {
    std::string s;
    s += static_cast<char>((code >> 8) & 0xFF);
    s += static_cast<char>(code & 0xFF);
    s.append(reason);
    return s;
}

/// Deterministic bytes; valid UTF-8 (printable ASCII) when `ascii`.
inline std::string payload_of(std::size_t n, bool ascii, unsigned seed = 7) {
    std::string s(n, '\0');
    std::uint32_t x = seed * 2654435761u + 1;
    for (std::size_t i = 0; i < n; ++i) {
        x = x * 1103515245u + 12345u;
        auto const b = static_cast<unsigned char>(x >> 23);
        s[i] = ascii ? static_cast<char>(0x20 + b % 95) : static_cast<char>(b);
    }
    return s;
}

/// Length of the complete server frame at the front of `b`, or 0.
inline std::size_t frame_length(std::string_view b) {
    if (b.size() < 2) return 0;
    auto const b1 = static_cast<unsigned char>(b[1]);
    std::size_t header = 2;
    std::uint64_t len = b1 & 0x7F;
    if (len == 126 || len == 127) {
        std::size_t const ext = len == 126 ? 2 : 8;
        if (b.size() < 2 + ext) return 0;
        len = 0;
        for (std::size_t i = 0; i < ext; ++i) len = (len << 8) | static_cast<unsigned char>(b[2 + i]);
        header += ext;
    }
    if (b1 & 0x80) header += 4;
    if (b.size() - header < len || b.size() < header) return 0;
    return header + static_cast<std::size_t>(len);
}

inline ws_frame decode_frame(std::string_view b) {
    ws_frame f;
    auto const b0 = static_cast<unsigned char>(b[0]);
    auto const b1 = static_cast<unsigned char>(b[1]);
    f.fin = (b0 & 0x80) != 0;
    f.rsv = (b0 >> 4) & 0x7;
    f.op = b0 & 0x0F;
    f.masked = (b1 & 0x80) != 0;
    std::size_t header = 2;
    if ((b1 & 0x7F) == 126) header += 2;
    if ((b1 & 0x7F) == 127) header += 8;
    std::array<unsigned char, 4> key{};
    if (f.masked) {
        for (std::size_t i = 0; i < 4; ++i) key[i] = static_cast<unsigned char>(b[header + i]);
        header += 4;
    }
    f.payload = std::string(b.substr(header));
    if (f.masked)
        for (std::size_t i = 0; i < f.payload.size(); ++i) f.payload[i] = static_cast<char>(f.payload[i] ^ key[i % 4]);
    return f;
}

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
        if (!raw_.connected()) return ::testing::AssertionFailure() << "connect: " << raw_.error();
        std::string req = "GET " + path_ + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n";
        req.append(extra_headers).append("\r\n");
        if (!raw_.send_all(req)) return ::testing::AssertionFailure() << "send: " << raw_.error();
        auto head = raw_.read_until("\r\n\r\n", 5s);
        if (!head) return ::testing::AssertionFailure() << "no response head: " << raw_.error();
        if (head->rfind("HTTP/1.1 101 ", 0) != 0) return ::testing::AssertionFailure() << "not a 101:\n" << *head;
        // RFC 6455 §1.3's example key and accept value.
        if (head->find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == std::string::npos)
            return ::testing::AssertionFailure() << "wrong Sec-WebSocket-Accept:\n" << *head;
        auto parsed = parse_response(*head);
        if (parsed.what != parse_outcome::kind::complete)
            return ::testing::AssertionFailure() << "malformed 101: " << parsed.error << "\n" << *head;
        response_ = std::move(parsed.response);
        return ::testing::AssertionSuccess();
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
        return send_raw(client_frame(op, payload, fin, rsv), per_byte);
    }
    bool send_close(int code, std::string_view reason = {}) { return send_frame(op_close, close_body(code, reason)); }

    /// The next server frame; nullopt on timeout or when the connection closed first.
    std::optional<ws_frame> read_frame(std::chrono::milliseconds timeout = 5s) {
        auto bytes = raw_.read_until(frame_length, timeout);
        if (!bytes) return std::nullopt;
        return decode_frame(*bytes);
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

/// Base fixture: a handshaken connection in `ws`.
class WsConformance : public ::testing::Test {
protected:
    void SetUp() override {
        auto& s = conformance_env::server();
        ASSERT_TRUE(s.ready()) << s.error();
        ws_.emplace(s.port());
        ASSERT_TRUE(ws_->handshake());
    }
    ws_client& ws() { return *ws_; }

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

    /// The server fails the connection (§7.1.7): the next frame is a Close with `code`, then TCP closes.
    void expect_fail(int code, std::chrono::milliseconds timeout = 5s) {
        auto f = ws().read_frame(timeout);
        ASSERT_TRUE(f) << "no Close " << code << " from the server: " << ws().error();
        EXPECT_EQ(f->op, op_close) << *f;
        EXPECT_EQ(f->close_code(), code) << *f;
        EXPECT_FALSE(f->masked) << *f;
        EXPECT_TRUE(ws().server_closes_tcp()) << "TCP still open after Close " << code;
    }

    /// Closes with 1000 and expects the server's Close 1000 then the TCP close (§7.1.2, §7.1.1).
    void expect_clean_close() {
        ASSERT_TRUE(ws().send_close(1000)) << ws().error();
        auto f = ws().read_frame();
        ASSERT_TRUE(f) << ws().error();
        EXPECT_EQ(f->op, op_close) << *f;
        EXPECT_EQ(f->close_code(), 1000) << *f;
        EXPECT_TRUE(ws().server_closes_tcp());
    }

    std::optional<ws_client> ws_;
};

} // namespace upshift::test::conformance
