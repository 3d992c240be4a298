// The WebSocket server end to end in process: ws::make_protocol behind server::accept_upgrade, and
// a raw client that masks its frames (tests/unit/ws/client_frames.hpp) and reads the server's
// unmasked ones byte by byte (tests/support/ws_test_client.hpp). RFC 6455 sections are cited per
// test.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>
#include <thread>

#include "client_frames.hpp"
#include "server_fixture.hpp"
#include "support/ws_test_client.hpp"
#include "support/ws_test_deflate.hpp"
#include "upshift/ws/server.hpp"

namespace upshift::test {
namespace {

using ws::opcode;
using ws::test::frame;

/// An opening handshake request (§4.1, §4.2.1) for /ws; `extra` is "Name: value\r\n" lines.
std::string ws_request(std::string_view extra = {}, std::string_view key = rfc_handshake_key,
                       std::string_view version = "13") {
    return ws_upgrade_request("/ws", extra, key, version);
}

class WsSessionTest : public server_fixture {
protected:
    /// Starts a server whose handler switches to ws::make_protocol(opt, behaviour) (events:
    /// "open:<subprotocol>", "message:<text|binary>:<size>", "close:<code>:<reason>"), echoing every
    /// message unless `b` is given. Without an upgrade the handler answers 426.
    ::testing::AssertionResult start_ws(ws::options opt = {}, std::optional<ws::behaviour> b = std::nullopt) {
        ws::behaviour beh;
        if (b) {
            beh = std::move(*b);
        } else {
            beh.on_message = [](ws::session& s, std::string_view m, ws::message_kind k) {
                if (m == "close-me") {
                    s.close(4000, "asked");
                    return;
                }
                s.send(m, k);
            };
        }
        auto user_open = std::move(beh.on_open);
        beh.on_open = [this, user_open](ws::session& s) {
            events.add("open:" + s.subprotocol());
            if (user_open) user_open(s);
        };
        auto user_message = std::move(beh.on_message);
        beh.on_message = [this, user_message](ws::session& s, std::string_view m, ws::message_kind k) {
            events.add(std::string("message:") + (k == ws::message_kind::text ? "text:" : "binary:") +
                       std::to_string(m.size()));
            if (user_message) user_message(s, m, k);
        };
        beh.on_close = [this](ws::session&, std::uint16_t code, std::string_view reason) {
            events.add("close:" + std::to_string(code) + ":" + std::string(reason));
        };
        auto r = std::make_shared<upgrade::registry>();
        r->add(ws::make_protocol(std::move(opt), std::move(beh)));
        registry_ = r;
        return start([r](exchange& ex) {
            if (server::accept_upgrade(ex, *r)) return;
            ex.respond(status::upgrade_required, {{"Upgrade", "websocket"}}, "");
        });
    }

    /// Connects and completes the handshake (`after` follows the request in the same write); the 101
    /// is checked and kept in `response` when given.
    std::optional<raw_client> open_ws(std::string_view extra = {}, std::string_view after = {},
                                      http_response* response = nullptr) {
        auto c = connect();
        if (auto ok = ws_handshake(c, "/ws", extra, after, response); !ok) {
            ADD_FAILURE() << ok.message();
            return std::nullopt;
        }
        return c;
    }

    /// Reads a Close (skipping nothing: the next frame must be it), then expects the TCP close.
    static void expect_close(raw_client& c, int code, bool answer = true) {
        expect_server_close(c, code, answer ? close_reply::echo : close_reply::none);
        // After failing the connection the server half-closes and waits for our FIN (so that
        // unread input cannot turn its close into a reset that destroys the Close in flight).
        c.close();
    }

    /// `f` must be the idle timeout's Close (1001 "idle timeout"); answers it and expects the TCP
    /// close and the application's on_close.
    void expect_idle_close(raw_client& c, server_frame const& f) {
        EXPECT_EQ(f.op, op_close);
        EXPECT_EQ(f.close_code(), 1001);
        EXPECT_EQ(f.close_reason(), "idle timeout");
        ASSERT_TRUE(c.send_all(frame(opcode::close, close_body(1001))));
        EXPECT_TRUE(c.wait_closed(5s));
        EXPECT_TRUE(events.wait_for("close:1001:"));
    }

