#pragma once
// A throw-away certificate for trying HTTPS locally (`upshift serve --tls-self-signed`):
// a fresh P-256 key and a self-signed X.509 v3 certificate for the names a local
// client uses, made with OpenSSL at start-up. The key never touches the disk.
#include <optional>
#include <string>

namespace upshift::tls {

struct self_signed {
    std::string cert_pem; ///< give this to clients as their trust anchor (curl --cacert)
    std::string key_pem;  ///< PKCS#8, unencrypted
};

/// Subject CN=localhost; subjectAltName DNS:localhost, IP:127.0.0.1, IP:::1 (clients check
/// the SAN, not the CN: RFC 6125 §6.4.4); valid from an hour ago for `days` days. Returns
/// nullopt and sets `error` (OpenSSL's reason) on failure.
std::optional<self_signed> make_self_signed(std::string& error, int days = 30);

} // namespace upshift::tls
