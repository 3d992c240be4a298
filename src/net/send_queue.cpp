#include "upshift/net/send_queue.hpp"

namespace upshift::net {

void send_queue::append(std::string_view bytes) {
    if (bytes.empty()) return;
    if (head_ == pieces_.size() || !pieces_.back().coalescing || pieces_.back().data.size() >= coalesce_limit) {
        piece p;
        p.data = std::move(spare_);
        p.data.clear();
        p.coalescing = true;
        pieces_.push_back(std::move(p));
    }
    pieces_.back().data.append(bytes);
    bytes_ += bytes.size();
}

void send_queue::append(std::string&& bytes) {
    if (bytes.size() < move_threshold) {
        append(std::string_view(bytes));
        return;
    }
    bytes_ += bytes.size();
    piece p;
    p.data = std::move(bytes);
    pieces_.push_back(std::move(p));
}

void send_queue::append_unit(std::initializer_list<std::string_view> parts, bool started) {
    std::size_t total = 0;
    for (auto p : parts) total += p.size();
    if (total == 0) return;
    // One decision for the whole unit: coalesce into the open piece, or start a new one.
    bool const fresh = started || head_ == pieces_.size() || !pieces_.back().coalescing ||
                       pieces_.back().data.size() >= coalesce_limit;
    if (fresh) {
        piece p;
        p.data = std::move(spare_);
        p.data.clear();
        // A started unit is the rest of something already on the wire: kept alone, so that
        // drop_unstarted() keeps no more than it must.
        p.coalescing = !started;
        p.started = started;
        pieces_.push_back(std::move(p));
    }
    auto& d = pieces_.back().data;
    d.reserve(d.size() + total);
    for (auto p : parts) d.append(p);
    bytes_ += total;
}

void send_queue::drop_unstarted() noexcept {
    std::size_t keep = head_;
    if (head_ < pieces_.size() && (pieces_[head_].offset > 0 || pieces_[head_].started)) keep = head_ + 1;
    for (std::size_t i = keep; i < pieces_.size(); ++i) bytes_ -= pieces_[i].data.size();
    pieces_.erase(pieces_.begin() + static_cast<std::ptrdiff_t>(keep), pieces_.end());
    if (head_ == pieces_.size()) {
        pieces_.clear();
        head_ = 0;
    }
}

int send_queue::fill(iovec* iov, int max) const noexcept {
    int n = 0;
    for (std::size_t i = head_; i < pieces_.size() && n < max; ++i) {
        auto const& p = pieces_[i];
        iov[n].iov_base = const_cast<char*>(p.data.data() + p.offset);
        iov[n].iov_len = p.data.size() - p.offset;
        ++n;
    }
    return n;
}

void send_queue::consume(std::size_t n) noexcept {
    bytes_ -= n;
    while (n > 0 && head_ < pieces_.size()) {
        auto& p = pieces_[head_];
        std::size_t left = p.data.size() - p.offset;
        if (n < left) {
            p.offset += n;
            return;
        }
        n -= left;
        // A sent piece gives its memory back at once (or keeps it as the spare
        // coalescing buffer): what is held stays proportional to what is queued.
        if (p.coalescing && p.data.capacity() > spare_.capacity() && p.data.capacity() <= 2 * coalesce_limit)
            spare_ = std::move(p.data);
        std::string().swap(p.data);
        ++head_;
    }
    if (head_ == pieces_.size()) {
        pieces_.clear();
        head_ = 0;
    } else if (head_ >= 32 && 2 * head_ >= pieces_.size()) {
        // A queue that never empties drops its dead slots now and then.
        pieces_.erase(pieces_.begin(), pieces_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
    }
}

std::size_t send_queue::memory_held() const noexcept {
    // Capacity within the string object itself (small-string buffer) is not heap memory.
    std::size_t const inline_capacity = std::string().capacity();
    auto heap = [inline_capacity](std::string const& s) { return s.capacity() > inline_capacity ? s.capacity() : 0; };
    std::size_t n = heap(spare_);
    for (std::size_t i = head_; i < pieces_.size(); ++i) n += heap(pieces_[i].data);
    return n;
}

void send_queue::clear() noexcept {
    pieces_.clear();
    head_ = 0;
    bytes_ = 0;
}

void send_queue::shrink() noexcept {
    if (!empty()) return;
    std::vector<piece>().swap(pieces_);
    head_ = 0;
    std::string().swap(spare_);
}

} // namespace upshift::net
