// The state a session allocates lazily: the link behind its handles and its finish hooks.
#include "ws/session_extras.hpp"

#include <algorithm>

#include "upshift/ws/session_handle.hpp"

namespace upshift::ws {
namespace detail {

bool session_link::post(unique_function<void(session&)> fn) {
    std::lock_guard lock{mu};
    if (target == nullptr) return false;
    // Under `mu`: the session has not finished, so its loop still exists.
    loop->post([self = shared_from_this(), fn = std::move(fn)]() mutable {
        // Loop thread: `target` changes only here, so it is read without the lock.
        if (self->target != nullptr) fn(*self->target);
    });
    return true;
}

bool session_link::alive() {
    std::lock_guard lock{mu};
    return target != nullptr;
}

void session_link::detach() {
    std::lock_guard lock{mu};
    target = nullptr;
}

bool session_extras::has_hook(void const* key) const noexcept {
    return std::any_of(finish_hooks.begin(), finish_hooks.end(), [key](auto const& h) { return h.key == key; });
}

void session_extras::on_finish(session& s) {
    if (link) link->detach();
    auto hooks = std::move(finish_hooks);
    finish_hooks.clear();
    for (auto& h : hooks) h.fn(s);
}

} // namespace detail

detail::session_extras& session::extras() {
    if (!extras_) extras_ = std::make_unique<detail::session_extras>();
    return *extras_;
}

session_handle session::handle() {
    if (closed_) return {};  // finished: it is about to be freed
    auto& x = extras();
    if (!x.link) x.link = std::make_shared<detail::session_link>(this, loop_);
    return session_handle{x.link};
}

} // namespace upshift::ws
