// upshift: the command-line server. Parses the command line, binds, announces
// the bound address on stdout, and serves until SIGINT or SIGTERM (SIGHUP reloads
// the TLS certificate and key).
#include <atomic>
#include <csignal>
#include <cstdio>
#include <optional>
#include <span>
#include <string>

#include "certificates.hpp"
#include "cli.hpp"
#include "echo_protocol.hpp"
#include "log.hpp"
#include "routes.hpp"
#include "static_files.hpp"
#include "upshift/h2c/service.hpp"
#include "upshift/server/server.hpp"
#include "upshift/tls/context.hpp"

namespace {

// Exit codes: 0 clean stop, 1 the server could not start, 2 bad command line.
constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

// Written once before the handlers are installed; the handler only reads it. A lock-free
// atomic is one of the few things a signal handler may touch.
std::atomic<upshift::server::server*> running_server{nullptr};

extern "C" void on_stop_signal(int) {
    // server::stop() is async-signal-safe: it only sets flags and writes to each loop's wake fd.
    if (auto* s = running_server.load()) s->stop();
}

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    // SA_RESETHAND: the first SIGINT stops gracefully, a second one (an impatient Ctrl-C
    // while slow clients drain) kills the process the default way.
    sa.sa_flags = static_cast<int>(SA_RESTART | SA_RESETHAND);  // glibc defines SA_RESETHAND as unsigned
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    // A peer that resets its connection must cost us an EPIPE, not the process.
    std::signal(SIGPIPE, SIG_IGN);
}

