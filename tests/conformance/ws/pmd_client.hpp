#pragma once
// permessage-deflate (RFC 7692) for the conformance client. The zlib side (pmd_deflater,
// pmd_inflater) is shared with the unit tests: tests/support/ws_test_deflate.hpp.
//
// - pmd_answer: the client's reading of the 101's Sec-WebSocket-Extensions (§5, §7.1), checked
//   against what was offered.
// - read_message(): one server message, reassembled and inflated, with the frame-level MUSTs checked.
// - PmdConformance: a fixture that opens /ws/echo with chosen offers.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/ws_test_deflate.hpp"
#include "ws_client.hpp"

namespace upshift::test::conformance {

/// A permessage-deflate offer (§7.1) built from its parameters.
struct pmd_offer {
    bool server_no_context_takeover = false;
    bool client_no_context_takeover = false;
    int server_max_window_bits = 0;  ///< 0: not offered
    int client_max_window_bits = 0;  ///< 0: not offered; -1: offered without a value

    std::string text() const {
        std::string s = "permessage-deflate";
        if (server_no_context_takeover) s += "; server_no_context_takeover";
        if (client_no_context_takeover) s += "; client_no_context_takeover";
        if (server_max_window_bits > 0) s += "; server_max_window_bits=" + std::to_string(server_max_window_bits);
        if (client_max_window_bits == -1) s += "; client_max_window_bits";
        if (client_max_window_bits > 0) s += "; client_max_window_bits=" + std::to_string(client_max_window_bits);
        return s;
    }
};

/// The server's answer (one Sec-WebSocket-Extensions element) as the client reads it.
struct pmd_answer {
    bool server_no_context_takeover = false;
    bool client_no_context_takeover = false;
    int server_max_window_bits = 0;  ///< 0: absent
    int client_max_window_bits = 0;  ///< 0: absent

