#pragma once
// What a ws::session allocates only when asked for it (session::extras_ stays
// null otherwise, so idle connections pay one pointer): the link its handles
// share (session_handle.hpp) and the hooks that must run when it finishes
// (hub subscriptions). Library-internal.
#include <memory>
#include <mutex>
#include <vector>

#include "upshift/base/unique_function.hpp"
#include "upshift/net/loop.hpp"

namespace upshift::ws {
class session;
}

namespace upshift::ws::detail {

/// Shared by a session and its handles. `target` is cleared (on the loop thread,
/// under `mu`) when the session finishes; the loop is alive while `target` is
/// set, which is why posting happens under `mu`.
struct session_link : std::enable_shared_from_this<session_link> {
    session_link(session* s, net::loop* l) noexcept : target(s), loop(l) {}

    /// Any thread: posts fn to the loop; it runs if the session is still there then.
    bool post(unique_function<void(session&)> fn);
    /// Any thread.
    bool alive();
    /// Loop thread: the session has finished.
    void detach();

    std::mutex mu;
    session* target;  // written on the loop thread only, under mu
    net::loop* loop;
};

struct session_extras {
    struct finish_hook {
        void const* key;  // one hook per key (a hub's state)
        unique_function<void(session&)> fn;
    };

    std::shared_ptr<session_link> link;  // created by the first session::handle()
    std::vector<finish_hook> finish_hooks;

    bool has_hook(void const* key) const noexcept;
    /// Loop thread, once: handles go dead, then the hooks run (the session is closed but
    /// not yet reported through on_close).
    void on_finish(session& s);
};

} // namespace upshift::ws::detail
