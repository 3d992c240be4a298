#pragma once
// Test transports that behave like a TLS stream holding bytes: everything the socket has is pulled
// in at once, but a read hands out at most `piece` bytes (or the next size of `schedule`) and
// reports the rest through net::stream::pending(), bytes epoll will never announce again.
#include <algorithm>
#include <cstring>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "upshift/net/stream.hpp"

namespace upshift::test {

struct piecewise_reader {
    piecewise_reader() = default;
    /// `seed`: bytes held from the start, handed out before anything is read from the socket.
    explicit piecewise_reader(std::size_t piece_size, std::string seed = {})
        : piece(piece_size), held(std::move(seed)) {}
    explicit piecewise_reader(std::vector<std::size_t> sizes) : schedule(std::move(sizes)) {}

    /// At most this many bytes per read; 0: as many as the caller has room for.
    std::size_t piece = 0;
    /// When not empty, the limit of each read instead of `piece`, cycled (0: no limit).
    std::vector<std::size_t> schedule;

    /// Bytes drained from the socket and not handed out yet.
    std::size_t pending() const noexcept { return held.size() - at; }

    net::io_result read(net::tcp_stream& inner, std::span<char> buf) {
        if (pending() == 0) {
            held.clear();
            at = 0;
            char chunk[64 * 1024];
            for (;;) {
                auto const r = inner.read(chunk);
                if (r.bytes == 0) {
                    if (held.empty()) return r;  // EAGAIN, EOF or an error, as the socket said
                    break;
                }
                held.append(chunk, r.bytes);
            }
        }
        std::size_t const limit = schedule.empty() ? piece : schedule[next++ % schedule.size()];
        std::size_t k = std::min(buf.size(), pending());
        if (limit > 0) k = std::min(k, limit);
        // An offset, not an erase from the front: megabytes held cost no quadratic copying.
        std::memcpy(buf.data(), held.data() + at, k);
        at += k;
        net::io_result r{};
        r.bytes = k;
        return r;
    }

private:
    std::string held;
    std::size_t at = 0;
    std::size_t next = 0;
};

} // namespace upshift::test
