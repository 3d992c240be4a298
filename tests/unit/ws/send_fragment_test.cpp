// ws::session::send_fragment (a message sent in pieces) end to end in process: the server's
// frames are read byte by byte from a raw socket (support/ws_test_client.hpp), compressed ones
// inflated with zlib directly (support/ws_test_deflate.hpp). RFC 6455 §5.4 (fragmentation),
// RFC 7692 §6.1/§7.2 (compression) per test.
// Also: send() of a message that does not shrink, with and without context takeover.
#include <optional>

#include "client_frames.hpp"
#include "server_fixture.hpp"
#include "support/spawn_server.hpp"
#include "support/ws_test_client.hpp"
#include "support/ws_test_deflate.hpp"
#include "upshift/ws/server.hpp"

namespace upshift::test {
namespace {

using ws::message_kind;
using ws::opcode;
using ws::test::frame;

/// Text that compresses well, distinct per `seed`.
std::string words(std::size_t n, int seed) {
    std::string s;
    while (s.size() < n) s += "piece " + std::to_string(seed) + " of a generated payload; ";
    s.resize(n);
    return s;
}

/// Bytes that do not compress (an LCG's high bits).
std::string noise(std::size_t n) {
    std::string s(n, '\0');
    std::uint32_t x = 12345;
    for (auto& c : s) {
        x = x * 1103515245u + 12345u;
        c = static_cast<char>(x >> 23);
    }
    return s;
}

class WsSendFragmentTest : public server_fixture {
protected:
    /// A server whose sessions run `on_message` (on the loop thread) and record "close:<code>".
    ::testing::AssertionResult start_ws(ws::options opt,
                                        std::function<void(ws::session&, std::string_view)> on_message,
                                        std::function<void(ws::session&)> on_drain = {}) {
        ws::behaviour b;
        b.on_message = [f = std::move(on_message)](ws::session& s, std::string_view m, message_kind) { f(s, m); };
        b.on_drain = std::move(on_drain);
        b.on_close = [this](ws::session&, std::uint16_t code, std::string_view) {
            events.add("close:" + std::to_string(code));
        };
        auto r = std::make_shared<upgrade::registry>();
        r->add(ws::make_protocol(std::move(opt), std::move(b)));
        return start([r](exchange& ex) {
            if (server::accept_upgrade(ex, *r)) return;
            ex.respond(status::upgrade_required, {{"Upgrade", "websocket"}}, "");
        });
    }

    std::optional<raw_client> open_ws(std::string_view extensions = {}) {
        auto c = connect();
        std::string offer;
        if (!extensions.empty()) offer.append("Sec-WebSocket-Extensions: ").append(extensions).append("\r\n");
        http_response r;
        if (auto ok = ws_handshake(c, "/ws", offer, {}, &r); !ok) {
            ADD_FAILURE() << ok.message();
            return std::nullopt;
        }
        if (!extensions.empty() && !r.header("Sec-WebSocket-Extensions")) {
            ADD_FAILURE() << "permessage-deflate not accepted: " << r;
            return std::nullopt;
        }
        return c;
    }

    /// start_ws() for the usual exchange: the client sends "go" (open_and_go), then `on_go` sends.
    ::testing::AssertionResult start_on_go(ws::options opt, std::function<void(ws::session&)> on_go,
                                           std::function<void(ws::session&)> on_drain = {}) {
        return start_ws(
            std::move(opt),
            [on_go = std::move(on_go)](ws::session& s, std::string_view m) {
                if (m == "go") on_go(s);
            },
            std::move(on_drain));
    }

    /// open_ws(extensions), then "go"; `small_rcvbuf` first shrinks our receive buffer, so that the
    /// server's queue fills.
    std::optional<raw_client> open_and_go(std::string_view extensions = {}, bool small_rcvbuf = false) {
        auto c = open_ws(extensions);
        if (!c) return std::nullopt;
        if (small_rcvbuf) set_small_rcvbuf(*c);
        if (!c->send_all(frame(opcode::text, "go"))) {
            ADD_FAILURE() << c->error();
            return std::nullopt;
        }
        return c;
    }

