#include "support/ws_test_client.hpp"

namespace upshift::test {

std::string ws_upgrade_request(std::string_view target, std::string_view extra_headers, std::string_view key,
                               std::string_view version) {
    std::string r;
    r.append("GET ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    r.append("Upgrade: websocket\r\nConnection: Upgrade\r\n");
    r.append("Sec-WebSocket-Key: ").append(key).append("\r\n");
    r.append("Sec-WebSocket-Version: ").append(version).append("\r\n");
    r.append(extra_headers).append("\r\n");
    return r;
}

::testing::AssertionResult ws_handshake(raw_client& c, std::string_view target,
                                        std::string_view extra_headers, std::string_view after,
                                        http_response* response) {
    if (!c.connected()) return ::testing::AssertionFailure() << "connect: " << c.error();
    if (!c.send_all(ws_upgrade_request(target, extra_headers) + std::string(after)))
        return ::testing::AssertionFailure() << "send: " << c.error();
    auto head = c.read_until("\r\n\r\n", 5s);
    if (!head) return ::testing::AssertionFailure() << "no response head: " << c.error() << c.received();
    auto parsed = parse_response(*head, /*head_request=*/true);
    if (parsed.what != parse_outcome::kind::complete)
        return ::testing::AssertionFailure() << "malformed response: " << parsed.error << "\n" << *head;
    if (parsed.response.status != 101) return ::testing::AssertionFailure() << "not a 101:\n" << *head;
    if (parsed.response.header("Sec-WebSocket-Accept") != std::string(rfc_handshake_accept))
        return ::testing::AssertionFailure() << "wrong Sec-WebSocket-Accept:\n" << *head;
    if (response != nullptr) *response = std::move(parsed.response);
    return ::testing::AssertionSuccess();
}

std::string client_frame_header(int op, std::uint64_t declared, frame_spec const& spec) {
    std::string h;
    h += static_cast<char>((spec.fin ? 0x80 : 0) | ((spec.rsv & 7) << 4) | (op & 0x0F));
    int form = spec.length_bytes;
    if (form < 0) form = declared <= 125 ? 0 : declared <= 0xFFFF ? 2 : 8;
    int const mask_bit = spec.masked ? 0x80 : 0;
    if (form == 0) {
        h += static_cast<char>(mask_bit | static_cast<int>(declared & 0x7F));
    } else {
        h += static_cast<char>(mask_bit | (form == 2 ? 126 : 127));
        for (int i = form - 1; i >= 0; --i) h += static_cast<char>((declared >> (8 * i)) & 0xFF);
    }
    if (spec.masked)
        for (auto k : spec.key) h += static_cast<char>(k);
    return h;
}

std::string client_frame(int op, std::string_view payload, frame_spec const& spec) {
    std::string f = client_frame_header(op, payload.size(), spec);
    std::size_t const at = f.size();
    f.append(payload);
    if (spec.masked)
        for (std::size_t i = 0; i < payload.size(); ++i)
            f[at + i] = static_cast<char>(f[at + i] ^ spec.key[i % 4]);
    return f;
}

std::string close_body(int code, std::string_view reason) {
    std::string s;
    s += static_cast<char>((code >> 8) & 0xFF);
    s += static_cast<char>(code & 0xFF);
    s.append(reason);
    return s;
}

int server_frame::close_code() const {
    if (payload.size() < 2) return 0;
    return (static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]);
}

std::string server_frame::close_reason() const {
    return payload.size() > 2 ? payload.substr(2) : std::string{};
}

std::ostream& operator<<(std::ostream& os, server_frame const& f) {
    os << "{fin=" << f.fin << " rsv=" << f.rsv << " op=" << f.op << " masked=" << f.masked
       << " len=" << f.payload.size();
    if (f.op == op_close) os << " code=" << f.close_code() << " reason=\"" << f.close_reason() << "\"";
    return os << "}";
}

std::size_t server_frame_length(std::string_view b) {
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
    // Compared without header + len, which a huge 64-bit length would overflow.
    if (b.size() < header || b.size() - header < len) return 0;
    return header + static_cast<std::size_t>(len);
}

server_frame decode_server_frame(std::string_view b) {
    server_frame f;
    auto const b0 = static_cast<unsigned char>(b[0]);
    auto const b1 = static_cast<unsigned char>(b[1]);
    f.fin = (b0 & 0x80) != 0;
    f.rsv = (b0 >> 4) & 0x7;
    f.op = b0 & 0x0F;
    f.masked = (b1 & 0x80) != 0;
    std::size_t header = 2;
    if ((b1 & 0x7F) == 126) header += 2;
    if ((b1 & 0x7F) == 127) header += 8;
    mask_key key{};
    if (f.masked) {
        for (std::size_t i = 0; i < 4; ++i) key[i] = static_cast<std::uint8_t>(b[header + i]);
        header += 4;
    }
    f.payload = std::string(b.substr(header));
    if (f.masked)
        for (std::size_t i = 0; i < f.payload.size(); ++i)
            f.payload[i] = static_cast<char>(f.payload[i] ^ key[i % 4]);
    return f;
}

std::optional<server_frame> read_server_frame(raw_client& c, std::chrono::milliseconds timeout) {
    auto bytes = c.read_until(server_frame_length, timeout);
    if (!bytes) return std::nullopt;
    return decode_server_frame(*bytes);
}

std::optional<server_frame> read_until_close(raw_client& c,
                                             std::function<void(server_frame const&)> const& before_close,
                                             std::chrono::milliseconds timeout) {
    for (;;) {
        auto f = read_server_frame(c, timeout);
        if (!f) {
            ADD_FAILURE() << "no Close from the server: " << c.error() << " (" << c.received().size()
                          << " bytes pending)";
            return std::nullopt;
        }
        if (f->op == op_close) return f;
        before_close(*f);
        if (::testing::Test::HasFatalFailure()) return std::nullopt;
    }
}

void expect_server_close(raw_client& c, int code, close_reply reply, std::chrono::milliseconds timeout) {
    auto f = read_server_frame(c, timeout);
    ASSERT_TRUE(f) << "no Close " << code << " from the server: " << c.error() << " (" << c.received().size()
                   << " bytes pending)";
    EXPECT_EQ(f->op, op_close) << *f;
    EXPECT_EQ(f->close_code(), code) << *f;
    EXPECT_FALSE(f->masked) << *f; // §5.1: a server MUST NOT mask
    EXPECT_EQ(f->rsv, 0) << *f;
    if (reply == close_reply::echo)
        EXPECT_TRUE(c.send_all(client_frame(op_close, close_body(code)))) << c.error();
    EXPECT_TRUE(c.wait_closed(5s)) << "TCP still open after Close " << code << " (§7.1.1)";
    EXPECT_TRUE(c.received().empty()) << c.received().size() << " bytes after the Close";
}

std::string payload_of(std::size_t n, bool ascii, unsigned seed) {
    std::string s(n, '\0');
    std::uint32_t x = seed * 2654435761u + 1;
    for (std::size_t i = 0; i < n; ++i) {
        x = x * 1103515245u + 12345u;
        auto const b = static_cast<unsigned char>(x >> 23);
        s[i] = ascii ? static_cast<char>(0x20 + b % 95) : static_cast<char>(b);
    }
    return s;
}

} // namespace upshift::test
