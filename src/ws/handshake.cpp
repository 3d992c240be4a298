// Opening handshake, server side (RFC 6455 §4.2).
#include "upshift/ws/handshake.hpp"

#include <openssl/evp.h>

#include <array>
#include <memory>

#include "upshift/base/ascii.hpp"
#include "upshift/base/token_list.hpp"
#include "upshift/ws/error.hpp"

namespace upshift::ws {
namespace {

constexpr std::string_view key_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // §1.3, §4.2.2

constexpr bool is_base64_char(char c) noexcept {
    return ascii::is_alpha(c) || ascii::is_digit(c) || c == '+' || c == '/';
}

handshake_check refuse(error e, http1::status s) {
    handshake_check c;
    c.ec = e;
    c.status = s;
    return c;
}

} // namespace

std::string accept_key(std::string_view sec_websocket_key) {
    // SHA-1 fetched from its provider once, and one digest context per thread: EVP_Digest with
    // EVP_sha1() would fetch (under a lock) and allocate a context on every handshake.
    static EVP_MD* const sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
    struct context_deleter {
        void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
    };
    thread_local std::unique_ptr<EVP_MD_CTX, context_deleter> const ctx{EVP_MD_CTX_new()};

    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int digest_len = 0;
    if (!sha1 || !ctx || EVP_DigestInit_ex2(ctx.get(), sha1, nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), sec_websocket_key.data(), sec_websocket_key.size()) != 1 ||
        EVP_DigestUpdate(ctx.get(), key_guid.data(), key_guid.size()) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), digest.data(), &digest_len) != 1)
        return {};  // only if OpenSSL cannot provide SHA-1 at all; the handshake then fails on the client
    // base64 of 20 bytes: 28 characters plus EVP_EncodeBlock's NUL.
    std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> encoded{};
    int const n = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(digest_len));
    return std::string(reinterpret_cast<char const*>(encoded.data()), static_cast<std::size_t>(n));
}

bool valid_client_key(std::string_view key) noexcept {
    // 16 bytes = 5 groups of 3 bytes (20 characters) + 1 byte (2 characters and "==").
    if (key.size() != 24 || key.substr(22) != "==") return false;
    for (char c : key.substr(0, 22))
        if (!is_base64_char(c)) return false;
    return true;
}

handshake_check check_request(http1::request_head const& req) {
    using http1::status;
    // §4.2.1 item 1: "An HTTP/1.1 or higher GET request".
    if (req.method != http1::method::get) return refuse(error::bad_method, status::bad_request);
    if (!req.is_http11_or_later()) return refuse(error::bad_http_version, status::bad_request);

    // §4.2.1 item 3: "An |Upgrade| header field containing the value "websocket",
    // treated as an ASCII case-insensitive value." Several lines form one list (RFC 9110 §5.3).
    bool websocket = false;
    req.for_each("Upgrade", [&](std::string_view v) { websocket = websocket || list_contains_token(v, "websocket"); });
    if (!websocket) return refuse(error::no_upgrade_websocket, status::bad_request);
    // §4.2.1 item 4: a |Connection| header field that includes the token "Upgrade" (the parser lists it).
    if (!req.connection_upgrade) return refuse(error::no_connection_upgrade, status::bad_request);

    // §4.2.1 item 6, §4.2.2 item 4: a version we do not speak gets 426 and the
    // versions we do. §11.3.5: the field "MUST NOT appear more than once in an HTTP request".
    int versions = 0;
    std::string_view version;
    req.for_each("Sec-WebSocket-Version", [&](std::string_view v) {
        ++versions;
        version = v;
    });
    if (versions == 0) return refuse(error::no_sec_version, status::upgrade_required);
    if (versions > 1 || version != websocket_version) return refuse(error::bad_sec_version, status::upgrade_required);

    // §4.2.1 item 5; §11.3.1: the key "MUST NOT appear more than once in an HTTP request".
    int keys = 0;
    std::string_view key;
    req.for_each("Sec-WebSocket-Key", [&](std::string_view v) {
        ++keys;
        key = v;
    });
    if (keys == 0) return refuse(error::no_sec_key, status::bad_request);
    if (keys > 1 || !valid_client_key(key)) return refuse(error::bad_sec_key, status::bad_request);

    handshake_check ok;
    ok.key = key;
    return ok;
}

http1::fields response_fields(handshake_check const& c) {
    http1::fields f;
    if (!c.ec) {
        f.add("Sec-WebSocket-Accept", accept_key(c.key));
    } else if (c.status == http1::status::upgrade_required) {
        f.add("Upgrade", "websocket");
        f.add("Sec-WebSocket-Version", websocket_version);
    }
    return f;
}

} // namespace upshift::ws
