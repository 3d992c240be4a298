#pragma once
// Reading what a server sends (RFC 6455 §5.2, unmasked frames §5.1) byte by byte from a
// raw_client, and the client side of permessage-deflate with zlib itself (RFC 7692 §7.2), for
// the fragmented-send tests. Independent of upshift's frame_parser and deflate_codec.
#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "support/raw_client.hpp"
#include "upshift/ws/frame.hpp"

namespace upshift::ws::test {

/// One frame as the server sent it.
struct server_frame {
    bool fin = false;
    bool rsv1 = false;
    int rsv23 = 0;  ///< RSV2 and RSV3 (never set without an extension defining them)
    opcode op = opcode::continuation;
    bool masked = false;
    std::string payload;

    int close_code() const {
        if (payload.size() < 2) return 0;
        return (static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]);
    }
};

/// Length of the complete frame at the front of `b`, or 0.
inline std::size_t server_frame_length(std::string_view b) {
    if (b.size() < 2) return 0;
    auto const b1 = static_cast<unsigned char>(b[1]);
    std::size_t header = 2;
    std::uint64_t len = b1 & 0x7F;
    if (len == 126 || len == 127) {
        std::size_t const ext = len == 126 ? 2 : 8;
        if (b.size() < 2 + ext) return 0;
        len = 0;
        for (std::size_t i = 0; i < ext; ++i) len = (len << 8) | static_cast<unsigned char>(b[2 + i]);
        header += ext;
    }
    if (b1 & 0x80) header += 4;
    if (b.size() < header + len) return 0;
    return header + static_cast<std::size_t>(len);
}

inline server_frame decode_server_frame(std::string_view b) {
    server_frame f;
    auto const b0 = static_cast<unsigned char>(b[0]);
    auto const b1 = static_cast<unsigned char>(b[1]);
    f.fin = (b0 & 0x80) != 0;
    f.rsv1 = (b0 & 0x40) != 0;
    f.rsv23 = (b0 >> 4) & 0x3;
    f.op = static_cast<opcode>(b0 & 0x0F);
    f.masked = (b1 & 0x80) != 0;
    std::size_t header = 2;
    if ((b1 & 0x7F) == 126) header += 2;
    if ((b1 & 0x7F) == 127) header += 8;
    if (f.masked) header += 4;
    f.payload = std::string(b.substr(header));
    return f;
}

inline std::optional<server_frame> read_server_frame(upshift::test::raw_client& c,
                                                     std::chrono::milliseconds timeout = std::chrono::seconds{5}) {
    auto bytes = c.read_until([](std::string_view b) { return server_frame_length(b); }, timeout);
    if (!bytes) return std::nullopt;
    return decode_server_frame(*bytes);
}

/// The client's inflater (RFC 7692 §7.2.2): a message's data plus 00 00 ff ff, raw DEFLATE,
/// 32 KiB window kept between messages (context takeover).
class client_inflater {
public:
    client_inflater() { ok_ = inflateInit2(&z_, -15) == Z_OK; }
    ~client_inflater() { inflateEnd(&z_); }
    client_inflater(client_inflater const&) = delete;
    client_inflater& operator=(client_inflater const&) = delete;

    /// Inflates what arrived of a message; `last` appends the §7.2.2 tail. nullopt on a zlib error.
    std::optional<std::string> inflate_part(std::string in, bool last) {
        if (!ok_) return std::nullopt;
        if (last) in.append("\x00\x00\xff\xff", 4);
        std::string out;
        z_.next_in = reinterpret_cast<Bytef*>(in.data());
        z_.avail_in = static_cast<uInt>(in.size());
        char buf[16384];
        do {
            z_.next_out = reinterpret_cast<Bytef*>(buf);
            z_.avail_out = sizeof buf;
            int const rc = ::inflate(&z_, Z_SYNC_FLUSH);
            if (rc != Z_OK && rc != Z_BUF_ERROR) return std::nullopt;
            out.append(buf, sizeof buf - z_.avail_out);
            if (rc == Z_BUF_ERROR && z_.avail_in == 0) break;
        } while (z_.avail_in > 0 || z_.avail_out == 0);
        return out;
    }

private:
    z_stream z_{};
    bool ok_ = false;
};

} // namespace upshift::ws::test
