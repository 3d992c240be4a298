#include "upshift/tls/context.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

namespace upshift::tls {
namespace {

/// `what`, then the reasons OpenSSL queued, oldest (the root cause) first:
/// "certificate cert.pem: no start line, PEM lib".
std::string openssl_error(char const* what) {
    std::string out = what;
    char const* sep = ": ";
    while (unsigned long e = ERR_get_error()) {
        char const* reason = ERR_reason_error_string(e);
        char buf[256];
        if (!reason) {
            ERR_error_string_n(e, buf, sizeof buf);
            reason = buf;
        }
        out += sep;
        out += reason;
        sep = ", ";
    }
    return out;
}

// TLS 1.2 suites: forward secrecy and AEAD only (Mozilla "intermediate").
// TLS 1.3 keeps OpenSSL's defaults, which are all AEAD.
constexpr char tls12_ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

struct ctx_deleter {
    void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};
using ctx_ptr = std::unique_ptr<SSL_CTX, ctx_deleter>;

/// A context with the protocol settings and no certificate yet.
ctx_ptr new_context(std::string& error) {
    ctx_ptr ctx{SSL_CTX_new(TLS_server_method())};
    if (!ctx) {
        error = openssl_error("SSL_CTX_new");
        return nullptr;
    }
    SSL_CTX* c = ctx.get();
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION);
    // No renegotiation (a DoS lever and a source of past CVEs); the server picks the
    // cipher; a peer that closes TCP without close_notify is an ordinary end of stream
    // for a server, because HTTP framing, not TLS, says whether a request is complete.
    SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION |
                               SSL_OP_IGNORE_UNEXPECTED_EOF);
    // Writes are retried by the owner with the same bytes from a possibly moved buffer.
    SSL_CTX_set_mode(c, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_set_cipher_list(c, tls12_ciphers) != 1) {
        error = openssl_error("cipher list");
        return nullptr;
    }
    return ctx;
}

ctx_ptr context_from_files(std::string const& cert_file, std::string const& key_file, std::string& error) {
    ERR_clear_error();
    auto ctx = new_context(error);
    if (!ctx) return nullptr;
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1) {
        error = openssl_error(("certificate " + cert_file).c_str());
        return nullptr;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        error = openssl_error(("private key " + key_file).c_str());
        return nullptr;
    }
    if (SSL_CTX_check_private_key(ctx.get()) != 1) {
        error = openssl_error("certificate and private key do not match");
        return nullptr;
    }
    return ctx;
}

ctx_ptr context_from_pem(std::string_view cert_pem, std::string_view key_pem, std::string& error) {
    ERR_clear_error();
    auto ctx = new_context(error);
    if (!ctx) return nullptr;
    std::unique_ptr<BIO, decltype(&BIO_free)> certs{BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())),
                                                     &BIO_free};
    std::unique_ptr<BIO, decltype(&BIO_free)> key{BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())),
                                                   &BIO_free};
    if (!certs || !key) {
        error = openssl_error("BIO_new_mem_buf");
        return nullptr;
    }
    // The first certificate is the server's; any that follow are its chain.
    X509* leaf = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr);
    bool const leaf_ok = leaf && SSL_CTX_use_certificate(ctx.get(), leaf) == 1;
    X509_free(leaf);
    if (!leaf_ok) {
        error = openssl_error("certificate (PEM)");
        return nullptr;
    }
    while (X509* extra = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr)) {
        if (SSL_CTX_add0_chain_cert(ctx.get(), extra) != 1) {  // takes ownership on success only
            X509_free(extra);
            error = openssl_error("certificate chain (PEM)");
            return nullptr;
        }
    }
    ERR_clear_error();  // the loop above ends on "no start line"
    EVP_PKEY* pkey = PEM_read_bio_PrivateKey(key.get(), nullptr, nullptr, nullptr);
    bool const key_ok = pkey && SSL_CTX_use_PrivateKey(ctx.get(), pkey) == 1;
    EVP_PKEY_free(pkey);
    if (!key_ok) {
        error = openssl_error("private key (PEM)");
        return nullptr;
    }
    if (SSL_CTX_check_private_key(ctx.get()) != 1) {
        error = openssl_error("certificate and private key do not match");
        return nullptr;
    }
    return ctx;
}