    std::shared_ptr<upgrade::registry const> registry_;
};

// §4.2.2 item 5.4: Sec-WebSocket-Accept for the RFC's own example key; §4.2.2 item 5.2/5.3: the
// 101 carries Upgrade: websocket and Connection: Upgrade.
TEST_F(WsSessionTest, HandshakeAcceptKeyRfcExample) {
    ASSERT_TRUE(start_ws());
    auto c = connect();
    ASSERT_TRUE(c.send_all(ws_request()));
    auto head = c.read_until("\r\n\r\n");
    ASSERT_TRUE(head) << c.error();
    auto r = parse_head(*head);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 101);
    EXPECT_EQ(r->header("Upgrade"), "websocket") << *r;
    EXPECT_TRUE(r->has_token("Connection", "upgrade")) << *r;
    EXPECT_EQ(r->header("Sec-WebSocket-Accept"), std::string(rfc_handshake_accept)) << *r;
    EXPECT_EQ(r->header_count("Sec-WebSocket-Protocol"), 0u) << *r;
    EXPECT_TRUE(events.wait_for("open:"));
}

// §4.2.2 item 4 / §4.4: a version the server does not speak gets 426 and the versions it does.
TEST_F(WsSessionTest, Version8Gets426WithVersion13) {
    ASSERT_TRUE(start_ws());
    auto c = connect();
    ASSERT_TRUE(c.send_all(ws_request({}, rfc_handshake_key, "8")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error() << c.received();
    EXPECT_EQ(r->status, 426);
    EXPECT_EQ(r->header("Sec-WebSocket-Version"), "13") << *r;
    EXPECT_EQ(r->header("Upgrade"), "websocket") << *r;
    EXPECT_FALSE(events.contains("open:"));
}

// §4.2.1 item 5: a key that is not base64 of 16 bytes gets 400.
TEST_F(WsSessionTest, BadKeyGets400) {
    ASSERT_TRUE(start_ws());
    auto c = connect();
    ASSERT_TRUE(c.send_all(ws_request({}, "not-a-key")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error() << c.received();
    EXPECT_EQ(r->status, 400);
}

// Without any upgrade the route answers normally (here 426).
TEST_F(WsSessionTest, PlainRequestIsNotSwitched) {
    ASSERT_TRUE(start_ws());
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/ws")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 426);
}

// §4.2.2 item 5.5: the server picks one of the client's subprotocols (here by its own preference)
// and names it in Sec-WebSocket-Protocol; none in common: no field.
TEST_F(WsSessionTest, SubprotocolSelection) {
    ws::options opt;
    opt.subprotocols = {"v2.chat", "chat"};
    ASSERT_TRUE(start_ws(opt));
    {
        auto c = connect();
        ASSERT_TRUE(c.send_all(ws_request("Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: x, v2.chat\r\n")));
        auto head = c.read_until("\r\n\r\n");
        ASSERT_TRUE(head) << c.error();
        auto r = parse_head(*head);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 101);
        EXPECT_EQ(r->header("Sec-WebSocket-Protocol"), "v2.chat") << *r;
        EXPECT_TRUE(events.wait_for("open:v2.chat"));
    }
    {
        auto c = connect();
        ASSERT_TRUE(c.send_all(ws_request("Sec-WebSocket-Protocol: superchat\r\n")));
        auto head = c.read_until("\r\n\r\n");
        ASSERT_TRUE(head) << c.error();
        auto r = parse_head(*head);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 101);
        EXPECT_EQ(r->header_count("Sec-WebSocket-Protocol"), 0u) << *r;
    }
}

// §4.2.2 item 4, §10.2: an Origin the server does not accept is refused with 403.
TEST_F(WsSessionTest, OriginNotAllowedGets403) {
    ws::options opt;
    opt.allowed_origins = {"https://good.example"};
    ASSERT_TRUE(start_ws(opt));
    auto bad = connect();
    ASSERT_TRUE(bad.send_all(ws_request("Origin: https://evil.example\r\n")));
    auto r = bad.read_response();
    ASSERT_TRUE(r) << bad.error();
    EXPECT_EQ(r->status, 403);
    auto good = open_ws("Origin: https://good.example\r\n");
    ASSERT_TRUE(good);
}

// Upgrade contract §3 (upgraded::leftover): a frame sent in the same write as the request is
// delivered, before anything read from the socket.
TEST_F(WsSessionTest, RequestAndFirstFrameInOneWrite) {
    ASSERT_TRUE(start_ws());
    auto c = open_ws({}, frame(opcode::text, "first") + frame(opcode::binary, "second"));
    ASSERT_TRUE(c);
    auto f = read_server_frame(*c);
    ASSERT_TRUE(f) << c->error();
    EXPECT_EQ(f->op, op_text);
    EXPECT_EQ(f->payload, "first");
    f = read_server_frame(*c);
    ASSERT_TRUE(f) << c->error();
    EXPECT_EQ(f->op, op_binary);
    EXPECT_EQ(f->payload, "second");
}

/// "127.0.0.1:<port>" of the client's end of `c`: what the session's remote() must say.
std::string local_address(raw_client const& c) {
    sockaddr_in a{};
    socklen_t n = sizeof a;
    if (::getsockname(c.fd(), reinterpret_cast<sockaddr*>(&a), &n) != 0) return "getsockname failed";
    return "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
}

// The session keeps the peer's address (packed, not as a string) and the upgrade request only
// while on_open runs, unless options::keep_request (bench/README.md, memory per idle connection).
TEST_F(WsSessionTest, RemoteAlwaysRequestDuringOnOpenOnly) {
    ws::behaviour b;
    b.on_open = [this](ws::session& s) { events.add("open:" + s.remote() + " " + s.request().target); };
    b.on_message = [this](ws::session& s, std::string_view, ws::message_kind) {
        events.add("later:" + s.remote() + " " + s.request().target + " " + std::to_string(s.request().headers.size()));
    };
    ASSERT_TRUE(start_ws({}, b));
    auto c = open_ws();
    ASSERT_TRUE(c);
    auto const remote = local_address(*c);
    ASSERT_TRUE(c->send_all(frame(opcode::text, "x")));
    // An empty request_info after on_open.
    EXPECT_TRUE(events.wait_for("later:" + remote + "  0")) << testing::PrintToString(events.with_prefix("later:"));
    EXPECT_TRUE(events.contains("open:" + remote + " /ws")) << testing::PrintToString(events.with_prefix("open:"));
}

TEST_F(WsSessionTest, KeepRequestKeepsItForTheSessionsLife) {
    ws::options opt;
    opt.keep_request = true;
    ws::behaviour b;
    b.on_message = [this](ws::session& s, std::string_view, ws::message_kind) {
        events.add("later:" + s.remote() + " " + s.request().method + " " + s.request().target);
    };
    ASSERT_TRUE(start_ws(opt, b));
    auto c = open_ws();
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->send_all(frame(opcode::text, "x")));
    EXPECT_TRUE(events.wait_for("later:" + local_address(*c) + " GET /ws"))
        << testing::PrintToString(events.with_prefix("later:"));
}

// §5.6: text and binary data frames come back with the same opcode, unmasked (§5.1), FIN set.
TEST_F(WsSessionTest, EchoTextAndBinary) {
    ASSERT_TRUE(start_ws());
    auto c = open_ws();
    ASSERT_TRUE(c);
    std::string const bin = payload_of(70000, false, 3);  // a 64-bit extended length (§5.2)
    std::string const text = "héllo wörld";
    ASSERT_TRUE(c->send_all(frame(opcode::text, text) + frame(opcode::binary, bin) + frame(opcode::text, "")));
    auto f = read_server_frame(*c);
    ASSERT_TRUE(f) << c->error();
    EXPECT_TRUE(f->fin);
    EXPECT_FALSE(f->masked);
    EXPECT_EQ(f->rsv, 0);
    EXPECT_EQ(f->op, op_text);
    EXPECT_EQ(f->payload, text);
    f = read_server_frame(*c);
    ASSERT_TRUE(f) << c->error();
    EXPECT_EQ(f->op, op_binary);
    EXPECT_TRUE(f->payload == bin);
    f = read_server_frame(*c);
    ASSERT_TRUE(f) << c->error();
    EXPECT_EQ(f->op, op_text);
    EXPECT_EQ(f->payload, "");
    EXPECT_TRUE(events.wait_for("message:binary:70000"));
}

// §5.4: a fragmented message, with control frames injected between its fragments (§5.4: "Control
// frames MAY be injected in the middle of a fragmented message"), is one message; the Ping is
// answered at once (§5.5.2), before the message is complete.
TEST_F(WsSessionTest, FragmentedMessageWithInterleavedPing) {
    ASSERT_TRUE(start_ws());
    auto c = open_ws();
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->send_all(frame(opcode::text, "Hel", frame_spec{.fin = false}) + frame(opcode::ping, "p!")));
    auto f = read_server_frame(*c);
    ASSERT_TRUE(f) << c->error();
    EXPECT_EQ(f->op, op_pong);
    EXPECT_EQ(f->payload, "p!");
    // A code point split across fragments (§5.6: the message as a whole is UTF-8).
    std::string const e_acute = "\xC3\xA9";
    ASSERT_TRUE(c->send_all(frame(opcode::continuation, "lo " + e_acute.substr(0, 1), frame_spec{.fin = false}) +
                            frame(opcode::pong, "unsolicited") +
                            frame(opcode::continuation, e_acute.substr(1))));
    f = read_server_frame(*c);
    ASSERT_TRUE(f) << c->error();
    EXPECT_EQ(f->op, op_text);
    EXPECT_EQ(f->payload, "Hello " + e_acute);
    EXPECT_EQ(events.count("message:text:8"), 1u);
}

// §5.5.2/§5.5.3: a Pong carries the Ping's application data; an unsolicited Pong is not answered.
TEST_F(WsSessionTest, PingGetsPongWithSamePayload) {
    ASSERT_TRUE(start_ws());
    auto c = open_ws();
    ASSERT_TRUE(c);
    std::string const payload = payload_of(125, false, 3);
    ASSERT_TRUE(c->send_all(frame(opcode::pong, "x") + frame(opcode::ping, payload) + frame(opcode::ping, "")));
    auto f = read_server_frame(*c);
    ASSERT_TRUE(f) << c->error();
    EXPECT_EQ(f->op, op_pong);
    EXPECT_TRUE(f->payload == payload);
    f = read_server_frame(*c);
    ASSERT_TRUE(f) << c->error();
    EXPECT_EQ(f->op, op_pong);
    EXPECT_EQ(f->payload, "");
}

// §5.1: "The server MUST close the connection upon receiving a frame that is not masked";
// §7.4.1: 1002 protocol error; §7.1.7: Close, then the TCP connection is closed.
TEST_F(WsSessionTest, UnmaskedFrameFailsWith1002) {
    ASSERT_TRUE(start_ws());
    auto c = open_ws();
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->send_all(frame(opcode::text, "hi", frame_spec{.masked = false})));
    expect_close(*c, 1002);
    EXPECT_TRUE(events.wait_for("close:1002:"));
    EXPECT_FALSE(events.contains("message:text:2"));
}

