#pragma once
// A protocol a server can switch to, and the registry that picks one.
#include <memory>
#include <cstdint>
#include <optional>
#include <string>
#include <span>
#include <string_view>
#include <vector>

#include "upshift/http1/fields.hpp"
#include "upshift/http1/message.hpp"
#include "upshift/http1/status.hpp"
#include "upshift/upgrade/offer.hpp"
#include "upshift/upgrade/upgraded.hpp"

namespace upshift::upgrade {

/// A protocol's answer to one offer: accept (with fields for the 101), decline
/// (the next offer may win; the request stays ordinary HTTP), or refuse with an
/// error response of its own (WebSocket: 426 + Sec-WebSocket-Version: 13 for a
/// version it does not speak, 400 for a malformed key). Implicit conversions keep
/// simple protocols simple: `return std::nullopt;` declines, `return fields;` accepts.
class decision {
public:
    enum class kind : std::uint8_t { decline, accept, refuse };

    decision(std::nullopt_t) noexcept {}
    decision(http1::fields extra) : kind_(kind::accept), fields_(std::move(extra)) {}
    decision(std::optional<http1::fields> extra) {
        if (extra) *this = decision(std::move(*extra));
    }
    static decision refuse(http1::status s, http1::fields f = {}, std::string body = {}) {
        decision d(std::nullopt);
        d.kind_ = kind::refuse;
        d.status_ = s;
        d.fields_ = std::move(f);
        d.body_ = std::move(body);
        return d;
    }

    kind what() const noexcept { return kind_; }
    http1::status status() const noexcept { return status_; }
    http1::fields& fields() noexcept { return fields_; }
    std::string& body() noexcept { return body_; }

private:
    kind kind_ = kind::decline;
    http1::status status_ = http1::status::bad_request;
    http1::fields fields_;
    std::string body_;
};

class protocol {
public:
    virtual ~protocol() = default;
    /// The protocol-name it answers to ("websocket", "h2c", "echo"); compared case-insensitively.
    virtual std::string_view name() const noexcept = 0;
    /// Pure: may this request switch to `o` (its name already matches)? Accept
    /// with the extra fields for the 101 (e.g. Sec-WebSocket-Accept), decline, or
    /// refuse with an error response.
    virtual decision negotiate(offer const& o, http1::request_head const& req) const = 0;
    /// Runs on the connection's loop after the 101 is flushed; owns the connection from here.
    virtual void start(upgraded u) const = 0;
};

struct selection {
    /// Shared: the switch completes after the 101 is flushed, and the protocol
    /// must still be alive then even if the registry that chose it is gone.
    std::shared_ptr<protocol const> proto;
    offer const* chosen = nullptr;  ///< points into the offers given to select()
    http1::fields extra;            ///< fields for the 101
    /// No offer was accepted and `proto` refused `chosen`: answer with this
    /// instead of the 101 (kind::refuse; status, fields and body inside).
    std::optional<decision> refusal;
};

/// Protocols a server (or a route) accepts. The first offer, in the client's
/// order, that a registered protocol accepts wins (RFC 9110 §7.8: the client
/// lists in descending preference); a server never names a protocol the client
/// did not offer. Immutable once serving starts: shared across loop threads.
class registry {
public:
    void add(std::shared_ptr<protocol const> p);
    bool empty() const noexcept { return protocols_.empty(); }
    protocol const* find(std::string_view name) const noexcept;
    std::shared_ptr<protocol const> find_shared(std::string_view name) const noexcept;
    /// The first accepted offer; if none is accepted, the first refusal; else nullopt.
    std::optional<selection> select(std::span<offer const> offers, http1::request_head const& req) const;
    /// "name1, name2": for Upgrade on a 426 or to advertise on ordinary responses.
    std::string advertise() const;

private:
    std::vector<std::shared_ptr<protocol const>> protocols_;
};

} // namespace upshift::upgrade
