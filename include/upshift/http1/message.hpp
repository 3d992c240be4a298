#pragma once
// Parsed message heads. All string_views point into the caller's input buffer
// (zero-copy) and stay valid until the caller consumes or moves those bytes.
#include <cstdint>
#include <span>
#include <string_view>

#include "upshift/base/ascii.hpp"
#include "upshift/http1/method.hpp"

namespace upshift::http1 {

struct field {
    std::string_view name;   ///< as received; compare with ascii::iequals
    std::string_view value;  ///< OWS-trimmed (RFC 9112 §5.1)
};

/// How the message body is delimited (RFC 9112 §6.3).
enum class body_kind : std::uint8_t {
    none,         ///< no body
    length,       ///< exactly content_length bytes
    chunked,      ///< chunked transfer coding, final
    until_close,  ///< responses only: read until the connection closes
};

/// Answers common to requests and responses, computed once while parsing so
/// that no caller re-derives them from raw fields.
struct head_common {
    std::span<field const> fields;
    int version_major = 1;
    int version_minor = 1;
    body_kind body = body_kind::none;
    std::uint64_t content_length = 0;  ///< valid when body == length
    bool connection_close = false;     ///< Connection lists "close"
    bool connection_keep_alive = false;///< Connection lists "keep-alive"
    bool connection_upgrade = false;   ///< Connection lists "upgrade"
    bool has_upgrade = false;          ///< at least one Upgrade field line
    bool has_trailer_field = false;    ///< Trailer field present (informational)

    /// First field value named `name` (case-insensitive), or "" when absent.
    std::string_view find(std::string_view name) const noexcept {
        for (auto const& f : fields)
            if (ascii::iequals(f.name, name)) return f.value;
        return {};
    }
    bool has(std::string_view name) const noexcept {
        for (auto const& f : fields)
            if (ascii::iequals(f.name, name)) return true;
        return false;
    }
    /// Calls fn(value) for every field line named `name`, in order.
    template <class F>
    void for_each(std::string_view name, F&& fn) const {
        for (auto const& f : fields)
            if (ascii::iequals(f.name, name)) fn(f.value);
    }
    bool is_http11_or_later() const noexcept {
        return version_major > 1 || (version_major == 1 && version_minor >= 1);
    }
};

struct request_head : head_common {
    std::string_view method_text;  ///< the method token as sent
    http1::method method = http1::method::other;
    std::string_view target;       ///< request-target as sent
    std::string_view host;         ///< the Host field value ("" for HTTP/1.0 without Host)
    bool expect_continue = false;  ///< Expect: 100-continue (RFC 9110 §10.1.1)
    bool expect_unknown = false;   ///< Expect with any other expectation -> 417

    /// keep-alive per RFC 9112 §9.3: HTTP/1.1 persists unless "close";
    /// HTTP/1.0 only with "keep-alive".
    bool keep_alive() const noexcept {
        if (connection_close) return false;
        return is_http11_or_later() || connection_keep_alive;
    }
    /// The path part of an origin-form target (before '?').
    std::string_view path() const noexcept { return target.substr(0, target.find('?')); }
    /// The query (after '?'), or "".
    std::string_view query() const noexcept {
        auto q = target.find('?');
        return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
    }
};

struct response_head : head_common {
    unsigned status_code = 0;
    std::string_view reason;
};

} // namespace upshift::http1
