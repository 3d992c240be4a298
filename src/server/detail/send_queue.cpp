#include "server/detail/send_queue.hpp"

namespace upshift::server::detail {

void send_queue::append(std::string_view bytes) {
    if (bytes.empty()) return;
    if (head_ == pieces_.size() || !pieces_.back().coalescing) {
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
        if (p.coalescing && p.data.capacity() > spare_.capacity()) spare_ = std::move(p.data);
        ++head_;
    }
    if (head_ == pieces_.size()) {
        pieces_.clear();
        head_ = 0;
    }
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

} // namespace upshift::server::detail
