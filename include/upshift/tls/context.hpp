#pragma once
// The server side of TLS: one certificate and key, TLS 1.2 and 1.3 only, modern
// ciphers, and the application protocols offered through ALPN (RFC 7301).
// Shared by every tls::stream accepted with it.
//
// Reload (SIGHUP): reload() builds a new SSL_CTX from the files and swaps it in.
// Handshakes that start afterwards use the new certificate; connections already
// set up keep theirs (each SSL holds a reference to the SSL_CTX it was made from).
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX, kept out of this header

namespace upshift::tls {

class server_context {
public:
    /// Loads a PEM certificate chain and its PEM private key. Returns null and sets
    /// `error` (OpenSSL's reason) when either cannot be loaded or they do not match.
    static std::shared_ptr<server_context> load(std::string const& cert_file, std::string const& key_file,
                                                std::string& error);
    /// The same from PEM text in memory (a generated self-signed certificate).
    static std::shared_ptr<server_context> from_pem(std::string_view cert_pem, std::string_view key_pem,
                                                    std::string& error);
    ~server_context();
    server_context(server_context const&) = delete;
    server_context& operator=(server_context const&) = delete;

    /// ALPN (RFC 7301 §3.2): the protocols this server speaks, most preferred first
    /// ("h2", "http/1.1"). The server picks the first of these the client offers;
    /// a client that offers ALPN but none of these gets the fatal
    /// no_application_protocol alert; a client that offers no ALPN is not asked.
    /// Empty (the default): the ALPN extension is ignored. Call before the context
    /// is used by a stream (the list is read without a lock during handshakes).
    void set_alpn(std::vector<std::string> protocols);
    std::vector<std::string> const& alpn() const noexcept { return alpn_; }

    /// Builds a new SSL_CTX from the files and, if it loads, swaps it in (thread-safe:
    /// any thread, while loops accept). On failure the current one stays and `error`
    /// says why (OpenSSL's reason); returns false.
    bool reload(std::string const& cert_file, std::string const& key_file, std::string& error);
    /// How many times reload() swapped a new certificate in (for logs and tests).
    unsigned generation() const;

    /// The current SSL_CTX, for SSL_new() right away on the calling thread. The
    /// pointer stays valid until this thread calls native() again, even if reload()
    /// swaps the context meanwhile.
    ssl_ctx_st* native() const;

private:
    explicit server_context(ssl_ctx_st* ctx) noexcept : ctx_(ctx) {}
    void adopt(ssl_ctx_st* ctx) noexcept;  // installs the ALPN callback

    mutable std::mutex mu_;  // guards ctx_ and generation_ (reload() vs native())
    ssl_ctx_st* ctx_;
    unsigned generation_ = 0;
    std::vector<std::string> alpn_;
    std::string alpn_wire_;  // alpn_ in the wire format: length-prefixed names
};

} // namespace upshift::tls
