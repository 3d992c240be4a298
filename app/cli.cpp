#include "cli.hpp"

#include <array>
#include <charconv>
#include <cstdio>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>

#ifndef UPSHIFT_DEFAULT_ROOT
#define UPSHIFT_DEFAULT_ROOT "demo/site"
#endif
#ifndef UPSHIFT_VERSION
#define UPSHIFT_VERSION "0.0.0"
#endif

namespace upshift::app {
namespace {

// Longest timeout accepted: beyond a day it is a typo (or a unit mix-up), not a policy.
constexpr double max_timeout_seconds = 86'400;

std::optional<std::uint64_t> parse_uint(std::string_view s, std::uint64_t min, std::uint64_t max) {
    std::uint64_t v = 0;
    auto const end = s.data() + s.size();
    auto const [p, ec] = std::from_chars(s.data(), end, v);
    if (s.empty() || ec != std::errc{} || p != end || v < min || v > max) return std::nullopt;
    return v;
}

// Decimal seconds ("10", "0.5", ".25"); no sign, exponent, inf or nan. Rounded to milliseconds,
// the unit of server::options, and at least 1 ms: a zero timeout would cut every connection.
std::optional<std::chrono::milliseconds> parse_seconds(std::string_view s) {
    bool digit = false;
    int dots = 0;
    for (char c : s) {
        if (c >= '0' && c <= '9') digit = true;
        else if (c == '.') ++dots;
        else return std::nullopt;
    }
    if (!digit || dots > 1) return std::nullopt;
    double v = 0;
    auto const end = s.data() + s.size();
    auto const [p, ec] = std::from_chars(s.data(), end, v, std::chars_format::fixed);
    if (ec != std::errc{} || p != end || !(v > 0) || v > max_timeout_seconds) return std::nullopt;
    long long const ms = std::llround(v * 1000.0);
    if (ms < 1) return std::nullopt;
    return std::chrono::milliseconds{ms};
}

// Built with append: GCC 12 warns (-Wrestrict, a false positive) on "'" + std::string{v} + "'".
std::string quoted(std::string_view v) {
    std::string s;
    s.reserve(v.size() + 2);
    s.append(1, '\'').append(v).append(1, '\'');
    return s;
}

using apply_fn = std::string (*)(serve_config&, std::string_view);

std::string set_timeout(std::chrono::milliseconds& out, std::string_view v) {
    auto t = parse_seconds(v);
    if (!t) return "expected seconds greater than 0 and at most 86400 (e.g. 10 or 0.5), got " + quoted(v);
    out = *t;
    return {};
}

template <class T>
std::string set_uint(T& out, std::string_view v, std::uint64_t min, std::uint64_t max) {
    auto n = parse_uint(v, min, max);
    if (!n) return "expected an integer from " + std::to_string(min) + " to " + std::to_string(max) + ", got " + quoted(v);
    out = static_cast<T>(*n);
    return {};
}

struct option_spec {
    std::string_view name;     ///< without the leading "--"
    bool takes_value;
    apply_fn apply;            ///< returns "" or what is wrong with the value
};

// One table: parsing, and the help text below, list the same options.
constexpr std::array<option_spec, 24> serve_options{{
    {"listen", true,
     [](serve_config& c, std::string_view v) -> std::string {
         if (!net::endpoint::parse(v, c.server.listen))
             return "expected ADDR:PORT with a numeric address (127.0.0.1:8080, [::1]:0, :8080), got " + quoted(v);
         return {};
     }},
    {"root", true,
     [](serve_config& c, std::string_view v) -> std::string {
         if (v.empty()) return "expected a directory";
         c.root = v;
         c.root_given = true;
         return {};
     }},
    {"threads", true,
     [](serve_config& c, std::string_view v) { return set_uint(c.server.threads, v, 1, 1024); }},
    {"log-level", true,
     [](serve_config& c, std::string_view v) -> std::string {
         auto l = parse_log_level(v);
         if (!l) return "expected error, warn, info or debug, got " + quoted(v);
         c.level = *l;
         return {};
     }},
    {"access-log", false,
     [](serve_config& c, std::string_view) -> std::string {
         c.access_log = true;
         return {};
     }},
    {"header-timeout", true,
     [](serve_config& c, std::string_view v) { return set_timeout(c.server.header_timeout, v); }},
    {"idle-timeout", true,
     [](serve_config& c, std::string_view v) { return set_timeout(c.server.idle_timeout, v); }},
    {"body-timeout", true,
     [](serve_config& c, std::string_view v) { return set_timeout(c.server.body_timeout, v); }},
    {"write-timeout", true,
     [](serve_config& c, std::string_view v) { return set_timeout(c.server.write_timeout, v); }},
    {"max-header-bytes", true,
     [](serve_config& c, std::string_view v) {
         return set_uint(c.server.limits.max_header_bytes, v, 64, std::uint64_t{1} << 30);
     }},
    {"max-body-bytes", true,
     [](serve_config& c, std::string_view v) {
         return set_uint(c.max_body_bytes, v, 0, std::uint64_t{1} << 62);
     }},
    {"max-connections", true,
     [](serve_config& c, std::string_view v) { return set_uint(c.server.max_connections, v, 1, 10'000'000); }},
    {"processing-interval", true,
     [](serve_config& c, std::string_view v) { return set_timeout(c.server.processing_interval, v); }},
    {"early-hints", true,
     [](serve_config& c, std::string_view v) -> std::string {
         auto eq = v.find('=');
         if (eq == std::string_view::npos || eq == 0 || v[0] != '/' || eq + 1 == v.size())
             return "expected PATH=LINK (e.g. /=</style.css>; rel=preload; as=style), got " + quoted(v);
         c.early_hints.emplace_back(std::string(v.substr(0, eq)), std::string(v.substr(eq + 1)));
         return {};
     }},
    {"no-h2c", false,
     [](serve_config& c, std::string_view) -> std::string {
         c.h2c = false;
         return {};
     }},
    {"h2c-advertise", false,
     [](serve_config& c, std::string_view) -> std::string {
         c.h2c_advertise = true;
         return {};
     }},
    {"tls-cert", true,
     [](serve_config& c, std::string_view v) -> std::string {
         if (v.empty()) return "expected a PEM certificate file";
         c.tls_cert = v;
         return {};
     }},
    {"tls-key", true,
     [](serve_config& c, std::string_view v) -> std::string {
         if (v.empty()) return "expected a PEM private key file";
         c.tls_key = v;
         return {};
     }},
    {"tls-listen", true,
     [](serve_config& c, std::string_view v) -> std::string {
         if (!net::endpoint::parse(v, c.server.tls_listen))
             return "expected ADDR:PORT with a numeric address (127.0.0.1:8443, [::1]:0, :8443), got " + quoted(v);
         c.tls_listen_given = true;
         return {};
     }},
    {"tls-self-signed", false,
     [](serve_config& c, std::string_view) -> std::string {
         c.tls_self_signed = true;
         return {};
     }},
    {"tls-upgrade", false,
     [](serve_config& c, std::string_view) -> std::string {
         c.tls_upgrade = true;
         return {};
     }},
    {"tls-upgrade-any-request-unsafe", false,
     [](serve_config& c, std::string_view) -> std::string {
         c.server.tls_upgrade_policy = server::tls_upgrade_mode::any_request;
         c.tls_upgrade_unsafe_given = true;
         return {};
     }},
    {"tls-upgrade-same-cert-unsafe", false,
     [](serve_config& c, std::string_view) -> std::string {
         c.server.tls_upgrade_allow_same_certificate = true;
         c.tls_upgrade_unsafe_given = true;
         return {};
     }},
    {"file-cache-valid", true,
     [](serve_config& c, std::string_view v) -> std::string {
         if (v == "0") {  // revalidate on every request
             c.file_cache_valid = std::chrono::milliseconds{0};
             return {};
         }
         return set_timeout(c.file_cache_valid, v);
     }},
}};

option_spec const* find_option(std::string_view name) {
    for (auto const& o : serve_options)
        if (o.name == name) return &o;
    return nullptr;
}

cli_result usage_error(std::string message) {
    cli_result r;
    r.cmd = command::usage_error;
    r.message = std::move(message);
    return r;
}

cli_result parse_serve(std::span<char const* const> args) {
    cli_result r;
    r.cmd = command::serve;
    r.config.root = UPSHIFT_DEFAULT_ROOT;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (arg == "--help" || arg == "-h") {
            r.cmd = command::serve_help;
            return r;
        }
        if (!arg.starts_with("--") || arg.size() == 2) return usage_error("unexpected argument " + quoted(arg));
        auto name = arg.substr(2);
        std::optional<std::string_view> value;
        if (auto eq = name.find('='); eq != std::string_view::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        auto const* spec = find_option(name);
        if (!spec) return usage_error("unknown option '--" + std::string{name} + "'");
        if (!spec->takes_value && value) return usage_error("--" + std::string{name} + " takes no value");
        if (spec->takes_value && !value) {
            if (i + 1 >= args.size()) return usage_error("--" + std::string{name} + " needs a value");
            value = args[++i];
        }
        if (auto err = spec->apply(r.config, value.value_or("")); !err.empty())
            return usage_error("--" + std::string{name} + ": " + err);
    }
    // The same limit guards both paths: the parser refuses a declared Content-Length above it
    // before any handler runs (413, RFC 9110 §15.5.14), and the chunked decoder refuses a body
    // that grows past it.
    r.config.server.limits.max_body_bytes = r.config.max_body_bytes;
    // Advertising a protocol the server then refuses would send clients into a failed switch.
    if (r.config.h2c_advertise && !r.config.h2c)
        return usage_error("--h2c-advertise and --no-h2c contradict each other");
    // A certificate without its key (or the reverse) cannot serve anything.
    if (r.config.tls_cert.empty() != r.config.tls_key.empty())
        return usage_error("--tls-cert and --tls-key go together");
    if (r.config.tls_self_signed && !r.config.tls_cert.empty())
        return usage_error("--tls-self-signed and --tls-cert contradict each other");
    if (r.config.tls_listen_given && r.config.tls_cert.empty() && !r.config.tls_self_signed)
        return usage_error("--tls-listen needs --tls-cert and --tls-key");
    if (r.config.tls_upgrade && r.config.tls_cert.empty() && !r.config.tls_self_signed)
        return usage_error("--tls-upgrade needs --tls-cert and --tls-key, or --tls-self-signed");
    if (r.config.tls_upgrade_unsafe_given && !r.config.tls_upgrade)
        return usage_error("--tls-upgrade-any-request-unsafe and --tls-upgrade-same-cert-unsafe need --tls-upgrade");
    return r;
}

std::string seconds_text(std::chrono::milliseconds ms) {
    auto const whole = ms.count() / 1000;
    auto const frac = ms.count() % 1000;
    std::string s = std::to_string(whole);
    if (frac != 0) {
        char buf[8];
        auto const n = std::snprintf(buf, sizeof buf, ".%03lld", static_cast<long long>(frac));
        s.append(buf, static_cast<std::size_t>(n));
        while (s.back() == '0') s.pop_back();
    }
    return s;
}

} // namespace

cli_result parse_command_line(std::span<char const* const> args) {
    if (args.empty()) return usage_error("missing command");
    std::string_view const first = args[0];
    if (first == "--help" || first == "-h" || first == "help") {
        cli_result r;
        r.cmd = command::help;
        return r;
    }
    if (first == "--version" || first == "-V") {
        cli_result r;
        r.cmd = command::version;
        return r;
    }
    if (first == "serve") return parse_serve(args.subspan(1));
    if (first.starts_with("-")) return usage_error("unknown option " + quoted(first));
    return usage_error("unknown command " + quoted(first));
}

std::string usage_text() {
    return "Usage: upshift <command> [options]\n"
           "\n"
           "An HTTP/1.1 server built around protocol switching (101 Switching Protocols).\n"
           "\n"
           "Commands:\n"
           "  serve            serve a directory of static files and the demo routes\n"
           "\n"
           "Options:\n"
           "  -h, --help       show this help; 'upshift serve --help' lists the serve options\n"
           "  -V, --version    print the version\n";
}

std::string serve_usage_text() {
    server::options const d;
    std::string s;
    s += "Usage: upshift serve [options]\n"
         "\n"
         "Serves the files under --root, and:\n"
         "  GET  /healthz    200 \"ok\"\n"
         "  POST /echo-body  the request body back, with its Content-Type\n"
         "\n"
         "Options (--name VALUE or --name=VALUE):\n";
    s += "  --listen ADDR:PORT      address to bind; port 0 picks a free one (default " + d.listen.to_string() + ")\n";
    s += "  --root DIR              document root (default " UPSHIFT_DEFAULT_ROOT ")\n";
    s += "  --threads N             event loops, each with its own SO_REUSEPORT listener (default " +
         std::to_string(d.threads) + ")\n";
    s += "  --log-level LEVEL       error, warn, info or debug: diagnostics on stderr (default info)\n";
    s += "  --access-log            one line per response on stdout:\n"
         "                          REMOTE \"METHOD TARGET HTTP/1.x\" STATUS BYTES MICROSus\n";
    s += "  --header-timeout SEC    a request head must arrive within SEC, else 408 (default " +
         seconds_text(d.header_timeout) + ")\n";
    s += "  --idle-timeout SEC      close a keep-alive connection idle for SEC (default " +
         seconds_text(d.idle_timeout) + ")\n";
    s += "  --body-timeout SEC      close when a request body stalls for SEC (default " +
         seconds_text(d.body_timeout) + ")\n";
    s += "  --write-timeout SEC     close when the client stops reading for SEC (default " +
         seconds_text(d.write_timeout) + ")\n";
    s += "  --max-header-bytes N    request line and header fields, else 431 (default " +
         std::to_string(d.limits.max_header_bytes) + ")\n";
    s += "  --max-body-bytes N      request body, else 413 (default " + std::to_string(serve_config{}.max_body_bytes) +
         ")\n";
    s += "  --max-connections N     open connections per thread, upgraded ones included (default " +
         std::to_string(d.max_connections) + ")\n";
    s += "  --processing-interval SEC\n"
         "                          send \"102 Processing\" this often while a request waits (default off)\n";
    s += "  --early-hints PATH=LINK send \"103 Early Hints\" with this Link before answering PATH;\n"
         "                          repeat for more links (default: the demo's / and /index.html\n"
         "                          hint /style.css and /app.js unless --root is given)\n";
    s += "  --file-cache-valid SEC  serve a cached small file this long before checking it on disk\n"
         "                          again; 0 checks on every request (default " +
         seconds_text(serve_config{}.file_cache_valid) + ")\n";
    s += "  --no-h2c                HTTP/1.1 only: no HTTP/2 by Upgrade: h2c, by prior knowledge, or\n"
         "                          by ALPN \"h2\" over TLS (default: all on)\n";
    s += "  --h2c-advertise         add \"Upgrade: h2c\" to HTTP/1.1 responses, so clients learn they\n"
         "                          may switch (default off)\n";
    s += "  --tls-cert FILE         PEM certificate (chain) for HTTPS; needs --tls-key\n";
    s += "  --tls-key FILE          PEM private key of --tls-cert\n";
    s += "  --tls-listen ADDR:PORT  where HTTPS (TLS 1.2 and 1.3) is served with the same handler\n"
         "                          (default " + d.tls_listen.to_string() + "); ALPN picks HTTP/2 (\"h2\") or\n"
         "                          HTTP/1.1. SIGHUP reloads --tls-cert and --tls-key for new connections\n";
    s += "  --tls-self-signed       HTTPS with a P-256 key and a self-signed certificate for localhost,\n"
         "                          127.0.0.1 and ::1 made at start-up; its PEM file is named on the\n"
         "                          https line (curl --cacert FILE https://localhost:8443/). With\n"
         "                          --tls-upgrade it is the upgrade's certificate instead (named on a\n"
         "                          line of its own), and HTTPS listens only with --tls-listen\n";
    s += "  --tls-upgrade           RFC 2817: a plaintext request with Upgrade: TLS/1.2 and Connection:\n"
         "                          Upgrade may turn its connection into TLS in place (101, then the\n"
         "                          handshake; needs --tls-cert and --tls-key, or --tls-self-signed;\n"
         "                          HTTPS then listens only with an explicit --tls-listen). Only\n"
         "                          OPTIONS * switches, which resists the Opossum attack\n"
         "                          (docs/security.md); /secure/... answers 426 Upgrade Required\n"
         "                          until the connection is TLS\n";
    s += "  --tls-upgrade-any-request-unsafe\n"
         "                          any request offering TLS switches and is answered over TLS\n"
         "                          (RFC 2817 section 3.3); lets a man-in-the-middle choose what a TLS\n"
         "                          client receives first\n";
    s += "  --tls-upgrade-same-cert-unsafe\n"
         "                          allow --tls-upgrade with --tls-listen (same certificate), which\n"
         "                          exposes HTTPS clients of this server to the Opossum attack\n";
    s += "  -h, --help              show this help\n"
         "\n"
         "SEC may be fractional (0.5). SIGINT or SIGTERM stops gracefully: in-flight responses\n"
         "finish, then the process exits 0.\n"
         "\n"
         "Trying --tls-upgrade by hand (cert.pem is the --tls-cert file, issued for localhost):\n"
         "  python3 -c 'import socket,ssl;s=socket.create_connection((\"127.0.0.1\",8080));"
         "s.sendall(b\"OPTIONS * HTTP/1.1\\r\\nHost: localhost\\r\\nUpgrade: TLS/1.2\\r\\nConnection: Upgrade\\r\\n\\r\\n\");"
         "print(s.recv(4096).decode());"
         "t=ssl.create_default_context(cafile=\"cert.pem\").wrap_socket(s,server_hostname=\"localhost\");"
         "t.sendall(b\"GET /secure/hello HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n\");"
         "print(t.makefile(\"rb\").read().decode())'\n"
         "prints the 101, then (over TLS) the 200 to OPTIONS * and the answer to GET /secure/hello.\n";
    return s;
}

std::string version_text() { return "upshift " UPSHIFT_VERSION "\n"; }

} // namespace upshift::app
