// The "websocket" upgrade protocol: the opening handshake (RFC 6455 §4.2) as
// an upgrade::protocol, and the session it starts.
#include <algorithm>

#include "upshift/base/ascii.hpp"
#include "upshift/base/token_list.hpp"
#include "upshift/ws/handshake.hpp"
#include "upshift/ws/server.hpp"

namespace upshift::ws {
namespace {

constexpr std::string_view subprotocol_field = "Sec-WebSocket-Protocol";
constexpr std::string_view extensions_field = "Sec-WebSocket-Extensions";

std::vector<std::string_view> extension_values(http1::request_head const& req) {
    std::vector<std::string_view> out;
    req.for_each(extensions_field, [&](std::string_view v) { out.push_back(v); });
    return out;
}

std::vector<std::string_view> extension_values(http1::fields const& headers) {
    std::vector<std::string_view> out;
    for (auto const& [name, value] : headers)
        if (ascii::iequals(name, extensions_field)) out.push_back(value);
    return out;
}

template <class Headers>
std::optional<deflate_params> choose_deflate(options const& opt, Headers const& h) {
    if (!opt.permessage_deflate) return std::nullopt;
    return negotiate_deflate(extension_values(h), deflate_policy{.server_max_window_bits = opt.server_max_window_bits,
                                                                 .server_no_context_takeover =
                                                                     opt.server_no_context_takeover});
}

/// Elements of every Sec-WebSocket-Protocol line (§4.1: a comma list; several lines form one).
template <class ForEachValue>
std::vector<std::string_view> offered_subprotocols(ForEachValue&& for_each_value) {
    std::vector<std::string_view> out;
    for_each_value([&](std::string_view v) { for_each_list_element(v, [&](std::string_view e) { out.push_back(e); }); });
    return out;
}

std::vector<std::string_view> offered(http1::request_head const& req) {
    return offered_subprotocols([&](auto&& fn) { req.for_each(subprotocol_field, fn); });
}

std::vector<std::string_view> offered(http1::fields const& headers) {
    return offered_subprotocols([&](auto&& fn) {
        for (auto const& [name, value] : headers)
            if (ascii::iequals(name, subprotocol_field)) fn(std::string_view{value});
    });
}

class websocket_protocol final : public upgrade::protocol {
public:
    explicit websocket_protocol(std::shared_ptr<session_config const> c) : config_(std::move(c)) {}

    std::string_view name() const noexcept override { return "websocket"; }

    upgrade::decision negotiate(upgrade::offer const& o, http1::request_head const& req) const override {
        // RFC 6455 names the protocol "websocket" without a version; another token is not ours.
        if (!o.version.empty()) return std::nullopt;
        auto const check = check_request(req);
        if (check.ec) {
            // 400 (bad method, key, ...) or 426 with Sec-WebSocket-Version: 13 (§4.2.2 item 4).
            return upgrade::decision::refuse(check.status, response_fields(check),
                                             "WebSocket handshake refused: " + check.ec.message() + "\n");
        }
        auto const& origins = config_->opt.allowed_origins;
        if (!origins.empty()) {
            // §4.2.2 item 4, §10.2: a server may refuse an origin it does not accept with 403.
            int n = 0;
            std::string_view origin;
            req.for_each("Origin", [&](std::string_view v) {
                ++n;
                origin = v;
            });
            bool const allowed = n == 1 && std::find(origins.begin(), origins.end(), origin) != origins.end();
            if (!allowed)
                return upgrade::decision::refuse(http1::status::forbidden, {}, "WebSocket origin not allowed\n");
        }
        http1::fields extra = response_fields(check);  // Sec-WebSocket-Accept (§4.2.2 item 5.4)
        auto const chosen = select_subprotocol(config_->opt.subprotocols, offered(req));
        if (!chosen.empty()) extra.add(subprotocol_field, chosen);  // §4.2.2 item 5.5
        // §4.2.2 item 5.6, RFC 7692 §5.1: the accepted extension with its agreed parameters.
        if (auto const d = choose_deflate(config_->opt, req)) extra.add(extensions_field, format_deflate_response(*d));
        return extra;
    }

    void start(upgrade::upgraded u) const override {
        // negotiate() is pure, so the same choice is made again from the owned request.
        auto chosen = select_subprotocol(config_->opt.subprotocols, offered(u.request.headers));
        auto deflate = choose_deflate(config_->opt, u.request.headers);
        session::open(std::move(u), config_, std::move(chosen), std::move(deflate));
    }

private:
    std::shared_ptr<session_config const> config_;
};

} // namespace

std::string select_subprotocol(std::vector<std::string> const& server_preference,
                               std::vector<std::string_view> const& client_offers) {
    for (auto const& p : server_preference)
        if (std::find(client_offers.begin(), client_offers.end(), p) != client_offers.end()) return p;
    return {};
}

std::shared_ptr<upgrade::protocol const> make_protocol(options opt, behaviour cb) {
    return std::make_shared<websocket_protocol>(
        std::make_shared<session_config const>(session_config{std::move(opt), std::move(cb)}));
}

} // namespace upshift::ws
