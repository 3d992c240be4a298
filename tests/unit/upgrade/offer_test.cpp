// Upgrade offers: eligibility (RFC 9110 §7.8, §7.6.1) and the Upgrade list
// grammar, on heads parsed from real request text.
#include "upshift/upgrade/offer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "request_text.hpp"

namespace upshift::upgrade {
namespace {

using test::parsed_request;
using test::request_with;

/// name or name/version of each offer, for compact comparisons.
std::vector<std::string> tokens(std::vector<offer> const& offers) {
    std::vector<std::string> out;
    for (auto const& o : offers) out.push_back(o.token());
    return out;
}

std::vector<std::string> offers_of(std::string_view field_lines) {
    parsed_request r(request_with(field_lines));
    return tokens(parse_offers(r.head()));
}

using strings = std::vector<std::string>;

// ---- eligibility --------------------------------------------------------------

TEST(UpgradeEligibility, Http11WithUpgradeAndConnectionUpgrade) {
    // RFC 9110 §7.8: the canonical example, Upgrade plus Connection: upgrade on HTTP/1.1.
    parsed_request r(request_with("Upgrade: websocket\r\nConnection: Upgrade\r\n"));
    EXPECT_TRUE(may_upgrade(r.head()));
    EXPECT_EQ(tokens(parse_offers(r.head())), strings{"websocket"});
}

TEST(UpgradeEligibility, Http10IsIgnored) {
    // RFC 9110 §7.8: "A server MUST ignore an Upgrade header field that is
    // received in an HTTP/1.0 request."
    parsed_request r("GET /chat HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n");
    ASSERT_TRUE(r.head().has_upgrade);
    ASSERT_TRUE(r.head().connection_upgrade);
    EXPECT_FALSE(may_upgrade(r.head()));
    EXPECT_TRUE(parse_offers(r.head()).empty());
}

TEST(UpgradeEligibility, Http10WithHostIsIgnoredToo) {
    // RFC 9110 §7.8: the version, not the presence of Host, decides.
    parsed_request r(request_with("Upgrade: websocket\r\nConnection: upgrade\r\n", "HTTP/1.0"));
    EXPECT_FALSE(may_upgrade(r.head()));
    EXPECT_TRUE(parse_offers(r.head()).empty());
}

TEST(UpgradeEligibility, MissingConnectionUpgradeIsNotEligible) {
    // RFC 9110 §7.8: a sender of Upgrade MUST also send the "upgrade" connection
    // option (§7.6.1); Upgrade without it is not meant for this hop.
    parsed_request r(request_with("Upgrade: websocket\r\n"));
    EXPECT_FALSE(may_upgrade(r.head()));
    EXPECT_TRUE(parse_offers(r.head()).empty());
}

TEST(UpgradeEligibility, ConnectionWithoutUpgradeOptionIsNotEligible) {
    // RFC 9110 §7.6.1: only the "upgrade" option counts, not some other option.
    parsed_request r(request_with("Upgrade: websocket\r\nConnection: keep-alive\r\n"));
    EXPECT_FALSE(may_upgrade(r.head()));
    EXPECT_TRUE(parse_offers(r.head()).empty());
}

TEST(UpgradeEligibility, ConnectionUpgradeWithoutUpgradeFieldIsNotEligible) {
    // RFC 9110 §7.8: nothing to switch to without an Upgrade field.
    parsed_request r(request_with("Connection: upgrade\r\n"));
    EXPECT_FALSE(may_upgrade(r.head()));
    EXPECT_TRUE(parse_offers(r.head()).empty());
}

TEST(UpgradeEligibility, ConnectionOptionIsCaseInsensitiveAndInAList) {
    // RFC 9110 §7.6.1: Connection is a list of case-insensitive connection options.
    for (auto const* conn : {"keep-alive, Upgrade", "UPGRADE", "upgrade", "close ,  uPgRaDe , te", ", , Upgrade,"}) {
        SCOPED_TRACE(conn);
        parsed_request r(request_with(std::string("Upgrade: websocket\r\nConnection: ") + conn + "\r\n"));
        EXPECT_TRUE(may_upgrade(r.head()));
        EXPECT_EQ(tokens(parse_offers(r.head())), strings{"websocket"});
    }
}

TEST(UpgradeEligibility, ConnectionOptionMustBeAWholeElement) {
    // RFC 9110 §7.6.1: options are list elements; "upgrade" inside another token is not it.
    parsed_request r(request_with("Upgrade: websocket\r\nConnection: upgraded, x-upgrade\r\n"));
    EXPECT_FALSE(may_upgrade(r.head()));
}

TEST(UpgradeEligibility, SeveralConnectionLinesCombine) {
    // RFC 9110 §5.3: field lines with the same name combine into one list.
    parsed_request r(request_with("Connection: keep-alive\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"));
    EXPECT_TRUE(may_upgrade(r.head()));
    EXPECT_EQ(tokens(parse_offers(r.head())), strings{"websocket"});
}

TEST(UpgradeEligibility, LaterHttp1MinorVersionIsEligible) {
    // RFC 9110 §7.8 ignores Upgrade only in HTTP/1.0; HTTP/1.x with x >= 1 qualifies.
    parsed_request r(request_with("Upgrade: websocket\r\nConnection: upgrade\r\n", "HTTP/1.9"));
    EXPECT_TRUE(may_upgrade(r.head()));
}

// ---- the Upgrade list ---------------------------------------------------------

TEST(UpgradeOffers, RfcExampleWithVersions) {
    // RFC 9110 §7.8 example: Upgrade: HTTP/2.0, SHTTP/1.3, IRC/6.9, RTA/x11
    parsed_request r(request_with("Upgrade: HTTP/2.0, SHTTP/1.3, IRC/6.9, RTA/x11\r\nConnection: upgrade\r\n"));
    auto const offers = parse_offers(r.head());
    ASSERT_EQ(offers.size(), 4u);
    EXPECT_EQ(offers[0].name, "HTTP");
    EXPECT_EQ(offers[0].version, "2.0");
    EXPECT_EQ(offers[1].name, "SHTTP");
    EXPECT_EQ(offers[1].version, "1.3");
    EXPECT_EQ(offers[2].name, "IRC");
    EXPECT_EQ(offers[2].version, "6.9");
    EXPECT_EQ(offers[3].name, "RTA");
    EXPECT_EQ(offers[3].version, "x11");
    EXPECT_EQ(tokens(offers), (strings{"HTTP/2.0", "SHTTP/1.3", "IRC/6.9", "RTA/x11"}));
}

TEST(UpgradeOffers, SeveralUpgradeLinesCombineInOrder) {
    // RFC 9110 §5.3: the lines form one list in the order received; the client's
    // order is its preference (§7.8).
    EXPECT_EQ(offers_of("Upgrade: h2c, foo/2\r\nConnection: upgrade\r\nupgrade: websocket\r\nUPGRADE: echo\r\n"),
              (strings{"h2c", "foo/2", "websocket", "echo"}));
}

TEST(UpgradeOffers, InvalidElementsAreSkipped) {
    // RFC 9110 §7.8: protocol = protocol-name ["/" protocol-version], both tokens
    // (§5.6.2); anything else is not a protocol and is skipped, keeping the rest.
    EXPECT_EQ(offers_of("Upgrade: foo bar, /1, a/, a/b/c, ok, \"q\", x;y=1, a//b, good/1.0\r\n"
                        "Connection: upgrade\r\n"),
              (strings{"ok", "good/1.0"}));
}

TEST(UpgradeOffers, WhitespaceAroundSlashIsInvalid) {
    // RFC 9110 §7.8: no whitespace inside protocol; OWS belongs only around list elements (§5.6.1).
    EXPECT_EQ(offers_of("Upgrade: a /1, b/ 2, c\t/3, d/4\r\nConnection: upgrade\r\n"), strings{"d/4"});
}

TEST(UpgradeOffers, EmptyElementsAreIgnored) {
    // RFC 9110 §5.6.1: a recipient MUST accept and ignore empty list elements.
    EXPECT_EQ(offers_of("Upgrade: , websocket ,, ,\t, echo/1 ,\r\nConnection: upgrade\r\n"),
              (strings{"websocket", "echo/1"}));
}

TEST(UpgradeOffers, EmptyUpgradeValueGivesNoOffers) {
    // RFC 9110 §5.6.1: a list of only empty elements is an empty list.
    parsed_request r(request_with("Upgrade:\r\nConnection: upgrade\r\n"));
    EXPECT_TRUE(parse_offers(r.head()).empty());
}

TEST(UpgradeOffers, NamesKeepTheirCase) {
    // RFC 9110 §7.8: the 101 echoes the protocol as offered; case is kept, comparison is not sensitive.
    auto const got = offers_of("Upgrade: WebSocket\r\nConnection: upgrade\r\n");
    EXPECT_EQ(got, strings{"WebSocket"});
}

TEST(UpgradeOffers, AllTcharsAccepted) {
    // RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
    // "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.
    EXPECT_EQ(offers_of("Upgrade: !#$%&'*+-.^_`|~09azAZ/!#$%&'*+-.^_`|~09azAZ\r\nConnection: upgrade\r\n"),
              strings{"!#$%&'*+-.^_`|~09azAZ/!#$%&'*+-.^_`|~09azAZ"});
}

TEST(UpgradeOffers, NonTcharSeparatorsAreInvalid) {
    // RFC 9110 §5.6.2: delimiters such as ( ) < > @ : ; = ? [ ] { } \ are not tchar.
    EXPECT_EQ(offers_of("Upgrade: a(b, a@b, a:b, a=b, a?b, a[b], a{b}, a\\b, a<b>, ok\r\nConnection: upgrade\r\n"),
              strings{"ok"});
}

// ---- offer ---------------------------------------------------------------------

TEST(Offer, TokenWithAndWithoutVersion) {
    // RFC 9110 §7.8: protocol = protocol-name ["/" protocol-version].
    EXPECT_EQ((offer{"websocket", ""}).token(), "websocket");
    EXPECT_EQ((offer{"HTTP", "2.0"}).token(), "HTTP/2.0");
    EXPECT_EQ((offer{"RTA", "x11"}).token(), "RTA/x11");
}

TEST(Offer, TokenRoundTripsThroughTheParser) {
    // RFC 9110 §7.8: what token() yields parses back to the same offer.
    for (auto const& t : {"websocket", "HTTP/2.0", "RTA/x11", "h2c"}) {
        SCOPED_TRACE(t);
        auto const got = offers_of(std::string("Upgrade: ") + t + "\r\nConnection: upgrade\r\n");
        EXPECT_EQ(got, strings{t});
    }
}

TEST(Offer, NameIsCaseInsensitiveVersionExact) {
    // RFC 9110 §7.8: protocol names are case-insensitive; versions compare exactly.
    offer const o{"WebSocket", ""};
    EXPECT_TRUE(o.is("websocket"));
    EXPECT_TRUE(o.is("WEBSOCKET"));
    EXPECT_FALSE(o.is("websocke"));
    EXPECT_FALSE(o.is("websockets"));
    EXPECT_TRUE(o.is("websocket", ""));
    EXPECT_FALSE(o.is("websocket", "13"));

    offer const h{"HTTP", "2.0"};
    EXPECT_TRUE(h.is("http"));         // a name-only check ignores the version
    EXPECT_TRUE(h.is("http", "2.0"));
    EXPECT_FALSE(h.is("http", "2"));
    EXPECT_FALSE(h.is("http", "2.00"));
    EXPECT_FALSE(h.is("http", ""));

    offer const r{"RTA", "x11"};
    EXPECT_TRUE(r.is("rta", "x11"));
    EXPECT_FALSE(r.is("rta", "X11"));  // versions are not case-folded
}

} // namespace
} // namespace upshift::upgrade
