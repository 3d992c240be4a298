#pragma once
// The app's TLS certificates: a self-signed one made at start-up (--tls-self-signed),
// and reloading the --tls-cert / --tls-key files on SIGHUP.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "upshift/tls/context.hpp"

namespace upshift::app {

/// --tls-self-signed: a server context with a fresh self-signed certificate for localhost,
/// 127.0.0.1 and ::1 (tls::make_self_signed). The certificate's PEM is written to a new
/// private directory under $TMPDIR (or /tmp) so that clients can trust it; the key stays in
/// memory. The directory is removed with this object.
class self_signed_certificate {
public:
    /// False and `error` on failure. `with_upgrade_context` (--tls-upgrade): also a second
    /// context with the same certificate and key, for the RFC 2817 upgrade; the server sets
    /// ALPN on the HTTPS listener's context, and the upgraded connection speaks HTTP/1.1 only,
    /// so the two are never one object (server::options::tls_upgrade).
    bool make(std::string& error, bool with_upgrade_context = false);
    ~self_signed_certificate();

    std::shared_ptr<tls::server_context> const& context() const noexcept { return ctx_; }
    /// Null unless make() was asked for it.
    std::shared_ptr<tls::server_context> const& upgrade_context() const noexcept { return upgrade_ctx_; }
    std::string const& pem_file() const noexcept { return pem_file_; }

private:
    std::shared_ptr<tls::server_context> ctx_;
    std::shared_ptr<tls::server_context> upgrade_ctx_;
    std::string dir_;
    std::string pem_file_;
};

/// On SIGHUP, reloads every context it was given from its files (tls::server_context::reload):
/// new handshakes get the new certificate, open connections keep theirs, and a file that does
/// not load leaves the old certificate in place (the reason goes to the log).
///
/// SIGHUP is taken with sigwait() on a thread of its own (a signal handler may not load files
/// or take locks), so start() must run before any other thread exists: it blocks SIGHUP in
/// the calling thread, and threads started later inherit that.
class certificate_reloader {
public:
    certificate_reloader() = default;
    ~certificate_reloader() { stop(); }
    certificate_reloader(certificate_reloader const&) = delete;
    certificate_reloader& operator=(certificate_reloader const&) = delete;

    /// Reload `ctx` (if not null) from these files on SIGHUP.
    void add(std::shared_ptr<tls::server_context> ctx, std::string cert_file, std::string key_file);
    /// Takes SIGHUP from now on (a server with TLS must not die of it, even with nothing to reload).
    void start();
    void stop();

private:
    struct entry {
        std::shared_ptr<tls::server_context> ctx;
        std::string cert_file;
        std::string key_file;
    };
    void reload_all();

    std::vector<entry> entries_;
    std::thread thread_;
    std::atomic<bool> quit_{false};
};

} // namespace upshift::app