int serve(upshift::app::serve_config config) {
    using namespace upshift;
    app::set_log_level(config.level);

    std::error_code ec;
    auto files = app::static_files::open(config.root, config.file_cache_valid, ec);
    if (!files) {
        std::fprintf(stderr, "upshift: --root %s: %s\n", config.root.c_str(), ec.message().c_str());
        return exit_usage;
    }
    if (config.access_log) config.server.access_log = app::write_access_line;
    auto hints = std::move(config.early_hints);
    if (hints.empty() && !config.root_given) {
        // The demo page's own stylesheet and script, hinted before the page.
        for (auto path : {"/", "/index.html"}) {
            hints.emplace_back(path, "</style.css>; rel=preload; as=style");
            hints.emplace_back(path, "</app.js>; rel=preload; as=script");
        }
    }
    auto protocols = std::make_shared<upgrade::registry>();
    protocols->add(app::make_echo_protocol());
    config.server.protocols = std::move(protocols);

    auto const listen = config.server.listen;
    auto const threads = config.server.threads;
    server::handler handler = app::make_handler({files, config.max_body_bytes, std::move(hints)});
    if (config.h2c) {
        // The same handler answers HTTP/2 streams; HTTP/1.1 requests offering
        // h2c switch first (RFC 7540 §3.2), and the preface starts HTTP/2 at once (RFC 9113 §3.3).
        h2c::options h2opts;
        h2opts.max_upgrade_body = static_cast<std::size_t>(config.max_body_bytes);
        h2opts.max_header_list_size = static_cast<std::uint32_t>(config.server.limits.max_header_bytes);
        h2opts.advertise = config.h2c_advertise;
        h2opts.access_log = config.server.access_log;  // HTTP/2 streams are logged like HTTP/1.1 requests
        h2c::service const h2{std::move(handler), h2opts};
        config.server.prior_knowledge = h2.prior_knowledge();
        // RFC 9113 §3.2: over TLS, ALPN "h2" starts HTTP/2 after the handshake; the session is
        // the prior-knowledge one (no 101; the client preface comes first, as in §3.3).
        config.server.h2_over_tls = h2.prior_knowledge();
        config.server.advertise_upgrade = h2.advertisement();
        handler = h2.http1_handler();
    }
    if (!config.tls_cert.empty()) {
        std::string error;
        config.server.tls = tls::server_context::load(config.tls_cert, config.tls_key, error);
        if (!config.server.tls) {
            app::log(app::log_level::error, "cannot load the TLS certificate: " + error);
            return exit_failure;
        }
        if (config.tls_upgrade) {
            // RFC 2817 upgrade: a context of its own (HTTP/1.1 only, whatever the HTTPS listener's
            // ALPN says). Without an explicit --tls-listen the certificate serves only the upgrade:
            // the same certificate on an HTTPS port is what the Opossum attack redirects
            // (server::listen() refuses it without --tls-upgrade-same-cert-unsafe).
            config.server.tls_upgrade = tls::server_context::load(config.tls_cert, config.tls_key, error);
            if (!config.server.tls_upgrade) {
                app::log(app::log_level::error, "cannot load the TLS certificate: " + error);
                return exit_failure;
            }
            if (!config.tls_listen_given) config.server.tls = nullptr;
        }
    }
    // --tls-self-signed: the key lives in memory only; clients trust the certificate's file.
    app::self_signed_certificate self_signed;
    if (config.tls_self_signed) {
        std::string error;
        if (!self_signed.make(error, config.tls_upgrade)) {
            app::log(app::log_level::error, "cannot make a self-signed certificate: " + error);
            return exit_failure;
        }
        config.server.tls = self_signed.context();
        if (config.tls_upgrade) {
            // The same rule as for --tls-cert above: the upgrade has a context of its own, and
            // without an explicit --tls-listen the certificate serves only the upgrade.
            config.server.tls_upgrade = self_signed.upgrade_context();
            if (!config.tls_listen_given) config.server.tls = nullptr;
        }
    }
    // SIGHUP reloads every context loaded from the files (renewed certificate and key).
    app::certificate_reloader reloader;
    if (!config.tls_cert.empty()) {
        reloader.add(config.server.tls, config.tls_cert, config.tls_key);
        reloader.add(config.server.tls_upgrade, config.tls_cert, config.tls_key);  // RFC 2817's own
    }
    auto const tls_listen = config.server.tls ? std::optional{config.server.tls_listen} : std::nullopt;
    server::server srv{std::move(config.server), std::move(handler)};
    if (auto err = srv.listen()) {
        if (err == server::error::tls_upgrade_same_certificate) {
            app::log(app::log_level::error, "--tls-upgrade with --tls-listen: " + err.message() +
                                                 "; pass --tls-upgrade-same-cert-unsafe to run anyway");
            return exit_failure;
        }
        app::log(app::log_level::error,
                 "cannot listen on " + listen.to_string() + (tls_listen ? " or " + tls_listen->to_string() : "") +
                     ": " + err.message());
        return exit_failure;
    }
    running_server.store(&srv);
    install_signal_handlers();
    // Before srv.run() starts the loop threads: they inherit its signal mask.
    if (!config.tls_cert.empty() || config.tls_self_signed) reloader.start();

    // The test harness and scripts wait for this exact line; with port 0 it is the only way
    // to learn the port, so it names the bound one, and is flushed at once (stdout is a pipe).
    std::string const url = "http://" + net::endpoint{listen.host, srv.port()}.to_string();
    std::printf("upshift listening on %s\n", url.c_str());
    if (tls_listen) {  // after the http line, which existing scripts take as "ready"
        std::string const tls_url = "https://" + net::endpoint{tls_listen->host, srv.tls_port()}.to_string();
        if (self_signed.pem_file().empty()) std::printf("upshift listening on %s\n", tls_url.c_str());
        else std::printf("upshift listening on %s (self-signed certificate: %s)\n", tls_url.c_str(),
                         self_signed.pem_file().c_str());
    }
    if (config.tls_self_signed && config.tls_upgrade) {
        // Without an HTTPS listener there is no https line: clients learn the file to trust here.
        std::printf("upshift upgrades to TLS (RFC 2817) on %s (self-signed certificate: %s)\n", url.c_str(),
                    self_signed.pem_file().c_str());
    }
    std::fflush(stdout);
    app::log(app::log_level::info, "serving " + files->root() + " with " + std::to_string(threads) +
                                       (threads == 1 ? " thread" : " threads"));

    srv.run();
    running_server.store(nullptr);
    reloader.stop();
    app::log(app::log_level::info, "stopped");
    return exit_ok;
}

} // namespace

int main(int argc, char** argv) {
    using namespace upshift::app;
    auto const args = std::span<char const* const>{argv, static_cast<std::size_t>(argc)}.subspan(argc > 0 ? 1 : 0);
    auto parsed = parse_command_line(args);
    switch (parsed.cmd) {
    case command::help:
        std::fputs(usage_text().c_str(), stdout);
        return exit_ok;
    case command::serve_help:
        std::fputs(serve_usage_text().c_str(), stdout);
        return exit_ok;
    case command::version:
        std::fputs(version_text().c_str(), stdout);
        return exit_ok;
    case command::usage_error:
        std::fprintf(stderr, "upshift: %s\nTry 'upshift --help' or 'upshift serve --help'.\n", parsed.message.c_str());
        return exit_usage;
    case command::serve:
        break;
    }
    return serve(std::move(parsed.config));
}
