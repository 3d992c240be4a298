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

std::shared_ptr<protocol const> registry::find_shared(std::string_view name) const noexcept {
    for (auto const& p : protocols_)
        if (ascii::iequals(p->name(), name)) return p;
    return nullptr;
}

std::optional<selection> registry::select(std::span<offer const> offers, http1::request_head const& req) const {
    // The client lists offers in descending preference: honour its order, not ours,
    // and only ever pick something it offered.
    std::optional<selection> refused;
    for (auto const& o : offers) {
        auto p = find_shared(o.name);
        if (!p) continue;
        auto d = p->negotiate(o, req);
        if (d.what() == decision::kind::accept) return selection{p, &o, std::move(d.fields()), std::nullopt};
        // A refusal is answered only if no later offer is accepted.
        if (d.what() == decision::kind::refuse && !refused) refused = selection{p, &o, {}, std::move(d)};
    }
    return refused;
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
