#include "upshift/net/socket.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace upshift::net {

void fd::reset(int v) noexcept {
    if (v_ >= 0) ::close(v_);
    v_ = v;
}

// --- endpoint -------------------------------------------------------------------

std::size_t format_ipv4(std::uint32_t network_order, char* out) noexcept {
    auto const* octets = reinterpret_cast<unsigned char const*>(&network_order);
    char* p = out;
    for (int i = 0; i < 4; ++i) {
        if (i > 0) *p++ = '.';
        unsigned const v = octets[i];
        if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
        if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
        *p++ = static_cast<char>('0' + v % 10);
    }
    return static_cast<std::size_t>(p - out);
}

bool endpoint::parse(std::string_view text, endpoint& out) {
    std::string_view host, port;
    if (text.starts_with('[')) {
        auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return false;
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return false;
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) return false;  // bare IPv6 needs brackets
    }
    if (host.empty()) host = "127.0.0.1";
    if (host == "localhost") host = "127.0.0.1";
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value > 65535) return false;
    // Only numeric addresses: name resolution has no place in a listener.
    unsigned char probe[sizeof(in6_addr)];
    std::string h(host);
    if (::inet_pton(AF_INET, h.c_str(), probe) != 1 && ::inet_pton(AF_INET6, h.c_str(), probe) != 1) return false;
    out.host = std::move(h);
    out.port = static_cast<std::uint16_t>(value);
    return true;
}

std::string endpoint::to_string() const {
    std::string s;
    bool v6 = host.find(':') != std::string::npos;
    if (v6) s += '[';
    s += host;
    if (v6) s += ']';
    s += ':';
    s += std::to_string(port);
    return s;
}

namespace {

std::error_code last_error() noexcept { return {errno, std::system_category()}; }

// Fills a sockaddr for a numeric host; false if it is not an address.
bool to_sockaddr(endpoint const& ep, sockaddr_storage& ss, socklen_t& len) noexcept {
    std::memset(&ss, 0, sizeof ss);
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    if (::inet_pton(AF_INET, ep.host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(ep.port);
        len = sizeof(sockaddr_in);
        return true;
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (::inet_pton(AF_INET6, ep.host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(ep.port);
        len = sizeof(sockaddr_in6);
        return true;
    }
    return false;
}

endpoint from_sockaddr(sockaddr_storage const& ss) {
    endpoint ep;
    char text[INET6_ADDRSTRLEN] = {};
    if (ss.ss_family == AF_INET) {
        auto const* v4 = reinterpret_cast<sockaddr_in const*>(&ss);
        ep.host.assign(text, format_ipv4(v4->sin_addr.s_addr, text));
        ep.port = ntohs(v4->sin_port);
        return ep;
    }
    if (ss.ss_family == AF_INET6) {
        auto const* v6 = reinterpret_cast<sockaddr_in6 const*>(&ss);
        ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
        ep.port = ntohs(v6->sin6_port);
    }
    ep.host = text;
    return ep;
}

void set_int_option(int s, int level, int name, int value) noexcept {
    ::setsockopt(s, level, name, &value, sizeof value);
}

// A non-blocking, close-on-exec TCP socket of ep's family, with ep's address in ss/len.
fd tcp_socket_for(endpoint const& ep, sockaddr_storage& ss, socklen_t& len, std::error_code& ec) {
    ec.clear();
    if (!to_sockaddr(ep, ss, len)) {
        ec = std::make_error_code(std::errc::invalid_argument);
        return {};
    }
    fd s(::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!s) ec = last_error();
    return s;
}

} // namespace

fd listen_tcp(endpoint const& ep, listen_options const& opt, std::error_code& ec, endpoint* bound) {
    sockaddr_storage ss;
    socklen_t len = 0;
    fd s = tcp_socket_for(ep, ss, len, ec);
    if (!s) return {};
    // A restarted server must not wait for old connections in TIME_WAIT.
    set_int_option(s.get(), SOL_SOCKET, SO_REUSEADDR, 1);
    if (opt.reuse_port) set_int_option(s.get(), SOL_SOCKET, SO_REUSEPORT, 1);
    if (ss.ss_family == AF_INET6) set_int_option(s.get(), IPPROTO_IPV6, IPV6_V6ONLY, 1);
    // Responses are written whole with writev; Nagle would only delay the last segment. Set
    // here, it is inherited by every accepted socket (one system call less per connection).
    set_nodelay(s.get(), true);
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(s.get(), opt.backlog) != 0) {
        ec = last_error();
        return {};
    }
    if (bound) {
        sockaddr_storage got;
        socklen_t got_len = sizeof got;
        if (::getsockname(s.get(), reinterpret_cast<sockaddr*>(&got), &got_len) == 0) *bound = from_sockaddr(got);
    }
    return s;
}

fd accept_tcp(int listener, std::error_code& ec, endpoint* peer) {
    ec.clear();
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    for (;;) {
        int s = ::accept4(listener, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (s >= 0) {
            if (peer) *peer = from_sockaddr(ss);
            return fd(s);  // TCP_NODELAY comes from the listener (listen_tcp)
        }
        if (errno == EINTR) continue;
        // The connection died in the queue: not the listener's problem, try the next.
        if (errno == ECONNABORTED || errno == EPROTO) continue;
        if (errno == EAGAIN) ec = std::make_error_code(std::errc::operation_would_block);
        else ec = last_error();
        return {};
    }
}

fd connect_tcp(endpoint const& ep, std::error_code& ec) {
    sockaddr_storage ss;
    socklen_t len = 0;
    fd s = tcp_socket_for(ep, ss, len, ec);
    if (!s) return {};
    set_nodelay(s.get(), true);
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
        ec = last_error();
        return {};
    }
    return s;
}

void set_nodelay(int s, bool on) noexcept { set_int_option(s, IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0); }

int so_error(int s) noexcept {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
    return err;
}

io_result read_some(int s, std::span<char> buf) noexcept {
    io_result r;
    for (;;) {
        auto n = ::recv(s, buf.data(), buf.size(), 0);
        if (n > 0) {
            r.bytes = static_cast<std::size_t>(n);
        } else if (n == 0) {
            r.eof = !buf.empty();
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN) {
            r.ec = std::make_error_code(std::errc::operation_would_block);
        } else {
            r.ec = last_error();
        }
        return r;
    }
}

io_result writev_some(int s, std::span<iovec const> bufs) noexcept {
    io_result r;
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(bufs.data());
    // IOV_MAX is 1024 on Linux; callers batch below it.
    msg.msg_iovlen = bufs.size();
    for (;;) {
        // MSG_NOSIGNAL: a peer that went away gives EPIPE, not SIGPIPE. One buffer (a WebSocket
        // echo, most responses) goes through send(): the kernel then imports no iovec array.
        auto n = bufs.size() == 1 ? ::send(s, bufs[0].iov_base, bufs[0].iov_len, MSG_NOSIGNAL)
                                  : ::sendmsg(s, &msg, MSG_NOSIGNAL);
        if (n >= 0) {
            r.bytes = static_cast<std::size_t>(n);
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN) {
            r.ec = std::make_error_code(std::errc::operation_would_block);
        } else {
            r.ec = last_error();
        }
        return r;
    }
}

} // namespace upshift::net
