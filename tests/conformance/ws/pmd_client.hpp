#pragma once
// permessage-deflate (RFC 7692) for the conformance client, with zlib's raw DEFLATE (negative
// windowBits) and nothing from upshift's own deflate_codec: the tests check the server from outside.
//
// - pmd_deflater: one message per compress(), Z_SYNC_FLUSH, the trailing 00 00 ff ff removed (§7.2.1);
//   the LZ77 window carries over between messages unless no context takeover (§7.1.1).
// - pmd_inflater: appends 00 00 ff ff and inflates (§7.2.2). When it must check a window limit
//   (window_bits < 15, or no context takeover) it inflates one output byte per inflate() call: zlib
//   then refuses every back-reference further than the bytes its window holds ("invalid distance
//   too far back"), so a server that uses a larger window, or the previous message's context, fails.
// - pmd_answer: the client's reading of the 101's Sec-WebSocket-Extensions (§5, §7.1), checked
//   against what was offered.
// - read_message(): one server message, reassembled and inflated, with the frame-level MUSTs checked.
// - PmdConformance: a fixture that opens /ws/echo with chosen offers.
#include <zlib.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ws_client.hpp"

namespace upshift::test::conformance {

/// RSV1, the "Per-Message Compressed" bit (RFC 7692 §6), as client_frame()'s and ws_frame's rsv.
inline constexpr int rsv1 = 4;

inline constexpr char deflate_tail[4] = {'\x00', '\x00', '\xff', '\xff'};

class pmd_deflater {
public:
    /// zlib refuses raw windowBits 8; at 9 it keeps distances below 2^9 - 262 = 250, inside a
    /// 256-byte window, so 9 honours a limit of 8 too.
    explicit pmd_deflater(int window_bits = 15, bool no_context_takeover = false)
        : reset_each_{no_context_takeover} {
        ok_ = deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -std::clamp(window_bits, 9, 15), 8,
                           Z_DEFAULT_STRATEGY) == Z_OK;
    }
    ~pmd_deflater() {
        if (ok_) deflateEnd(&z_);
    }
    pmd_deflater(pmd_deflater const&) = delete;
    pmd_deflater& operator=(pmd_deflater const&) = delete;

    /// The compressed payload of one message (§7.2.1).
    std::string compress(std::string_view in) {
        std::string out;
        if (!ok_) return out;
        z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        z_.avail_in = static_cast<uInt>(in.size());
        do {
            std::size_t const used = out.size();
            out.resize(used + in.size() / 2 + 4096);
            z_.next_out = reinterpret_cast<Bytef*>(out.data() + used);
            z_.avail_out = static_cast<uInt>(out.size() - used);
            deflate(&z_, Z_SYNC_FLUSH);
            out.resize(out.size() - z_.avail_out);
        } while (z_.avail_out == 0 || z_.avail_in > 0);
        // §7.2.1: a sync flush ends with an empty stored block, 00 00 ff ff, which is removed.
        if (out.size() >= 4 && std::string_view{out}.substr(out.size() - 4) == std::string_view{deflate_tail, 4})
            out.resize(out.size() - 4);
        // An empty message right after another one's flush: zlib writes nothing at all, but the
        // receiver's appended 00 00 ff ff must complete a block, so send the empty stored block's
        // first octet (§7.2.3.6).
        if (out.empty()) out.push_back('\0');
        if (reset_each_) deflateReset(&z_);
        return out;
    }

private:
    z_stream z_{};
    bool ok_ = false;
    bool reset_each_;
};

class pmd_inflater {
public:
    pmd_inflater(int window_bits = 15, bool no_context_takeover = false)
        : reset_each_{no_context_takeover}, strict_{window_bits < 15 || no_context_takeover} {
        ok_ = inflateInit2(&z_, -std::clamp(window_bits, 8, 15)) == Z_OK;
    }
    ~pmd_inflater() {
        if (ok_) inflateEnd(&z_);
    }
    pmd_inflater(pmd_inflater const&) = delete;
    pmd_inflater& operator=(pmd_inflater const&) = delete;

