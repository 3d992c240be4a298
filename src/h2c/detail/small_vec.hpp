#pragma once
// A vector of trivially copyable values that keeps its first N in the object
// itself: the per-stream lists of the request head (fields, held header
// buffers) and of a response's header block fit there for ordinary requests,
// so a stream costs no allocation for them.
//
// The inline room is raw storage, not an array of T: a std::array of
// http1::field would zero all N entries (std::string_view's constructor) for
// every stream made, where only the first size_ are ever written and read.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <type_traits>

namespace upshift::h2c::detail {

template <class T, std::size_t N>
class small_vec {
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

public:
    small_vec() = default;
    small_vec(small_vec const&) = delete;
    small_vec& operator=(small_vec const&) = delete;

    // The common case inline and branch-light; growing is out of line.
    void push_back(T const& v) {
        if (size_ == capacity_) [[unlikely]]
            grow();
        ::new (static_cast<void*>(data_ + size_)) T(v);
        ++size_;
    }
    void clear() noexcept { size_ = 0; } // the heap block, if any, is kept for reuse
    T* data() noexcept { return data_; }
    T const* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    T* begin() noexcept { return data_; }
    T* end() noexcept { return data_ + size_; }
    T const* begin() const noexcept { return data_; }
    T const* end() const noexcept { return data_ + size_; }
    std::span<T const> span() const noexcept { return {data_, size_}; }

private:
    [[gnu::noinline]] void grow() {
        std::size_t const cap = capacity_ * 2;
        auto bigger = std::make_unique_for_overwrite<T[]>(cap);
        std::memcpy(static_cast<void*>(bigger.get()), static_cast<void const*>(data_), size_ * sizeof(T));
        heap_ = std::move(bigger);
        data_ = heap_.get();
        capacity_ = cap;
    }

    alignas(T) unsigned char inline_[N * sizeof(T)]; // not initialised: only the first size_ are read
    std::unique_ptr<T[]> heap_;
    T* data_ = reinterpret_cast<T*>(inline_);
    std::size_t size_ = 0;
    std::size_t capacity_ = N;
};

} // namespace upshift::h2c::detail