    /// Reads frames until one with FIN (a whole message), skipping nothing: all must be data frames.
    static std::vector<server_frame> read_message(raw_client& c) {
        std::vector<server_frame> frames;
        for (;;) {
            auto f = read_server_frame(c, 10s);
            if (!f) {
                ADD_FAILURE() << "no frame: " << c.error();
                return frames;
            }
            EXPECT_FALSE(f->masked);  // RFC 6455 §5.1
            EXPECT_EQ(f->rsv & 3, 0);  // RSV2, RSV3: no extension defines them (§5.2)
            frames.push_back(std::move(*f));
            if (frames.back().fin) return frames;
        }
    }

    /// The client's closing handshake reply, then the server closes TCP (§7.1.1).
    void finish_close(raw_client& c, int code) {
        ASSERT_NO_FATAL_FAILURE(expect_server_close(c, code, close_reply::echo));
        EXPECT_TRUE(events.wait_for("close:" + std::to_string(code)));
    }
};

// RFC 6455 §5.4: "the first fragment MUST have FIN clear and an opcode other than 0", the others
// continuation (0) with FIN clear, the last FIN set; the message is the concatenation in order.
TEST_F(WsSendFragmentTest, FragmentsCarryOpcodeThenContinuations) {
    ASSERT_TRUE(start_on_go({}, [this](ws::session& s) {
        bool ok = s.send_fragment("Hel", message_kind::text, false);
        ok = s.send_fragment("", message_kind::binary, false) && ok;  // kind ignored after the first
        events.add(s.fragmenting() ? "open" : "not open?");
        ok = s.send_fragment("lo", message_kind::text, true) && ok;
        events.add(s.fragmenting() ? "still open?" : "ended");
        events.add(ok ? "all true" : "some false?");
        s.send_fragment("!", message_kind::binary, true);  // a one-frame message
    }));
    auto c = open_and_go();
    ASSERT_TRUE(c);
    auto m = read_message(*c);
    ASSERT_EQ(m.size(), 3u);
    EXPECT_EQ(m[0].op, op_text);
    EXPECT_FALSE(m[0].fin);
    EXPECT_EQ(m[0].payload, "Hel");
    EXPECT_EQ(m[1].op, op_continuation);
    EXPECT_FALSE(m[1].fin);
    EXPECT_EQ(m[1].payload, "");
    EXPECT_EQ(m[2].op, op_continuation);
    EXPECT_EQ(m[2].payload, "lo");
    for (auto const& f : m) EXPECT_FALSE(f.has_rsv1());
    auto one = read_message(*c);
    ASSERT_EQ(one.size(), 1u);
    EXPECT_EQ(one[0].op, op_binary);
    EXPECT_EQ(one[0].payload, "!");
    EXPECT_TRUE(events.contains("open"));
    EXPECT_TRUE(events.contains("ended"));
    EXPECT_TRUE(events.contains("all true"));
    c->send_all(frame(opcode::close, close_body(1000)));
    auto f = read_server_frame(*c);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->op, op_close);
}

// §5.4: "fragments of one message MUST NOT be interleaved between fragments of another message":
// a send() while a message is open waits for its end; control frames (a Ping we send, a Pong we
// owe) MAY be injected between fragments and are not held.
TEST_F(WsSendFragmentTest, SendDuringFragmentsWaitsControlFramesDoNot) {
    ASSERT_TRUE(start_ws({}, [this](ws::session& s, std::string_view m) {
        if (m == "start") {
            s.send_fragment("part one,", message_kind::binary, false);
            bool const queued = s.send("whole", message_kind::text);
            events.add(queued ? "send true" : "send false?");
            events.add(s.buffered_amount() >= 5 ? "held counted" : "held not counted?");
            s.ping("p");
            events.add("started");
        } else if (m == "end") {
            s.send_fragment(" part two", message_kind::binary, true);
        }
    }));
    auto c = open_ws();
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->send_all(frame(opcode::text, "start")));
    ASSERT_TRUE(events.wait_for("started"));
    // The peer pings mid-message: the Pong goes out before the message ends (§5.5.2, §5.4).
    ASSERT_TRUE(c->send_all(frame(opcode::ping, "q")));
    auto f1 = read_server_frame(*c);
    auto f2 = read_server_frame(*c);
    auto f3 = read_server_frame(*c);
    ASSERT_TRUE(f1 && f2 && f3) << c->error();
    EXPECT_EQ(f1->op, op_binary);
    EXPECT_FALSE(f1->fin);
    EXPECT_EQ(f1->payload, "part one,");
    EXPECT_EQ(f2->op, op_ping);
    EXPECT_EQ(f2->payload, "p");
    EXPECT_EQ(f3->op, op_pong);
    EXPECT_EQ(f3->payload, "q");
    // Nothing else (no "whole") has come yet: the next frame is the continuation.
    ASSERT_TRUE(c->send_all(frame(opcode::text, "end")));
    auto f4 = read_server_frame(*c);
    ASSERT_TRUE(f4);
    EXPECT_EQ(f4->op, op_continuation);
    EXPECT_TRUE(f4->fin);
    EXPECT_EQ(f4->payload, " part two");
    auto f5 = read_server_frame(*c);
    ASSERT_TRUE(f5);
    EXPECT_EQ(f5->op, op_text);
    EXPECT_TRUE(f5->fin);
    EXPECT_EQ(f5->payload, "whole");
    EXPECT_TRUE(events.contains("send true"));
    EXPECT_TRUE(events.contains("held counted"));
    ASSERT_TRUE(c->send_all(frame(opcode::close, close_body(1000))));
    auto f6 = read_server_frame(*c);
    ASSERT_TRUE(f6);
    EXPECT_EQ(f6->op, op_close);
}

