// `upshift serve --tls-cert F --tls-key F --tls-listen ADDR:PORT`: the same handler over HTTPS,
// checked with curl (certificate verified for "localhost", and -k), openssl s_client and a plaintext
// client on the TLS port, with a self-signed certificate made by the openssl CLI.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "integration_helpers.hpp"
#include "tls_test_helpers.hpp"

namespace upshift::test {
namespace {

class TlsHttps : public ::testing::Test {
protected:
    void SetUp() override {
        UPSHIFT_REQUIRE_TOOL(curl, "curl");
        UPSHIFT_REQUIRE_TOOL(openssl, "openssl");
        curl_ = *curl;
        ASSERT_TRUE(dir_.ok());
        ASSERT_TRUE(made_certificate(*openssl, dir_));
        spawn_options opts;
        opts.argv = {app_path(), "serve", "--listen", "127.0.0.1:0", "--tls-cert", dir_.file("cert.pem"),
                     "--tls-key", dir_.file("key.pem"), "--tls-listen", "127.0.0.1:0"};
        opts.ready_line = https_line_port;
        server_ = std::make_unique<server_process>(std::move(opts));
        ASSERT_TRUE(server_->ready()) << server_->error();
    }

    command_result curl(std::vector<std::string> args) {
        std::vector<std::string> argv{curl_, "-sS", "--http1.1", "--max-time", "20"};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv);
    }
    std::string https(std::string_view path) const {
        return "https://127.0.0.1:" + std::to_string(server_->port()) + std::string{path};
    }

    std::string curl_;
    temp_dir dir_;
    std::unique_ptr<server_process> server_;
};

TEST_F(TlsHttps, CurlGetsTheIndexOverHttps) {
    auto out = curl({"-k", "-o", "/dev/null", "-w", "%{http_code} %{scheme}", https("/")});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    EXPECT_EQ(out.out, "200 HTTPS");
}

TEST_F(TlsHttps, CertificateVerifiesForLocalhostAndBodiesRoundTrip) {
    // No -k: curl checks the chain against the test's certificate and the name "localhost".
    auto const port = std::to_string(server_->port());
    auto out = curl({"--cacert", dir_.file("cert.pem"), "--resolve", "localhost:" + port + ":127.0.0.1",
                     "--data-binary", "hello over tls", "-H", "Content-Type: text/plain",
                     "https://localhost:" + port + "/echo-body"});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    EXPECT_EQ(out.out, "hello over tls");
}

TEST_F(TlsHttps, LargeBodyRoundTripsThroughManyRecords) {
    // ~900 KiB each way: dozens of 16 KiB records, full socket buffers, retried writes.
    std::string body(900 * 1024, '\0');
    for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>((i * 131) % 251);
    {
        std::ofstream f(dir_.file("up.bin"), std::ios::binary);
        ASSERT_TRUE(f.write(body.data(), static_cast<std::streamsize>(body.size())));
    }
    auto out = curl({"-k", "--data-binary", "@" + dir_.file("up.bin"), "-H", "Content-Type: application/octet-stream",
                     "-o", dir_.file("down.bin"), "-w", "%{http_code}", https("/echo-body")});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    EXPECT_EQ(out.out, "200");
    EXPECT_TRUE(read_file(dir_.file("down.bin")) == body);
}

TEST_F(TlsHttps, KeepAliveServesSeveralRequestsOnOneTlsConnection) {
    auto out = curl({"-k", "-w", "[%{num_connects}]", https("/healthz"), https("/healthz"), https("/healthz")});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    // One connection made for the first request, reused for the other two.
    EXPECT_EQ(out.out, "ok\n[1]ok\n[0]ok\n[0]");
}

TEST_F(TlsHttps, PlaintextHttpOnTheTlsPortIsRefusedAndTheServerCarriesOn) {
    auto plain = curl({"http://127.0.0.1:" + std::to_string(server_->port()) + "/healthz"});
    EXPECT_FALSE(plain.exit && plain.exit->success()) << plain;
    EXPECT_EQ(plain.out.find("ok"), std::string::npos);
    auto out = curl({"-k", https("/healthz")});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    EXPECT_EQ(out.out, "ok\n");
}

TEST_F(TlsHttps, OpensslSClientSpeaksTls13AndGetsAnHttp11Response) {
    UPSHIFT_REQUIRE_TOOL(openssl, "openssl");
    std::string const cmd = "printf 'GET /healthz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' | '" +
                            *openssl + "' s_client -brief -ign_eof -connect 127.0.0.1:" +
                            std::to_string(server_->port()) + " -servername localhost";
    auto out = run_command({"/bin/sh", "-c", cmd});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    EXPECT_EQ(out.out.rfind("HTTP/1.1 200 ", 0), 0u) << out.out;
    EXPECT_NE(out.out.find("\r\n\r\nok\n"), std::string::npos) << out.out;
    EXPECT_NE(out.err.find("TLSv1.3"), std::string::npos) << out.err;
}

TEST(TlsHttpsCli, KeyWithoutCertificateIsAUsageError) {
    auto out = run_command({app_path(), "serve", "--tls-key", "/dev/null"});
    ASSERT_TRUE(out.exit && out.exit->exited) << out;
    EXPECT_EQ(out.exit->code, 2);
    EXPECT_NE(out.err.find("--tls-cert and --tls-key go together"), std::string::npos) << out.err;
}

TEST(TlsHttpsCli, UnreadableCertificateFailsAtStartWithTheReason) {
    auto out = run_command({app_path(), "serve", "--listen", "127.0.0.1:0", "--tls-cert", "/nonexistent/cert.pem",
                            "--tls-key", "/nonexistent/key.pem", "--tls-listen", "127.0.0.1:0"});
    ASSERT_TRUE(out.exit && out.exit->exited) << out;
    EXPECT_EQ(out.exit->code, 1);
    EXPECT_NE(out.err.find("/nonexistent/cert.pem"), std::string::npos) << out.err;
}

} // namespace
} // namespace upshift::test
