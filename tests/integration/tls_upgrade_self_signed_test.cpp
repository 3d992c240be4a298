// `upshift serve --tls-upgrade --tls-self-signed`: the RFC 2817 upgrade uses the certificate the app
// generates at start-up. The file to trust is named on a line of its own (there is no https line:
// without an explicit --tls-listen the certificate serves only the upgrade, docs/security.md), and
// a client trusting only that file verifies the server after `OPTIONS *` switches (§3.2, §3.3).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tls_upgrade_helpers.hpp"

namespace upshift::test {
namespace {

/// The PEM file named by "(self-signed certificate: FILE)" in `out`, or "".
std::string self_signed_pem(std::string const& out) {
    static constexpr std::string_view tag = "(self-signed certificate: ";
    auto const at = out.find(tag);
    if (at == std::string::npos) return {};
    auto const end = out.find(")\n", at);
    if (end == std::string::npos) return {};
    return out.substr(at + tag.size(), end - at - tag.size());
}

TEST(TlsUpgradeSelfSigned, OptionsStarSwitchesAndTheGeneratedCertificateVerifies) {
    server_process server{{"--tls-self-signed", "--tls-upgrade"}};
    ASSERT_TRUE(server.ready()) << server.error();
    ASSERT_TRUE(server.wait_output("(self-signed certificate: ", std::chrono::seconds{10})) << server.output();
    auto const out = server.output();
    EXPECT_NE(out.find("upshift upgrades to TLS (RFC 2817) on http://127.0.0.1:" + std::to_string(server.port())),
              std::string::npos)
        << out;
    // The upgrade's certificate is on no implicit-TLS port (the Opossum rule of docs/security.md).
    EXPECT_EQ(out.find("https://"), std::string::npos) << out;
    std::string const pem = self_signed_pem(out);
    ASSERT_TRUE(std::filesystem::exists(pem)) << out;

    // RFC 2817 §3.2: OPTIONS * with Upgrade: TLS/1.2 gets 101; the handshake on the same socket
    // verifies the chain against the named file and the name "localhost" (upgrade_client sets
    // SSL_VERIFY_PEER with ca_file as the only trust anchor).
    socket_guard s{connect_blocking(server.port())};
    ASSERT_GE(s.fd, 0);
    tls::upgrade_client_options o;
    o.ca_file = pem;
    o.host = "localhost";
    tls::upgrade_client c{o};
    auto r = c.upgrade(s.fd);
    ASSERT_TRUE(r.switched) << r.error << "\n" << r.head;
    EXPECT_EQ(r.status, 101) << r.head;
    // §3.3: the OPTIONS * answer comes first over TLS, then what is asked over TLS; a TLS-only
    // route (426 in plaintext, §4.2) is served.
    ASSERT_TRUE(c.write("GET /secure/hello HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    auto responses = read_tls_responses(c, 2);
    ASSERT_EQ(responses.size(), 2u) << c.error();
    EXPECT_EQ(responses[0].status, 200);
    EXPECT_TRUE(responses[0].body.empty());
    EXPECT_EQ(responses[1].status, 200);
    EXPECT_EQ(responses[1].body, "served over TLS: /secure/hello\n");
}

TEST(TlsUpgradeSelfSigned, AnotherCertificateAsTrustAnchorFailsTheHandshake) {
    // The verification above is real: a client trusting some other certificate for "localhost"
    // gets the 101 but refuses the generated certificate (RFC 2817 §3.3: the failure disconnects).
    UPSHIFT_REQUIRE_TOOL(openssl, "openssl");
    temp_dir other;
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE(made_certificate(*openssl, other));
    server_process server{{"--tls-self-signed", "--tls-upgrade"}};
    ASSERT_TRUE(server.ready()) << server.error();
    socket_guard s{connect_blocking(server.port())};
    ASSERT_GE(s.fd, 0);
    tls::upgrade_client_options o;
    o.ca_file = other.file("cert.pem");
    o.host = "localhost";
    tls::upgrade_client c{o};
    auto r = c.upgrade(s.fd);
    EXPECT_EQ(r.status, 101) << r.head;
    EXPECT_FALSE(r.switched) << r.head;
    EXPECT_FALSE(r.error.empty());
    EXPECT_TRUE(healthy(server.port()));
}

TEST(TlsUpgradeSelfSigned, WithTlsListenTheSharedCertificateRefusesToStart) {
    // As with --tls-cert: an explicit --tls-listen would put the upgrade's certificate on an HTTPS
    // port too, which server::listen() refuses without --tls-upgrade-same-cert-unsafe.
    auto out = run_command({app_path(), "serve", "--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0",
                            "--tls-self-signed", "--tls-upgrade"});
    ASSERT_TRUE(out.exit && out.exit->exited) << out;
    EXPECT_EQ(out.exit->code, 1) << out;
    EXPECT_NE(out.err.find("--tls-upgrade-same-cert-unsafe"), std::string::npos) << out.err;
    EXPECT_EQ(out.out.find("listening"), std::string::npos) << out.out;
}

TEST(TlsUpgradeSelfSigned, HelpNamesTheCombination) {
    auto help = run_command({app_path(), "serve", "--help"});
    ASSERT_TRUE(help.exit && help.exit->success()) << help;
    EXPECT_NE(help.out.find("needs --tls-cert and --tls-key, or --tls-self-signed"), std::string::npos)
        << help.out;
}

} // namespace
} // namespace upshift::test
