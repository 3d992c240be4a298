#pragma once
// Non-blocking TCP sockets and listeners (IPv4 and IPv6). Errors are reported
// as std::error_code (system_category); nothing throws.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <sys/uio.h>

namespace upshift::net {

/// An owned file descriptor; closes on destruction.
class fd {
public:
    fd() noexcept = default;
    explicit fd(int v) noexcept : v_(v) {}
    fd(fd&& o) noexcept : v_(o.release()) {}
    fd& operator=(fd&& o) noexcept {
        if (this != &o) reset(o.release());
        return *this;
    }
    ~fd() { reset(); }
    int get() const noexcept { return v_; }
    explicit operator bool() const noexcept { return v_ >= 0; }
    int release() noexcept { int v = v_; v_ = -1; return v; }
    void reset(int v = -1) noexcept;

private:
    int v_ = -1;
};

struct endpoint {
    std::string host = "127.0.0.1";  ///< numeric IPv4/IPv6 address ("::1", "0.0.0.0")
    std::uint16_t port = 0;
    /// Parses "HOST:PORT", "[V6]:PORT" or ":PORT" (host 127.0.0.1). Returns false on junk.
    static bool parse(std::string_view text, endpoint& out);
    std::string to_string() const;
};

struct listen_options {
    int backlog = 4096;
    bool reuse_port = false;  ///< SO_REUSEPORT: one listener per loop thread
};

/// Writes "a.b.c.d" for an IPv4 address in network byte order, as inet_ntop(AF_INET) does but
/// without its sprintf: this runs for every accepted connection (twice for an upgraded one), and
/// glibc's inet_ntop costs about as much as parsing the whole request. `out` must hold at least
/// 16 bytes; returns the length written (no terminating NUL).
std::size_t format_ipv4(std::uint32_t network_order, char* out) noexcept;

/// Creates a non-blocking listening socket with TCP_NODELAY, which Linux copies to every
/// accepted socket. On success `bound` holds the actual port.
fd listen_tcp(endpoint const& ep, listen_options const& opt, std::error_code& ec, endpoint* bound = nullptr);
/// Accepts one connection (non-blocking, close-on-exec; TCP_NODELAY when the listener has it,
/// as listen_tcp's and net::acceptor's do: no setsockopt per connection); empty fd
/// and errc::operation_would_block when none is pending. `peer` gets the address.
fd accept_tcp(int listener, std::error_code& ec, endpoint* peer = nullptr);
/// Starts a non-blocking connect; completion shows as writability (check so_error).
fd connect_tcp(endpoint const& ep, std::error_code& ec);
/// TCP_NODELAY on/off.
void set_nodelay(int s, bool on) noexcept;
/// SO_ERROR of a socket (0 if none).
int so_error(int s) noexcept;

/// Result of a non-blocking read or write.
struct io_result {
    std::size_t bytes = 0;
    std::error_code ec;  ///< empty; errc::operation_would_block; or a real error
    bool eof = false;    ///< read only: peer closed its sending side
};

io_result read_some(int s, std::span<char> buf) noexcept;
io_result writev_some(int s, std::span<iovec const> bufs) noexcept;

} // namespace upshift::net