// §8.1: invalid UTF-8 in a text message fails the connection with 1007 (§7.4.1).
TEST_F(WsSessionTest, InvalidUtf8FailsWith1007) {
    ASSERT_TRUE(start_ws());
    auto c = open_ws();
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->send_all(frame(opcode::text, "ok\xC0\xAF")));
    expect_close(*c, 1007, /*answer=*/false);
    EXPECT_TRUE(events.wait_for("close:1007:"));
}

// §7.4.1 1009: a message larger than the server accepts, here across fragments.
TEST_F(WsSessionTest, OversizeMessageFailsWith1009) {
    ws::options opt;
    opt.max_message_size = 1000;
    ASSERT_TRUE(start_ws(opt));
    auto c = open_ws();
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->send_all(frame(opcode::binary, std::string(1000, 'a'))));
    auto f = read_server_frame(*c);
    ASSERT_TRUE(f) << c->error();
    EXPECT_EQ(f->payload.size(), 1000u);
    ASSERT_TRUE(c->send_all(frame(opcode::binary, std::string(600, 'a'), frame_spec{.fin = false}) +
                            frame(opcode::continuation, std::string(600, 'b'))));
    expect_close(*c, 1009);
    EXPECT_TRUE(events.wait_for("close:1009:"));
}

// §5.5.1: the server answers a Close with a Close echoing the status code, then (§7.1.1) closes
// TCP; §7.1.5: the connection close code is the peer's.
TEST_F(WsSessionTest, PeerCloseIsEchoedWithCode) {
    ASSERT_TRUE(start_ws());
    auto c = open_ws();
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->send_all(frame(opcode::close, close_body(1000, "bye"))));
    auto f = read_server_frame(*c);
    ASSERT_TRUE(f) << c->error();
    EXPECT_EQ(f->op, op_close);
    EXPECT_EQ(f->close_code(), 1000);
    EXPECT_TRUE(c->wait_closed(5s));
    EXPECT_TRUE(events.wait_for("close:1000:bye"));

    // A Close without a status: an empty Close back, and 1005 for the application (§7.1.5).
    auto d = open_ws();
    ASSERT_TRUE(d);
    ASSERT_TRUE(d->send_all(frame(opcode::close, "")));
    f = read_server_frame(*d);
    ASSERT_TRUE(f) << d->error();
    EXPECT_EQ(f->op, op_close);
    EXPECT_EQ(f->payload, "");
    EXPECT_TRUE(d->wait_closed(5s));
    EXPECT_TRUE(events.wait_for("close:1005:"));
}

