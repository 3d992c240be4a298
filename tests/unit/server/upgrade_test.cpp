// Protocol switching on the HTTP/1.1 server: exchange::upgrade_offers / switch_protocols,
// options::protocols (accept_upgrade before the handler), the 101 and the hand-off of the stream
// with every byte read past the request, declined upgrades, Upgrade/Connection on ordinary
// responses, and upgrade::raw_channel (RFC 9110 §7.6.1, §7.8, §15.2.2, §15.5.22; RFC 9112 §9.6).
#include <poll.h>

#include <cerrno>
#include <cstdlib>
#include <optional>

#include "server_fixture.hpp"
#include "upshift/upgrade/raw_channel.hpp"

namespace upshift::test {
namespace {

using upgrade::offer;
using upgrade::raw_channel;
using upgrade::raw_channel_options;

/// Deterministic bytes (all values, CR/LF/NUL included) so a lost, duplicated or reordered piece shows.
std::string pattern(std::size_t n, unsigned seed = 7) {
    std::string s(n, '\0');
    std::uint32_t x = seed * 2654435761u + 1;
    for (std::size_t i = 0; i < n; ++i) {
        x = x * 1103515245u + 12345u;
        s[i] = static_cast<char>(x >> 23);
    }
    return s;
}

/// Sends `payload` on `fd` from another thread (poll + send, the socket is non-blocking) while the
/// test thread does something else (or nothing) with the same socket. `ok` is set when all is sent.
std::thread send_in_background(int fd, std::string const& payload, std::atomic<bool>& ok) {
    return std::thread([fd, &payload, &ok] {
        std::string_view rest = payload;
        auto const deadline = std::chrono::steady_clock::now() + 60s;
        while (!rest.empty() && std::chrono::steady_clock::now() < deadline) {
            ssize_t w = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
            if (w > 0) {
                rest.remove_prefix(static_cast<std::size_t>(w));
                continue;
            }
            if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return;
            pollfd p{fd, POLLOUT, 0};
            ::poll(&p, 1, 100);
        }
        ok = rest.empty();
    });
}

/// An upgrade request: GET target with `Upgrade: <upgrade>` and `Connection: <connection>`.
std::string upgrade_request(std::string_view upgrade, std::string_view extra = {},
                            std::string_view target = "/chat", std::string_view connection = "Upgrade") {
    std::string h;
    h.append("Upgrade: ").append(upgrade).append("\r\n");
    if (!connection.empty()) h.append("Connection: ").append(connection).append("\r\n");
    h.append(extra);
    return request("GET", target, h);
}

/// Reads the 101 head; leaves any protocol bytes that followed it in c.received().
std::optional<http_response> read_101(raw_client& c, std::chrono::milliseconds timeout = 5s) {
    auto head = c.read_until("\r\n\r\n", timeout);
    if (!head) return std::nullopt;
    return parse_head(*head);
}

/// What a protocol was handed (recorded on the loop thread, read by the test).
struct seen_switch {
    std::string protocol;
    std::string leftover;
    std::string method;
    std::string target;
    int version_minor = -1;
    http1::fields headers;
    std::string remote;
    bool has_stream = false;
};

/// A protocol for options::protocols whose negotiation and start are test-supplied.
class test_protocol final : public upgrade::protocol {
public:
    using start_fn = std::function<void(upgrade::upgraded)>;
    using negotiate_fn = std::function<upgrade::decision(offer const&)>;

    test_protocol(std::string name, start_fn start, negotiate_fn negotiate = {})
        : name_(std::move(name)), start_(std::move(start)), negotiate_(std::move(negotiate)) {}

    std::string_view name() const noexcept override { return name_; }
    upgrade::decision negotiate(offer const& o, http1::request_head const&) const override {
        if (negotiate_) return negotiate_(o);
        return http1::fields{};
    }
    void start(upgrade::upgraded u) const override { start_(std::move(u)); }

private:
    std::string name_;
    start_fn start_;
    negotiate_fn negotiate_;
};

class UpgradeTest : public server_fixture {
protected:
    // --- loop-thread side ----------------------------------------------------------------------

    /// Loop thread: records what the protocol got ("start:<token>" event + seen()).
    void record(upgrade::upgraded const& u) {
        seen_switch s;
        s.protocol = u.protocol;
        s.leftover = u.leftover;
        s.method = u.request.method;
        s.target = u.request.target;
        s.version_minor = u.request.version_minor;
        s.headers = u.request.headers;
        s.remote = u.remote;
        s.has_stream = u.stream != nullptr && u.loop != nullptr;
        {
            std::lock_guard lock{mu_};
            seen_.push_back(std::move(s));
        }
        events.add("start:" + u.protocol);
    }

    /// Loop thread: an echo over raw_channel that records its high-water behaviour. Events:
    /// "blocked" (first write() that returned false), "closed:ok" / "closed:<error message>".
    void open_echo(upgrade::upgraded u, raw_channel_options opt = {}) {
        record(u);
        raw_channel::callbacks cb;
        cb.on_data = [this](raw_channel& ch, std::string_view d) {
            received_.fetch_add(d.size());
            bool const ok = ch.write(d);
            std::size_t const held = ch.memory_held();
            std::size_t prev_held = max_held_.load();
            while (held > prev_held && !max_held_.compare_exchange_weak(prev_held, held)) {}
            std::size_t const b = ch.buffered_amount();
            std::size_t prev = max_buffered_.load();
            while (b > prev && !max_buffered_.compare_exchange_weak(prev, b)) {}
            if (!ok && !blocked_.exchange(true)) events.add("blocked");
        };
        cb.on_close = [this](std::error_code ec) {
            events.add("closed:" + (ec ? ec.message() : std::string("ok")));
        };
        raw_channel::open(std::move(u), std::move(cb), opt);
    }

    /// A protocol named `name` that starts an echo channel.
    std::shared_ptr<upgrade::protocol const>
    echo_protocol(std::string name, test_protocol::negotiate_fn n = {}, raw_channel_options opt = {}) {
        return std::make_shared<test_protocol>(
            std::move(name), [this, opt](upgrade::upgraded u) { open_echo(std::move(u), opt); },
            std::move(n));
    }

    static std::function<void(server::options&)>
    with_protocols(std::vector<std::shared_ptr<upgrade::protocol const>> ps,
                   std::function<void(server::options&)> more = {}) {
        return [ps = std::move(ps), more = std::move(more)](server::options& o) {
            auto r = std::make_shared<upgrade::registry>();
            for (auto const& p : ps) r->add(p);
            o.protocols = std::move(r);
            if (more) more(o);
        };
    }

    /// A handler that answers 200 "plain" and records "handler" and the offers it saw.
    server::handler plain_handler() {
        return [this](exchange& ex) {
            std::string offers;
            for (auto const& o : ex.upgrade_offers()) offers += (offers.empty() ? "" : ",") + o.token();
            events.add("handler " + std::string(ex.request().target) + " offers=[" + offers + "]");
            ex.respond(status::ok, {{"Content-Type", "text/plain"}}, "plain");
        };
    }

    // --- test-thread side ----------------------------------------------------------------------

    std::optional<seen_switch> last_seen() {
        std::lock_guard lock{mu_};
        if (seen_.empty()) return std::nullopt;
        return seen_.back();
    }
    std::size_t handler_calls() const { return events.with_prefix("handler").size(); }

