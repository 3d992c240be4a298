#pragma once
// Test transports that behave like a TLS stream holding bytes: everything the socket has is pulled
// in at once, but a read hands out at most `piece` bytes and reports the rest through
// net::stream::pending(), bytes epoll will never announce again.
#include <algorithm>
#include <span>
#include <string>

#include "upshift/net/stream.hpp"

namespace upshift::test {

struct piecewise_reader {
    std::size_t piece = 0;
    std::string held;

    net::io_result read(net::tcp_stream& inner, std::span<char> buf) {
        if (held.empty()) {
            char chunk[4096];
            for (;;) {
                auto const r = inner.read(chunk);
                if (r.bytes == 0) {
                    if (held.empty()) return r;  // EAGAIN, EOF or an error, as the socket said
                    break;
                }
                held.append(chunk, r.bytes);
            }
        }
        std::size_t const k = std::min({buf.size(), held.size(), piece});
        held.copy(buf.data(), k);
        held.erase(0, k);
        net::io_result r{};
        r.bytes = k;
        return r;
    }
};

} // namespace upshift::test