// §5.5.1: after sending a Close, data frames are not processed; the server closes TCP when the
// peer's Close arrives (§7.1.1).
TEST_F(WsSessionTest, ServerInitiatedCloseIgnoresLaterData) {
    ASSERT_TRUE(start_ws());
    auto c = open_ws();
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->send_all(frame(opcode::text, "close-me")));
    auto f = read_server_frame(*c);
    ASSERT_TRUE(f) << c->error();
    EXPECT_EQ(f->op, op_close);
    EXPECT_EQ(f->close_code(), 4000);
    EXPECT_EQ(f->close_reason(), "asked");
    ASSERT_TRUE(c->send_all(frame(opcode::text, "late") + frame(opcode::close, close_body(4000))));
    EXPECT_TRUE(c->wait_closed(5s));
    EXPECT_EQ(c->received(), "") << "data was answered after the Close";
    EXPECT_TRUE(events.wait_for("close:4000:"));
    EXPECT_FALSE(events.contains("message:text:4"));
}

// The peer never answers the server's Close: TCP is closed after close_timeout, and the
// application hears the code it sent.
TEST_F(WsSessionTest, UnansweredCloseTimesOut) {
    ws::options opt;
    opt.close_timeout = 200ms;
    ASSERT_TRUE(start_ws(opt));
    auto c = open_ws();
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->send_all(frame(opcode::text, "close-me")));
    expect_close(*c, 4000, /*answer=*/false);
    EXPECT_TRUE(events.wait_for("close:4000:asked"));
}