    /// The message carried by one compressed payload (§7.2.2); nullopt with error() when the data is
    /// not valid DEFLATE or refers beyond the window.
    std::optional<std::string> inflate(std::string_view payload) {
        if (!ok_) {
            error_ = "inflateInit2 failed";
            return std::nullopt;
        }
        std::string in{payload};
        in.append(deflate_tail, 4);
        z_.next_in = reinterpret_cast<Bytef*>(in.data());
        z_.avail_in = static_cast<uInt>(in.size());
        std::string out;
        std::size_t const step = strict_ ? 1 : 64 * 1024;
        for (;;) {
            std::size_t const used = out.size();
            out.resize(used + step);
            z_.next_out = reinterpret_cast<Bytef*>(out.data() + used);
            z_.avail_out = static_cast<uInt>(step);
            int const rc = ::inflate(&z_, Z_SYNC_FLUSH);
            out.resize(out.size() - z_.avail_out);
            if (rc == Z_STREAM_END) {
                // A block with BFINAL ended the stream (§7.2.3.4): the next message starts a new one.
                inflateReset(&z_);
                break;
            }
            if (rc != Z_OK && rc != Z_BUF_ERROR) {
                error_ = z_.msg != nullptr ? z_.msg : "inflate error " + std::to_string(rc);
                return std::nullopt;
            }
            if (z_.avail_in == 0 && z_.avail_out > 0) break;  // all input used, output not full
            if (rc == Z_BUF_ERROR && z_.avail_in == 0) break;
        }
        if (reset_each_) inflateReset(&z_);
        return out;
    }
    std::string const& error() const noexcept { return error_; }

private:
    z_stream z_{};
    bool ok_ = false;
    bool reset_each_;
    bool strict_;
    std::string error_;
};

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
                                               std::vector<ws_frame>* controls = nullptr) {
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
class PmdConformance : public ::testing::Test {
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

    ws_client& ws() { return *ws_; }

    /// Sends `message` compressed (RSV1 on the first frame only, §6.1), in frames of `fragment`
    /// payload bytes (0: one frame).
    std::string compressed_frames(int op, std::string_view message, std::size_t fragment = 0) {
        auto const payload = tx_->compress(message);
        if (fragment == 0) return client_frame(op, payload, true, rsv1);
        std::string all;
        for (std::size_t at = 0; at < payload.size() || all.empty(); at += fragment) {
            bool const first = at == 0;
            all += client_frame(first ? op : op_continuation, std::string_view{payload}.substr(at, fragment),
                                at + fragment >= payload.size(), first ? rsv1 : 0);
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

    /// Closes with 1000: the server's Close 1000, then TCP closes (RFC 6455 §7.1.2, §7.1.1).
    void expect_clean_close() {
        ASSERT_TRUE(ws().send_close(1000)) << ws().error();
        auto f = ws().read_frame();
        ASSERT_TRUE(f) << ws().error();
        EXPECT_EQ(f->op, op_close) << *f;
        EXPECT_EQ(f->rsv, 0) << *f;  // RFC 7692 §6.1: never RSV1 on a control frame
        EXPECT_EQ(f->close_code(), 1000) << *f;
        EXPECT_TRUE(ws().server_closes_tcp());
    }

    /// The server fails the connection (RFC 6455 §7.1.7): a Close with `code`, then TCP closes.
    void expect_fail(int code) {
        auto f = ws().read_frame();
        ASSERT_TRUE(f) << "no Close " << code << ": " << ws().error();
        EXPECT_EQ(f->op, op_close) << *f;
        EXPECT_EQ(f->close_code(), code) << *f;
        EXPECT_TRUE(ws().server_closes_tcp()) << "TCP still open after Close " << code;
    }

    std::optional<ws_client> ws_;
    pmd_offer offer_;
    pmd_answer answer_;
    std::optional<pmd_deflater> tx_;
    std::optional<pmd_inflater> rx_;
};

} // namespace upshift::test::conformance