// §5.4 lets a control frame, so a Close, come between fragments; after it nothing more is sent
// (§5.5.1): the open message stays unfinished, the held send() is dropped, later sends fail.
TEST_F(WsSendFragmentTest, CloseMidMessageEndsSending) {
    ASSERT_TRUE(start_on_go({}, [this](ws::session& s) {
        s.send_fragment("begun", message_kind::text, false);
        auto const before = s.buffered_amount();
        s.send("held, 22 bytes long...");
        bool const held = s.buffered_amount() == before + 22;
        s.close(1000);
        // Frames made while a read is handled are gathered and written after it (cork), so
        // buffered_amount() still counts them here: the Close (2-byte header, 2-byte code)
        // replaced the held send().
        events.add(held && s.buffered_amount() == before + 4 ? "held dropped" : "held kept?");
        events.add(s.send_fragment("more", message_kind::text, true) ? "fragment after close?" : "refused");
        events.add(s.send("more") ? "send after close?" : "refused");
    }));
    auto c = open_and_go();
    ASSERT_TRUE(c);
    auto f = read_server_frame(*c);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->op, op_text);
    EXPECT_FALSE(f->fin);
    EXPECT_EQ(f->payload, "begun");
    finish_close(*c, 1000);
    EXPECT_EQ(events.count("refused"), 2u);
    EXPECT_TRUE(events.contains("held dropped"));
}

// RFC 7692 §6.1: a compressed message has RSV1 on its first frame only; §7.2.1: the data of the
// whole message is DEFLATE whose final 00 00 ff ff is removed. Each piece is flushed, so every
// fragment's data inflates to its piece as it arrives; and with context takeover (§7.2.3.2) the
// next message (send()) continues the same stream.
TEST_F(WsSendFragmentTest, CompressedFragmentsRsv1OnFirstOnly) {
    std::vector<std::string> pieces;
    for (int i = 0; i < 4; ++i) pieces.push_back(words(3000 + static_cast<std::size_t>(i), i));
    std::string const after = words(2000, 9);
    ws::options o;
    o.permessage_deflate = true;
    ASSERT_TRUE(start_on_go(o, [pieces, after](ws::session& s) {
        for (std::size_t i = 0; i < pieces.size(); ++i)
            s.send_fragment(pieces[i], message_kind::text, i + 1 == pieces.size());
        s.send(after);
    }));
    auto c = open_and_go("permessage-deflate");
    ASSERT_TRUE(c);
    auto m = read_message(*c);
    ASSERT_EQ(m.size(), pieces.size());
    pmd_inflater inf;
    std::size_t wire = 0;
    for (std::size_t i = 0; i < m.size(); ++i) {
        EXPECT_EQ(m[i].op, i == 0 ? op_text : op_continuation);
        EXPECT_EQ(m[i].has_rsv1(), i == 0) << "frame " << i;
        bool const last = i + 1 == m.size();
        auto const got = inf.inflate_part(m[i].payload, last);
        ASSERT_TRUE(got) << "fragment " << i << " does not inflate";
        EXPECT_TRUE(*got == pieces[i]) << "fragment " << i << " inflates to " << got->size() << " bytes";
        wire += m[i].payload.size();
    }
    EXPECT_FALSE(m.back().payload.ends_with(std::string_view("\x00\x00\xff\xff", 4)));  // §7.2.1
    EXPECT_LT(wire, 3000u);  // 12 KB of repetitive text did compress
    auto next = read_message(*c);
    ASSERT_EQ(next.size(), 1u);
    EXPECT_TRUE(next[0].has_rsv1());
    auto const got = inf.inflate_part(next[0].payload, true);
    ASSERT_TRUE(got);
    EXPECT_TRUE(*got == after);
}

