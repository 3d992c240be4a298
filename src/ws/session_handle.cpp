// session_handle: every call is posted to the session's loop (session_extras.hpp).
#include "upshift/ws/session_handle.hpp"

#include "ws/session_extras.hpp"

namespace upshift::ws {

bool session_handle::post(unique_function<void(session&)> fn) const {
    return link_ && link_->post(std::move(fn));
}

bool session_handle::send(std::string data, message_kind k) const {
    return post([data = std::move(data), k](session& s) { s.send(data, k); });
}

bool session_handle::ping(std::string payload) const {
    return post([payload = std::move(payload)](session& s) { s.ping(payload); });
}

bool session_handle::close(std::uint16_t code, std::string reason) const {
    return post([code, reason = std::move(reason)](session& s) { s.close(code, reason); });
}

bool session_handle::alive() const { return link_ && link_->alive(); }

} // namespace upshift::ws
