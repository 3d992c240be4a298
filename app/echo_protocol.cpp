#include "echo_protocol.hpp"

#include "upshift/upgrade/raw_channel.hpp"

namespace upshift::app {
namespace {

class echo_protocol final : public upgrade::protocol {
public:
    std::string_view name() const noexcept override { return "echo"; }

    upgrade::decision negotiate(upgrade::offer const& o, http1::request_head const&) const override {
        // Only the unversioned protocol exists; "echo/2" is declined so the next offer may win.
        if (!o.version.empty()) return std::nullopt;
        return http1::fields{};
    }

    void start(upgrade::upgraded u) const override {
        upgrade::raw_channel::callbacks cb;
        cb.on_data = [](upgrade::raw_channel& ch, std::string_view data) {
            // Backpressure comes for free: above the high-water mark the channel
            // stops reading until the peer has taken what is queued.
            ch.write(data);
        };
        upgrade::raw_channel::open(std::move(u), std::move(cb));
    }
};

} // namespace

std::shared_ptr<upgrade::protocol const> make_echo_protocol() { return std::make_shared<echo_protocol>(); }

} // namespace upshift::app
