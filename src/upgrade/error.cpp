#include "upshift/upgrade/error.hpp"

#include <string>

namespace upshift::upgrade {

namespace {
class category final : public std::error_category {
public:
    char const* name() const noexcept override { return "upshift.upgrade"; }
    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
        case error::not_offered: return "the client did not offer this protocol";
        case error::not_eligible: return "the request may not switch protocols";
        case error::already_responded: return "a response has already started";
        }
        return "unknown upgrade error";
    }
};
} // namespace

std::error_category const& error_category() noexcept {
    static category const instance;
    return instance;
}

} // namespace upshift::upgrade