// Documented policy: no traffic for idle_timeout closes with 1001 "idle timeout".
TEST_F(WsSessionTest, IdleTimeoutClosesWith1001) {
    ws::options opt;
    opt.idle_timeout = 200ms;
    ASSERT_TRUE(start_ws(opt));
    auto c = open_ws();
    ASSERT_TRUE(c);
    auto f = read_server_frame(*c, 5s);
    ASSERT_TRUE(f) << c->error();
    expect_idle_close(*c, *f);
}

// options::ping_interval: a peer that stays silent gets keep-alive Pings (§5.5.2), and since our
// Pings are not an answer, it is still closed with 1001 once idle_timeout passes without a byte
// from it (a dead peer whose socket buffer still takes our writes is found this way).
TEST_F(WsSessionTest, KeepAlivePingsDoNotKeepASilentPeerOpen) {
    ws::options opt;
    opt.ping_interval = 50ms;
    opt.idle_timeout = 400ms;
    ASSERT_TRUE(start_ws(opt));
    auto c = open_ws();
    ASSERT_TRUE(c);
    int pings = 0;
    std::optional<server_frame> f;
    for (;;) {
        f = read_server_frame(*c, 5s);
        ASSERT_TRUE(f) << c->error();
        if (f->op != op_ping) break;
        ASSERT_LT(++pings, 100) << "still pinging long after idle_timeout: our own Pings kept it open";
    }
    EXPECT_GE(pings, 2) << "expected Pings every 50 ms during 400 ms of silence";
    expect_idle_close(*c, *f);
}

// §5.5.3: a Pong answers a Ping. With keep-alive Pings on, a peer that only answers them stays
// open well past idle_timeout, and the connection still carries messages afterwards.
TEST_F(WsSessionTest, AnsweredKeepAlivePingsKeepThePeerOpen) {
    ws::options opt;
    opt.ping_interval = 50ms;
    opt.idle_timeout = 300ms;
    ASSERT_TRUE(start_ws(opt));
    auto c = open_ws();
    ASSERT_TRUE(c);
    int pongs = 0;
    auto const until = std::chrono::steady_clock::now() + 1200ms;  // four idle timeouts
    while (std::chrono::steady_clock::now() < until) {
        auto f = read_server_frame(*c, 5s);
        ASSERT_TRUE(f) << c->error();
        ASSERT_EQ(f->op, op_ping) << *f;
        ASSERT_TRUE(c->send_all(frame(opcode::pong, f->payload)));
        ++pongs;
    }
    EXPECT_GE(pongs, 4);
    ASSERT_TRUE(c->send_all(frame(opcode::text, "still here")));
    std::optional<server_frame> echo;
    do {
        echo = read_server_frame(*c, 5s);
        ASSERT_TRUE(echo) << c->error();
    } while (echo->op == op_ping);
    EXPECT_EQ(echo->op, op_text);
    EXPECT_EQ(echo->payload, "still here");
    EXPECT_FALSE(events.contains("close:"));
}

