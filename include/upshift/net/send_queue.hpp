#pragma once
// Bytes waiting to be written to a socket, in order. Small writes are copied
// and coalesced into one piece; large bodies are moved in whole, so a response
// goes out as one writev of [head, body] without copying the body.
#include <cstddef>
#include <string>
#include <initializer_list>
#include <string_view>
#include <sys/uio.h>
#include <vector>

namespace upshift::net {

class send_queue {
public:
    /// Bodies at least this large are moved in rather than copied.
    static constexpr std::size_t move_threshold = 16 * 1024;
    /// Small writes coalesce into a piece up to this size; then a new piece
    /// starts, so a stream that never fully drains still frees what was sent.
    static constexpr std::size_t coalesce_limit = 64 * 1024;

    void append(std::string_view bytes);
    void append(std::string&& bytes);
    /// Appends the concatenation of `parts` as one unit: it never straddles two pieces, so
    /// drop_unstarted() keeps or drops it whole (a WebSocket frame: header, payload).
    /// `started`: the unit's first bytes were already written elsewhere (its rest is queued),
    /// so it counts as started for drop_unstarted().
    void append_unit(std::initializer_list<std::string_view> parts, bool started = false);
    /// Drops every unit that has not started going out; a partly written one stays whole.
    void drop_unstarted() noexcept;
    /// Fills up to `max` iovecs from the front; returns how many.
    int fill(iovec* iov, int max) const noexcept;
    void consume(std::size_t n) noexcept;
    std::size_t size() const noexcept { return bytes_; }
    bool empty() const noexcept { return bytes_ == 0; }
    void clear() noexcept;
    /// Frees memory when empty (idle connections stay small).
    void shrink() noexcept;
    /// Bytes of memory held (live pieces and the recycled buffer), for tests.
    std::size_t memory_held() const noexcept;

private:
    struct piece {
        std::string data;
        std::size_t offset = 0;
        bool coalescing = false;  // small writes may be appended to it
        bool started = false;     // its first unit was partly written before it was queued
    };
    std::vector<piece> pieces_;
    std::size_t head_ = 0;  // index of the first live piece
    std::size_t bytes_ = 0;
    std::string spare_;     // recycled coalescing buffer, keeps its capacity
};

} // namespace upshift::net
