// tls::server_context beyond load(): a context from PEM in memory, the generated self-signed
// certificate (tls::make_self_signed), ALPN selection (RFC 7301 §3.2) seen by a real OpenSSL
// client over a socket pair, and reload() swapping the certificate while pointers handed out
// by native() stay usable (run under ASan, a use after free would show here).
#include <gtest/gtest.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "upshift/tls/context.hpp"
#include "upshift/tls/self_signed.hpp"

namespace tls = upshift::tls;

namespace {

std::string leaf_fingerprint(SSL_CTX* ctx) {
    X509* leaf = SSL_CTX_get0_certificate(ctx);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (!leaf || X509_digest(leaf, EVP_sha256(), md, &len) != 1) return {};
    return std::string(reinterpret_cast<char*>(md), len);
}

X509* parse_pem(std::string const& pem) {
    BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    X509* x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
    BIO_free(b);
    return x;
}

class files {
public:
    files() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "upshift-tlsctx-XXXXXX").string();
        if (::mkdtemp(tmpl.data())) dir_ = tmpl;
    }
    ~files() {
        std::error_code ec;
        if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
    }
    std::string write(std::string const& name, std::string const& text) const {
        std::string path = dir_ + "/" + name;
        std::ofstream{path, std::ios::binary} << text;
        return path;
    }

private:
    std::string dir_;
};

/// Runs a TLS handshake between `ctx` (server) and an OpenSSL client offering `alpn` (wire
/// format, "" for none) over a socket pair. Returns the protocol the client saw selected, or
/// "FAIL: <alert>" when the handshake failed.
std::string handshake_alpn(SSL_CTX* server_ctx, std::string const& alpn) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return "socketpair";
    std::thread server([&] {
        SSL* s = SSL_new(server_ctx);
        SSL_set_fd(s, sv[0]);
        SSL_accept(s);
        SSL_free(s);
        ::shutdown(sv[0], SHUT_RDWR);
    });
    SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
    SSL* c = SSL_new(cctx);
    SSL_set_fd(c, sv[1]);
    if (!alpn.empty())
        SSL_set_alpn_protos(c, reinterpret_cast<unsigned char const*>(alpn.data()),
                            static_cast<unsigned>(alpn.size()));
    std::string out;
    if (SSL_connect(c) == 1) {
        unsigned char const* p = nullptr;
        unsigned n = 0;
        SSL_get0_alpn_selected(c, &p, &n);
        out.assign(reinterpret_cast<char const*>(p), n);
    } else {
        out = "FAIL:";
        // The alert the server sent is in the error queue's reason ("tlsv1 alert no application protocol").
        while (unsigned long e = ERR_get_error()) {
            if (char const* r = ERR_reason_error_string(e)) out += std::string(" ") + r;
        }
    }
    SSL_free(c);
    SSL_CTX_free(cctx);
    server.join();
    ::close(sv[0]);
    ::close(sv[1]);
    return out;
}

