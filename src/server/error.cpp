#include <string>

#include "upshift/server/server.hpp"

namespace upshift::server {
namespace {

class category final : public std::error_category {
public:
    char const* name() const noexcept override { return "upshift.server"; }
    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
        case error::interim_after_final: return "interim response after the final response started";
        case error::interim_to_http10: return "interim response not sent to an HTTP/1.0 client";
        case error::bad_interim_status: return "not an interim status (1xx other than 101)";
        case error::connection_lost: return "connection lost";
        case error::body_too_large: return "request body too large";
        case error::timeout: return "timed out";
        case error::tls_upgrade_same_certificate:
            return "the TLS upgrade certificate is the HTTPS listener's certificate (see docs/security.md)";
        }
        return "unknown server error";
    }
};

} // namespace

std::error_category const& error_category() noexcept {
    static category const c;
    return c;
}

} // namespace upshift::server
