#include "upshift/tls/context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace upshift::tls {
namespace {

std::string openssl_error(char const* what) {
    std::string out = what;
    if (unsigned long e = ERR_peek_last_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        out += ": ";
        out += buf;
    }
    ERR_clear_error();
    return out;
}

// TLS 1.2 suites: forward secrecy and AEAD only (Mozilla "intermediate").
// TLS 1.3 keeps OpenSSL's defaults, which are all AEAD.
constexpr char tls12_ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

} // namespace

std::shared_ptr<server_context> server_context::load(std::string const& cert_file, std::string const& key_file,
                                                     std::string& error) {
    ERR_clear_error();
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        error = openssl_error("SSL_CTX_new");
        return nullptr;
    }
    std::shared_ptr<server_context> out(new server_context(ctx));
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    // No renegotiation (a DoS lever and a source of past CVEs); the server picks the
    // cipher; a peer that closes TCP without close_notify is an ordinary end of stream
    // for a server, because HTTP framing, not TLS, says whether a request is complete.
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_IGNORE_UNEXPECTED_EOF);
    // Writes are retried by the owner with the same bytes from a possibly moved buffer.
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_set_cipher_list(ctx, tls12_ciphers) != 1) {
        error = openssl_error("cipher list");
        return nullptr;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
        error = openssl_error(("certificate " + cert_file).c_str());
        return nullptr;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        error = openssl_error(("private key " + key_file).c_str());
        return nullptr;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        error = openssl_error("certificate and private key do not match");
        return nullptr;
    }
    return out;
}

server_context::~server_context() { SSL_CTX_free(ctx_); }

} // namespace upshift::tls
