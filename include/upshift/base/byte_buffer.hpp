#pragma once
// A contiguous, growable byte buffer with a readable region followed by a
// writable region: prepare(n) -> write into it -> commit(n); data() -> parse
// -> consume(n). Parsers hand out string_views into data(), so the buffer only
// moves bytes (compacts or grows) inside prepare(), never behind a reader's back
// while it holds views from the current data().
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

namespace upshift {

class byte_buffer {
public:
    byte_buffer() = default;
    explicit byte_buffer(std::size_t initial_capacity) { reserve(initial_capacity); }
    byte_buffer(byte_buffer&& o) noexcept { swap(o); }
    byte_buffer& operator=(byte_buffer&& o) noexcept {
        byte_buffer tmp(std::move(o));
        swap(tmp);
        return *this;
    }
    byte_buffer(byte_buffer const&) = delete;
    byte_buffer& operator=(byte_buffer const&) = delete;

    /// Readable bytes, in order.
    std::string_view data() const noexcept { return {data_.get() + begin_, end_ - begin_}; }
    std::size_t size() const noexcept { return end_ - begin_; }
    bool empty() const noexcept { return begin_ == end_; }
    std::size_t capacity() const noexcept { return cap_; }

    /// Writable space of at least n bytes at the end; may move readable bytes.
    std::span<char> prepare(std::size_t n) {
        if (cap_ - end_ < n) make_room(n);
        return {data_.get() + end_, cap_ - end_};
    }
    /// Marks n bytes of the prepared space as readable.
    void commit(std::size_t n) noexcept { end_ += n; }
    /// Drops n readable bytes from the front.
    void consume(std::size_t n) noexcept {
        begin_ += n;
        if (begin_ >= end_) begin_ = end_ = 0;
    }
    void clear() noexcept { begin_ = end_ = 0; }
    void append(std::string_view s) {
        auto w = prepare(s.size());
        if (!s.empty()) std::memcpy(w.data(), s.data(), s.size());
        commit(s.size());
    }
    void reserve(std::size_t n) {
        if (cap_ - begin_ < n) make_room(n - size());
    }
    /// Returns memory to the allocator when empty (idle connections stay small).
    void shrink_if_empty() noexcept {
        if (empty()) {
            data_.reset();
            cap_ = begin_ = end_ = 0;
        }
    }
    void swap(byte_buffer& o) noexcept {
        std::swap(data_, o.data_);
        std::swap(cap_, o.cap_);
        std::swap(begin_, o.begin_);
        std::swap(end_, o.end_);
    }

private:
    void make_room(std::size_t n) {
        std::size_t const live = size();
        if (begin_ > 0 && cap_ - live >= n && live <= cap_ / 2) {
            std::memmove(data_.get(), data_.get() + begin_, live);
        } else {
            std::size_t ncap = cap_ ? cap_ : 1024;
            while (ncap - live < n) ncap *= 2;
            std::unique_ptr<char[]> nd(new char[ncap]);
            if (live) std::memcpy(nd.get(), data_.get() + begin_, live);
            data_ = std::move(nd);
            cap_ = ncap;
        }
        begin_ = 0;
        end_ = live;
    }

    std::unique_ptr<char[]> data_;
    std::size_t cap_ = 0;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

} // namespace upshift
