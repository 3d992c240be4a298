// SIGHUP reloads the certificate and key of `upshift serve --tls-cert F --tls-key F` (issue 6):
// connections made afterwards get the new certificate, a keep-alive connection made before keeps
// working on the old one, and files that do not load leave the old certificate in place with
// OpenSSL's reason in the log. The client is OpenSSL itself, blocking, so the test sees exactly
// which certificate each connection was given.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tls_test_helpers.hpp"

namespace upshift::test {
namespace {

/// SHA-256 of a certificate's DER, as hex.
std::string fingerprint(X509* cert) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (!cert || X509_digest(cert, EVP_sha256(), md, &len) != 1) return {};
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) out += {hex[md[i] >> 4], hex[md[i] & 15]};
    return out;
}

std::string pem_fingerprint(std::string const& file) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio{BIO_new_file(file.c_str(), "r"), &BIO_free};
    if (!bio) return {};
    std::unique_ptr<X509, decltype(&X509_free)> cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr),
                                                     &X509_free};
    return fingerprint(cert.get());
}

/// A blocking TLS 1.3 client connection to 127.0.0.1:port that trusts nothing (it only looks at
/// the certificate it is given) and speaks HTTP/1.1 keep-alive.
class tls_client {
public:
    explicit tls_client(std::uint16_t port) {
        ctx_ = SSL_CTX_new(TLS_client_method());
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        timeval tv{10, 0}; // a hung server fails the test instead of hanging it
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (!ctx_ || fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
        ssl_ = SSL_new(ctx_);
        SSL_set_fd(ssl_, fd_);
        if (SSL_connect(ssl_) != 1) return;
        X509* peer = SSL_get1_peer_certificate(ssl_);
        fingerprint_ = fingerprint(peer);
        X509_free(peer);
    }
    ~tls_client() {
        if (ssl_) SSL_free(ssl_);
        if (fd_ >= 0) ::close(fd_);
        SSL_CTX_free(ctx_);
    }
    tls_client(tls_client const&) = delete;
    tls_client& operator=(tls_client const&) = delete;

    /// The certificate the server presented (empty if the handshake failed).
    std::string const& cert() const { return fingerprint_; }

    /// GET /healthz on this connection; the body, or "" on failure.
    std::string healthz() {
        static constexpr std::string_view req = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
        if (fingerprint_.empty() || SSL_write(ssl_, req.data(), static_cast<int>(req.size())) <= 0) return {};
        std::string got;
        char buf[4096];
        // The response is small and has Content-Length: 3 ("ok\n").
        while (got.find("\r\n\r\n") == std::string::npos || got.size() < got.find("\r\n\r\n") + 4 + 3) {
            int n = SSL_read(ssl_, buf, sizeof buf);
            if (n <= 0) return {};
            got.append(buf, static_cast<std::size_t>(n));
        }
        return got.substr(got.find("\r\n\r\n") + 4);
    }

private:
    SSL_CTX* ctx_ = nullptr;
    SSL* ssl_ = nullptr;
    int fd_ = -1;
    std::string fingerprint_;
};

class TlsReload : public ::testing::Test {
protected:
    void SetUp() override {
        UPSHIFT_REQUIRE_TOOL(openssl, "openssl");
        ASSERT_TRUE(dir_.ok());
        for (auto const* stem : {"a", "b"}) {
            ASSERT_TRUE(made_certificate(*openssl, dir_, stem));
        }
        fp_a_ = pem_fingerprint(dir_.file("a-cert.pem"));
        fp_b_ = pem_fingerprint(dir_.file("b-cert.pem"));
        ASSERT_FALSE(fp_a_.empty());
        ASSERT_NE(fp_a_, fp_b_);
        install("a-cert.pem", "a-key.pem");
        // Through sh, to keep the server's log (stderr) in a file; exec keeps the pid for kill -HUP.
        auto opts = https_server({"--tls-cert", dir_.file("cert.pem"), "--tls-key", dir_.file("key.pem")});
        std::string line = "exec";
        for (auto const& a : opts.argv) line += " " + sh_quote(a);
        line += " 2>" + sh_quote(dir_.file("server.log"));
        opts.argv = {"/bin/sh", "-c", line};
        server_ = std::make_unique<server_process>(std::move(opts));
        ASSERT_TRUE(server_->ready()) << server_->error();
    }

    /// Puts these files where the server's --tls-cert and --tls-key point.
    void install(std::string const& cert, std::string const& key) {
        namespace fs = std::filesystem;
        fs::copy_file(dir_.file(cert), dir_.file("cert.pem"), fs::copy_options::overwrite_existing);
        fs::copy_file(dir_.file(key), dir_.file("key.pem"), fs::copy_options::overwrite_existing);
    }

