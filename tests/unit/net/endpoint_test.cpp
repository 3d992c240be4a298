#include <gtest/gtest.h>

#include "upshift/net/socket.hpp"

using upshift::net::endpoint;

TEST(Endpoint, ParsesIpv4HostAndPort) {
    endpoint ep;
    ASSERT_TRUE(endpoint::parse("10.1.2.3:8080", ep));
    EXPECT_EQ(ep.host, "10.1.2.3");
    EXPECT_EQ(ep.port, 8080);
    EXPECT_EQ(ep.to_string(), "10.1.2.3:8080");
}

TEST(Endpoint, ParsesBracketedIpv6) {
    endpoint ep;
    ASSERT_TRUE(endpoint::parse("[::1]:443", ep));
    EXPECT_EQ(ep.host, "::1");
    EXPECT_EQ(ep.port, 443);
    EXPECT_EQ(ep.to_string(), "[::1]:443");
}

TEST(Endpoint, EmptyHostMeansLoopback) {
    endpoint ep;
    ASSERT_TRUE(endpoint::parse(":0", ep));
    EXPECT_EQ(ep.host, "127.0.0.1");
    EXPECT_EQ(ep.port, 0);
}

TEST(Endpoint, RejectsJunk) {
    endpoint ep;
    for (auto bad : {"", "8080", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:80x",
                     "example.com:80", "::1:80", "[::1]80", "[::1]:", "999.1.1.1:80"}) {
        EXPECT_FALSE(endpoint::parse(bad, ep)) << bad;
    }
}
