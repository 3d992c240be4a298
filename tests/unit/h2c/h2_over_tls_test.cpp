// HTTP/2 over TLS chosen by ALPN (RFC 9113 §3.2, RFC 7301): the in-process server with an HTTPS
// listener and options::h2_over_tls from h2c::service, reached by curl. The handler reports what
// the exchange says about its transport, so these check exchange::secure() on every route in:
// HTTP/2 over TLS, HTTP/1.1 over TLS, and HTTP/2 with prior knowledge in cleartext.
#include <gtest/gtest.h>

#include "h2c_fixture.hpp"
#include "integration/tls_test_helpers.hpp"
#include "upshift/tls/context.hpp"

namespace upshift::test {
namespace {

class H2OverTls : public h2c_fixture {
protected:
    void SetUp() override {
        UPSHIFT_REQUIRE_TOOL(curl, "curl");
        UPSHIFT_REQUIRE_TOOL(openssl, "openssl");
        curl_ = *curl;
        ASSERT_TRUE(dir_.ok());
        auto gen = make_certificate(*openssl, dir_, "h2");
        ASSERT_TRUE(gen.exit && gen.exit->success()) << gen;
        std::string error;
        tls_ = tls::server_context::load(dir_.file("h2-cert.pem"), dir_.file("h2-key.pem"), error);
        ASSERT_TRUE(tls_) << error;
    }

    /// The handler answers "secure" or "plain" from exchange::secure().
    void start_server(bool h2_over_tls) {
        h2c::service const svc{[](exchange& ex) {
            ex.respond(status::ok, {{"Content-Type", "text/plain"}}, ex.secure() ? "secure" : "plain");
        }};
        ASSERT_TRUE(start(svc.http1_handler(), [&](server::options& o) {
            o.prior_knowledge = svc.prior_knowledge();
            o.tls = tls_;
            o.tls_listen = net::endpoint{"127.0.0.1", 0};
            if (h2_over_tls) o.h2_over_tls = svc.prior_knowledge();
        }));
    }

    command_result curl(std::vector<std::string> args) {
        std::vector<std::string> argv{curl_, "-sS", "-k", "--max-time", "20", "-w", " %{http_version}"};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv);
    }
    std::string https() { return "https://127.0.0.1:" + std::to_string(srv().tls_port()) + "/"; }

    std::string curl_;
    temp_dir dir_;
    std::shared_ptr<tls::server_context> tls_;
};

// RFC 9113 §3.2: "h2" negotiated by ALPN is HTTP/2 over TLS; the stream's exchange is secure.
TEST_F(H2OverTls, AlpnH2ReachesTheHandlerAsASecureHttp2Exchange) {
    start_server(true);
    auto out = curl({"--http2", https()});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    EXPECT_EQ(out.out, "secure 2");
}

// RFC 7301 §3.2: the server picks from its own list; "http/1.1" chosen keeps HTTP/1.1, still secure.
TEST_F(H2OverTls, AlpnHttp11ReachesTheHandlerAsASecureHttp11Exchange) {
    start_server(true);
    auto out = curl({"--http1.1", https()});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    EXPECT_EQ(out.out, "secure 1.1");
}

// Without h2_over_tls the server offers only "http/1.1", so a client wanting HTTP/2 gets HTTP/1.1.
TEST_F(H2OverTls, WithoutTheHookAlpnOffersHttp11Only) {
    start_server(false);
    EXPECT_EQ(tls_->alpn(), std::vector<std::string>{"http/1.1"});
    auto out = curl({"--http2", https()});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    EXPECT_EQ(out.out, "secure 1.1");
}

// RFC 9113 §3.3: prior knowledge on the cleartext listener is HTTP/2 too, but not secure.
TEST_F(H2OverTls, CleartextPriorKnowledgeIsNotSecure) {
    start_server(true);
    auto out = curl({"--http2-prior-knowledge", url("/")});
    ASSERT_TRUE(out.exit && out.exit->success()) << out;
    EXPECT_EQ(out.out, "plain 2");
}

} // namespace
} // namespace upshift::test
