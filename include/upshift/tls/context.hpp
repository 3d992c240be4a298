#pragma once
// The server side of TLS: one certificate and key, TLS 1.2 and 1.3 only, modern
// ciphers. Shared by every tls::stream accepted with it (OpenSSL's SSL_CTX is
// reference counted and safe to use from several threads once configured).
#include <memory>
#include <string>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX, kept out of this header

namespace upshift::tls {

class server_context {
public:
    /// Loads a PEM certificate chain and its PEM private key. Returns null and sets
    /// `error` (OpenSSL's reason) when either cannot be loaded or they do not match.
    static std::shared_ptr<server_context> load(std::string const& cert_file, std::string const& key_file,
                                                std::string& error);
    ~server_context();
    server_context(server_context const&) = delete;
    server_context& operator=(server_context const&) = delete;

    ssl_ctx_st* native() const noexcept { return ctx_; }

private:
    explicit server_context(ssl_ctx_st* ctx) noexcept : ctx_(ctx) {}
    ssl_ctx_st* ctx_;
};

} // namespace upshift::tls
