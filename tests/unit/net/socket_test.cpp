// Real sockets on 127.0.0.1: listen, connect, accept, read and write without blocking.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <string>

#include "upshift/net/socket.hpp"
#include "upshift/net/stream.hpp"

namespace net = upshift::net;

namespace {

void wait_for(int s, short events) {
    pollfd p{s, events, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1);
}

struct connected_pair {
    net::fd listener, client, server;
    net::endpoint peer;
};

connected_pair make_pair() {
    connected_pair p;
    std::error_code ec;
    net::endpoint bound;
    p.listener = net::listen_tcp({"127.0.0.1", 0}, {}, ec, &bound);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_NE(bound.port, 0);
    p.client = net::connect_tcp(bound, ec);
    EXPECT_FALSE(ec) << ec.message();
    wait_for(p.listener.get(), POLLIN);
    p.server = net::accept_tcp(p.listener.get(), ec, &p.peer);
    EXPECT_FALSE(ec) << ec.message();
    return p;
}

} // namespace

TEST(Socket, ListenOnPortZeroReportsTheBoundPort) {
    std::error_code ec;
    net::endpoint bound;
    auto l = net::listen_tcp({"127.0.0.1", 0}, {}, ec, &bound);
    ASSERT_FALSE(ec);
    EXPECT_EQ(bound.host, "127.0.0.1");
    EXPECT_GT(bound.port, 0);
}

TEST(Socket, SecondListenerOnSamePortFailsWithoutReusePort) {
    std::error_code ec;
    net::endpoint bound;
    auto a = net::listen_tcp({"127.0.0.1", 0}, {}, ec, &bound);
    ASSERT_FALSE(ec);
    auto b = net::listen_tcp(bound, {}, ec);
    EXPECT_EQ(ec, std::errc::address_in_use);
    EXPECT_FALSE(b);
}

TEST(Socket, ReusePortAllowsOneListenerPerLoop) {
    std::error_code ec;
    net::endpoint bound;
    net::listen_options opt;
    opt.reuse_port = true;
    auto a = net::listen_tcp({"127.0.0.1", 0}, opt, ec, &bound);
    ASSERT_FALSE(ec);
    auto b = net::listen_tcp(bound, opt, ec);
    EXPECT_FALSE(ec) << ec.message();
}

// Replies leave whole (writev) and must not wait for Nagle: accepted sockets have TCP_NODELAY,
// inherited from listen_tcp's listener rather than set per connection.
TEST(Socket, AcceptedSocketsHaveNoDelay) {
    auto p = make_pair();
    ASSERT_TRUE(p.server);
    int on = 0;
    socklen_t len = sizeof on;
    ASSERT_EQ(::getsockopt(p.server.get(), IPPROTO_TCP, TCP_NODELAY, &on, &len), 0);
    EXPECT_EQ(on, 1);
}

TEST(Socket, AcceptWithNothingPendingWouldBlock) {
    std::error_code ec;
    auto l = net::listen_tcp({"127.0.0.1", 0}, {}, ec);
    ASSERT_FALSE(ec);
    auto s = net::accept_tcp(l.get(), ec);
    EXPECT_FALSE(s);
    EXPECT_EQ(ec, std::errc::operation_would_block);
}

TEST(Socket, ReadWouldBlockThenDataThenEof) {
    auto p = make_pair();
    ASSERT_TRUE(p.server);
    EXPECT_EQ(p.peer.host, "127.0.0.1");
    char buf[64];
    auto r = net::read_some(p.server.get(), buf);
    EXPECT_EQ(r.ec, std::errc::operation_would_block);

    std::string a = "hello ", b = "world";
    iovec iov[2] = {{a.data(), a.size()}, {b.data(), b.size()}};
    auto w = net::writev_some(p.client.get(), iov);
    ASSERT_FALSE(w.ec);
    EXPECT_EQ(w.bytes, 11u);

    wait_for(p.server.get(), POLLIN);
    r = net::read_some(p.server.get(), buf);
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(std::string(buf, r.bytes), "hello world");

    net::tcp_stream client(std::move(p.client));
    client.shutdown_write();
    wait_for(p.server.get(), POLLIN);
    r = net::read_some(p.server.get(), buf);
    EXPECT_TRUE(r.eof);
    EXPECT_EQ(r.bytes, 0u);
}

TEST(Socket, WriteToClosedPeerIsAnErrorNotSigpipe) {
    auto p = make_pair();
    p.server.reset();
    std::string data(64 * 1024, 'x');
    iovec iov{data.data(), data.size()};
    std::error_code last;
    for (int i = 0; i < 100 && !last; ++i) {
        auto w = net::writev_some(p.client.get(), {&iov, 1});
        if (w.ec && w.ec != std::errc::operation_would_block) last = w.ec;
        if (w.ec == std::errc::operation_would_block) wait_for(p.client.get(), POLLOUT);
    }
    EXPECT_TRUE(last == std::errc::broken_pipe || last == std::errc::connection_reset) << last.message();
}

TEST(Socket, FdClosesOnDestructionAndMoves) {
    std::error_code ec;
    auto l = net::listen_tcp({"127.0.0.1", 0}, {}, ec);
    int raw = l.get();
    net::fd moved = std::move(l);
    EXPECT_FALSE(l);
    EXPECT_EQ(moved.get(), raw);
    moved.reset();
    EXPECT_EQ(net::so_error(raw), EBADF);
}