TEST(SelfSigned, MakesAP256CertificateForTheLocalNames) {
    std::string error;
    auto made = tls::make_self_signed(error);
    ASSERT_TRUE(made) << error;
    X509* cert = parse_pem(made->cert_pem);
    ASSERT_TRUE(cert);
    // Self-signed: the certificate verifies with its own key.
    EVP_PKEY* pub = X509_get0_pubkey(cert);
    EXPECT_EQ(X509_verify(cert, pub), 1);
    EXPECT_EQ(EVP_PKEY_get_id(pub), EVP_PKEY_EC);
    char group[64] = {};
    std::size_t glen = 0;
    EXPECT_EQ(EVP_PKEY_get_group_name(pub, group, sizeof group, &glen), 1);
    EXPECT_STREQ(group, "prime256v1");
    // RFC 6125 §6.4: clients match the subjectAltName, so every local name is there.
    EXPECT_EQ(X509_check_host(cert, "localhost", 0, 0, nullptr), 1);
    EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
    EXPECT_EQ(X509_check_ip_asc(cert, "::1", 0), 1);
    EXPECT_NE(X509_check_host(cert, "example.com", 0, 0, nullptr), 1);
    EXPECT_EQ(X509_check_purpose(cert, X509_PURPOSE_SSL_SERVER, 0), 1);
    X509_free(cert);
    EXPECT_NE(made->key_pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
    // Two runs, two keys.
    auto again = tls::make_self_signed(error);
    ASSERT_TRUE(again);
    EXPECT_NE(again->key_pem, made->key_pem);
}

TEST(ServerContext, FromPemLoadsAndRejectsAKeyOfAnotherCertificate) {
    std::string error;
    auto a = tls::make_self_signed(error);
    auto b = tls::make_self_signed(error);
    ASSERT_TRUE(a && b) << error;
    EXPECT_TRUE(tls::server_context::from_pem(a->cert_pem, a->key_pem, error)) << error;
    EXPECT_FALSE(tls::server_context::from_pem(a->cert_pem, b->key_pem, error));
    EXPECT_NE(error.find("mismatch"), std::string::npos) << error;
    EXPECT_FALSE(tls::server_context::from_pem("not pem", a->key_pem, error));
    EXPECT_NE(error.find("no start line"), std::string::npos) << error;
}

class Alpn : public ::testing::Test {
protected:
    void SetUp() override {
        std::string error;
        auto made = tls::make_self_signed(error);
        ASSERT_TRUE(made) << error;
        ctx_ = tls::server_context::from_pem(made->cert_pem, made->key_pem, error);
        ASSERT_TRUE(ctx_) << error;
    }
    std::shared_ptr<tls::server_context> ctx_;
};

// RFC 7301 §3.2: the server's preference decides among the protocols the client offers.
TEST_F(Alpn, ServerPreferenceWins) {
    ctx_->set_alpn({"h2", "http/1.1"});
    EXPECT_EQ(handshake_alpn(ctx_->native(), std::string("\x08http/1.1\x02h2", 12)), "h2");
    EXPECT_EQ(handshake_alpn(ctx_->native(), std::string("\x08http/1.1", 9)), "http/1.1");
}

// RFC 7301 §3.2: none in common -> the fatal no_application_protocol alert.
TEST_F(Alpn, NoProtocolInCommonIsAFatalAlert) {
    ctx_->set_alpn({"h2", "http/1.1"});
    auto r = handshake_alpn(ctx_->native(), std::string("\x06spdy/3", 7));
    EXPECT_EQ(r.rfind("FAIL", 0), 0u) << r;
    EXPECT_NE(r.find("no application protocol"), std::string::npos) << r;
}

// RFC 7301 §3.1: a client that sends no ALPN extension gets none back.
TEST_F(Alpn, ClientWithoutAlpnGetsNone) {
    ctx_->set_alpn({"h2", "http/1.1"});
    EXPECT_EQ(handshake_alpn(ctx_->native(), ""), "");
}

// Without set_alpn() the context ignores the extension rather than refusing anyone.
TEST_F(Alpn, UnsetMeansTheExtensionIsIgnored) {
    EXPECT_EQ(handshake_alpn(ctx_->native(), std::string("\x02h2", 3)), "");
}

TEST(ServerContextReload, SwapsTheCertificateAndKeepsItOnFailure) {
    std::string error;
    auto a = tls::make_self_signed(error);
    auto b = tls::make_self_signed(error);
    ASSERT_TRUE(a && b) << error;
    files f;
    auto cert = f.write("cert.pem", a->cert_pem);
    auto key = f.write("key.pem", a->key_pem);
    auto ctx = tls::server_context::load(cert, key, error);
    ASSERT_TRUE(ctx) << error;
    ctx->set_alpn({"h2", "http/1.1"});
    SSL_CTX* before = ctx->native();
    auto const fp_a = leaf_fingerprint(before);
    EXPECT_EQ(ctx->generation(), 0u);

    f.write("cert.pem", b->cert_pem);
    f.write("key.pem", b->key_pem);
    ASSERT_TRUE(ctx->reload(cert, key, error)) << error;
    EXPECT_EQ(ctx->generation(), 1u);
    // The pointer handed out before the reload is still a live context (this thread holds it).
    SSL* late = SSL_new(before);
    ASSERT_TRUE(late);
    SSL_free(late);
    auto const fp_b = leaf_fingerprint(ctx->native());
    EXPECT_NE(fp_a, fp_b);
    // The new context keeps the ALPN list.
    EXPECT_EQ(handshake_alpn(ctx->native(), std::string("\x08http/1.1\x02h2", 12)), "h2");

    f.write("key.pem", a->key_pem); // b's certificate with a's key
    EXPECT_FALSE(ctx->reload(cert, key, error));
    EXPECT_NE(error.find("mismatch"), std::string::npos) << error;
    EXPECT_EQ(ctx->generation(), 1u);
    EXPECT_EQ(leaf_fingerprint(ctx->native()), fp_b);
}

// reload() on one thread while others keep taking native() for new connections (as loops do).
TEST(ServerContextReload, ConcurrentWithNative) {
    std::string error;
    auto a = tls::make_self_signed(error);
    ASSERT_TRUE(a) << error;
    files f;
    auto cert = f.write("cert.pem", a->cert_pem);
    auto key = f.write("key.pem", a->key_pem);
    auto ctx = tls::server_context::load(cert, key, error);
    ASSERT_TRUE(ctx) << error;
    std::atomic<bool> stop{false};
    std::vector<std::thread> users;
    for (int t = 0; t < 2; ++t)
        users.emplace_back([&] {
            while (!stop.load()) {
                SSL* s = SSL_new(ctx->native());
                ASSERT_TRUE(s);
                SSL_free(s);
            }
        });
    for (int i = 0; i < 20; ++i) {
        std::string e;
        EXPECT_TRUE(ctx->reload(cert, key, e)) << e;
    }
    stop = true;
    for (auto& u : users) u.join();
    EXPECT_EQ(ctx->generation(), 20u);
}

} // namespace
