#include <arpa/inet.h>

#include <cstdint>
#include <string>
#include <vector>

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

// format_ipv4 stands in for inet_ntop(AF_INET) on every accepted connection: it must write the
// very same text.
TEST(FormatIpv4, WritesWhatInetNtopWrites) {
    std::vector<std::uint32_t> addresses{0x00000000u, 0xFFFFFFFFu, 0x0100007Fu, 0x0A000001u, 0x09640A01u,
                                         0x63636363u, 0x64646464u, 0x0A0A0A0Au, 0xC0A80001u};
    std::uint32_t x = 0x12345678u;  // and a sweep of pseudo-random ones (xorshift)
    for (int i = 0; i < 20000; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        addresses.push_back(x);
    }
    for (auto a : addresses) {
        char expected[INET_ADDRSTRLEN] = {};
        in_addr in{};
        in.s_addr = a;
        ASSERT_NE(::inet_ntop(AF_INET, &in, expected, sizeof expected), nullptr);
        char out[16];
        auto const n = upshift::net::format_ipv4(a, out);
        ASSERT_EQ(std::string(out, n), std::string(expected)) << std::hex << a;
    }
}
