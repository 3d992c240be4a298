// 10,000 concurrent keep-alive connections: the server accepts and answers all of them, keeps
// serving new clients meanwhile, and releases every descriptor once the clients go away.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "integration_helpers.hpp"

namespace upshift::test {
namespace {

using clock = std::chrono::steady_clock;

constexpr std::size_t connection_count = 10'000;
// Each process holds one end of every connection (the test the client ends, the server the
// accepted ones), so each needs connection_count descriptors plus its own baseline.
constexpr rlim_t fds_needed = connection_count + 1'000;

std::size_t open_fd_count(pid_t pid) {
    std::error_code ec;
    std::size_t n = 0;
    for (auto it = std::filesystem::directory_iterator{"/proc/" + std::to_string(pid) + "/fd", ec};
         !ec && it != std::filesystem::directory_iterator{}; it.increment(ec))
        ++n;
    return n;
}

// Raises RLIMIT_NOFILE (soft up to hard, and hard too when privileged); the spawned server
// inherits it. Returns the resulting soft limit.
rlim_t raise_fd_limit(rlim_t wanted) {
    rlimit lim{};
    ::getrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < wanted) {
        rlimit higher{wanted, wanted};
        if (::setrlimit(RLIMIT_NOFILE, &higher) == 0) lim = higher; // needs CAP_SYS_RESOURCE
    }
    if (lim.rlim_cur < wanted) {
        lim.rlim_cur = lim.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &lim);
    }
    ::getrlimit(RLIMIT_NOFILE, &lim);
    return lim.rlim_cur;
}

struct connection {
    int fd = -1;
    enum class state { connecting, reading, done } st = state::connecting;
    std::string in;
};

class fd_closer {
public:
    explicit fd_closer(std::vector<connection>& conns, int& ep) : conns_(conns), ep_(ep) {}
    ~fd_closer() { close_all(); }
    fd_closer(fd_closer const&) = delete;
    fd_closer& operator=(fd_closer const&) = delete;
    void close_all() {
        for (auto& c : conns_)
            if (c.fd >= 0) ::close(std::exchange(c.fd, -1));
        if (ep_ >= 0) ::close(std::exchange(ep_, -1));
    }

private:
    std::vector<connection>& conns_;
    int& ep_;
};

TEST(ManyConnections, TenThousandKeepAliveConnections) {
    rlim_t limit = raise_fd_limit(fds_needed);
    if (limit < fds_needed) {
        std::string why = "RLIMIT_NOFILE is " + std::to_string(limit) + " and cannot be raised to " +
                          std::to_string(fds_needed) + " (raise the hard limit: ulimit -Hn)";
        if (in_ci()) GTEST_FAIL() << why;
        GTEST_SKIP() << why;
    }

    server_process server{{"--max-connections", "20000"}};
    ASSERT_TRUE(server.ready()) << server.error();
    std::size_t const baseline = open_fd_count(server.pid());
    ASSERT_GT(baseline, 0U) << "cannot read /proc/" << server.pid() << "/fd";

    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server.port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string const req = request("GET", "/healthz");

    std::vector<connection> conns(connection_count);
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    ASSERT_GE(ep, 0) << std::strerror(errno);
    fd_closer closer{conns, ep};

    // Connections are opened in a window so the server's accept queue (somaxconn) never overflows,
    // which would only cost SYN retransmission delays.
    constexpr std::size_t window = 1'000;
    std::size_t opened = 0;
    std::size_t done = 0;
    std::string failure;
    std::vector<epoll_event> events(1'024);
    auto deadline = clock::now() + std::chrono::seconds{45};

    while (done < connection_count && failure.empty()) {
        while (opened < connection_count && opened - done < window) {
            auto& c = conns[opened];
            c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (c.fd < 0) {
                failure = "socket #" + std::to_string(opened) + ": " + std::strerror(errno);
                break;
            }
            if (::connect(c.fd, reinterpret_cast<sockaddr const*>(&addr), sizeof addr) != 0 &&
                errno != EINPROGRESS) {
                failure = "connect #" + std::to_string(opened) + ": " + std::strerror(errno);
                break;
            }
            epoll_event ev{};
            ev.events = EPOLLOUT;
            ev.data.u64 = opened;
            ::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
            ++opened;
        }
        if (!failure.empty()) break;
        if (clock::now() > deadline) {
            failure =
                "timed out: " + std::to_string(opened) + " opened, " + std::to_string(done) + " answered";
            break;
        }
        int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
        for (int i = 0; i < n && failure.empty(); ++i) {
            auto const index = events[static_cast<std::size_t>(i)].data.u64;
            auto& c = conns[index];
            std::string const who = "connection #" + std::to_string(index) + ": ";
            if (c.st == connection::state::connecting) {
                int so_error = 0;
                socklen_t len = sizeof so_error;
                ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
                if (so_error != 0) {
                    failure = who + "connect: " + std::strerror(so_error);
                    break;
                }
                if (::send(c.fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
                    failure = who + "send: " + std::strerror(errno);
                    break;
                }
                c.st = connection::state::reading;
                epoll_event ev{};
                ev.events = EPOLLIN;
                ev.data.u64 = index;
                ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
                continue;
            }
            char buf[4096];
            ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
            if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (r <= 0) {
                failure = who + "closed by the server before its response (" +
                          (r == 0 ? std::string{"EOF"} : std::string{std::strerror(errno)}) + ")";
                break;
            }
            c.in.append(buf, static_cast<std::size_t>(r));
            auto o = parse_response(c.in);
            if (o.what == parse_outcome::kind::error) {
                failure = who + o.error;
            } else if (o.what == parse_outcome::kind::complete) {
                if (o.response.status != 200 || o.response.body != "ok\n") {
                    std::ostringstream os;
                    os << who << "unexpected response " << o.response;
                    failure = os.str();
                }
                c.st = connection::state::done;
                ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
                ++done;
            }
        }
    }
    ASSERT_TRUE(failure.empty()) << failure;
    ASSERT_EQ(done, connection_count);

    // All 10,000 stay open (keep-alive) and the server holds one descriptor for each of them,
    // yet it still answers a newcomer.
    EXPECT_GE(open_fd_count(server.pid()), baseline + connection_count);
    EXPECT_TRUE(healthy(server.port()));

    closer.close_all();
    // The server notices each close and releases its descriptors. No event tells the test when, so
    // poll /proc with a bound.
    auto settle = clock::now() + std::chrono::seconds{20};
    std::size_t now_open = open_fd_count(server.pid());
    while (now_open > baseline + 16 && clock::now() < settle) {
        std::this_thread::sleep_for(std::chrono::milliseconds{50});
        now_open = open_fd_count(server.pid());
    }
    EXPECT_LE(now_open, baseline + 16) << "server descriptors: baseline " << baseline << ", now " << now_open;
    EXPECT_TRUE(healthy(server.port()));
}

} // namespace
} // namespace upshift::test
