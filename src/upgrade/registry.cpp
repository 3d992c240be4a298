// The protocols a server accepts, and the choice among a client's offers (RFC 9110 §7.8).
#include <utility>

#include "upshift/base/ascii.hpp"
#include "upshift/upgrade/protocol.hpp"

namespace upshift::upgrade {

void registry::add(std::shared_ptr<protocol const> p) {
    if (p) protocols_.push_back(std::move(p));
}

protocol const* registry::find(std::string_view name) const noexcept {
    for (auto const& p : protocols_)
        if (ascii::iequals(p->name(), name)) return p.get();
    return nullptr;
}

std::optional<selection> registry::select(std::span<offer const> offers, http1::request_head const& req) const {
    // The client lists offers in descending preference: honour its order, not ours,
    // and only ever pick something it offered.
    for (auto const& o : offers) {
        auto const* p = find(o.name);
        if (!p) continue;
        if (auto extra = p->negotiate(o, req)) return selection{p, &o, std::move(*extra)};
    }
    return std::nullopt;
}

std::string registry::advertise() const {
    std::string out;
    for (auto const& p : protocols_) {
        if (!out.empty()) out += ", ";
        out += p->name();
    }
    return out;
}

} // namespace upshift::upgrade