    std::size_t log_count(std::string_view needle) {
        auto log = read_file(dir_.file("server.log")).value_or("");
        std::size_t n = 0;
        for (auto at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++n;
        return n;
    }
    /// Sends SIGHUP and waits until the log has one more line containing `needle`.
    ::testing::AssertionResult hangup_and_wait_for(std::string_view needle) {
        auto const before = log_count(needle);
        server_->terminate(SIGHUP);
        for (int i = 0; i < 400; ++i) {
            if (log_count(needle) > before) return ::testing::AssertionSuccess();
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
        return ::testing::AssertionFailure() << "no new log line with '" << needle << "':\n"
                                             << read_file(dir_.file("server.log")).value_or("");
    }

    temp_dir dir_;
    std::string fp_a_, fp_b_;
    std::unique_ptr<server_process> server_;
};

TEST_F(TlsReload, NewConnectionsGetTheNewCertificateAndOldOnesKeepWorking) {
    tls_client before{server_->port()};
    EXPECT_EQ(before.cert(), fp_a_);
    EXPECT_EQ(before.healthz(), "ok\n");

    install("b-cert.pem", "b-key.pem");
    ASSERT_TRUE(hangup_and_wait_for("reloaded the TLS certificate"));

    tls_client after{server_->port()};
    EXPECT_EQ(after.cert(), fp_b_);
    EXPECT_EQ(after.healthz(), "ok\n");
    // The keep-alive connection from before the reload still serves requests, on certificate A.
    EXPECT_EQ(before.healthz(), "ok\n");
    EXPECT_EQ(before.cert(), fp_a_);
    EXPECT_FALSE(server_->wait_exit(std::chrono::milliseconds(0))) << "SIGHUP must not end the server";
}

TEST_F(TlsReload, FilesThatDoNotLoadKeepTheOldCertificate) {
    // Not PEM at all.
    ASSERT_TRUE(dir_.write("cert.pem", "this is not a certificate\n"));
    ASSERT_TRUE(hangup_and_wait_for("kept the previous TLS certificate"));
    EXPECT_EQ(log_count("no start line"), 1u) << read_file(dir_.file("server.log")).value_or("");
    EXPECT_EQ(tls_client{server_->port()}.cert(), fp_a_);

    // A valid certificate with the wrong key: OpenSSL's reason is logged.
    install("b-cert.pem", "a-key.pem");
    ASSERT_TRUE(hangup_and_wait_for("kept the previous TLS certificate"));
    EXPECT_EQ(log_count("key values mismatch"), 1u) << read_file(dir_.file("server.log")).value_or("");
    tls_client still_a{server_->port()};
    EXPECT_EQ(still_a.cert(), fp_a_);
    EXPECT_EQ(still_a.healthz(), "ok\n");

    // Once the files are right, the next SIGHUP takes them.
    install("b-cert.pem", "b-key.pem");
    ASSERT_TRUE(hangup_and_wait_for("reloaded the TLS certificate"));
    EXPECT_EQ(tls_client{server_->port()}.cert(), fp_b_);
}

// --tls-self-signed: the app makes a P-256 key and a certificate for localhost, 127.0.0.1 and ::1,
// names the certificate's file on the https line, and curl trusting only that file verifies the
// server by name and by address, over HTTP/2 and HTTP/1.1.
TEST(TlsSelfSigned, CurlWithTheNamedCertificateVerifiesTheServer) {
    UPSHIFT_REQUIRE_TOOL(curl, "curl");
    UPSHIFT_REQUIRE_TOOL(openssl, "openssl");
    server_process server{https_server({"--tls-self-signed"})};
    ASSERT_TRUE(server.ready()) << server.error();
    auto const out = server.output();
    static constexpr std::string_view tag = "(self-signed certificate: ";
    auto const at = out.find(tag);
    ASSERT_NE(at, std::string::npos) << out;
    auto const end = out.find(")\n", at);
    ASSERT_NE(end, std::string::npos) << out;
    std::string const pem = out.substr(at + tag.size(), end - at - tag.size());
    ASSERT_TRUE(std::filesystem::exists(pem)) << pem;

    auto text = run_command({*openssl, "x509", "-in", pem, "-noout", "-text"});
    ASSERT_TRUE(text.exit && text.exit->success()) << text;
    EXPECT_NE(text.out.find("NIST CURVE: P-256"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"),
              std::string::npos)
        << text.out;
    EXPECT_EQ(text.out.find("PRIVATE KEY"), std::string::npos);

    auto const port = std::to_string(server.port());
    auto by_name = run_command({*curl, "-sS", "--max-time", "20", "--cacert", pem, "--http2", "--resolve",
                                "localhost:" + port + ":127.0.0.1", "-w", " %{http_version}",
                                "https://localhost:" + port + "/healthz"});
    ASSERT_TRUE(by_name.exit && by_name.exit->success()) << by_name;
    EXPECT_EQ(by_name.out, "ok\n 2");
    auto by_ip = run_command({*curl, "-sS", "--max-time", "20", "--cacert", pem, "--http1.1", "-w",
                              " %{http_version}", "https://127.0.0.1:" + port + "/healthz"});
    ASSERT_TRUE(by_ip.exit && by_ip.exit->success()) << by_ip;
    EXPECT_EQ(by_ip.out, "ok\n 1.1");

    // SIGHUP has nothing to reload and must not end the server; SIGTERM removes the file.
    server.terminate(SIGHUP);
    EXPECT_FALSE(server.wait_exit(std::chrono::milliseconds(300)));
    EXPECT_TRUE(healthy(parse_url_port(out).value_or(0)));
    server.terminate(SIGTERM);
    auto ended = server.wait_exit(std::chrono::seconds(10));
    ASSERT_TRUE(ended) << "no exit after SIGTERM";
    EXPECT_TRUE(ended->success()) << *ended;
    EXPECT_FALSE(std::filesystem::exists(pem)) << pem;
}

TEST(TlsSelfSigned, ContradictsTlsCert) {
    auto out =
        run_command({app_path(), "serve", "--tls-self-signed", "--tls-cert", "c.pem", "--tls-key", "k.pem"});
    ASSERT_TRUE(out.exit && out.exit->exited) << out;
    EXPECT_EQ(out.exit->code, 2);
    EXPECT_NE(out.err.find("--tls-self-signed and --tls-cert contradict each other"), std::string::npos)
        << out.err;
}

} // namespace
} // namespace upshift::test