// RFC 7692 §7.2.3.6: a generated message whose source ends after the last piece went out ends with
// an empty fragment; its data must still leave the stream at a block boundary once 00 00 ff ff is
// appended, or the next message would not inflate. Also an empty whole message right after (with
// compress_threshold 0), the case where zlib writes nothing at all.
TEST_F(WsSendFragmentTest, CompressedEmptyLastFragmentAndEmptyMessage) {
    std::string const a = words(1000, 1);
    std::string const b = words(1500, 2);
    ws::options o;
    o.permessage_deflate = true;
    o.compress_threshold = 0;
    ASSERT_TRUE(start_on_go(o, [a, b](ws::session& s) {
        s.send_fragment(a, message_kind::binary, false);
        s.send_fragment("", message_kind::binary, true);
        s.send("", message_kind::binary);
        s.send(b, message_kind::binary);
    }));
    auto c = open_and_go("permessage-deflate");
    ASSERT_TRUE(c);
    pmd_inflater inf;
    auto m = read_message(*c);
    ASSERT_EQ(m.size(), 2u);
    EXPECT_TRUE(m[0].has_rsv1());
    EXPECT_FALSE(m[1].has_rsv1());
    auto got = inf.inflate_part(m[0].payload + m[1].payload, true);
    ASSERT_TRUE(got);
    EXPECT_TRUE(*got == a);
    auto empty = read_message(*c);
    ASSERT_EQ(empty.size(), 1u);
    EXPECT_TRUE(empty[0].has_rsv1());
    EXPECT_FALSE(empty[0].payload.empty());  // §7.2.3.6: at least an empty block (00)
    got = inf.inflate_part(empty[0].payload, true);
    ASSERT_TRUE(got);
    EXPECT_TRUE(got->empty());
    auto last = read_message(*c);
    ASSERT_EQ(last.size(), 1u);
    got = inf.inflate_part(last[0].payload, true);
    ASSERT_TRUE(got) << "the stream was left mid-block";
    EXPECT_TRUE(*got == b);
}

// RFC 7692 §6.1: compression is chosen per message. A fragmented message whose first piece is
// below compress_threshold goes uncompressed (no RSV1 on any frame), and the compressor's stream
// is untouched for the next compressed message.
TEST_F(WsSendFragmentTest, SmallFirstPieceSendsUncompressed) {
    std::string const big = words(4000, 3);
    ws::options o;
    o.permessage_deflate = true;
    ASSERT_TRUE(start_on_go(o, [big](ws::session& s) {
        s.send(big);
        s.send_fragment("x", message_kind::text, false);
        s.send_fragment(big, message_kind::text, true);
        s.send(big);
    }));
    auto c = open_and_go("permessage-deflate");
    ASSERT_TRUE(c);
    pmd_inflater inf;
    auto first = read_message(*c);
    ASSERT_EQ(first.size(), 1u);
    ASSERT_TRUE(first[0].has_rsv1());
    auto got = inf.inflate_part(first[0].payload, true);
    ASSERT_TRUE(got && *got == big);
    auto plain = read_message(*c);
    ASSERT_EQ(plain.size(), 2u);
    EXPECT_FALSE(plain[0].has_rsv1());
    EXPECT_FALSE(plain[1].has_rsv1());
    EXPECT_TRUE(plain[0].payload + plain[1].payload == "x" + big);
    auto third = read_message(*c);
    ASSERT_EQ(third.size(), 1u);
    ASSERT_TRUE(third[0].has_rsv1());
    got = inf.inflate_part(third[0].payload, true);
    ASSERT_TRUE(got && *got == big);
    EXPECT_LT(third[0].payload.size(), 100u);  // refers back into the first message (§7.2.3.2)
}