// RFC 7301 §3.2: the server picks one of the client's protocols, in its own order of
// preference; if it supports none of them it MUST answer with the fatal
// no_application_protocol alert (OpenSSL sends it for SSL_TLSEXT_ERR_ALERT_FATAL).
// `arg` is the server_context's list in wire format; empty: ALPN is not used.
int select_alpn(SSL*, unsigned char const** out, unsigned char* outlen, unsigned char const* in, unsigned inlen,
                void* arg) {
    auto const& ours = *static_cast<std::string const*>(arg);
    if (ours.empty()) return SSL_TLSEXT_ERR_NOACK;
    unsigned char* chosen = nullptr;
    if (SSL_select_next_proto(&chosen, outlen, reinterpret_cast<unsigned char const*>(ours.data()),
                              static_cast<unsigned>(ours.size()), in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

// native() hands out a raw pointer that tls::stream passes to SSL_new() at once. A reload()
// on another thread may drop the context's own reference in between, so each thread keeps a
// reference to the last context it was handed until it asks again (or exits): at most one
// extra SSL_CTX per thread stays alive after a reload, and no pointer dangles.
struct held_context {
    SSL_CTX* ctx = nullptr;
    ~held_context() { SSL_CTX_free(ctx); }
};
thread_local held_context held;

} // namespace

void server_context::adopt(SSL_CTX* ctx) noexcept {
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, &alpn_wire_);
}

std::shared_ptr<server_context> server_context::load(std::string const& cert_file, std::string const& key_file,
                                                     std::string& error) {
    auto ctx = context_from_files(cert_file, key_file, error);
    if (!ctx) return nullptr;
    std::shared_ptr<server_context> out(new server_context(ctx.release()));
    out->adopt(out->ctx_);
    return out;
}

std::shared_ptr<server_context> server_context::from_pem(std::string_view cert_pem, std::string_view key_pem,
                                                         std::string& error) {
    auto ctx = context_from_pem(cert_pem, key_pem, error);
    if (!ctx) return nullptr;
    std::shared_ptr<server_context> out(new server_context(ctx.release()));
    out->adopt(out->ctx_);
    return out;
}

server_context::~server_context() { SSL_CTX_free(ctx_); }

void server_context::set_alpn(std::vector<std::string> protocols) {
    std::string wire;
    for (auto const& p : protocols) {
        // RFC 7301 §3.1: each name is 1 to 255 octets.
        if (p.empty() || p.size() > 255) continue;
        wire += static_cast<char>(p.size());
        wire += p;
    }
    alpn_ = std::move(protocols);
    alpn_wire_ = std::move(wire);
}

bool server_context::reload(std::string const& cert_file, std::string const& key_file, std::string& error) {
    auto ctx = context_from_files(cert_file, key_file, error);
    if (!ctx) return false;
    adopt(ctx.get());
    SSL_CTX* old = nullptr;
    {
        std::lock_guard lock(mu_);
        old = ctx_;
        ctx_ = ctx.release();
        ++generation_;
    }
    // Connections made from the old context hold their own references to it.
    SSL_CTX_free(old);
    return true;
}

unsigned server_context::generation() const {
    std::lock_guard lock(mu_);
    return generation_;
}

SSL_CTX* server_context::native() const {
    SSL_CTX* ctx = nullptr;
    {
        std::lock_guard lock(mu_);
        ctx = ctx_;
        SSL_CTX_up_ref(ctx);
    }
    SSL_CTX_free(held.ctx);
    held.ctx = ctx;
    return ctx;
}

} // namespace upshift::tls
