// Protocol registry: the client's order of preference decides (RFC 9110 §7.8),
// a declining protocol lets the next offer win, and only offered names are chosen.
#include "upshift/upgrade/protocol.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "request_text.hpp"

namespace upshift::upgrade {
namespace {

using test::parsed_request;
using test::request_with;

/// Accepts offers of its name; with a required version, only that exact version.
class fake_protocol final : public protocol {
public:
    explicit fake_protocol(std::string name, std::string version = {}) : name_(std::move(name)), version_(std::move(version)) {}
    std::string_view name() const noexcept override { return name_; }
    decision negotiate(offer const& o, http1::request_head const&) const override {
        ++calls;
        if (!version_.empty() && o.version != version_) return std::nullopt;
        return http1::fields{{"X-Negotiated", name_}};
    }
    void start(upgraded) const override {}
    mutable int calls = 0;

private:
    std::string name_;
    std::string version_;
};

/// Declines unless the request carries the given header (like a missing Sec-WebSocket-Key).
class needs_header final : public protocol {
public:
    needs_header(std::string name, std::string header) : name_(std::move(name)), header_(std::move(header)) {}
    std::string_view name() const noexcept override { return name_; }
    decision negotiate(offer const&, http1::request_head const& req) const override {
        if (!req.has(header_)) return std::nullopt;
        return http1::fields{};
    }
    void start(upgraded) const override {}

private:
    std::string name_;
    std::string header_;
};

struct setup {
    registry reg;
    std::shared_ptr<fake_protocol> ws = std::make_shared<fake_protocol>("websocket");
    std::shared_ptr<fake_protocol> echo = std::make_shared<fake_protocol>("echo");
    setup() {
        reg.add(ws);  // server registration order: websocket, then echo
        reg.add(echo);
    }
};

std::string upgrade_request(std::string_view upgrade_value, std::string_view extra = {}) {
    return request_with("Upgrade: " + std::string(upgrade_value) + "\r\nConnection: Upgrade\r\n" + std::string(extra));
}

/// Refuses every offer with 426 and a version hint, like WebSocket with a version it does not speak.
class refusing_protocol final : public protocol {
public:
    explicit refusing_protocol(std::string name) : name_(std::move(name)) {}
    std::string_view name() const noexcept override { return name_; }
    decision negotiate(offer const&, http1::request_head const&) const override {
        return decision::refuse(http1::status::upgrade_required, {{"Sec-WebSocket-Version", "13"}}, "version\n");
    }
    void start(upgraded) const override {}

private:
    std::string name_;
};

// A refusal is an answer only when nothing else is accepted: a later offer the server can take
// still wins (the client listed it as acceptable, RFC 9110 §7.8).
TEST(Registry, RefusalIsReturnedOnlyWhenNoOfferIsAccepted) {
    registry reg;
    reg.add(std::make_shared<refusing_protocol>("websocket"));
    reg.add(std::make_shared<fake_protocol>("echo"));
    {
        parsed_request r(upgrade_request("websocket, echo"));
        auto const offers = parse_offers(r.head());
        auto sel = reg.select(offers, r.head());
        ASSERT_TRUE(sel);
        EXPECT_FALSE(sel->refusal);
        EXPECT_EQ(sel->chosen->name, "echo");
    }
    {
        parsed_request r(upgrade_request("websocket"));
        auto const offers = parse_offers(r.head());
        auto sel = reg.select(offers, r.head());
        ASSERT_TRUE(sel);
        ASSERT_TRUE(sel->refusal);
        EXPECT_EQ(sel->chosen->name, "websocket");
        EXPECT_EQ(sel->refusal->what(), decision::kind::refuse);
        EXPECT_EQ(sel->refusal->status(), http1::status::upgrade_required);
        EXPECT_EQ(sel->refusal->fields().find("Sec-WebSocket-Version"), "13");
        EXPECT_EQ(sel->refusal->body(), "version\n");
    }
}

TEST(Registry, EmptyAndFind) {
    registry reg;
    EXPECT_TRUE(reg.empty());
    EXPECT_EQ(reg.find("websocket"), nullptr);
    EXPECT_EQ(reg.advertise(), "");
    auto ws = std::make_shared<fake_protocol>("websocket");
    reg.add(ws);
    EXPECT_FALSE(reg.empty());
    // RFC 9110 §7.8: protocol names are case-insensitive.
    EXPECT_EQ(reg.find("websocket"), ws.get());
    EXPECT_EQ(reg.find("WebSocket"), ws.get());
    EXPECT_EQ(reg.find("websockets"), nullptr);
    EXPECT_EQ(reg.find(""), nullptr);
}

TEST(Registry, AdvertiseInRegistrationOrder) {
    // RFC 9110 §7.8 / §15.5.22: a 426 sends Upgrade listing the acceptable protocols.
    setup s;
    EXPECT_EQ(s.reg.advertise(), "websocket, echo");
}

TEST(Registry, ClientOrderWinsOverRegistrationOrder) {
    // RFC 9110 §7.8: the client lists protocols in descending preference; the
    // server registered websocket first, but the client prefers echo.
    setup s;
    parsed_request r(upgrade_request("echo, websocket"));
    auto const offers = parse_offers(r.head());
    auto const sel = s.reg.select(offers, r.head());
    ASSERT_TRUE(sel);
    EXPECT_EQ(sel->proto.get(), s.echo.get());
    ASSERT_NE(sel->chosen, nullptr);
    EXPECT_EQ(sel->chosen, &offers[0]);  // points into the span given
    EXPECT_EQ(sel->chosen->token(), "echo");
    EXPECT_EQ(sel->extra.find("X-Negotiated"), "echo");
    EXPECT_EQ(s.ws->calls, 0);  // the first accepted offer ends the search
}

TEST(Registry, UnknownOffersAreSkipped) {
    // RFC 9110 §7.8: the server picks among offers it supports, in the client's order.
    setup s;
    parsed_request r(upgrade_request("h2c, HTTP/2.0, WebSocket, echo"));
    auto const offers = parse_offers(r.head());
    auto const sel = s.reg.select(offers, r.head());
    ASSERT_TRUE(sel);
    EXPECT_EQ(sel->proto.get(), s.ws.get());
    EXPECT_EQ(sel->chosen, &offers[2]);
    EXPECT_EQ(sel->chosen->token(), "WebSocket");  // as the client spelled it
}

TEST(Registry, DecliningProtocolLetsTheNextOfferWin) {
    // RFC 9110 §7.8: a protocol accepts only what it can speak; "foo/1" is
    // declined on version, so the client's next choice is taken.
    registry reg;
    auto foo = std::make_shared<fake_protocol>("foo", "2");
    auto echo = std::make_shared<fake_protocol>("echo");
    reg.add(foo);
    reg.add(echo);
    parsed_request r(upgrade_request("foo/1, echo, foo/2"));
    auto const offers = parse_offers(r.head());
    auto const sel = reg.select(offers, r.head());
    ASSERT_TRUE(sel);
    EXPECT_EQ(sel->proto.get(), echo.get());
    EXPECT_EQ(sel->chosen, &offers[1]);
    EXPECT_EQ(foo->calls, 1);
}

TEST(Registry, LaterVersionOfTheSameProtocolCanWin) {
    // RFC 9110 §7.8: each offer is a protocol and version; a later matching version is acceptable.
    registry reg;
    auto foo = std::make_shared<fake_protocol>("foo", "2");
    reg.add(foo);
    parsed_request r(upgrade_request("foo/1, Foo/2"));
    auto const offers = parse_offers(r.head());
    auto const sel = reg.select(offers, r.head());
    ASSERT_TRUE(sel);
    EXPECT_EQ(sel->chosen, &offers[1]);
    EXPECT_EQ(sel->chosen->token(), "Foo/2");
}

TEST(Registry, NegotiateSeesTheRequest) {
    // RFC 6455 §4.2.1-style: a protocol may decline for a missing handshake field.
    registry reg;
    auto ws = std::make_shared<needs_header>("websocket", "Sec-WebSocket-Key");
    auto echo = std::make_shared<fake_protocol>("echo");
    reg.add(ws);
    reg.add(echo);
    {
        parsed_request r(upgrade_request("websocket, echo"));
        auto const offers = parse_offers(r.head());
        auto const sel = reg.select(offers, r.head());
        ASSERT_TRUE(sel);
        EXPECT_EQ(sel->proto.get(), echo.get());
    }
    {
        parsed_request r(upgrade_request("websocket, echo", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"));
        auto const offers = parse_offers(r.head());
        auto const sel = reg.select(offers, r.head());
        ASSERT_TRUE(sel);
        EXPECT_EQ(sel->proto.get(), ws.get());
        EXPECT_TRUE(sel->extra.empty());
    }
}

TEST(Registry, AllDeclinedGivesNullopt) {
    // RFC 9110 §7.8: if nothing offered is acceptable the server ignores Upgrade.
    registry reg;
    reg.add(std::make_shared<fake_protocol>("foo", "2"));
    parsed_request r(upgrade_request("foo/1, foo"));
    auto const offers = parse_offers(r.head());
    EXPECT_FALSE(reg.select(offers, r.head()));
}

TEST(Registry, NothingOfferedGivesNullopt) {
    // RFC 9110 §7.8: no (eligible) offers, nothing to select.
    setup s;
    EXPECT_FALSE(s.reg.select({}, parsed_request(request_with("")).head()));
    // Upgrade without Connection: upgrade offers nothing (§7.6.1).
    parsed_request r(request_with("Upgrade: websocket\r\n"));
    auto const offers = parse_offers(r.head());
    EXPECT_TRUE(offers.empty());
    EXPECT_FALSE(s.reg.select(offers, r.head()));
}

TEST(Registry, NeverSelectsANameTheClientDidNotOffer) {
    // RFC 9110 §7.8: a server MUST NOT switch to a protocol the client did not
    // indicate in Upgrade.
    setup s;
    parsed_request r(upgrade_request("h2c, websocket2, echo/"));  // "echo/" is invalid: skipped
    auto const offers = parse_offers(r.head());
    EXPECT_FALSE(s.reg.select(offers, r.head()));
    EXPECT_EQ(s.ws->calls, 0);
    EXPECT_EQ(s.echo->calls, 0);
}

TEST(Registry, EmptyRegistrySelectsNothing) {
    // RFC 9110 §7.8: a server with no protocols ignores every Upgrade.
    registry reg;
    parsed_request r(upgrade_request("websocket"));
    auto const offers = parse_offers(r.head());
    ASSERT_EQ(offers.size(), 1u);
    EXPECT_FALSE(reg.select(offers, r.head()));
}

} // namespace
} // namespace upshift::upgrade
