// ws::hub: topics -> subscribers grouped by loop; a publish is one post per
// other loop, and each loop delivers to its own subscribers (hub.hpp).
#include "upshift/ws/hub.hpp"

#include <algorithm>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ws/session_extras.hpp"

namespace upshift::ws {
namespace {

struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

/// What one publish sends to the other loops: one allocation, shared by their posts.
struct published {
    std::string topic;
    std::string data;
    message_kind kind;
};

} // namespace

struct hub::state {
    /// A topic's subscribers on one loop. `thread` runs that loop (recorded at subscribe,
    /// which happens on it): a publish from that thread delivers directly.
    struct loop_group {
        net::loop* loop;
        std::thread::id thread;
        std::vector<session*> sessions;
    };
    struct topic {
        std::vector<loop_group> groups;
        std::size_t count = 0;
    };

    mutable std::mutex mu;
    std::unordered_map<std::string, topic, string_hash, std::equal_to<>> topics;
    std::unordered_map<session*, std::vector<std::string>> memberships;  // for unsubscribe_all

    /// mu held.
    bool remove_locked(session& s, std::string_view name) {
        auto t = topics.find(name);
        if (t == topics.end()) return false;
        auto& groups = t->second.groups;
        auto g = std::find_if(groups.begin(), groups.end(), [&](auto const& x) { return x.loop == &s.loop(); });
        if (g == groups.end()) return false;
        auto it = std::find(g->sessions.begin(), g->sessions.end(), &s);
        if (it == g->sessions.end()) return false;
        g->sessions.erase(it);
        if (g->sessions.empty()) groups.erase(g);
        if (--t->second.count == 0) topics.erase(t);
        return true;
    }

    void remove_all(session& s) {
        std::lock_guard lock{mu};
        auto m = memberships.find(&s);
        if (m == memberships.end()) return;
        for (auto const& name : m->second) remove_locked(s, name);
        memberships.erase(m);
    }

    /// Loop thread of `l`: sends to the topic's subscribers on `l` as they are now.
    void deliver(net::loop* l, std::string_view name, std::string_view data, message_kind k) {
        std::vector<session*> targets;
        {
            std::lock_guard lock{mu};
            auto t = topics.find(name);
            if (t == topics.end()) return;
            for (auto const& g : t->second.groups)
                if (g.loop == l) targets = g.sessions;
        }
        // Outside the lock: send() may finish a session (a dead peer), whose hook
        // unsubscribes it. A session finished meanwhile is still allocated until the
        // loop's deferred phase (after this callback) and refuses the send.
        for (auto* s : targets) s->send(data, k);
    }
};

hub::hub() : state_(std::make_shared<state>()) {}

bool hub::subscribe(session& s, std::string_view name) const {
    if (s.closed_) return false;  // on_close or later: nothing would ever unsubscribe it
    auto& extras = s.extras();
    if (!extras.has_hook(state_.get())) {
        extras.finish_hooks.push_back({state_.get(), [st = state_](session& x) { st->remove_all(x); }});
    }
    std::lock_guard lock{state_->mu};
    auto& t = state_->topics[std::string(name)];
    auto g = std::find_if(t.groups.begin(), t.groups.end(), [&](auto const& x) { return x.loop == &s.loop(); });
    if (g == t.groups.end()) {
        t.groups.push_back({&s.loop(), {}, {}});
        g = std::prev(t.groups.end());
    }
    g->thread = std::this_thread::get_id();
    if (std::find(g->sessions.begin(), g->sessions.end(), &s) != g->sessions.end()) return false;
    g->sessions.push_back(&s);
    ++t.count;
    state_->memberships[&s].emplace_back(name);
    return true;
}

bool hub::unsubscribe(session& s, std::string_view name) const {
    std::lock_guard lock{state_->mu};
    if (!state_->remove_locked(s, name)) return false;
    auto m = state_->memberships.find(&s);
    if (m != state_->memberships.end()) {
        auto& names = m->second;
        names.erase(std::find(names.begin(), names.end(), name));
        if (names.empty()) state_->memberships.erase(m);
    }
    return true;
}

void hub::unsubscribe_all(session& s) const { state_->remove_all(s); }

std::size_t hub::publish(std::string_view name, std::string_view data, message_kind k) const {
    net::loop* here = nullptr;
    std::size_t count = 0;
    {
        std::lock_guard lock{state_->mu};
        auto t = state_->topics.find(name);
        if (t == state_->topics.end()) return 0;
        count = t->second.count;
        auto const me = std::this_thread::get_id();
        std::shared_ptr<published const> message;
        for (auto const& g : t->second.groups) {
            if (g.thread == me) {
                here = g.loop;
                continue;
            }
            if (!message)
                message = std::make_shared<published const>(published{std::string(name), std::string(data), k});
            // Under the lock: the group has a live session, so its loop exists. Posts from one
            // thread run in order on each loop, which keeps a publisher's messages in order.
            g.loop->post([st = state_, l = g.loop, message] {
                st->deliver(l, message->topic, message->data, message->kind);
            });
        }
    }
    if (here != nullptr) state_->deliver(here, name, data, k);
    return count;
}

std::size_t hub::subscribers(std::string_view name) const {
    std::lock_guard lock{state_->mu};
    auto t = state_->topics.find(name);
    return t == state_->topics.end() ? 0 : t->second.count;
}

std::size_t hub::topics() const {
    std::lock_guard lock{state_->mu};
    return state_->topics.size();
}

} // namespace upshift::ws
