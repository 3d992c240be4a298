#pragma once
// Shared by the RFC 2817 tests (tls_upgrade_*_test.cpp): certificates made with the openssl CLI,
// `upshift serve --tls-upgrade` with a test site, blocking sockets for OpenSSL and for
// tls::upgrade_client, and reading HTTP responses that arrive over TLS.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "integration_helpers.hpp"
#include "tls_test_helpers.hpp"
#include "upshift/tls/upgrade_client.hpp"

namespace upshift::test {

/// A connected blocking TCP socket to 127.0.0.1:port (-1 on failure); the caller closes it.
inline int connect_blocking(std::uint16_t port) {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    int one = 1;
    ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(s);
        return -1;
    }
    return s;
}

/// Closes a socket at scope exit.
struct socket_guard {
    int fd = -1;
    explicit socket_guard(int f) : fd(f) {}
    ~socket_guard() {
        if (fd >= 0) ::close(fd);
    }
    socket_guard(socket_guard const&) = delete;
    socket_guard& operator=(socket_guard const&) = delete;
};

/// Reads `count` complete responses from `c` (over TLS), in order; fewer if the stream ends or fails.
inline std::vector<http_response> read_tls_responses(tls::upgrade_client& c, std::size_t count) {
    std::vector<http_response> out;
    std::string buf;
    bool eof = false;
    while (out.size() < count) {
        auto o = parse_response(buf, false, eof);
        if (o.what == parse_outcome::kind::complete) {
            out.push_back(std::move(o.response));
            buf.erase(0, o.consumed);
            continue;
        }
        if (o.what == parse_outcome::kind::error || eof) break;
        auto piece = c.read_some();
        if (!piece) break;
        if (piece->empty()) eof = true;
        buf += *piece;
    }
    return out;
}

/// `upshift serve --tls-upgrade` on a test site (which also holds /example and /attacker.html),
/// with a certificate for localhost.
class tls_upgrade_server : public ::testing::Test {
protected:
    void SetUp() override {
        UPSHIFT_REQUIRE_TOOL(openssl, "openssl");
        openssl_ = *openssl;
        ASSERT_TRUE(certs_.ok());
        ASSERT_TRUE(made_certificate(openssl_, certs_));
        site_.dir.write("example", example_body);
        site_.dir.write("attacker.html", attacker_body);
    }

    /// Starts the server with --tls-upgrade and `extra` flags; ASSERT on ready() after.
    void start(std::vector<std::string> extra = {}) {
        std::vector<std::string> args{"--root", site_.root(), "--tls-cert", cert(), "--tls-key", key(), "--tls-upgrade"};
        args.insert(args.end(), extra.begin(), extra.end());
        server_ = std::make_unique<server_process>(args);
    }

    std::string cert() const { return certs_.file("cert.pem"); }
    std::string key() const { return certs_.file("key.pem"); }
    std::uint16_t port() const { return server_->port(); }

    tls::upgrade_client_options client_options() const {
        tls::upgrade_client_options o;
        o.ca_file = cert();
        o.host = "localhost";
        return o;
    }

    static constexpr std::string_view example_body = "the example resource\n";
    static constexpr std::string_view attacker_body = "ATTACKER-CHOSEN CONTENT\n";

    std::string openssl_;
    temp_dir certs_;
    test_site site_;
    std::unique_ptr<server_process> server_;
};

} // namespace upshift::test
