#pragma once
// Helpers shared by the integration tests: a private document root with known files, request
// builders, and the "a required client tool is missing" policy (fail under CI, skip with a reason
// elsewhere: DESIGN.md, tests).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "support/raw_client.hpp"
#include "support/spawn_server.hpp"

namespace upshift::test {

inline bool in_ci() {
    char const* ci = std::getenv("CI");
    return ci != nullptr && *ci != '\0' && std::string_view{ci} != "0" && std::string_view{ci} != "false";
}

/// Finds `tool` on PATH into `var`; if missing: FAIL under CI (scripts/install-deps must provide it),
/// otherwise skip the test with the reason. Use at the top of a TEST body.
#define UPSHIFT_REQUIRE_TOOL(var, tool)                                                                      \
    auto var = ::upshift::test::find_program(tool);                                                          \
    if (!var) {                                                                                              \
        if (::upshift::test::in_ci()) {                                                                      \
            FAIL() << "'" << (tool) << "' is not on PATH but CI is set: scripts/install-deps installs it";   \
        } else {                                                                                             \
            GTEST_SKIP() << "'" << (tool) << "' is not on PATH (run scripts/install-deps)";                  \
        }                                                                                                    \
    }

/// Inside a TEST: declares `node` (the node binary) and `clients_dir` (tests/clients, with the npm
/// `ws` client installed by scripts/install-deps), or skips / fails under CI like UPSHIFT_REQUIRE_TOOL.
#define UPSHIFT_REQUIRE_NODE_WS(node, clients_dir)                                                          \
    UPSHIFT_REQUIRE_TOOL(node, "node");                                                                      \
    std::string const clients_dir = std::string{UPSHIFT_SOURCE_DIR} + "/tests/clients";                      \
    if (!std::filesystem::exists(clients_dir + "/node_modules/ws/package.json")) {                           \
        if (::upshift::test::in_ci()) {                                                                      \
            FAIL() << clients_dir << "/node_modules has no ws but CI is set: scripts/install-deps installs it"; \
        } else {                                                                                             \
            GTEST_SKIP() << clients_dir << "/node_modules has no ws (run scripts/install-deps)";             \
        }                                                                                                    \
    }

/// A fresh directory under $TMPDIR, removed with everything in it at destruction.
class temp_dir {
public:
    temp_dir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "upshift-integ-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        if (!path_.empty()) std::filesystem::remove_all(path_, ec);
    }
    temp_dir(temp_dir const&) = delete;
    temp_dir& operator=(temp_dir const&) = delete;

    bool ok() const { return !path_.empty(); }
    std::string const& path() const { return path_; }
    std::string file(std::string_view name) const { return path_ + "/" + std::string{name}; }

    bool write(std::string_view name, std::string_view content) const {
        std::ofstream out{file(name), std::ios::binary | std::ios::trunc};
        out.write(content.data(), static_cast<std::streamsize>(content.size()));
        return static_cast<bool>(out);
    }

private:
    std::string path_;
};

/// Deterministic pseudo-random bytes (all 256 values occur, including CR, LF and NUL).
inline std::string random_bytes(std::size_t n, std::uint32_t seed = 12345) {
    std::mt19937 gen{seed};
    std::string s(n, '\0');
    std::uint32_t bits = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (i % 4 == 0) bits = static_cast<std::uint32_t>(gen());
        s[i] = static_cast<char>(static_cast<unsigned char>(bits & 0xffU));
        bits >>= 8;
    }
    return s;
}

/// A document root with known files, for tests that check static responses byte for byte.
struct test_site {
    temp_dir dir;
    std::string index_html =
        "<!doctype html>\n<title>upshift test</title>\n<p>hello from the test site</p>\n";
    std::string style_css = "body { color: #123456; }\n";
    std::string app_js = "console.log('upshift test');\n";

    test_site() {
        dir.write("index.html", index_html);
        dir.write("style.css", style_css);
        dir.write("app.js", app_js);
    }
    std::string const& root() const { return dir.path(); }
};

/// "METHOD target HTTP/1.1" with Host and the given extra header lines (each without CRLF).
inline std::string request(std::string_view method, std::string_view target,
                           std::vector<std::string> const& extra_headers = {}, std::string_view body = {},
                           std::string_view version = "HTTP/1.1") {
    std::string r;
    r.append(method).append(" ").append(target).append(" ").append(version).append("\r\n");
    r.append("Host: 127.0.0.1\r\n");
    for (auto const& h : extra_headers) r.append(h).append("\r\n");
    if (!body.empty()) r.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    r.append("\r\n");
    r.append(body);
    return r;
}

/// One request on a fresh connection; the response or nullopt (with a gtest failure message).
inline std::optional<http_response> fetch(std::uint16_t port, std::string_view raw_request,
                                          bool head_request = false) {
    raw_client c{port};
    if (!c.connected()) {
        ADD_FAILURE() << "connect: " << c.error();
        return std::nullopt;
    }
    if (!c.send_all(raw_request)) {
        ADD_FAILURE() << "send: " << c.error();
        return std::nullopt;
    }
    auto r = c.read_final_response(5s, head_request);
    if (!r) ADD_FAILURE() << "response: " << c.error();
    return r;
}

/// True if the server answers GET /healthz with 200 "ok\n" on a new connection.
inline bool healthy(std::uint16_t port) {
    auto r = fetch(port, request("GET", "/healthz"));
    return r && r->status == 200 && r->body == "ok\n";
}

} // namespace upshift::test
