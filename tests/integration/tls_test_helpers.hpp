#pragma once
// Helpers for the HTTPS tests of `upshift serve`: certificates made with the openssl CLI, a server
// started with them, and openssl s_client runs.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "integration_helpers.hpp"

namespace upshift::test {

/// The port of an "upshift listening on https://HOST:PORT[ ...]" line.
inline std::optional<std::uint16_t> https_line_port(std::string_view line) {
    auto at = line.find("https://");
    if (at == std::string_view::npos) return std::nullopt;
    return parse_url_port("http://" + std::string{line.substr(at + 8)});
}

/// Makes `<stem>-cert.pem` and `<stem>-key.pem` in `dir` (`cert.pem` and `key.pem` for an empty
/// stem): a P-256 key and a self-signed certificate for localhost and 127.0.0.1 (so clients can
/// verify it by IP too). The one way the TLS tests make certificates.
inline command_result make_certificate(std::string const& openssl, temp_dir const& dir,
                                       std::string const& stem = {}) {
    std::string const prefix = stem.empty() ? "" : stem + "-";
    return run_command({openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "1", "-keyout",
                        dir.file(prefix + "key.pem"), "-out", dir.file(prefix + "cert.pem")});
}

/// make_certificate() as an assertion: success, or the openssl output.
inline ::testing::AssertionResult made_certificate(std::string const& openssl, temp_dir const& dir,
                                                   std::string const& stem = {}) {
    auto r = make_certificate(openssl, dir, stem);
    if (r.exit && r.exit->success()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << r;
}

/// `upshift serve` on 127.0.0.1:0 with HTTPS on 127.0.0.1:0; ready once the https line is out.
/// `tls_args`: --tls-cert/--tls-key or --tls-self-signed, plus anything else.
inline spawn_options https_server(std::vector<std::string> tls_args) {
    spawn_options opts;
    opts.argv = {app_path(), "serve", "--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0"};
    opts.argv.insert(opts.argv.end(), tls_args.begin(), tls_args.end());
    opts.ready_line = https_line_port;
    return opts;
}

/// Runs a shell command line (for pipes into openssl s_client).
inline command_result shell(std::string const& line) { return run_command({"/bin/sh", "-c", line}); }

/// Single-quotes `s` for /bin/sh.
inline std::string sh_quote(std::string_view s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    return out + "'";
}

/// `openssl s_client -connect 127.0.0.1:PORT <args>` with `input` (printf format) on its stdin,
/// stdout and stderr together. With input, -ign_eof keeps it reading the server's answer until
/// the server closes; without, it leaves right after the handshake.
inline command_result s_client(std::string const& openssl, std::uint16_t port, std::string const& args,
                               std::string const& input = "") {
    return shell("printf " + sh_quote(input) + " | " + sh_quote(openssl) + " s_client " +
                 (input.empty() ? "" : "-ign_eof ") + "-connect 127.0.0.1:" + std::to_string(port) +
                 " -servername localhost " + args + " 2>&1");
}

/// The SHA-256 fingerprint line of a PEM certificate file ("sha256 Fingerprint=AB:...").
inline std::string file_fingerprint(std::string const& openssl, std::string const& pem) {
    auto r = run_command({openssl, "x509", "-in", pem, "-noout", "-fingerprint", "-sha256"});
    return r.exit && r.exit->success() ? r.out : std::string{};
}

/// The fingerprint of the certificate the server presents to a new connection.
inline std::string served_fingerprint(std::string const& openssl, std::uint16_t port) {
    auto r = shell(sh_quote(openssl) + " s_client -connect 127.0.0.1:" + std::to_string(port) +
                   " -servername localhost </dev/null 2>/dev/null | " + sh_quote(openssl) +
                   " x509 -noout -fingerprint -sha256");
    return r.exit && r.exit->success() ? r.out : std::string{};
}

} // namespace upshift::test