// §7.4.1 1001 "going away, such as a server going down": server::stop() closes open sessions
// with a Close 1001; the peer answers and the server closes TCP and returns from run().
TEST_F(WsSessionTest, ServerStopSendsClose1001) {
    ASSERT_TRUE(start_ws());
    auto c = open_ws();
    ASSERT_TRUE(c);
    ASSERT_TRUE(events.wait_for("open:"));
    std::thread stopper([this] { stop_and_join(); });
    auto f = read_server_frame(*c);
    bool const got = f.has_value();
    if (got) {
        EXPECT_EQ(f->op, op_close);
        EXPECT_EQ(f->close_code(), 1001);
        c->send_all(frame(opcode::close, close_body(1001)));
        EXPECT_TRUE(c->wait_closed(5s));
    }
    stopper.join();
    ASSERT_TRUE(got) << c->error();
    EXPECT_TRUE(run_returned());
    EXPECT_TRUE(events.wait_for("close:1001:"));
}

// Backpressure: a 4 MiB message echoed to a client that reads slowly; send() passes the
// high-water mark, the session stops reading, and everything arrives intact and in order.
TEST_F(WsSessionTest, LargeMessagesWithBackpressure) {
    ws::options opt;
    opt.send_high_water = 256 * 1024;
    ASSERT_TRUE(start_ws(opt));
    auto c = open_ws();
    ASSERT_TRUE(c);
    set_small_rcvbuf(*c);
    std::string const big = payload_of(4 << 20, false, 11);
    std::string out;
    for (int i = 0; i < 3; ++i) out += frame(opcode::binary, big);
    ASSERT_TRUE(c->send_all(out, 30s));
    for (int i = 0; i < 3; ++i) {
        auto f = read_server_frame(*c, 30s);
        ASSERT_TRUE(f) << c->error();
        EXPECT_EQ(f->op, op_binary);
        EXPECT_TRUE(f->payload == big) << "message " << i << " differs";
    }
    EXPECT_EQ(events.count("message:binary:" + std::to_string(big.size())), 3u);
}

// send() returns false at send_high_water and on_drain follows below half of it; the peer gets
// every message intact.
TEST_F(WsSessionTest, SendHighWaterAndDrain) {
    ws::options opt;
    opt.send_high_water = 256 * 1024;
    ws::behaviour b;
    std::string const chunk = payload_of(64 * 1024, false, 5);
    b.on_message = [this, chunk](ws::session& s, std::string_view, ws::message_kind) {
        int sent = 0;
        while (s.send(chunk, ws::message_kind::binary)) ++sent;
        events.add("blocked after " + std::to_string(sent + 1));
        events.add(s.buffered_amount() >= 256 * 1024 ? "at high water" : "below high water?");
    };
    b.on_drain = [this](ws::session& s) {
        events.add("drain");
        if (s.buffered_amount() >= 128 * 1024) events.add("drain above half?");
        s.close(1000, "done");
    };
    ASSERT_TRUE(start_ws(opt, b));
    auto c = open_ws();
    ASSERT_TRUE(c);
    set_small_rcvbuf(*c);
    ASSERT_TRUE(c->send_all(frame(opcode::text, "go")));
    ASSERT_TRUE(events.wait_for("at high water"));
    std::size_t data_frames = 0;
    auto close = read_until_close(*c, [&](server_frame const& f) {
        ASSERT_EQ(f.op, op_binary);
        ASSERT_TRUE(f.payload == chunk);
        ++data_frames;
    });
    ASSERT_TRUE(close);
    EXPECT_EQ(close->close_code(), 1000);
    EXPECT_GE(data_frames, 4u);
    EXPECT_EQ(events.count("drain"), 1u);
    EXPECT_FALSE(events.contains("drain above half?"));
    ASSERT_TRUE(c->send_all(frame(opcode::close, close_body(1000))));
    EXPECT_TRUE(c->wait_closed(5s));
    EXPECT_TRUE(events.wait_for("close:1000:"));
}

