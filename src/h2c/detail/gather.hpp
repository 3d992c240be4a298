#pragma once
// Output gathered for one write: a session's frames for every stream, as
// iovec pieces that are either bytes copied into the gather's own buffer (frame
// headers, HEADERS blocks) or views of a stream's response body that stays
// untouched until the write is done (DATA payloads, not copied). One per loop
// thread, reused by every session (session::produce_output), so it allocates
// only while it grows.
#include <sys/uio.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace upshift::h2c::detail {

class gather {
public:
    /// Copies `bytes` in.
    void copy(std::string_view bytes) {
        if (bytes.empty()) return;
        if (!pieces_.empty() && pieces_.back().external == nullptr &&
            pieces_.back().offset + pieces_.back().length == buf_.size())
            pieces_.back().length += bytes.size();
        else
            pieces_.push_back({nullptr, buf_.size(), bytes.size()});
        buf_.append(bytes);
        size_ += bytes.size();
    }
    /// Refers to `bytes`, which must stay valid and unchanged until clear().
    void refer(std::string_view bytes) {
        if (bytes.empty()) return;
        pieces_.push_back({bytes.data(), 0, bytes.size()});
        size_ += bytes.size();
    }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }

    /// Fills up to `max` iovecs with what is left after `skip` bytes; returns how many.
    int fill(iovec* iov, int max, std::size_t skip) const noexcept {
        int n = 0;
        for (auto const& p : pieces_) {
            if (n == max) break;
            if (skip >= p.length) {
                skip -= p.length;
                continue;
            }
            char const* base = p.external ? p.external : buf_.data() + p.offset;
            iov[n].iov_base = const_cast<char*>(base + skip);
            iov[n].iov_len = p.length - skip;
            skip = 0;
            ++n;
        }
        return n;
    }
    /// Calls fn(std::string_view) for what is left after `skip` bytes, in order.
    template <class F>
    void for_each_after(std::size_t skip, F&& fn) const {
        for (auto const& p : pieces_) {
            if (skip >= p.length) {
                skip -= p.length;
                continue;
            }
            char const* base = p.external ? p.external : buf_.data() + p.offset;
            fn(std::string_view(base + skip, p.length - skip));
            skip = 0;
        }
    }
    void clear() noexcept {
        buf_.clear();
        pieces_.clear();
        size_ = 0;
    }
    /// Gives memory back after an unusually large burst.
    void trim(std::size_t keep) {
        if (buf_.capacity() > keep) std::string().swap(buf_);
        if (pieces_.capacity() > keep / 64) std::vector<piece>().swap(pieces_);
    }

private:
    struct piece {
        char const* external; // nullptr: in buf_ at offset
        std::size_t offset;
        std::size_t length;
    };
    std::string buf_;
    std::vector<piece> pieces_;
    std::size_t size_ = 0;
};

} // namespace upshift::h2c::detail
