#pragma once
// A vector of trivially copyable values that keeps its first N in the object
// itself: the per-stream lists of the request head (fields, held header
// buffers) and of a response's header block fit there for ordinary requests,
// so a stream costs no allocation for them.
#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <type_traits>
#include <vector>

namespace upshift::h2c::detail {

template <class T, std::size_t N>
class small_vec {
    static_assert(std::is_trivially_copyable_v<T>);

public:
    small_vec() = default;
    small_vec(small_vec const&) = delete;
    small_vec& operator=(small_vec const&) = delete;

    void push_back(T const& v) {
        if (heap_.empty()) {
            if (size_ < N) {
                inline_[size_++] = v;
                return;
            }
            // Spill: from now on everything lives on the heap (data() stays contiguous).
            heap_.reserve(2 * N);
            heap_.assign(inline_.begin(), inline_.begin() + static_cast<std::ptrdiff_t>(size_));
        }
        heap_.push_back(v);
        ++size_;
    }
    void clear() noexcept {
        heap_.clear();
        size_ = 0;
    }
    T* data() noexcept { return heap_.empty() ? inline_.data() : heap_.data(); }
    T const* data() const noexcept { return heap_.empty() ? inline_.data() : heap_.data(); }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    T* begin() noexcept { return data(); }
    T* end() noexcept { return data() + size_; }
    T const* begin() const noexcept { return data(); }
    T const* end() const noexcept { return data() + size_; }
    std::span<T const> span() const noexcept { return {data(), size_}; }

private:
    std::array<T, N> inline_; // not zeroed: only the first size_ are ever read
    std::vector<T> heap_;
    std::size_t size_ = 0;
};

} // namespace upshift::h2c::detail