// Documented slow-reader policy: a send() while more than max_buffered bytes are queued fails the
// connection with 1008 (§7.4.1 policy violation); unsent frames are dropped, the Close goes next.
TEST_F(WsSessionTest, SlowReaderAboveMaxBufferedGets1008) {
    ws::options opt;
    opt.send_high_water = 64 * 1024;
    opt.max_buffered = 512 * 1024;
    ws::behaviour b;
    std::string const chunk = payload_of(64 * 1024, false, 9);
    b.on_message = [this, chunk](ws::session& s, std::string_view, ws::message_kind) {
        for (int i = 0; i < 1000 && !s.closing(); ++i) s.send(chunk, ws::message_kind::binary);
        events.add(s.closing() ? "closing" : "still open?");
    };
    ASSERT_TRUE(start_ws(opt, b));
    auto c = open_ws();
    ASSERT_TRUE(c);
    set_small_rcvbuf(*c);
    ASSERT_TRUE(c->send_all(frame(opcode::text, "flood")));
    ASSERT_TRUE(events.wait_for("closing"));
    std::size_t data_frames = 0;
    auto close = read_until_close(*c, [&](server_frame const& f) {
        ASSERT_EQ(f.op, op_binary);
        ASSERT_TRUE(f.payload == chunk);
        ++data_frames;
    });
    ASSERT_TRUE(close);
    EXPECT_EQ(close->close_code(), 1008);
    EXPECT_LT(data_frames, 1000u);
    EXPECT_TRUE(c->wait_closed(5s));
    c->close();
    EXPECT_TRUE(events.wait_for("close:1008:send buffer limit"));
}

// ---- permessage-deflate (RFC 7692) ----------------------------------------------------------

/// The client's side with zlib itself, a fresh stream per message: raw DEFLATE, Z_SYNC_FLUSH,
/// 00 00 ff ff removed (§7.2.1); inflating appends it (§7.2.2).
std::string client_deflate(std::string_view in) { return pmd_deflater{}.compress(in); }
std::string client_inflate(std::string_view in) {
    pmd_inflater z;
    auto out = z.inflate(in);
    EXPECT_TRUE(out) << z.error();
    return out.value_or(std::string{});
}

class WsDeflateTest : public WsSessionTest {
protected:
    static ws::options deflate_on() {
        ws::options o;
        o.permessage_deflate = true;
        return o;
    }
    /// Handshake with `extensions` offered; returns the client and the 101's Sec-WebSocket-Extensions.
    std::optional<raw_client> open_with(std::string_view extensions, std::string* answered = nullptr) {
        std::string extra;
        if (!extensions.empty()) extra = "Sec-WebSocket-Extensions: " + std::string(extensions) + "\r\n";
        http_response r;
        auto c = open_ws(extra, {}, &r);
        if (c && answered) *answered = r.header("Sec-WebSocket-Extensions").value_or("(none)");
        return c;
    }
};

// RFC 7692 §5.1, §7.1: the offer of python websockets / browsers is accepted; §6.1/§6.2: compressed
// messages (RSV1 on the first frame only, also fragmented) are inflated; §7.2.3.1's "Hello" bytes;
// the echo of a message of compress_threshold bytes or more comes back compressed with RSV1 set,
// a short one plain.
TEST_F(WsDeflateTest, CompressedEcho) {
    ASSERT_TRUE(start_ws(deflate_on()));
    std::string answered;
    auto c = open_with("permessage-deflate; client_max_window_bits", &answered);
    ASSERT_TRUE(c);
    EXPECT_EQ(answered, "permessage-deflate");

    auto const hello = std::string("\xf2\x48\xcd\xc9\xc9\x07\x00", 7);
    ASSERT_TRUE(c->send_all(frame(opcode::text, hello, frame_spec{.rsv = rsv1})));
    auto f = read_server_frame(*c);
    ASSERT_TRUE(f) << c->error();
    EXPECT_EQ(f->rsv, 0);  // below compress_threshold: sent as is
    EXPECT_EQ(f->payload, "Hello");

    std::string const text = "h\xc3\xa9llo " + std::string(5000, 'x') + payload_of(3000, false, 3);
    std::string big;
    for (char ch : text) big += static_cast<char>((ch & 0x7f) | 0x20);  // printable ASCII
    auto const z = client_deflate(big);
    // Fragmented: RSV1 on the first frame only (§6.1).
    ASSERT_TRUE(c->send_all(frame(opcode::text, z.substr(0, 10), frame_spec{.fin = false, .rsv = rsv1}) +
                            frame(opcode::continuation, z.substr(10, 20), frame_spec{.fin = false}) +
                            frame(opcode::continuation, z.substr(30))));
    f = read_server_frame(*c);
    ASSERT_TRUE(f) << c->error();
    EXPECT_EQ(f->rsv, 4);  // RSV1
    EXPECT_TRUE(f->fin);
    EXPECT_EQ(f->op, op_text);
    EXPECT_LT(f->payload.size(), big.size());
    EXPECT_TRUE(client_inflate(f->payload) == big);
    EXPECT_TRUE(events.wait_for("message:text:" + std::to_string(big.size())));

    // An uncompressed message is still fine (§6: RSV1 clear).
    ASSERT_TRUE(c->send_all(frame(opcode::binary, "plain")));
    f = read_server_frame(*c);
    ASSERT_TRUE(f) << c->error();
    EXPECT_EQ(f->rsv, 0);
    EXPECT_EQ(f->payload, "plain");
}

