#pragma once
// Command line of `upshift`: argv -> what to do, with every value checked.
// No I/O here; main() prints and picks the exit code.
//
//   upshift serve [--listen ADDR:PORT] [--root DIR] [--threads N] [--log-level LEVEL]
//                 [--access-log] [--header-timeout SEC] [--idle-timeout SEC]
//                 [--body-timeout SEC] [--write-timeout SEC] [--max-header-bytes N]
//                 [--max-body-bytes N] [--max-connections N] [--file-cache-valid SEC]
//                 [--processing-interval SEC] [--early-hints PATH=LINK]... [--no-h2c]
//                 [--h2c-advertise] [--tls-cert FILE --tls-key FILE | --tls-self-signed]
//                 [--tls-listen ADDR:PORT]
//                 [--tls-upgrade [--tls-upgrade-any-request-unsafe] [--tls-upgrade-same-cert-unsafe]]
//                 (--tls-upgrade needs one of the two certificate sources)
//   upshift --help | serve --help | --version
//
// Options take their value as the next argument or after '=' (--threads=4).
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "log.hpp"
#include "upshift/server/options.hpp"

namespace upshift::app {

struct serve_config {
    server::options server;                 ///< listen, threads, limits, timeouts, max_connections
    std::string root;                       ///< document root as given (canonicalised by static_files)
    std::uint64_t max_body_bytes = 1 << 20; ///< /echo-body limit; also limits.max_body_bytes
    /// How long a cached small file is served before its stat() is checked again (0: every request).
    std::chrono::milliseconds file_cache_valid{1000};
    /// 103 Early Hints: (path, Link value) pairs from --early-hints, in order.
    std::vector<std::pair<std::string, std::string>> early_hints;
    bool root_given = false;  ///< --root was passed (the demo's default hints apply only without it)
    log_level level = log_level::info;
    bool access_log = false;
    /// HTTP/2: Upgrade: h2c (RFC 7540 §3.2), prior knowledge (RFC 9113 §3.3) and ALPN "h2" on the
    /// HTTPS listener (RFC 9113 §3.2); --no-h2c turns all three off.
    bool h2c = true;
    /// --h2c-advertise: `Upgrade: h2c` on HTTP/1.1 responses (RFC 9110 §7.8); needs h2c.
    bool h2c_advertise = false;
    /// HTTPS: --tls-cert and --tls-key (PEM files) together serve the same handler over TLS on
    /// server.tls_listen (--tls-listen); main() loads them into server.tls.
    std::string tls_cert;
    std::string tls_key;
    bool tls_listen_given = false;
    /// --tls-self-signed: HTTPS on server.tls_listen with a certificate main() makes at start-up.
    bool tls_self_signed = false;
    /// --tls-upgrade: RFC 2817 upgrade on the plaintext listener with its own context of the
    /// same certificate (server.tls_upgrade: loaded from the files, or the --tls-self-signed one);
    /// the HTTPS listener then runs only with --tls-listen.
    /// The policy and the same-certificate override are set in `server` directly.
    bool tls_upgrade = false;
    bool tls_upgrade_unsafe_given = false;  ///< one of the two *-unsafe flags (they need --tls-upgrade)
};

enum class command {
    serve,
    help,        ///< `upshift --help`: general usage on stdout, exit 0
    serve_help,  ///< `upshift serve --help`
    version,     ///< `upshift --version`
    usage_error, ///< `message` says what is wrong: stderr, exit 2
};

struct cli_result {
    command cmd = command::usage_error;
    serve_config config;  ///< valid for command::serve
    std::string message;  ///< for command::usage_error, without the "upshift: " prefix
};

/// Parses the arguments after argv[0].
cli_result parse_command_line(std::span<char const* const> args);

std::string usage_text();
std::string serve_usage_text();
std::string version_text();

} // namespace upshift::app
