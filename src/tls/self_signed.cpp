#include "upshift/tls/self_signed.hpp"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace upshift::tls {
namespace {

template<auto Free>
struct freer {
    template<class T>
    void operator()(T* p) const noexcept {
        Free(p);
    }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, freer<EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, freer<X509_free>>;
using bio_ptr = std::unique_ptr<BIO, freer<BIO_free>>;

std::string openssl_error(char const* what) {
    std::string out = what;
    if (unsigned long e = ERR_peek_last_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        out += ": ";
        out += buf;
    }
    ERR_clear_error();
    return out;
}

bool add_extension(X509* cert, int nid, char const* value) {
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0); // self-signed: issuer = subject
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
    if (!ext) return false;
    bool const ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

std::string drain(BIO* b) {
    char* data = nullptr;
    long const n = BIO_get_mem_data(b, &data);
    return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

} // namespace

std::optional<self_signed> make_self_signed(std::string& error, int days) {
    ERR_clear_error();
    pkey_ptr key{EVP_EC_gen("P-256")};
    if (!key) {
        error = openssl_error("generating a P-256 key");
        return std::nullopt;
    }
    x509_ptr cert{X509_new()};
    if (!cert) {
        error = openssl_error("X509_new");
        return std::nullopt;
    }
    X509* c = cert.get();
    // A random 127-bit positive serial (RFC 5280 §4.1.2.2: unique per issuer, at most 20 octets).
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1) {
        error = openssl_error("RAND_bytes");
        return std::nullopt;
    }
    serial[0] &= 0x7f;
    std::unique_ptr<BIGNUM, freer<BN_free>> bn{BN_bin2bn(serial, sizeof serial, nullptr)};
    bool ok = bn && X509_set_version(c, X509_VERSION_3) == 1 &&
              BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(c)) != nullptr &&
              // An hour of slack for clocks a little behind ours.
              X509_gmtime_adj(X509_getm_notBefore(c), -3600) != nullptr &&
              X509_gmtime_adj(X509_getm_notAfter(c), 86'400L * days) != nullptr &&
              X509_set_pubkey(c, key.get()) == 1;
    X509_NAME* name = X509_get_subject_name(c);
    ok = ok &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    reinterpret_cast<unsigned char const*>("localhost"), -1, -1, 0) == 1 &&
         X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                    reinterpret_cast<unsigned char const*>("upshift self-signed"), -1, -1,
                                    0) == 1 &&
         X509_set_issuer_name(c, name) == 1;
    // An end-entity certificate for TLS servers, which a client can trust directly.
    ok = ok && add_extension(c, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") &&
         add_extension(c, NID_basic_constraints, "critical,CA:FALSE") &&
         add_extension(c, NID_key_usage, "critical,digitalSignature") &&
         add_extension(c, NID_ext_key_usage, "serverAuth") &&
         add_extension(c, NID_subject_key_identifier, "hash") &&
         add_extension(c, NID_authority_key_identifier, "keyid:always") &&
         X509_sign(c, key.get(), EVP_sha256()) > 0;
    if (!ok) {
        error = openssl_error("building the self-signed certificate");
        return std::nullopt;
    }
    bio_ptr cert_out{BIO_new(BIO_s_mem())};
    bio_ptr key_out{BIO_new(BIO_s_mem())};
    if (!cert_out || !key_out || PEM_write_bio_X509(cert_out.get(), c) != 1 ||
        PEM_write_bio_PrivateKey(key_out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        error = openssl_error("writing PEM");
        return std::nullopt;
    }
    return self_signed{drain(cert_out.get()), drain(key_out.get())};
}

} // namespace upshift::tls