// §5: deflate off in the options, or not offered: no Sec-WebSocket-Extensions in the 101.
TEST_F(WsDeflateTest, NotNegotiatedWithoutBothSides) {
    ASSERT_TRUE(start_ws(deflate_on()));
    std::string answered;
    ASSERT_TRUE(open_with("", &answered));
    EXPECT_EQ(answered, "(none)");
    ASSERT_TRUE(open_with("permessage-deflate; bogus_param", &answered));  // §5.1: declined
    EXPECT_EQ(answered, "(none)");
    ASSERT_TRUE(open_with("x-other, permessage-deflate; server_max_window_bits=10", &answered));
    EXPECT_EQ(answered, "permessage-deflate; server_max_window_bits=10");
}

// RFC 6455 §5.2: RSV1 without a negotiated extension that defines it fails with 1002.
TEST_F(WsDeflateTest, Rsv1WithoutNegotiationFailsWith1002) {
    ASSERT_TRUE(start_ws());  // permessage_deflate off
    std::string answered;
    auto c = open_with("permessage-deflate", &answered);
    ASSERT_TRUE(c);
    EXPECT_EQ(answered, "(none)");
    ASSERT_TRUE(c->send_all(frame(opcode::text, std::string("\xf2\x48\xcd\xc9\xc9\x07\x00", 7), frame_spec{.rsv = rsv1})));
    expect_close(*c, 1002);
    EXPECT_TRUE(events.wait_for("close:1002:"));
    EXPECT_FALSE(events.contains("message:"));
}

// RFC 7692 §6.1: RSV1 on a continuation frame or a control frame is a protocol error (1002).
TEST_F(WsDeflateTest, Rsv1OnContinuationOrControlFailsWith1002) {
    ASSERT_TRUE(start_ws(deflate_on()));
    {
        auto c = open_with("permessage-deflate");
        ASSERT_TRUE(c);
        ASSERT_TRUE(c->send_all(frame(opcode::text, "a", frame_spec{.fin = false}) +
                                frame(opcode::continuation, "b", frame_spec{.rsv = rsv1})));
        expect_close(*c, 1002);
    }
    {
        auto c = open_with("permessage-deflate");
        ASSERT_TRUE(c);
        ASSERT_TRUE(c->send_all(frame(opcode::ping, "p", frame_spec{.rsv = rsv1})));
        expect_close(*c, 1002);
    }
}

// RFC 6455 §8.1 after inflating: compressed invalid UTF-8 text fails with 1007; bytes that are not
// DEFLATE data fail with 1007 too.
TEST_F(WsDeflateTest, CompressedInvalidUtf8FailsWith1007) {
    ASSERT_TRUE(start_ws(deflate_on()));
    {
        auto c = open_with("permessage-deflate");
        ASSERT_TRUE(c);
        ASSERT_TRUE(c->send_all(frame(opcode::text, client_deflate("ok\xC0\xAF"), frame_spec{.rsv = rsv1})));
        expect_close(*c, 1007, /*answer=*/false);
    }
    {
        auto c = open_with("permessage-deflate");
        ASSERT_TRUE(c);
        ASSERT_TRUE(c->send_all(frame(opcode::binary, std::string(8, '\xff'), frame_spec{.rsv = rsv1})));
        expect_close(*c, 1007, /*answer=*/false);
    }
    EXPECT_FALSE(events.contains("message:"));
}

// A decompression bomb: 8 MiB of zeros in ~8 KiB fails with 1009 at max_inflated_message_size.
TEST_F(WsDeflateTest, InflatedTooBigFailsWith1009) {
    auto opt = deflate_on();
    opt.max_inflated_message_size = 64 * 1024;
    ASSERT_TRUE(start_ws(opt));
    auto c = open_with("permessage-deflate");
    ASSERT_TRUE(c);
    auto const z = client_deflate(std::string(std::size_t{8} << 20, '\0'));
    ASSERT_LT(z.size(), 16u * 1024);
    ASSERT_TRUE(c->send_all(frame(opcode::binary, z, frame_spec{.rsv = rsv1})));
    expect_close(*c, 1009, /*answer=*/false);
    EXPECT_TRUE(events.wait_for("close:1009:"));
    EXPECT_FALSE(events.contains("message:"));
}

} // namespace
} // namespace upshift::test