// A message that does not shrink: with server_no_context_takeover (§7.1.1.1, our window is reset
// after every message anyway) it goes out as is, RSV1 clear (§6.1: RSV1 is per message). With
// context takeover it stays compressed, since our window now holds it: the next message, which
// repeats it, must inflate against the peer's window (§7.2.3.2).
TEST_F(WsSendFragmentTest, IncompressibleMessageUncompressedOnlyWithoutContextTakeover) {
    std::string const n = noise(2000);
    ws::options o;
    o.permessage_deflate = true;
    ASSERT_TRUE(start_on_go(o, [n](ws::session& s) {
        s.send(n, message_kind::binary);
        s.send(n, message_kind::binary);
    }));
    {
        auto c = open_and_go("permessage-deflate; server_no_context_takeover");
        ASSERT_TRUE(c);
        for (int i = 0; i < 2; ++i) {
            auto m = read_message(*c);
            ASSERT_EQ(m.size(), 1u);
            EXPECT_FALSE(m[0].has_rsv1());
            EXPECT_TRUE(m[0].payload == n);
        }
    }
    auto c = open_and_go("permessage-deflate");
    ASSERT_TRUE(c);
    pmd_inflater inf;
    for (int i = 0; i < 2; ++i) {
        auto m = read_message(*c);
        ASSERT_EQ(m.size(), 1u);
        EXPECT_TRUE(m[0].has_rsv1());
        auto got = inf.inflate_part(m[0].payload, true);
        ASSERT_TRUE(got) << "message " << i;
        EXPECT_TRUE(*got == n) << "message " << i;
        if (i == 1) {
            EXPECT_LT(m[0].payload.size(), 100u);  // the repeat refers back to the first
        }
    }
}

// Backpressure as send(): send_fragment returns false at send_high_water (the frame is queued),
// on_drain follows once the queue is below half, and the message arrives whole and in order. The
// sender keeps going until it has been stopped twice, then ends the message.
TEST_F(WsSendFragmentTest, BackpressureAndDrain) {
    ws::options o;
    o.send_high_water = 128 * 1024;
    std::string const chunk = noise(32 * 1024);
    auto sent = std::make_shared<int>(0);
    auto blocked = std::make_shared<int>(0);
    auto pump = [this, chunk, sent, blocked](ws::session& s) {
        for (;;) {
            bool const fin = *blocked >= 2;
            bool const below = s.send_fragment(chunk, message_kind::binary, fin);
            ++*sent;
            if (fin) {
                events.add("all sent:" + std::to_string(*sent));
                return;
            }
            if (!below) {
                ++*blocked;
                events.add(s.buffered_amount() >= 128 * 1024 ? "blocked" : "blocked below high water?");
                return;
            }
        }
    };
    ASSERT_TRUE(start_on_go(o, pump, [this, pump](ws::session& s) {
        events.add(s.buffered_amount() < 64 * 1024 ? "drain" : "drain above half?");
        pump(s);
    }));
    auto c = open_and_go({}, /*small_rcvbuf=*/true);
    ASSERT_TRUE(c);
    ASSERT_TRUE(events.wait_for("blocked")) << ::testing::PrintToString(events.all());
    auto m = read_message(*c);
    for (std::size_t i = 0; i < m.size(); ++i) {
        EXPECT_EQ(m[i].op, i == 0 ? op_binary : op_continuation);
        ASSERT_TRUE(m[i].payload == chunk) << "fragment " << i;
    }
    EXPECT_TRUE(events.contains("all sent:" + std::to_string(m.size()))) << ::testing::PrintToString(events.all());
    EXPECT_EQ(events.count("blocked"), 2u);
    EXPECT_EQ(events.count("drain"), 2u);
    EXPECT_FALSE(events.contains("drain above half?"));
    EXPECT_FALSE(events.contains("blocked below high water?"));
}

