// The blocking RFC 2817 client (include/upshift/tls/upgrade_client.hpp).
#include "upshift/tls/upgrade_client.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>

namespace upshift::tls {
namespace {

std::string openssl_reason(char const* fallback) {
    unsigned long const e = ERR_get_error();
    ERR_clear_error();
    if (!e) return fallback;
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

bool send_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        auto const n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

/// "HTTP/1.1 101 ..." -> 101; 0 if the status line is malformed.
int status_of(std::string_view head) {
    if (head.size() < 12 || !head.starts_with("HTTP/1.") || head[8] != ' ') return 0;
    int code = 0;
    for (std::size_t i = 9; i < 12; ++i) {
        if (head[i] < '0' || head[i] > '9') return 0;
        code = code * 10 + (head[i] - '0');
    }
    return code;
}

} // namespace

upgrade_client::upgrade_client(upgrade_client_options opts) : opts_(std::move(opts)) {}

upgrade_client::~upgrade_client() {
    SSL_free(ssl_);  // frees its BIOs; the socket is the caller's (BIO_NOCLOSE)
    SSL_CTX_free(ctx_);
}

bool upgrade_client::fail(std::string what) {
    error_ = std::move(what);
    return false;
}

upgrade_result upgrade_client::upgrade(int fd) {
    upgrade_result r;
    auto done = [&](std::string what) {
        fail(std::move(what));
        r.error = error_;
        return r;
    };
    if (ssl_) return done("upgrade() called twice");
    fd_ = fd;
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(opts_.timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((opts_.timeout.count() % 1000) * 1000);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

    ERR_clear_error();
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (!ctx_) return done(openssl_reason("SSL_CTX_new failed"));
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    // A server closing TCP after its response is an ordinary end of stream for HTTP/1.1 here.
    SSL_CTX_set_options(ctx_, SSL_OP_IGNORE_UNEXPECTED_EOF);
    int const loaded = opts_.ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx_)
                                             : SSL_CTX_load_verify_locations(ctx_, opts_.ca_file.c_str(), nullptr);
    if (loaded != 1) return done("cannot load trusted certificates: " + openssl_reason(opts_.ca_file.c_str()));
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    ssl_ = SSL_new(ctx_);
    if (!ssl_) return done(openssl_reason("SSL_new failed"));
    // SNI (SSL_set_tlsext_host_name is a macro with an old-style cast) and the name to verify.
    SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(opts_.host.c_str()));
    SSL_set1_host(ssl_, opts_.host.c_str());
    SSL_set_connect_state(ssl_);

    std::string first = opts_.method + " " + opts_.target + " HTTP/1.1\r\nHost: " + opts_.host +
                        "\r\nUpgrade: " + opts_.upgrade + "\r\nConnection: Upgrade\r\n";
    for (auto const& f : opts_.extra_fields) first.append(f).append("\r\n");
    first += "\r\n";
    if (opts_.optimistic) {
        // The ClientHello comes from memory BIOs; once the 101 is in, the socket takes over.
        BIO* rbio = BIO_new(BIO_s_mem());
        BIO* wbio = BIO_new(BIO_s_mem());
        if (!rbio || !wbio) {
            BIO_free(rbio);
            BIO_free(wbio);
            return done("out of memory");
        }
        SSL_set_bio(ssl_, rbio, wbio);
        int const rc = SSL_do_handshake(ssl_);
        if (rc == 1 || SSL_get_error(ssl_, rc) != SSL_ERROR_WANT_READ) return done(openssl_reason("no ClientHello"));
        char* hello = nullptr;
        long const n = BIO_get_mem_data(wbio, &hello);
        first.append(hello, static_cast<std::size_t>(n));
        (void)BIO_reset(wbio);
    }
    bool const sent = opts_.send_first ? opts_.send_first(fd, first) : send_all(fd, first);
    if (!sent) return done(std::string("send: ") + std::strerror(errno));

    // The head byte by byte: nothing after its blank line is taken from the socket.
    constexpr std::size_t max_head = 64 * 1024;
    while (!r.head.ends_with("\r\n\r\n")) {
        if (r.head.size() >= max_head) return done("response head too large");
        char c;
        auto const n = ::recv(fd, &c, 1, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) return done("connection closed before the response head ended");
        if (n < 0) return done(std::string("recv: ") + std::strerror(errno));
        r.head.push_back(c);
    }
    r.status = status_of(r.head);
    if (r.status == 0) return done("malformed status line");
    if (r.status != 101) return r;  // answered in plaintext: the rest of the response is the caller's

    // RFC 2817 §3.3: TLS starts right after the 101's blank line, on the same socket.
    BIO* sock = BIO_new_socket(fd, BIO_NOCLOSE);
    if (!sock) return done("out of memory");
    SSL_set_bio(ssl_, sock, sock);  // frees the memory BIOs of an optimistic start
    ERR_clear_error();
    if (SSL_connect(ssl_) != 1) return done("TLS handshake: " + openssl_reason("the peer closed the connection"));
    switched_ = r.switched = true;
    return r;
}

bool upgrade_client::write(std::string_view data) {
    if (!switched_) return fail("not switched to TLS");
    while (!data.empty()) {
        std::size_t n = 0;
        ERR_clear_error();
        if (SSL_write_ex(ssl_, data.data(), data.size(), &n) != 1) return fail("TLS write: " + openssl_reason("failed"));
        data.remove_prefix(n);
    }
    return true;
}

std::optional<std::string> upgrade_client::read_some(std::size_t max) {
    if (!switched_) {
        fail("not switched to TLS");
        return std::nullopt;
    }
    std::string out(max, '\0');
    std::size_t n = 0;
    ERR_clear_error();
    int const rc = SSL_read_ex(ssl_, out.data(), out.size(), &n);
    if (rc == 1) {
        out.resize(n);
        return out;
    }
    int const e = SSL_get_error(ssl_, rc);
    if (e == SSL_ERROR_ZERO_RETURN) return std::string{};
    fail(e == SSL_ERROR_SYSCALL && errno ? std::string("TLS read: ") + std::strerror(errno)
                                         : "TLS read: " + openssl_reason("failed"));
    return std::nullopt;
}

std::optional<std::string> upgrade_client::read_to_end() {
    std::string all;
    for (;;) {
        auto piece = read_some();
        if (!piece) return std::nullopt;
        if (piece->empty()) return all;
        all += *piece;
    }
}

std::string upgrade_client::tls_version() const { return switched_ ? SSL_get_version(ssl_) : ""; }

} // namespace upshift::tls
