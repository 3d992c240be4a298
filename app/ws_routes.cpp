#include "ws_routes.hpp"

#include <algorithm>
#include <any>
#include <atomic>
#include <string>

#include "responses.hpp"
#include "upshift/ws/hub.hpp"
#include "upshift/ws/server.hpp"
#include "url_path.hpp"

namespace upshift::app {
namespace {

constexpr std::string_view chat_prefix = "/ws/chat/";
constexpr std::size_t max_room_name = 64;

/// Switches a WebSocket offer, or refuses it with the handshake's own status (400, 426); a
/// request without one learns what the resource speaks.
void switch_or_426(server::exchange& ex, upgrade::registry const& registry) {
    if (server::accept_upgrade(ex, registry)) return;
    // RFC 9110 §15.5.22: a 426 MUST carry Upgrade; RFC 6455 §4.2.2 item 4: name the version.
    ex.respond(http1::status::upgrade_required,
               {{"Upgrade", "websocket"},
                {"Sec-WebSocket-Version", "13"},
                {"Content-Type", "text/plain; charset=utf-8"}},
               "This resource speaks WebSocket (RFC 6455).\n");
}

/// `s` as a JSON string literal (RFC 8259 §7). The session has checked that text is UTF-8.
std::string json_string(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    for (char c : s) {
        auto const u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\u00";
            out += hex[u >> 4];
            out += hex[u & 0xF];
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

/// A chat connection's state (ws::session::user_data).
struct chat_member {
    std::string topic;  // "chat/<room>"
    std::string name;   // "guest-<n>"
};

std::string presence(std::string_view type, std::string_view who, std::size_t count) {
    return R"({"type":")" + std::string(type) + R"(","who":)" + json_string(who) +
           R"(,"count":)" + std::to_string(count) + "}";
}

} // namespace

std::shared_ptr<upgrade::registry const> make_ws_echo_registry() {
    ws::behaviour b;
    b.on_message = [](ws::session& s, std::string_view data, ws::message_kind kind) {
        // Above the high-water mark send() still queues and the session stops reading until the
        // peer takes what is queued: backpressure reaches a fast sender through TCP.
        s.send(data, kind);
    };
    auto r = std::make_shared<upgrade::registry>();
    ws::options opt;
    opt.max_message_size = std::size_t{64} << 20;
    // RFC 7692: compress when the client offers it (browsers and python websockets do).
    opt.permessage_deflate = true;
    opt.max_inflated_message_size = std::size_t{64} << 20;
    r->add(ws::make_protocol(std::move(opt), std::move(b)));
    return r;
}

void ws_echo(server::exchange& ex, upgrade::registry const& registry) { switch_or_426(ex, registry); }

std::optional<std::string_view> chat_room(std::string_view path) noexcept {
    if (!path.starts_with(chat_prefix)) return std::nullopt;
    auto const room = path.substr(chat_prefix.size());
    auto const allowed = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    };
    if (room.empty() || room.size() > max_room_name || !std::all_of(room.begin(), room.end(), allowed))
        return std::nullopt;
    return room;
}

std::shared_ptr<upgrade::registry const> make_ws_chat_registry() {
    // One hub for every worker loop: a room's members may sit on different threads.
    ws::hub const rooms;
    auto next_guest = std::make_shared<std::atomic<unsigned>>(0);
    ws::behaviour b;
    b.on_open = [rooms, next_guest](ws::session& s) {
        auto const room = chat_room(target_path(s.request().target));
        if (!room) {  // ws_chat() checked it before switching
            s.close(ws::close_code::internal_error);
            return;
        }
        chat_member m{"chat/" + std::string(*room), "guest-" + std::to_string(++*next_guest)};
        // The others hear of the join before the newcomer gets its welcome: a client that waits for
        // its welcome and then does anything (joins again, talks) never overtakes its own join
        // notice, even across loops (the loop runs posted work before new I/O). The newcomer gets
        // its own notice right after its welcome.
        auto const count = rooms.subscribers(m.topic) + 1;
        auto join = presence("join", m.name, count);
        rooms.publish(m.topic, join);
        rooms.subscribe(s, m.topic);
        s.send(R"({"type":"welcome","you":)" + json_string(m.name) + R"(,"room":)" + json_string(*room) +
               R"(,"count":)" + std::to_string(count) + "}");
        s.send(join);
        s.user_data = std::move(m);
    };
    b.on_message = [rooms](ws::session& s, std::string_view data, ws::message_kind kind) {
        auto const* m = std::any_cast<chat_member>(&s.user_data);
        if (m == nullptr) return;
        if (kind != ws::message_kind::text) {
            s.close(ws::close_code::unsupported_data, "text only");
            return;
        }
        // To everyone in the room, the sender included: its own line comes back as confirmation.
        rooms.publish(m->topic, R"({"type":"message","from":)" + json_string(m->name) + R"(,"text":)" +
                                    json_string(data) + "}");
    };
    b.on_close = [rooms](ws::session& s, std::uint16_t, std::string_view) {
        // The hub has already removed `s` from the room, so the count excludes it.
        if (auto const* m = std::any_cast<chat_member>(&s.user_data))
            rooms.publish(m->topic, presence("leave", m->name, rooms.subscribers(m->topic)));
    };
    ws::options opt;
    opt.max_message_size = std::size_t{64} << 10;
    opt.permessage_deflate = true;
    opt.max_inflated_message_size = std::size_t{64} << 10;
    // A reader that falls this far behind the room is dropped with 1008 instead of growing a queue.
    opt.send_high_water = std::size_t{256} << 10;
    opt.max_buffered = std::size_t{4} << 20;
    // A chat tab may sit quietly for a long time (browsers cannot send a Ping, but they answer
    // ours): keep-alive Pings hold it open through proxies, and a vanished peer that stops
    // answering them is dropped after idle_timeout.
    opt.ping_interval = std::chrono::seconds{30};
    opt.idle_timeout = std::chrono::minutes{2};
    auto r = std::make_shared<upgrade::registry>();
    r->add(ws::make_protocol(std::move(opt), std::move(b)));
    return r;
}

void ws_chat(server::exchange& ex, std::string_view path, upgrade::registry const& registry) {
    if (!chat_room(path)) {
        respond_text(ex, http1::status::not_found);
        return;
    }
    switch_or_426(ex, registry);
}

} // namespace upshift::app
