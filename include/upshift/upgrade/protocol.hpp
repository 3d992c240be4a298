#pragma once
// A protocol a server can switch to, and the registry that picks one.
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "upshift/http1/fields.hpp"
#include "upshift/http1/message.hpp"
#include "upshift/upgrade/offer.hpp"
#include "upshift/upgrade/upgraded.hpp"

namespace upshift::upgrade {

class protocol {
public:
    virtual ~protocol() = default;
    /// The protocol-name it answers to ("websocket", "h2c", "echo"); compared case-insensitively.
    virtual std::string_view name() const noexcept = 0;
    /// Pure: may this request switch to `o` (its name already matches)? nullopt
    /// declines (wrong version, missing handshake fields); otherwise the extra
    /// fields for the 101 (e.g. Sec-WebSocket-Accept).
    virtual std::optional<http1::fields> negotiate(offer const& o, http1::request_head const& req) const = 0;
    /// Runs on the connection's loop after the 101 is flushed; owns the connection from here.
    virtual void start(upgraded u) const = 0;
};

struct selection {
    protocol const* proto = nullptr;
    offer const* chosen = nullptr;  ///< points into the offers given to select()
    http1::fields extra;            ///< fields for the 101
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
    std::optional<selection> select(std::span<offer const> offers, http1::request_head const& req) const;
    /// "name1, name2": for Upgrade on a 426 or to advertise on ordinary responses.
    std::string advertise() const;

private:
    std::vector<std::shared_ptr<protocol const>> protocols_;
};

} // namespace upshift::upgrade