    /// The window the server compresses with, and the one we may use (§7.1.2).
    int server_window() const { return server_max_window_bits > 0 ? server_max_window_bits : 15; }
    int client_window(pmd_offer const& offered) const {
        if (client_max_window_bits > 0) return client_max_window_bits;
        return offered.client_max_window_bits > 0 ? offered.client_max_window_bits : 15;
    }
};

inline std::string_view trim_sp(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

/// "8".."15" (§7.1.2.1 ABNF, no leading zero); else 0.
inline int window_bits_value(std::string_view v) {
    if (v.size() == 1 && v[0] >= '8' && v[0] <= '9') return v[0] - '0';
    if (v.size() == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') return 10 + (v[1] - '0');
    return 0;
}

/// Reads the 101's Sec-WebSocket-Extensions `value` as an answer to `offered` and checks every
/// rule a client enforces (RFC 7692 §5, §7.1): failing one of them, the client would have to fail
/// the connection, so it is a server bug.
inline ::testing::AssertionResult read_answer(std::string_view value, pmd_offer const& offered, pmd_answer& out) {
    auto fail = [&] { return ::testing::AssertionFailure() << "answer \"" << value << "\" to \"" << offered.text() << "\": "; };
    // RFC 6455 §9.1: the server answers with the extensions it accepted, here one element.
    if (value.find(',') != std::string_view::npos) return fail() << "more than one extension accepted";
    std::vector<std::string_view> params;
    for (std::size_t start = 0;;) {
        auto const semi = value.find(';', start);
        params.push_back(trim_sp(value.substr(start, semi == std::string_view::npos ? value.npos : semi - start)));
        if (semi == std::string_view::npos) break;
        start = semi + 1;
    }
    if (params.front() != "permessage-deflate") return fail() << "not permessage-deflate";
    out = {};
    std::vector<std::string_view> seen;
    for (std::size_t i = 1; i < params.size(); ++i) {
        auto const eq = params[i].find('=');
        auto const name = trim_sp(params[i].substr(0, eq));
        std::optional<std::string_view> val;
        if (eq != std::string_view::npos) {
            val = trim_sp(params[i].substr(eq + 1));
            if (val->size() >= 2 && val->front() == '"' && val->back() == '"') val = val->substr(1, val->size() - 2);
        }
        // §7: a response with a repeated parameter is invalid (the client fails the connection).
        if (std::find(seen.begin(), seen.end(), name) != seen.end()) return fail() << "repeated " << name;
        seen.push_back(name);
        if (name == "server_no_context_takeover" || name == "client_no_context_takeover") {
            if (val) return fail() << name << " with a value";  // §7.1.1.1, §7.1.1.2: no value
            (name == "server_no_context_takeover" ? out.server_no_context_takeover : out.client_no_context_takeover) = true;
        } else if (name == "server_max_window_bits") {
            out.server_max_window_bits = val ? window_bits_value(*val) : 0;
            if (out.server_max_window_bits == 0) return fail() << "bad server_max_window_bits";  // §7.1.2.1
        } else if (name == "client_max_window_bits") {
            // §7.1.2.2: MUST NOT be in the response unless the client offered it; in a response it
            // has a value (8..15), and at most the offered one.
            if (offered.client_max_window_bits == 0) return fail() << "client_max_window_bits not offered";
            out.client_max_window_bits = val ? window_bits_value(*val) : 0;
            if (out.client_max_window_bits == 0) return fail() << "bad client_max_window_bits";
            if (offered.client_max_window_bits > 0 && out.client_max_window_bits > offered.client_max_window_bits)
                return fail() << "client_max_window_bits above the offered value";
        } else {
            return fail() << "unknown parameter " << name;  // §7: a response with one is invalid
        }
    }
    // §7.1.1.1: an accepted offer with server_no_context_takeover MUST be answered with it.
    if (offered.server_no_context_takeover && !out.server_no_context_takeover)
        return fail() << "server_no_context_takeover offered but not in the answer";
    // §7.1.2.1: an accepted offer with server_max_window_bits MUST be answered with it, at most the
    // offered value.
    if (offered.server_max_window_bits > 0) {
        if (out.server_max_window_bits == 0) return fail() << "server_max_window_bits offered but not answered";
        if (out.server_max_window_bits > offered.server_max_window_bits)
            return fail() << "server_max_window_bits above the offered value";
    }
    return ::testing::AssertionSuccess();
}

/// One data message from the server.
struct pmd_message {
    int op = 0;
    bool compressed = false;  ///< RSV1 on its first frame
    std::size_t frames = 0;
    std::string data;         ///< inflated when compressed
    std::size_t wire_bytes = 0;  ///< payload bytes on the wire (compressed size)
};

/// Reads the server's next data message. Control frames before it go to `controls` (an error when
/// null). Checks: no frame masked (RFC 6455 §5.1); RSV2/RSV3 clear (§5.2: no extension defines
/// them); RSV1 only when permessage-deflate was agreed (`in` not null), and then only on the first
/// frame of a data message, never on a continuation or control frame (RFC 7692 §6.1); fragments in
/// order (§5.4). A compressed message is inflated with `in`.
inline ::testing::AssertionResult read_message(ws_client& c, pmd_inflater* in, pmd_message& out,
                                               std::chrono::milliseconds timeout = 10s,
                                               std::vector<server_frame>* controls = nullptr) {
    out = {};
    std::string wire;
    for (;;) {
        auto f = c.read_frame(timeout);
        if (!f) return ::testing::AssertionFailure() << "no frame: " << c.error();
        if (f->masked) return ::testing::AssertionFailure() << "masked server frame " << *f;
        if ((f->rsv & 3) != 0) return ::testing::AssertionFailure() << "RSV2/RSV3 set " << *f;
        if ((f->rsv & rsv1) != 0 && in == nullptr)
            return ::testing::AssertionFailure() << "RSV1 without permessage-deflate " << *f;
        if (f->op >= 8) {
            if (f->rsv != 0) return ::testing::AssertionFailure() << "RSV1 on a control frame " << *f;
            if (controls == nullptr) return ::testing::AssertionFailure() << "unexpected control frame " << *f;
            controls->push_back(std::move(*f));
            continue;
        }
        if (out.frames == 0) {
            if (f->op != op_text && f->op != op_binary)
                return ::testing::AssertionFailure() << "message starts with " << *f;
            out.op = f->op;
            out.compressed = (f->rsv & rsv1) != 0;
        } else {
            if (f->op != op_continuation) return ::testing::AssertionFailure() << "expected a continuation: " << *f;
            if (f->rsv != 0) return ::testing::AssertionFailure() << "RSV1 on a continuation frame " << *f;
        }
        ++out.frames;
        wire += f->payload;
        if (f->fin) break;
    }
    out.wire_bytes = wire.size();
    if (!out.compressed) {
        out.data = std::move(wire);
        return ::testing::AssertionSuccess();
    }
    auto m = in->inflate(wire);
    if (!m) return ::testing::AssertionFailure() << "server message does not inflate: " << in->error();
    out.data = std::move(*m);
    return ::testing::AssertionSuccess();
}

/// Compressible text: words from a small vocabulary, so DEFLATE finds matches at many distances.
inline std::string text_corpus(std::size_t n, unsigned seed = 1) {
    static constexpr std::string_view words[] = {"the ", "quick ", "brown ", "fox ", "jumps ", "over ", "lazy ",
                                                 "dog ", "WebSocket ", "frame ", "message ", "deflate ", "window ",
                                                 "context ", "takeover ", "\n"};
    std::string s;
    std::uint32_t x = seed * 2654435761u + 17;
    while (s.size() < n) {
        x = x * 1103515245u + 12345u;
        s.append(words[(x >> 16) % 16]);
    }
    s.resize(n);
    return s;
}

/// Compressible binary: little-endian counters and repeated records.
inline std::string binary_records(std::size_t n, unsigned seed = 1) {
    std::string s;
    std::uint32_t i = seed;
    while (s.size() < n) {
        for (int b = 0; b < 4; ++b) s += static_cast<char>((i >> (8 * b)) & 0xFF);
        s.append("\x00\x01\x02\x03\xFF\xFE", 6);
        ++i;
    }
    s.resize(n);
    return s;
}

/// A `block`-byte random block repeated: its only matches are `block` bytes back, which tells a
/// window smaller than `block` from a larger one.
inline std::string repeated_block(std::size_t n, std::size_t block, unsigned seed = 1) {
    auto const b = payload_of(block, true, seed);
    std::string s;
    while (s.size() < n) s += b;
    s.resize(n);
    return s;
}

/// Sec-WebSocket-Extensions lines for a handshake.
inline std::string extension_lines(std::vector<std::string> const& values) {
    std::string s;
    for (auto const& v : values) s += "Sec-WebSocket-Extensions: " + v + "\r\n";
    return s;
}

/// Base fixture for categories 12 and 13: the shared server, connections opened per test.
class PmdConformance : public ws_connection_fixture {
protected:
    void SetUp() override {
        auto& s = conformance_env::server();
        ASSERT_TRUE(s.ready()) << s.error();
    }

    /// Handshakes with these raw Sec-WebSocket-Extensions values (one header line each).
    void open_raw(std::vector<std::string> const& values) {
        ws_.emplace(conformance_env::server().port());
        ASSERT_TRUE(ws_->handshake(extension_lines(values)));
    }
    /// The 101's Sec-WebSocket-Extensions lines.
    std::size_t answer_lines() const { return ws_->response().header_count("Sec-WebSocket-Extensions"); }
    std::string answer_value() const {
        return ws_->response().header("Sec-WebSocket-Extensions").value_or(std::string{});
    }

    /// Offers `offers` (one header line, in order), expects one of them accepted with a valid answer
    /// (`accepted` is its index), and sets up our compressor and decompressor for what was agreed.
    void open(std::vector<pmd_offer> const& offers, std::size_t* accepted = nullptr) {
        std::string line;
        for (auto const& o : offers) line += (line.empty() ? "" : ", ") + o.text();
        ASSERT_NO_FATAL_FAILURE(open_raw({line}));
        ASSERT_EQ(answer_lines(), 1u) << "permessage-deflate not accepted: " << ws_->response();
        // §5: the server accepts one of the offers; the answer must be valid for that one.
        std::string why;
        for (std::size_t i = 0; i < offers.size(); ++i) {
            pmd_answer a;
            auto r = read_answer(answer_value(), offers[i], a);
            if (!r) {
                why += std::string{r.message()} + "\n";
                continue;
            }
            if (accepted != nullptr) *accepted = i;
            use(offers[i], a);
            return;
        }
        FAIL() << "no offer matches the answer:\n" << why;
    }
    void open(pmd_offer const& offer) { ASSERT_NO_FATAL_FAILURE(open(std::vector<pmd_offer>{offer})); }

    /// Agreed parameters: we compress with the client's side, inflate with the server's (§7.1).
    void use(pmd_offer const& offer, pmd_answer const& a) {
        offer_ = offer;
        answer_ = a;
        // §7.1.1.2: a client that offered client_no_context_takeover keeps to it, answered or not.
        bool const client_reset = offer.client_no_context_takeover || a.client_no_context_takeover;
        tx_.emplace(a.client_window(offer), client_reset);
        rx_.emplace(a.server_window(), a.server_no_context_takeover);
    }

    /// Sends `message` compressed (RSV1 on the first frame only, §6.1), in frames of `fragment`
    /// payload bytes (0: one frame).
    std::string compressed_frames(int op, std::string_view message, std::size_t fragment = 0) {
        auto const payload = tx_->compress(message);
        if (fragment == 0) return client_frame(op, payload, {.rsv = rsv1});
        std::string all;
        for (std::size_t at = 0; at < payload.size() || all.empty(); at += fragment) {
            bool const first = at == 0;
            all += client_frame(first ? op : op_continuation, std::string_view{payload}.substr(at, fragment),
                                {.fin = at + fragment >= payload.size(), .rsv = first ? rsv1 : 0});
        }
        return all;
    }
    void send_compressed(int op, std::string_view message, std::size_t fragment = 0) {
        ASSERT_TRUE(ws().send_raw(compressed_frames(op, message, fragment), false, 30s)) << ws().error();
    }

    /// The next message is the echo of `message` (after inflating, when compressed).
    void expect_echo_of(int op, std::string const& message, pmd_message* got = nullptr) {
        pmd_message m;
        ASSERT_TRUE(read_message(ws(), &*rx_, m));
        EXPECT_EQ(m.op, op);
        EXPECT_EQ(m.data.size(), message.size());
        EXPECT_TRUE(m.data == message) << "echo differs";
        if (got != nullptr) *got = std::move(m);
    }

    pmd_offer offer_;
    pmd_answer answer_;
    std::optional<pmd_deflater> tx_;
    std::optional<pmd_inflater> rx_;
};

} // namespace upshift::test::conformance
