#pragma once
// In-process h2c tests: the server fixture (unit/server) serving a test handler
// through h2c::service, reached by raw sockets (to see the exact frames) and by
// real HTTP/2 clients (nghttp, curl) run as child processes.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "integration/integration_helpers.hpp"
#include "server_fixture.hpp"
#include "upshift/h2c/service.hpp"
#include "upshift/h2c/upgrade_request.hpp"

namespace upshift::test {

/// One HTTP/2 frame header (RFC 9113 §4.1) and its payload.
struct h2_frame {
    std::uint32_t length = 0;
    std::uint8_t type = 0;
    std::uint8_t flags = 0;
    std::uint32_t stream_id = 0;
    std::string payload;
};

inline constexpr std::uint8_t frame_data = 0x0, frame_headers = 0x1, frame_settings = 0x4, frame_goaway = 0x7;

/// One raw frame as a client would send it (RFC 9113 §4.1: 24-bit length, type, flags, stream).
inline std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream, std::string_view payload) {
    std::string f;
    auto const n = payload.size();
    f.push_back(static_cast<char>((n >> 16) & 0xff));
    f.push_back(static_cast<char>((n >> 8) & 0xff));
    f.push_back(static_cast<char>(n & 0xff));
    f.push_back(static_cast<char>(type));
    f.push_back(static_cast<char>(flags));
    for (int shift = 24; shift >= 0; shift -= 8) f.push_back(static_cast<char>((stream >> shift) & 0xff));
    f.append(payload);
    return f;
}

/// The frames at the front of `bytes`; a trailing partial frame is left out.
inline std::vector<h2_frame> parse_frames(std::string_view bytes) {
    std::vector<h2_frame> out;
    auto u8 = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])); };
    while (bytes.size() >= 9) {
        h2_frame f;
        f.length = (u8(0) << 16) | (u8(1) << 8) | u8(2);
        f.type = static_cast<std::uint8_t>(u8(3));
        f.flags = static_cast<std::uint8_t>(u8(4));
        f.stream_id = ((u8(5) << 24) | (u8(6) << 16) | (u8(7) << 8) | u8(8)) & 0x7fffffffu;
        if (bytes.size() < 9 + f.length) break;
        f.payload = std::string(bytes.substr(9, f.length));
        out.push_back(std::move(f));
        bytes.remove_prefix(9 + f.length);
    }
    return out;
}

/// True when a whole frame of `type` is among the frames at the front of `bytes`.
inline bool has_frame(std::string_view bytes, std::uint8_t type) {
    for (auto const& f : parse_frames(bytes))
        if (f.type == type) return true;
    return false;
}

/// An empty SETTINGS frame: what a client sends after the preface when it changes nothing.
inline std::string empty_settings_frame() { return std::string("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9); }

/// curl's HTTP2-Settings value (MAX_CONCURRENT_STREAMS 100, INITIAL_WINDOW_SIZE 32 MiB, ENABLE_PUSH 0).
inline constexpr std::string_view curl_http2_settings = "AAMAAABkAAQCAAAAAAIAAAAA";

class h2c_fixture : public server_fixture {
protected:
    /// Serves `app` over HTTP/1.1, Upgrade: h2c and (unless disabled) prior knowledge;
    /// HTTP/1.1 responses advertise h2c when `o.advertise` is set.
    ::testing::AssertionResult start_h2c(server::handler app, h2c::options o = {},
                                         bool prior_knowledge = true) {
        h2c::service const svc{std::move(app), o};
        auto pk = prior_knowledge ? svc.prior_knowledge() : std::function<void(upgrade::upgraded)>{};
        return start(svc.http1_handler(), [pk, adv = svc.advertisement()](server::options& so) {
            so.prior_knowledge = pk;
            so.advertise_upgrade = adv;
        });
    }

    std::string url(std::string_view path) const {
        return "http://127.0.0.1:" + std::to_string(port()) + std::string(path);
    }

    /// Reads from `c` until a complete frame of `type` has arrived (or the timeout); returns the frames so far.
    static std::vector<h2_frame> read_frames_until(raw_client& c, std::uint8_t type,
                                                   std::chrono::milliseconds timeout = 5s) {
        std::vector<h2_frame> frames;
        auto r = c.read_until(
            [&](std::string_view buf) -> std::size_t {
                frames = parse_frames(buf);
                for (auto const& f : frames)
                    if (f.type == type) return buf.size();
                return 0;
            },
            timeout);
        if (!r) frames.clear();
        return frames;
    }
};

} // namespace upshift::test