    /// Closes the client and waits for the echo channel to see it (it must be gone before TearDown).
    void close_channel(raw_client& c, std::size_t closed_before = 0) {
        c.close();
        auto const closes = [&] { return events.with_prefix("closed:").size(); };
        auto const deadline = std::chrono::steady_clock::now() + 5s;
        while (closes() <= closed_before && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(5ms);
        EXPECT_GT(closes(), closed_before) << "the channel did not see the client close";
    }

    std::mutex mu_;
    std::vector<seen_switch> seen_;
    std::atomic<std::size_t> received_{0};
    std::atomic<std::size_t> max_buffered_{0};
    std::atomic<std::size_t> max_held_{0};  // raw_channel::memory_held() after each write
    std::atomic<bool> blocked_{false};
};

// ================================================================================================
// Switching
// ================================================================================================

// RFC 9110 §7.8 / §15.2.2: the server switches to a protocol the client offered; the 101 names it
// in Upgrade and (Upgrade being hop-by-hop, §7.6.1) in Connection. The protocol then owns the
// stream and learns the request that asked for it. A registered protocol is switched to before the
// handler runs (options::protocols).
TEST_F(UpgradeTest, EligibleRequestGets101AndProtocolOwnsStream) {
    ASSERT_TRUE(start(plain_handler(), with_protocols({echo_protocol("chat", [](offer const&) {
                          // negotiate's extra fields go into the 101; framing/hop-by-hop ones never do
                          return http1::fields{{"Chat-Accept", "yes"},
                                               {"Content-Length", "5"},
                                               {"Transfer-Encoding", "chunked"}};
                      })})));
    auto c = connect();
    ASSERT_TRUE(c.send_all(upgrade_request("chat", "X-Custom: 42\r\nX-Custom: 43\r\n", "/room?id=1")));
    auto r = read_101(c);
    ASSERT_TRUE(r) << c.error() << c.received();
    EXPECT_EQ(r->status, 101);
    EXPECT_EQ(r->header("Upgrade"), "chat") << *r;
    EXPECT_EQ(r->header_count("Upgrade"), 1u) << *r;
    EXPECT_TRUE(r->has_token("Connection", "upgrade")) << *r;
    EXPECT_EQ(r->header("Chat-Accept"), "yes") << *r;
    EXPECT_EQ(r->header_count("Content-Length"), 0u) << *r;    // RFC 9110 §8.6: never in a 1xx
    EXPECT_EQ(r->header_count("Transfer-Encoding"), 0u) << *r; // RFC 9112 §6.1: never in a 1xx

    // The stream now belongs to the protocol: bytes go both ways, no HTTP framing.
    ASSERT_TRUE(c.send_all("ping\r\n\r\n"));
    auto echoed = c.read_exactly(8);
    ASSERT_TRUE(echoed) << c.error();
    EXPECT_EQ(*echoed, "ping\r\n\r\n");

    auto s = last_seen();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->protocol, "chat");
    EXPECT_EQ(s->method, "GET");
    EXPECT_EQ(s->target, "/room?id=1");
    EXPECT_EQ(s->version_minor, 1);
    EXPECT_EQ(s->headers.find("Host"), "test");
    EXPECT_EQ(s->headers.find("upgrade"), "chat");
    std::vector<std::string> custom;
    for (auto const& [n, v] : s->headers)
        if (ascii::iequals(n, "x-custom")) custom.emplace_back(v);
    EXPECT_EQ(custom, (std::vector<std::string>{"42", "43"})); // every field line, in order
    EXPECT_TRUE(s->leftover.empty()) << s->leftover;
    EXPECT_TRUE(s->has_stream);
    EXPECT_TRUE(s->remote.starts_with("127.0.0.1:")) << s->remote;
    EXPECT_EQ(handler_calls(), 0u) << "the handler saw a request that was switched";
    close_channel(c);
}

// RFC 9110 §7.8: the handler may switch itself; the offers come in the client's order with their
// versions, and the 101's Upgrade names exactly the chosen one (with its version).
TEST_F(UpgradeTest, HandlerSwitchesToChosenOffer) {
    ASSERT_TRUE(start([this](exchange& ex) {
        std::string offers;
        for (auto const& o : ex.upgrade_offers()) offers += (offers.empty() ? "" : ",") + o.token();
        events.add("offers=[" + offers + "]");
        auto* l = &ex.loop();
        auto const ec =
            ex.switch_protocols(ex.upgrade_offers()[1], {{"X-Extra", "1"}}, [this, l](upgrade::upgraded u) {
                events.add(u.loop == l ? "then on loop" : "then elsewhere");
                open_echo(std::move(u));
            });
        events.add("switch:" + (ec ? ec.message() : std::string("ok")));
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(upgrade_request("foo/1.0, Bar/2 ,baz", {}, "/x", "keep-alive, Upgrade")));
    auto r = read_101(c);
    ASSERT_TRUE(r) << c.error() << c.received();
    EXPECT_EQ(r->status, 101);
    EXPECT_EQ(r->header("Upgrade"), "Bar/2") << *r;
    EXPECT_EQ(r->header("X-Extra"), "1") << *r;
    EXPECT_TRUE(r->has_token("Connection", "upgrade")) << *r;
    EXPECT_TRUE(events.contains("offers=[foo/1.0,Bar/2,baz]"));
    EXPECT_TRUE(events.contains("switch:ok"));
    ASSERT_TRUE(events.wait_for("then on loop"));
    ASSERT_TRUE(c.send_all("abc"));
    EXPECT_EQ(c.read_exactly(3).value_or("<none>"), "abc");
    close_channel(c);
}

// RFC 9110 §7.8: after the 101 the server speaks the new protocol "immediately"; bytes the client
// sent in the same write as the request are the protocol's first bytes. They are handed over as
// upgraded::leftover and delivered first by raw_channel, nothing lost, nothing reordered.
TEST_F(UpgradeTest, RequestAndFirstBytesInOneWrite) {
    ASSERT_TRUE(start(plain_handler(), with_protocols({echo_protocol("chat")})));
    auto c = connect();
    ASSERT_TRUE(c.send_all(upgrade_request("chat") + "HELLO\r\nGET / HTTP/1.1\r\n\r\n"));
    auto r = read_101(c);
    ASSERT_TRUE(r) << c.error() << c.received();
    EXPECT_EQ(r->status, 101);
    ASSERT_TRUE(c.send_all("+more"));
    auto echoed = c.read_exactly(std::string_view("HELLO\r\nGET / HTTP/1.1\r\n\r\n+more").size());
    ASSERT_TRUE(echoed) << c.error() << c.received();
    EXPECT_EQ(*echoed, "HELLO\r\nGET / HTTP/1.1\r\n\r\n+more");
    auto s = last_seen();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->leftover, "HELLO\r\nGET / HTTP/1.1\r\n\r\n");
    EXPECT_EQ(handler_calls(), 0u) << "the leftover was parsed as HTTP";
    close_channel(c);
}

// As above with more than the connection reads at once (> 64 KiB right after the request): part
// is in the read buffer (leftover), the rest still in the kernel; the protocol gets all, in order.
TEST_F(UpgradeTest, LargeLeftoverArrivesIntactAndInOrder) {
    ASSERT_TRUE(start(plain_handler(), with_protocols({echo_protocol("chat")})));
    std::string const payload = pattern(300 * 1024 + 17);
    auto c = connect();
    ASSERT_TRUE(c.send_all(upgrade_request("chat") + payload));
    auto r = read_101(c);
    ASSERT_TRUE(r) << c.error() << c.received().substr(0, 200);
    EXPECT_EQ(r->status, 101);
    auto echoed = c.read_exactly(payload.size(), 10s);
    ASSERT_TRUE(echoed) << c.error();
    EXPECT_TRUE(*echoed == payload) << "echo differs from what was sent";
    auto s = last_seen();
    ASSERT_TRUE(s);
    EXPECT_FALSE(s->leftover.empty());
    EXPECT_TRUE(payload.starts_with(s->leftover)) << "leftover is not the start of the payload";
    EXPECT_EQ(handler_calls(), 0u);
    close_channel(c);
}

// "Every byte read past the request": a handler that switches later (here from the test thread)
// gets the bytes that arrived in the meantime too, in order.
TEST_F(UpgradeTest, DeferredSwitchKeepsBytesReadMeanwhile) {
    ASSERT_TRUE(start([this](exchange& ex) {
        park(ex);
        events.add("handler");
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(upgrade_request("chat") + "early;"));
    ASSERT_TRUE(events.wait_for("handler"));
    ASSERT_TRUE(c.send_all("late;"));
    std::this_thread::sleep_for(200ms); // let the server read "late;" into its buffer
    EXPECT_FALSE(c.read_response(100ms)) << "answered before the switch: " << c.received();
    ASSERT_TRUE(with_parked([this](exchange& ex) {
        auto ec = ex.switch_protocols(ex.upgrade_offers()[0], {},
                                      [this](upgrade::upgraded u) { open_echo(std::move(u)); });
        events.add("switch:" + (ec ? ec.message() : std::string("ok")));
    }));
    EXPECT_TRUE(events.contains("switch:ok"));
    auto r = read_101(c);
    ASSERT_TRUE(r) << c.error() << c.received();
    EXPECT_EQ(r->status, 101);
    EXPECT_EQ(c.read_exactly(11).value_or("<none>"), "early;late;");
    auto s = last_seen();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->leftover, "early;late;");
    EXPECT_FALSE(events.contains("abort")) << "on_abort ran for a switched exchange";
    close_channel(c);
}

// Requests pipelined ahead of the upgrade (RFC 9112 §9.3.2) are answered first, in order; the 101
// follows the last byte of their responses (here a large one the client reads slowly, so the 101
// waits in the send queue), then the protocol's bytes.
TEST_F(UpgradeTest, PipelinedRequestsBeforeTheUpgradeAreAnsweredFirst) {
    auto const big_ptr = std::make_shared<std::string const>(3u << 20, 'b');
    std::string const& big = *big_ptr;
    ASSERT_TRUE(start(
        [this, big_ptr](exchange& ex) {
            events.add("handler " + std::string(ex.request().target));
            if (ex.request().target == "/big")
                ex.respond(status::ok, {}, *big_ptr);
            else
                ex.respond(status::ok, {}, "small");
        },
        with_protocols({echo_protocol("chat")})));
    auto c = connect();
    set_small_rcvbuf(c, 64 * 1024);
    ASSERT_TRUE(c.send_all(get("/small") + get("/big") + upgrade_request("chat") + "after"));
    auto r1 = c.read_response();
    ASSERT_TRUE(r1) << c.error();
    EXPECT_EQ(r1->body, "small");
    std::this_thread::sleep_for(100ms); // the 101 is queued behind /big's body
    auto r2 = c.read_response(10s);
    ASSERT_TRUE(r2) << c.error();
    EXPECT_EQ(r2->status, 200);
    EXPECT_TRUE(r2->body == big);
    auto r3 = read_101(c);
    ASSERT_TRUE(r3) << c.error() << c.received().substr(0, 200);
    EXPECT_EQ(r3->status, 101);
    EXPECT_EQ(c.read_exactly(5).value_or("<none>"), "after");
    auto s = last_seen();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->leftover, "after");
    EXPECT_EQ(events.with_prefix("handler"), (std::vector<std::string>{"handler /small", "handler /big"}));
    close_channel(c);
}

// ================================================================================================
// Eligibility (RFC 9110 §7.6.1, §7.8)
// ================================================================================================

// RFC 9110 §7.8: "A server MUST ignore an Upgrade header field that is received in an HTTP/1.0
// request." The request is ordinary HTTP: no offers, no 101, the protocol never starts.
TEST_F(UpgradeTest, Http10UpgradeIsIgnored) {
    ASSERT_TRUE(start(plain_handler(), with_protocols({echo_protocol("chat")})));
    auto c = connect();
    ASSERT_TRUE(
        c.send_all(request("GET", "/ten", "Upgrade: chat\r\nConnection: upgrade\r\n", {}, "HTTP/1.0")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error() << c.received();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "plain");
    EXPECT_EQ(r->header_count("Upgrade"), 0u) << *r;
    EXPECT_TRUE(events.contains("handler /ten offers=[]"));
    EXPECT_FALSE(events.contains("start:chat"));
}

// RFC 9110 §7.6.1 / §7.8: Upgrade is connection-specific; without the "upgrade" connection option
// the field is not meant for this hop and the request is ordinary HTTP. Bytes after it are the
// next request, answered as usual.
TEST_F(UpgradeTest, UpgradeWithoutConnectionOptionIsOrdinaryHttp) {
    ASSERT_TRUE(start(plain_handler(), with_protocols({echo_protocol("chat")})));
    for (std::string_view connection : {"", "keep-alive", "upgrade-not, x-upgrade"}) {
        SCOPED_TRACE(std::string("Connection: ") + std::string(connection));
        auto c = connect();
        ASSERT_TRUE(c.send_all(upgrade_request("chat", {}, "/plain", connection) + get("/next")));
        auto r = c.read_response();
        ASSERT_TRUE(r) << c.error() << c.received();
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body, "plain");
        EXPECT_FALSE(r->has_token("Connection", "close")) << *r;
        auto r2 = c.read_response();
        ASSERT_TRUE(r2) << c.error() << c.received();
        EXPECT_EQ(r2->status, 200);
    }
    EXPECT_EQ(events.count("handler /plain offers=[]"), 3u);
    EXPECT_EQ(events.count("handler /next offers=[]"), 3u);
    EXPECT_FALSE(events.contains("start:chat"));
}

// RFC 9110 §7.6.1 / §5.3: Connection is a list that may be split over several field lines and
// mix options in any case; "upgrade" anywhere in it makes the request eligible. Likewise several
// Upgrade lines form one list (RFC 9110 §5.3).
TEST_F(UpgradeTest, ConnectionListFormsAreRecognised) {
    ASSERT_TRUE(start(plain_handler(), with_protocols({echo_protocol("chat")})));
    struct variant {
        std::string_view headers;
        std::string_view expect_upgrade;
    };
    variant const variants[] = {
        {"Upgrade: chat\r\nConnection: keep-alive, Upgrade\r\n", "chat"},
        {"Upgrade: chat\r\nConnection: keep-alive\r\nConnection: upgrade\r\n", "chat"},
        {"Upgrade: chat\r\nConnection: UPGRADE\r\n", "chat"},
        {"Connection: foo,upgrade , bar\r\nUpgrade: chat\r\n", "chat"},
        {"Upgrade: nope\r\nUpgrade: CHAT\r\nConnection: upgrade\r\n", "CHAT"},
    };
    std::size_t n = 0;
    for (auto const& v : variants) {
        SCOPED_TRACE(std::string(v.headers));
        auto c = connect();
        ASSERT_TRUE(c.send_all(request("GET", "/chat", v.headers)));
        auto r = read_101(c);
        ASSERT_TRUE(r) << c.error() << c.received();
        EXPECT_EQ(r->status, 101);
        EXPECT_EQ(r->header("Upgrade"), v.expect_upgrade) << *r;
        ASSERT_TRUE(c.send_all("x"));
        EXPECT_EQ(c.read_exactly(1).value_or("<none>"), "x");
        close_channel(c, n++);
    }
    EXPECT_EQ(handler_calls(), 0u);
}

// ================================================================================================
// Choosing (RFC 9110 §7.8: the client lists protocols in descending preference; the server never
// switches to one the client did not offer)
// ================================================================================================

TEST_F(UpgradeTest, ClientPreferenceWinsOverRegistrationOrder) {
    ASSERT_TRUE(start(plain_handler(), with_protocols({echo_protocol("alpha"), echo_protocol("beta")})));
    struct variant {
        std::string_view offers;
        std::string_view chosen;
    };
    variant const variants[] = {
        {"beta, alpha", "beta"}, {"alpha, beta", "alpha"}, {"gamma, beta, alpha", "beta"}};
    std::size_t n = 0;
    for (auto const& v : variants) {
        SCOPED_TRACE(std::string(v.offers));
        auto c = connect();
        ASSERT_TRUE(c.send_all(upgrade_request(v.offers)));
        auto r = read_101(c);
        ASSERT_TRUE(r) << c.error() << c.received();
        EXPECT_EQ(r->header("Upgrade"), v.chosen) << *r;
        ASSERT_TRUE(events.wait_for("start:" + std::string(v.chosen)));
        close_channel(c, n++);
    }
}

// A protocol whose negotiate() declines (here: a version it does not speak) lets the client's next
// offer win; if none is accepted the request reaches the handler as ordinary HTTP, offers intact.
TEST_F(UpgradeTest, DeclinedNegotiationLetsNextOfferWin) {
    auto const v1_only = [](offer const& o) -> std::optional<http1::fields> {
        if (!o.version.empty() && o.version != "1") return std::nullopt;
        return http1::fields{};
    };
    ASSERT_TRUE(
        start(plain_handler(), with_protocols({echo_protocol("alpha", v1_only), echo_protocol("beta")})));
    {
        auto c = connect();
        ASSERT_TRUE(c.send_all(upgrade_request("alpha/2, beta")));
        auto r = read_101(c);
        ASSERT_TRUE(r) << c.error() << c.received();
        EXPECT_EQ(r->header("Upgrade"), "beta") << *r;
        close_channel(c);
    }
    {
        auto c = connect();
        ASSERT_TRUE(c.send_all(upgrade_request("alpha/2, alpha/1")));
        auto r = read_101(c);
        ASSERT_TRUE(r) << c.error() << c.received();
        EXPECT_EQ(r->header("Upgrade"), "alpha/1") << *r; // RFC 9110 §7.8: named as offered
        close_channel(c, 1);
    }
    {
        auto c = connect();
        ASSERT_TRUE(c.send_all(upgrade_request("alpha/2", {}, "/declined")));
        auto r = c.read_response();
        ASSERT_TRUE(r) << c.error() << c.received();
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body, "plain");
        EXPECT_TRUE(events.contains("handler /declined offers=[alpha/2]"));
    }
}

// RFC 9110 §7.8: a server MUST NOT switch to a protocol the client did not offer:
// switch_protocols refuses with not_offered (name and version must match) and writes nothing;
// the exchange stays usable.
TEST_F(UpgradeTest, SwitchToProtocolNotOfferedIsRefused) {
    ASSERT_TRUE(start([this](exchange& ex) {
        park(ex);
        auto then = [this](upgrade::upgraded) { events.add("then"); };
        auto e1 = ex.switch_protocols(offer{"other", ""}, {}, then);
        auto e2 = ex.switch_protocols(offer{"chat", "2"}, {}, then); // offered unversioned only
        events.add(std::string("e1:") + (e1 == upgrade::error::not_offered ? "not_offered" : e1.message()));
        events.add(std::string("e2:") + (e2 == upgrade::error::not_offered ? "not_offered" : e2.message()));
        events.add("handler");
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(upgrade_request("chat")));
    ASSERT_TRUE(events.wait_for("handler"));
    EXPECT_TRUE(events.contains("e1:not_offered"));
    EXPECT_TRUE(events.contains("e2:not_offered"));
    EXPECT_FALSE(c.read_response(300ms)) << "something was written: " << c.received();
    EXPECT_TRUE(c.received().empty()) << c.received();
    ASSERT_TRUE(with_parked([](exchange& ex) { ex.respond(status::ok, {}, "still http"); }));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error() << c.received();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "still http");
    EXPECT_FALSE(events.contains("then"));
}

// Once a final response started there is nothing to switch: already_responded, and the response
// on the wire is the only one. A request that may not switch gets not_eligible.
TEST_F(UpgradeTest, SwitchAfterRespondOrIneligibleIsRefused) {
    ASSERT_TRUE(start([this](exchange& ex) {
        auto then = [this](upgrade::upgraded) { events.add("then"); };
        if (ex.request().target == "/ineligible") {
            auto ec = ex.switch_protocols(offer{"chat", ""}, {}, then);
            events.add(std::string("ineligible:") +
                       (ec == upgrade::error::not_eligible ? "not_eligible" : ec.message()));
            ex.respond(status::ok, {}, "one");
            return;
        }
        ex.respond(status::ok, {}, "answered");
        auto ec = ex.switch_protocols(ex.upgrade_offers()[0], {}, then);
        events.add(std::string("after:") +
                   (ec == upgrade::error::already_responded ? "already_responded" : ec.message()));
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/ineligible")));
    auto r0 = c.read_response();
    ASSERT_TRUE(r0) << c.error();
    EXPECT_TRUE(events.contains("ineligible:not_eligible"));

    auto c2 = connect();
    ASSERT_TRUE(c2.send_all(upgrade_request("chat")));
    auto r = c2.read_response();
    ASSERT_TRUE(r) << c2.error() << c2.received();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "answered");
    EXPECT_TRUE(events.wait_for("after:already_responded"));
    EXPECT_FALSE(c2.read_response(300ms)) << "a second response: " << c2.received();
    EXPECT_FALSE(events.contains("then"));
}

// A second switch_protocols while the first waits for the body is refused too; respond() is ignored
// (the 101 is promised), and exactly one 101 goes out.
TEST_F(UpgradeTest, SecondSwitchWhilePendingIsRefused) {
    ASSERT_TRUE(start([this](exchange& ex) {
        auto e1 = ex.switch_protocols(ex.upgrade_offers()[0], {},
                                      [this](upgrade::upgraded u) { open_echo(std::move(u)); });
        auto e2 = ex.switch_protocols(ex.upgrade_offers()[0], {},
                                      [this](upgrade::upgraded) { events.add("then2"); });
        ex.respond(status::ok, {}, "ignored");
        events.add(std::string("e1:") + (e1 ? e1.message() : "ok"));
        events.add(std::string("e2:") +
                   (e2 == upgrade::error::already_responded ? "already_responded" : e2.message()));
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(
        request("POST", "/chat", "Upgrade: chat\r\nConnection: upgrade\r\nContent-Length: 3\r\n")));
    ASSERT_TRUE(events.wait_for("e2:already_responded"));
    EXPECT_TRUE(events.contains("e1:ok"));
    EXPECT_FALSE(c.read_response(200ms)) << "answered before the body arrived: " << c.received();
    ASSERT_TRUE(c.send_all("abcDATA"));
    auto r = read_101(c);
    ASSERT_TRUE(r) << c.error() << c.received();
    EXPECT_EQ(r->status, 101);
    EXPECT_EQ(c.read_exactly(4).value_or("<none>"), "DATA");
    EXPECT_FALSE(events.contains("then2"));
    close_channel(c);
}

// ================================================================================================
// Request bodies on upgrade requests (RFC 9110 §7.8: the server finishes the request in HTTP/1.1
// framing; RFC 9112 §6: the body ends where its framing says; RFC 9110 §10.1.1: 100-continue)
// ================================================================================================

TEST_F(UpgradeTest, ContentLengthBodyIsConsumedBeforeThe101) {
    ASSERT_TRUE(start(plain_handler(), with_protocols({echo_protocol("chat")})));
    auto c = connect();
    std::string const head =
        request("POST", "/chat", "Upgrade: chat\r\nConnection: upgrade\r\nContent-Length: 10\r\n");
    ASSERT_TRUE(c.send_all(head + "hello"));
    // Half the body: no 101 yet (the body is HTTP/1.1's, not the protocol's).
    EXPECT_FALSE(c.read_response(300ms)) << "101 before the body was complete: " << c.received();
    EXPECT_TRUE(c.received().empty()) << c.received();
    ASSERT_TRUE(c.send_all("worldPROTO"));
    auto r = read_101(c);
    ASSERT_TRUE(r) << c.error() << c.received();
    EXPECT_EQ(r->status, 101);
    EXPECT_EQ(c.read_exactly(5).value_or("<none>"), "PROTO");
    auto s = last_seen();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->leftover, "PROTO") << "body bytes leaked into the protocol, or protocol bytes were lost";
    EXPECT_EQ(s->method, "POST");
    close_channel(c);
}

TEST_F(UpgradeTest, ChunkedBodyIsConsumedBeforeThe101) {
    ASSERT_TRUE(start(plain_handler(), with_protocols({echo_protocol("chat")})));
    auto c = connect();
    ASSERT_TRUE(c.send_all(
        request("POST", "/chat", "Upgrade: chat\r\nConnection: upgrade\r\nTransfer-Encoding: chunked\r\n") +
        "5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n" + "PROTO\r\n0\r\n\r\n"));
    auto r = read_101(c);
    ASSERT_TRUE(r) << c.error() << c.received();
    EXPECT_EQ(r->status, 101);
    EXPECT_EQ(c.read_exactly(12).value_or("<none>"), "PROTO\r\n0\r\n\r\n");
    auto s = last_seen();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->leftover, "PROTO\r\n0\r\n\r\n");
    close_channel(c);
}

// RFC 9110 §10.1.1: the server owes "100 Continue" before it reads the body it asked for; the 101
// follows the body. Order on the wire: 100, 101, protocol bytes.
TEST_F(UpgradeTest, ExpectContinueGets100Before101) {
    ASSERT_TRUE(start(plain_handler(), with_protocols({echo_protocol("chat")})));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("PUT", "/chat",
                                   "Upgrade: chat\r\nConnection: upgrade\r\nExpect: 100-continue\r\n"
                                   "Content-Length: 4\r\n")));
    auto interim = read_101(c); // any head
    ASSERT_TRUE(interim) << c.error() << c.received();
    EXPECT_EQ(interim->status, 100) << *interim;
    EXPECT_FALSE(c.read_response(200ms)) << "101 before the body: " << c.received();
    ASSERT_TRUE(c.send_all("bodyPROTO"));
    auto r = read_101(c);
    ASSERT_TRUE(r) << c.error() << c.received();
    EXPECT_EQ(r->status, 101);
    EXPECT_EQ(r->header("Upgrade"), "chat");
    EXPECT_EQ(c.read_exactly(5).value_or("<none>"), "PROTO");
    close_channel(c);
}

// If the request body fails in its HTTP/1.1 framing, there is no switch: the error is answered
// instead of the 101 (RFC 9112 §7.1 malformed chunk -> 400; RFC 9110 §15.5.14 too large -> 413;
// RFC 9110 §15.5.9 stalled -> 408), the connection closes (its framing can no longer be trusted),
// and the protocol never starts.
TEST_F(UpgradeTest, BodyErrorIsAnsweredInsteadOf101) {
    ASSERT_TRUE(start(plain_handler(), with_protocols({echo_protocol("chat")}, [](server::options& o) {
                          o.limits.max_body_bytes = 1024;
                          o.body_timeout = 300ms;
                      })));
    std::string const head =
        request("POST", "/chat", "Upgrade: chat\r\nConnection: upgrade\r\nTransfer-Encoding: chunked\r\n");
    struct variant {
        std::string name;
        std::string bytes;
        int status;
    };
    std::vector<variant> const variants{
        {"malformed chunk", head + "zz\r\nhello\r\n0\r\n\r\nPROTO", 400},
        {"too large", head + "800\r\n" + std::string(0x800, 'a') + "\r\n0\r\n\r\nPROTO", 413},
        {"stalled", head + "5\r\nhel", 408},
    };
    for (auto const& v : variants) {
        SCOPED_TRACE(v.name);
        auto c = connect();
        ASSERT_TRUE(c.send_all(v.bytes));
        auto r = c.read_response(3s);
        ASSERT_TRUE(r) << c.error() << c.received();
        EXPECT_EQ(r->status, v.status) << *r;
        EXPECT_TRUE(r->has_token("Connection", "close")) << *r;
        EXPECT_TRUE(c.wait_closed(3s));
        EXPECT_EQ(c.received().find("101"), std::string::npos) << c.received();
    }
    EXPECT_FALSE(events.contains("start:chat"));
    EXPECT_EQ(handler_calls(), 0u);
}

// "Read it yourself before calling to keep it": a handler that collects the body and then switches
// keeps the body, and the bytes after it still go to the protocol.
TEST_F(UpgradeTest, HandlerReadsBodyThenSwitches) {
    ASSERT_TRUE(start([this](exchange& ex) {
        ex.read_body_all(1024, [this, &ex](std::error_code ec, std::string body) {
            events.add("body:" + (ec ? ec.message() : body));
            auto e = ex.switch_protocols(ex.upgrade_offers()[0], {},
                                         [this](upgrade::upgraded u) { open_echo(std::move(u)); });
            events.add("switch:" + (e ? e.message() : std::string("ok")));
        });
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(request("POST", "/chat", "Upgrade: chat\r\nConnection: upgrade\r\n", "the body") +
                           "PROTO"));
    auto r = read_101(c);
    ASSERT_TRUE(r) << c.error() << c.received();
    EXPECT_EQ(r->status, 101);
    EXPECT_EQ(c.read_exactly(5).value_or("<none>"), "PROTO");
    EXPECT_TRUE(events.contains("body:the body"));
    EXPECT_TRUE(events.contains("switch:ok"));
    close_channel(c);
}

// ================================================================================================
// Declined upgrades
// ================================================================================================

// Bytes already following a declined upgrade request may be the client's optimistic first bytes in
// the offered protocol (RFC 9110 §7.8 lets it send them before the 101): they must never be
// interpreted as HTTP. The response says close, and nothing else is answered.
TEST_F(UpgradeTest, DeclinedUpgradeWithTrailingBytesCloses) {
    ASSERT_TRUE(start(plain_handler(), with_protocols({echo_protocol("chat")})));
    auto c = connect();
    ASSERT_TRUE(c.send_all(upgrade_request("other") + get("/smuggled")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error() << c.received();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "plain");
    EXPECT_TRUE(r->has_token("Connection", "close")) << *r;
    EXPECT_TRUE(c.wait_closed(3s));
    EXPECT_TRUE(c.received().empty()) << "a second response: " << c.received();
    EXPECT_EQ(events.count("handler /chat offers=[other]"), 1u);
    EXPECT_FALSE(events.contains("handler /smuggled offers=[]")) << "trailing bytes were parsed as HTTP";
}

// Same with the optimistic bytes arriving while an asynchronous handler still works on the answer.
TEST_F(UpgradeTest, DeclinedUpgradeWithBytesArrivingLaterCloses) {
    ASSERT_TRUE(start([this](exchange& ex) {
        park(ex);
        events.add("handler " + std::string(ex.request().target));
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(upgrade_request("chat")));
    ASSERT_TRUE(events.wait_for("handler /chat"));
    ASSERT_TRUE(c.send_all(get("/smuggled")));
    std::this_thread::sleep_for(200ms);
    ASSERT_TRUE(with_parked([](exchange& ex) { ex.respond(status::ok, {}, "no"); }));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error() << c.received();
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(c.wait_closed(3s));
    EXPECT_TRUE(c.received().empty()) << "a second response: " << c.received();
    EXPECT_FALSE(events.contains("handler /smuggled"));
}

// With nothing after the request, a declined upgrade is just an ordinary exchange: the connection
// stays open and the next request is answered (RFC 9112 §9.3).
TEST_F(UpgradeTest, DeclinedUpgradeWithoutTrailingBytesKeepsAlive) {
    ASSERT_TRUE(start(plain_handler(), with_protocols({echo_protocol("chat")})));
    auto c = connect();
    ASSERT_TRUE(c.send_all(upgrade_request("other")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error() << c.received();
    EXPECT_EQ(r->status, 200);
    EXPECT_FALSE(r->has_token("Connection", "close")) << *r;
    ASSERT_TRUE(c.send_all(get("/second")));
    auto r2 = c.read_response();
    ASSERT_TRUE(r2) << c.error() << c.received();
    EXPECT_EQ(r2->status, 200);
    EXPECT_TRUE(events.contains("handler /second offers=[]"));
    // And the kept-alive connection can still switch later.
    ASSERT_TRUE(c.send_all(upgrade_request("chat")));
    auto r3 = read_101(c);
    ASSERT_TRUE(r3) << c.error() << c.received();
    EXPECT_EQ(r3->status, 101);
    close_channel(c);
}

// ================================================================================================
// Upgrade on ordinary responses
// ================================================================================================

// RFC 9110 §7.8: "A sender of Upgrade MUST also send an "upgrade" connection option in the
// Connection header field". A handler advertising a protocol on a 200 gets it added, next to its
// own Connection options.
TEST_F(UpgradeTest, ResponseWithUpgradeGetsConnectionUpgrade) {
    ASSERT_TRUE(start([](exchange& ex) {
        if (ex.request().target == "/close") {
            ex.respond(status::ok, {{"Upgrade", "chat"}, {"Connection", "close"}}, "bye");
            return;
        }
        if (ex.request().target == "/already") {
            ex.respond(status::ok, {{"Upgrade", "chat"}, {"Connection", "Upgrade"}}, "once");
            return;
        }
        ex.respond(status::ok, {{"Upgrade", "chat/2, chat"}}, "advertised");
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/") + get("/already") + get("/close")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error() << c.received();
    EXPECT_EQ(r->header("Upgrade"), "chat/2, chat") << *r;
    EXPECT_TRUE(r->has_token("Connection", "upgrade")) << *r;
    EXPECT_EQ(r->body, "advertised");
    auto r2 = c.read_response();
    ASSERT_TRUE(r2) << c.error() << c.received();
    EXPECT_EQ(r2->header_count("Connection"), 1u) << *r2;
    EXPECT_EQ(r2->header("Connection"), "Upgrade") << "option listed twice: " << *r2;
    auto r3 = c.read_response();
    ASSERT_TRUE(r3) << c.error() << c.received();
    EXPECT_TRUE(r3->has_token("Connection", "upgrade")) << *r3;
    EXPECT_TRUE(r3->has_token("Connection", "close")) << *r3;
    EXPECT_TRUE(c.wait_closed(3s));
}

// RFC 9110 §15.5.22: "The server MUST send an Upgrade header field in a 426 response to indicate
// the required protocol(s)". A 426 without one names the registered protocols (in registration
// order) and, per §7.8, the upgrade connection option; a handler's own Upgrade is kept as is.
// A protocol may refuse with its own error response (WebSocket: 426 with Sec-WebSocket-Version for
// a version it does not speak, RFC 6455 §4.2.2 item 4); the handler never runs and no 101 is sent.
TEST_F(UpgradeTest, ProtocolRefusalIsAnsweredInsteadOfTheHandler) {
    bool handler_ran = false;
    ASSERT_TRUE(start([&handler_ran](exchange& ex) {
                          handler_ran = true;
                          ex.respond(status::ok, {}, "handler");
                      },
                      with_protocols({std::make_shared<test_protocol>(
                          "strict", [](upgrade::upgraded) {},
                          [](offer const&) {
                              return upgrade::decision::refuse(status::upgrade_required,
                                                               {{"Sec-WebSocket-Version", "13"}}, "wrong version\n");
                          })})));
    auto c = connect();
    ASSERT_TRUE(c.send_all(upgrade_request("strict")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error() << c.received();
    EXPECT_EQ(r->status, 426);
    EXPECT_EQ(r->header("Sec-WebSocket-Version"), "13") << *r;
    EXPECT_EQ(r->body, "wrong version\n");
    // RFC 9110 §15.5.22: a 426 MUST carry Upgrade; the registry names what it speaks.
    EXPECT_EQ(r->header("Upgrade"), "strict") << *r;
    EXPECT_FALSE(handler_ran);
}

TEST_F(UpgradeTest, Status426GetsRegisteredProtocols) {
    ASSERT_TRUE(start(
        [](exchange& ex) {
            if (ex.request().target == "/own")
                ex.respond(status::upgrade_required, {{"Upgrade", "beta"}}, "own");
            else
                ex.respond(status::upgrade_required, {}, "need upgrade");
        },
        with_protocols({echo_protocol("alpha"), echo_protocol("beta")})));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/") + get("/own")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error() << c.received();
    EXPECT_EQ(r->status, 426);
    EXPECT_EQ(r->header("Upgrade"), "alpha, beta") << *r;
    EXPECT_EQ(r->header_count("Upgrade"), 1u) << *r;
    EXPECT_TRUE(r->has_token("Connection", "upgrade")) << *r;
    EXPECT_EQ(r->body, "need upgrade");
    auto r2 = c.read_response();
    ASSERT_TRUE(r2) << c.error() << c.received();
    EXPECT_EQ(r2->status, 426);
    EXPECT_EQ(r2->header_count("Upgrade"), 1u) << *r2;
    EXPECT_EQ(r2->header("Upgrade"), "beta") << *r2;
    EXPECT_TRUE(r2->has_token("Connection", "upgrade")) << *r2;
}

// ================================================================================================
// Aborts and logging
// ================================================================================================

// switch_protocols waiting for the request body, then the client resets: on_abort runs, `then`
// never does, and the server keeps serving.
TEST_F(UpgradeTest, ClientResetWhileSwitchPendingAborts) {
    ASSERT_TRUE(start([this](exchange& ex) {
        if (ex.request().target == "/health") {
            ex.respond(status::ok, {}, "ok");
            return;
        }
        park(ex);
        auto ec = ex.switch_protocols(ex.upgrade_offers()[0], {},
                                      [this](upgrade::upgraded) { events.add("then"); });
        events.add("switch:" + (ec ? ec.message() : std::string("ok")));
    }));
    auto c = connect();
    ASSERT_TRUE(c.send_all(
        request("POST", "/chat", "Upgrade: chat\r\nConnection: upgrade\r\nContent-Length: 100\r\n") +
        "only ten b"));
    ASSERT_TRUE(events.wait_for("switch:ok"));
    std::this_thread::sleep_for(100ms);
    set_abortive_close(c);
    c.close();
    EXPECT_TRUE(events.wait_for("abort", 3s));
    std::this_thread::sleep_for(200ms);
    EXPECT_FALSE(events.contains("then"));
    auto c2 = connect();
    ASSERT_TRUE(c2.send_all(get("/health")));
    auto r = c2.read_response();
    ASSERT_TRUE(r) << c2.error();
    EXPECT_EQ(r->status, 200);
}

// The 101 is queued behind a large response the client does not read (pipelined), then the client
// resets: the switch never completes, so on_abort runs and `then` never does.
TEST_F(UpgradeTest, ClientResetWhile101QueuedAborts) {
    ASSERT_TRUE(start(
        [this](exchange& ex) {
            if (ex.request().target == "/big") {
                ex.respond(status::ok, {}, std::string(32u << 20, 'b'));
                return;
            }
            park(ex);
            auto ec = ex.switch_protocols(ex.upgrade_offers()[0], {},
                                          [this](upgrade::upgraded) { events.add("then"); });
            events.add("switch:" + (ec ? ec.message() : std::string("ok")));
        },
        [](server::options& o) { o.send_high_water = 256u << 20; })); // answer the 2nd request at once
    auto c = connect();
    set_small_rcvbuf(c);
    ASSERT_TRUE(c.send_all(get("/big") + upgrade_request("chat")));
    ASSERT_TRUE(events.wait_for("switch:ok"));
    std::this_thread::sleep_for(200ms);
    ASSERT_FALSE(events.contains("then")) << "the 101 went out although 32 MiB were ahead of it";
    set_abortive_close(c);
    c.close();
    EXPECT_TRUE(events.wait_for("abort", 3s));
    std::this_thread::sleep_for(200ms);
    EXPECT_FALSE(events.contains("then"));
}

// The access log records a switched request with status 101 (and the ordinary request before it on
// the same connection with its own status).
TEST_F(UpgradeTest, AccessLogRecords101) {
    ASSERT_TRUE(start(plain_handler(), with_protocols({echo_protocol("chat")}, [this](server::options& o) {
                          o.access_log = [this](server::access_entry const& e) {
                              events.add("log " + std::to_string(e.status) + " " + std::string(e.method) +
                                         " " + std::string(e.target) + " 1." +
                                         std::to_string(e.version_minor));
                          };
                      })));
    auto c = connect();
    ASSERT_TRUE(c.send_all(get("/first")));
    ASSERT_TRUE(c.read_response()) << c.error();
    ASSERT_TRUE(c.send_all(upgrade_request("chat", {}, "/room")));
    auto r = read_101(c);
    ASSERT_TRUE(r) << c.error() << c.received();
    EXPECT_EQ(r->status, 101);
    EXPECT_TRUE(events.wait_for("log 101 GET /room 1.1"));
    auto logs = events.with_prefix("log ");
    EXPECT_EQ(logs, (std::vector<std::string>{"log 200 GET /first 1.1", "log 101 GET /room 1.1"}));
    close_channel(c);
}

// server::stop() "finishes in-flight work (up to shutdown_grace), closes idle connections, returns
// from run()". A switched connection is in flight on the server's loop: once run() has returned
// nothing will ever serve it again, so it must be closed (not left open with its protocol's state
// leaked): the protocol hears the stop through net::shutdown_listener.
TEST_F(UpgradeTest, StopClosesUpgradedConnections) {
    ASSERT_TRUE(start(plain_handler(), with_protocols({echo_protocol("chat")})));
    auto c = connect();
    ASSERT_TRUE(c.send_all(upgrade_request("chat") + "x"));
    auto r = read_101(c);
    ASSERT_TRUE(r) << c.error() << c.received();
    ASSERT_EQ(r->status, 101);
    ASSERT_EQ(c.read_exactly(1).value_or("<none>"), "x");
    stop_and_join();
    EXPECT_TRUE(run_returned());
    EXPECT_TRUE(c.wait_closed(3s)) << "the upgraded connection outlives the server";
    EXPECT_EQ(events.with_prefix("closed:").size(), 1u) << "the channel was never closed";
}

// ================================================================================================
// raw_channel
// ================================================================================================

// Backpressure: the client sends 8 MiB and does not read. The echo queue passes the high-water mark,
// the channel stops reading (what the server took stops growing, well short of 8 MiB), and the
// queue never holds more than high_water + one read chunk. Then the client reads everything back,
// intact and in order.
TEST_F(UpgradeTest, RawChannelEchoWithBackpressure) {
    raw_channel_options opt;
    opt.high_water = 256 * 1024;
    opt.read_chunk = 16 * 1024;
    ASSERT_TRUE(start(plain_handler(), with_protocols({echo_protocol("chat", {}, opt)})));
    auto c = connect();
    set_small_rcvbuf(c, 64 * 1024);
    ASSERT_TRUE(c.send_all(upgrade_request("chat")));
    auto r = read_101(c);
    ASSERT_TRUE(r) << c.error() << c.received();
    ASSERT_EQ(r->status, 101);

    std::string const payload = pattern(8u << 20, 3);
    std::atomic<bool> send_ok{false};
    std::thread sender = send_in_background(c.fd(), payload, send_ok);

    // Not reading: wait until the server stops taking bytes.
    std::size_t last = received_.load();
    bool stalled = false;
    for (int i = 0; i < 50 && !stalled; ++i) {
        std::this_thread::sleep_for(200ms);
        std::size_t now = received_.load();
        stalled = now == last && now > 0;
        last = now;
    }
    EXPECT_TRUE(stalled) << "the channel kept reading while the client did not: " << last;
    EXPECT_LT(last, payload.size()) << "backpressure never reached the sender";
    EXPECT_TRUE(blocked_.load()) << "write() never reported the high-water mark";

    // Now read everything back, in pieces, comparing as we go.
    std::size_t got = 0;
    bool same = true;
    while (got < payload.size()) {
        std::size_t const n = std::min<std::size_t>(256 * 1024, payload.size() - got);
        auto piece = c.read_exactly(n, 20s);
        if (!piece) break;
        if (std::string_view(*piece) != std::string_view(payload).substr(got, n)) same = false;
        got += n;
    }
    sender.join();
    EXPECT_TRUE(send_ok.load());
    EXPECT_EQ(got, payload.size()) << c.error();
    EXPECT_TRUE(same) << "echo differs from what was sent";
    EXPECT_EQ(received_.load(), payload.size());
    EXPECT_LE(max_buffered_.load(), opt.high_water + opt.read_chunk);
    close_channel(c);
}

// close() with bytes still queued closes gracefully: every queued byte reaches the peer, then EOF,
// and on_close gets an empty error.
TEST_F(UpgradeTest, RawChannelCloseFlushesQueuedBytes) {
    auto const big_ptr = std::make_shared<std::string const>(pattern(4u << 20, 9));
    std::string const& big = *big_ptr;
    auto proto = std::make_shared<test_protocol>("chat", [this, big_ptr](upgrade::upgraded u) {
        record(u);
        raw_channel::callbacks cb;
        cb.on_data = [this, big_ptr](raw_channel& ch, std::string_view) {
            ch.write(*big_ptr);
            events.add(ch.buffered_amount() > 0 ? "queued at close" : "nothing queued at close");
            ch.close();
            events.add(ch.write("late") ? "write after close accepted" : "write after close refused");
        };
        cb.on_close = [this](std::error_code ec) {
            events.add("closed:" + (ec ? ec.message() : std::string("ok")));
        };
        raw_channel::open(std::move(u), std::move(cb));
    });
    ASSERT_TRUE(start(plain_handler(), with_protocols({proto})));
    auto c = connect();
    set_small_rcvbuf(c);
    ASSERT_TRUE(c.send_all(upgrade_request("chat") + "go"));
    auto r = read_101(c);
    ASSERT_TRUE(r) << c.error() << c.received();
    ASSERT_EQ(r->status, 101);
    ASSERT_TRUE(events.wait_for("queued at close")) << "the test did not exercise a queued close";
    EXPECT_TRUE(events.wait_for("write after close refused"));
    EXPECT_FALSE(events.contains("closed:ok")) << "closed before the queue drained";
    auto all = c.read_exactly(big.size(), 20s);
    ASSERT_TRUE(all) << c.error() << " got " << c.received().size();
    EXPECT_TRUE(*all == big);
    EXPECT_TRUE(c.wait_closed(3s));
    EXPECT_TRUE(c.received().empty()) << c.received().size() << " extra bytes";
    EXPECT_TRUE(events.wait_for("closed:ok"));
}

// A producer that honours write()'s signal (stop on false, continue in on_drain) streams any
// amount through a bounded queue, and close() after the last write still delivers everything.
TEST_F(UpgradeTest, RawChannelOnDrainResumesProducer) {
    struct producer {
        std::size_t total = 6u << 20;
        std::size_t sent = 0;
        std::size_t max_buffered = 0;
        int drains = 0;
        event_log* log = nullptr;
        void run(raw_channel& ch) {
            while (sent < total) {
                std::size_t const n = std::min<std::size_t>(64 * 1024, total - sent);
                bool const ok = ch.write(pattern(n, static_cast<unsigned>(sent / (64 * 1024))));
                sent += n;
                max_buffered = std::max(max_buffered, ch.buffered_amount());
                if (!ok) {
                    if (drains == 0) log->add("producer blocked");
                    return; // on_drain continues
                }
            }
            ch.close();
        }
    };
    auto p = std::make_shared<producer>();
    p->log = &events;
    raw_channel_options opt;
    opt.high_water = 512 * 1024;
    auto proto = std::make_shared<test_protocol>("chat", [this, p, opt](upgrade::upgraded u) {
        record(u);
        int const small = 64 * 1024; // the queue, not the kernel, must take the backlog
        ::setsockopt(u.stream->native_handle(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
        raw_channel::callbacks cb;
        cb.on_data = [p](raw_channel& ch, std::string_view) {
            if (p->sent == 0) p->run(ch);
        };
        cb.on_drain = [p](raw_channel& ch) {
            ++p->drains;
            p->run(ch);
        };
        cb.on_close = [this, p](std::error_code ec) {
            events.add("drains " + std::to_string(p->drains) + " max " + std::to_string(p->max_buffered));
            events.add("closed:" + (ec ? ec.message() : std::string("ok")));
        };
        raw_channel::open(std::move(u), std::move(cb), opt);
    });
    ASSERT_TRUE(start(plain_handler(), with_protocols({proto})));
    auto c = connect();
    set_small_rcvbuf(c, 64 * 1024);
    ASSERT_TRUE(c.send_all(upgrade_request("chat") + "go"));
    auto r = read_101(c);
    ASSERT_TRUE(r) << c.error() << c.received();
    ASSERT_EQ(r->status, 101);
    // Not reading until the producer hit the high-water mark.
    ASSERT_TRUE(events.wait_for("producer blocked", 10s));
    std::size_t got = 0;
    bool same = true;
    for (std::size_t i = 0; got < p->total; ++i) {
        auto piece = c.read_exactly(64 * 1024, 10s);
        if (!piece) break;
        if (*piece != pattern(64 * 1024, static_cast<unsigned>(i))) same = false;
        got += piece->size();
    }
    EXPECT_EQ(got, p->total) << c.error();
    EXPECT_TRUE(same) << "stream corrupted";
    EXPECT_TRUE(c.wait_closed(5s));
    ASSERT_TRUE(events.wait_for("closed:ok"));
    auto stats = events.with_prefix("drains ");
    ASSERT_EQ(stats.size(), 1u);
    EXPECT_NE(stats[0].rfind("drains 0 ", 0), 0u) << "on_drain never ran: " << stats[0];
    EXPECT_LE(std::stoul(stats[0].substr(stats[0].find(" max ") + 5)), opt.high_water + 64 * 1024)
        << stats[0];
}

// raw_channel_options::idle_timeout: traffic keeps the channel open; silence closes it with
// timed_out.
TEST_F(UpgradeTest, RawChannelIdleTimeoutCloses) {
    raw_channel_options opt;
    opt.idle_timeout = 300ms;
    ASSERT_TRUE(start(plain_handler(), with_protocols({echo_protocol("chat", {}, opt)})));
    auto c = connect();
    ASSERT_TRUE(c.send_all(upgrade_request("chat")));
    auto r = read_101(c);
    ASSERT_TRUE(r) << c.error() << c.received();
    ASSERT_EQ(r->status, 101);
    for (int i = 0; i < 6; ++i) { // ~600 ms of traffic, each gap well under the timeout
        std::this_thread::sleep_for(100ms);
        ASSERT_TRUE(c.send_all("k"));
        ASSERT_EQ(c.read_exactly(1).value_or("<none>"), "k") << "closed while active, after " << i;
    }
    EXPECT_TRUE(c.wait_closed(3s));
    std::string const timed_out = "closed:" + std::make_error_code(std::errc::timed_out).message();
    EXPECT_TRUE(events.wait_for(timed_out)) << ::testing::PrintToString(events.with_prefix("closed:"));
}

// The queue's memory stays bounded by a small multiple of the high-water mark whatever the length of
// the stream, also when it never drains completely: a slow reader on a small socket buffer keeps
// the channel refilling its queue before the last write emptied it.
TEST_F(UpgradeTest, RawChannelQueueMemoryIsBounded) {
    raw_channel_options opt;
    opt.high_water = 256 * 1024;
    opt.read_chunk = 16 * 1024;
    auto proto = std::make_shared<test_protocol>("chat", [this, opt](upgrade::upgraded u) {
        int const small = 64 * 1024;
        ::setsockopt(u.stream->native_handle(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
        open_echo(std::move(u), opt);
    });
    ASSERT_TRUE(start(plain_handler(), with_protocols({proto})));
    max_held_ = 0;
    auto c = connect();
    ASSERT_TRUE(c.send_all(upgrade_request("chat")));
    auto r = read_101(c);
    ASSERT_TRUE(r) << c.error() << c.received();
    ASSERT_EQ(r->status, 101);

    std::string const payload = pattern(8u << 20, 11);
    std::atomic<bool> send_ok{false};
    std::thread sender = send_in_background(c.fd(), payload, send_ok);
    std::size_t got = 0;
    bool same = true;
    for (int i = 0; got < payload.size(); ++i) {
        std::size_t const n = std::min<std::size_t>(16 * 1024, payload.size() - got);
        auto piece = c.read_exactly(n, 20s);
        if (!piece) break;
        if (std::string_view(*piece) != std::string_view(payload).substr(got, n)) same = false;
        got += n;
        if (i % 8 == 0) std::this_thread::sleep_for(1ms); // a slow reader
    }
    sender.join();
    EXPECT_TRUE(send_ok.load());
    EXPECT_EQ(got, payload.size()) << c.error();
    EXPECT_TRUE(same) << "echo differs from what was sent";
    EXPECT_LE(max_buffered_.load(), opt.high_water + opt.read_chunk);
    // The bound is loose (string growth doubles); the failure mode is the whole stream (8 MiB).
    EXPECT_LE(max_held_.load(), 8 * opt.high_water)
        << "the queue holds on to bytes it already wrote";
    close_channel(c);
}

// A clean EOF from the peer (it has nothing more to send: TCP half-close, RFC 9293 §3.6) must not
// throw away what the channel still has queued: the echo of everything the client sent arrives,
// then EOF. Small socket buffers on both ends keep the echo in the channel's queue, not the kernel.
TEST_F(UpgradeTest, RawChannelPeerEofFlushesQueuedBytes) {
    raw_channel_options opt;
    opt.high_water = 256 * 1024;
    auto proto = std::make_shared<test_protocol>("chat", [this, opt](upgrade::upgraded u) {
        int const small = 16 * 1024;
        ::setsockopt(u.stream->native_handle(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
        open_echo(std::move(u), opt);
    });
    ASSERT_TRUE(start(plain_handler(), with_protocols({proto})));
    auto c = connect();
    set_small_rcvbuf(c, 64 * 1024);
    ASSERT_TRUE(c.send_all(upgrade_request("chat")));
    auto r = read_101(c);
    ASSERT_TRUE(r) << c.error() << c.received();
    ASSERT_EQ(r->status, 101);
    std::string const payload = pattern(1u << 20, 5);
    ASSERT_TRUE(c.send_all(payload, 20s)) << c.error(); // reads the echo meanwhile (kept in received())
    c.shutdown_write();
    EXPECT_TRUE(c.wait_closed(10s));
    EXPECT_EQ(c.received().size(), payload.size()) << "echo lost at the peer's EOF";
    EXPECT_TRUE(c.received() == payload.substr(0, c.received().size())) << "echo corrupted";
    EXPECT_TRUE(events.wait_for("closed:ok"));
}

} // namespace
} // namespace upshift::test