// Like send(): a send_fragment() while more than max_buffered is queued (a peer that does not
// read) fails the connection with 1008, the Close going out next (§7.4.1).
TEST_F(WsSendFragmentTest, AboveMaxBufferedFailsWith1008) {
    ws::options o;
    o.send_high_water = 64 * 1024;
    o.max_buffered = 256 * 1024;
    std::string const chunk = noise(64 * 1024);
    ASSERT_TRUE(start_on_go(o, [this, chunk](ws::session& s) {
        int sent = 0;
        for (; sent < 1000 && !s.closing(); ++sent) s.send_fragment(chunk, message_kind::binary, false);
        events.add(sent < 1000 ? "stopped early" : "sent all?");
        events.add(s.closing() ? "failed" : "not failed?");
    }));
    auto c = open_and_go({}, /*small_rcvbuf=*/true);
    ASSERT_TRUE(c);
    ASSERT_TRUE(events.wait_for("failed"));
    // Read on: fragments (the partly written one completes), then the Close 1008.
    auto close = read_until_close(*c, [&](server_frame const& f) {
        EXPECT_TRUE(f.op == op_binary || f.op == op_continuation);
    });
    ASSERT_TRUE(close);
    EXPECT_EQ(close->close_code(), 1008);
    EXPECT_TRUE(events.contains("stopped early"));
    // Failed (§7.1.7): the server half-closes after its Close and closes when we do.
    EXPECT_TRUE(c->wait_closed(5s));
    c->close();
    EXPECT_TRUE(events.wait_for("close:1008"));
}

// An independent peer: python3's websockets (10.4, strict about RSV bits on continuation frames,
// RFC 7692 §6.1, and UTF-8 in text, RFC 6455 §8.1) receives a compressed fragmented text message
// ending with an empty fragment (§7.2.3.6), a send() held while it was open (RFC 6455 §5.4), then
// an uncompressed fragmented binary message, with a Ping between fragments.
TEST_F(WsSendFragmentTest, PythonWebsocketsReceivesFragmentedMessages) {
    ws::options o;
    o.permessage_deflate = true;
    ASSERT_TRUE(start_ws(o, [](ws::session& s, std::string_view m) {
        if (m != "py") return;
        s.send_fragment(words(3000, 0), message_kind::text, false);
        s.send("held while open");
        s.send_fragment(words(3001, 1), message_kind::text, false);
        s.ping("mid");
        s.send_fragment(words(3002, 2), message_kind::text, false);
        s.send_fragment("", message_kind::text, true);
        std::string bytes;
        for (int i = 0; i < 12 * 256; ++i) bytes += static_cast<char>(i % 256);
        s.send_fragment("x", message_kind::binary, false);
        s.send_fragment(bytes, message_kind::binary, true);
    }));
    static constexpr char const* script = R"PY(
import asyncio, sys, websockets

def words(n, seed):
    s = ""
    while len(s) < n:
        s += "piece %d of a generated payload; " % seed
    return s[:n]

async def main(port):
    async with websockets.connect("ws://127.0.0.1:%d/ws" % port, open_timeout=10, close_timeout=10) as ws:
        assert [e.name for e in ws.extensions] == ["permessage-deflate"], ws.extensions
        await ws.send("py")
        got = await asyncio.wait_for(ws.recv(), 10)
        assert got == words(3000, 0) + words(3001, 1) + words(3002, 2), "fragmented text: %d chars" % len(got)
        print("OK compressed fragmented text")
        got = await asyncio.wait_for(ws.recv(), 10)
        assert got == "held while open", got
        print("OK held message after it")
        got = await asyncio.wait_for(ws.recv(), 10)
        assert got == b"x" + bytes(range(256)) * 12, "fragmented binary: %d bytes" % len(got)
        print("OK fragmented binary")
    assert ws.close_code == 1000, ws.close_code
    print("OK closed")

asyncio.run(main(int(sys.argv[1])))
)PY";
    auto const r = run_command({"/usr/bin/python3", "-c", script, std::to_string(port())}, 60s);
    ASSERT_TRUE(r.exit && r.exit->success()) << r;
    EXPECT_NE(r.out.find("OK compressed fragmented text"), std::string::npos) << r;
    EXPECT_NE(r.out.find("OK held message after it"), std::string::npos) << r;
    EXPECT_NE(r.out.find("OK fragmented binary"), std::string::npos) << r;
    EXPECT_NE(r.out.find("OK closed"), std::string::npos) << r;
    EXPECT_TRUE(events.wait_for("close:1000"));
}

} // namespace
} // namespace upshift::test
