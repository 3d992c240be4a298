#include "certificates.hpp"

#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "log.hpp"
#include "upshift/tls/self_signed.hpp"

namespace upshift::app {

bool self_signed_certificate::make(std::string& error, bool with_upgrade_context) {
    auto made = tls::make_self_signed(error);
    if (!made) return false;
    auto ctx = tls::server_context::from_pem(made->cert_pem, made->key_pem, error);
    if (!ctx) return false;
    std::shared_ptr<tls::server_context> upgrade_ctx;
    if (with_upgrade_context) {
        upgrade_ctx = tls::server_context::from_pem(made->cert_pem, made->key_pem, error);
        if (!upgrade_ctx) return false;
    }
    std::error_code ec;
    auto base = std::filesystem::temp_directory_path(ec);
    if (ec) base = "/tmp";
    std::string dir = (base / "upshift-tls-XXXXXX").string();
    if (::mkdtemp(dir.data()) == nullptr) {
        error = "cannot create a directory for the certificate under " + base.string();
        return false;
    }
    dir_ = dir;
    pem_file_ = dir + "/localhost-cert.pem";
    std::ofstream out{pem_file_, std::ios::binary | std::ios::trunc};
    out << made->cert_pem;
    out.close();
    if (!out) {
        error = "cannot write " + pem_file_;
        return false;
    }
    ctx_ = std::move(ctx);
    upgrade_ctx_ = std::move(upgrade_ctx);
    return true;
}

self_signed_certificate::~self_signed_certificate() {
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
}

void certificate_reloader::add(std::shared_ptr<tls::server_context> ctx, std::string cert_file,
                               std::string key_file) {
    if (ctx) entries_.push_back({std::move(ctx), std::move(cert_file), std::move(key_file)});
}

void certificate_reloader::start() {
    if (thread_.joinable()) return;
    sigset_t hup;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    ::pthread_sigmask(SIG_BLOCK, &hup, nullptr);
    thread_ = std::thread([this, hup] {
        for (;;) {
            int sig = 0;
            if (::sigwait(&hup, &sig) != 0) continue;
            if (quit_.load()) return;
            reload_all();
        }
    });
}

void certificate_reloader::stop() {
    if (!thread_.joinable()) return;
    quit_.store(true);
    ::pthread_kill(thread_.native_handle(), SIGHUP); // wakes its sigwait()
    thread_.join();
}

void certificate_reloader::reload_all() {
    if (entries_.empty()) log(log_level::info, "SIGHUP: no certificate files to reload");
    for (auto const& e : entries_) {
        std::string error;
        if (e.ctx->reload(e.cert_file, e.key_file, error))
            log(log_level::info,
                "SIGHUP: reloaded the TLS certificate " + e.cert_file + " and key " + e.key_file);
        else
            log(log_level::error, "SIGHUP: kept the previous TLS certificate: " + error);
    }
}

} // namespace upshift::app
