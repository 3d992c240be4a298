#include "h2c/detail/nghttp2_pool.hpp"

#include <bit>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "upshift/base/sanitizers.hpp"

namespace upshift::h2c::detail {
namespace {

constexpr bool pool_enabled = !built_with_asan;

// Every block starts with this header (16 bytes, so the caller's part keeps
// malloc's alignment): nghttp2's free() does not say how large a block is.
struct alignas(16) header {
    std::size_t size; // bytes the caller asked for
};
constexpr std::size_t header_size = sizeof(header);

// Size classes by whole block (header included): 64, 128, ... 2048 bytes.
constexpr std::size_t smallest_class = 64; // 2^6 (class_of)
constexpr int class_count = 6;
constexpr std::size_t largest_class = smallest_class << (class_count - 1);
// Per class at most this many free blocks are kept: enough for the bursts of
// a busy thread (h2load -c10 -m10 keeps about 10-20 per class in use), and at
// most ~250 KiB per thread when every class is full.
constexpr int max_free_per_class = 64;

// -1 for a block too large to pool.
int class_of(std::size_t size) noexcept {
    std::size_t const total = size + header_size;
    if (total > largest_class) return -1;
    if (total <= smallest_class) return 0;
    // The smallest power of two that holds `total`, counted from smallest_class (2^6).
    return static_cast<int>(std::bit_width(total - 1)) - 6;
}
std::size_t class_bytes(int c) noexcept { return smallest_class << c; }

struct free_block {
    free_block* next;
};

struct pool {
    free_block* heads[class_count] = {};
    int counts[class_count] = {};
    pool() = default;
    pool(pool const&) = delete;
    pool& operator=(pool const&) = delete;
    ~pool();
};

// Trivially destructible, so still readable while thread_local objects are being destroyed:
// a block freed after the pool is gone goes straight back to the heap.
thread_local bool pool_gone = false;

pool::~pool() {
    pool_gone = true;
    for (auto*& head : heads)
        while (head) {
            auto* next = head->next;
            std::free(head);
            head = next;
        }
}

pool& local_pool() {
    thread_local pool p;
    return p;
}

void* user_part(void* raw, std::size_t size) noexcept {
    static_cast<header*>(raw)->size = size;
    return static_cast<char*>(raw) + header_size;
}
header* header_of(void* ptr) noexcept {
    return reinterpret_cast<header*>(static_cast<char*>(ptr) - header_size);
}

void* pool_malloc(std::size_t size, void*) {
    int const c = class_of(size);
    if (c < 0) {
        void* raw = std::malloc(size + header_size);
        return raw ? user_part(raw, size) : nullptr;
    }
    if (!pool_gone) {
        auto& p = local_pool();
        if (auto* b = p.heads[c]) {
            p.heads[c] = b->next;
            --p.counts[c];
            return user_part(b, size);
        }
    }
    // The whole class size, so that the block can serve any request of its class later.
    void* raw = std::malloc(class_bytes(c));
    return raw ? user_part(raw, size) : nullptr;
}

void pool_free(void* ptr, void*) {
    if (!ptr) return;
    auto* h = header_of(ptr);
    int const c = class_of(h->size);
    if (c >= 0 && !pool_gone) {
        auto& p = local_pool();
        if (p.counts[c] < max_free_per_class) {
            auto* b = reinterpret_cast<free_block*>(h);
            b->next = p.heads[c];
            p.heads[c] = b;
            ++p.counts[c];
            return;
        }
    }
    std::free(h);
}

void* pool_calloc(std::size_t n, std::size_t size, void* user) {
    if (size != 0 && n > (static_cast<std::size_t>(-1) - header_size) / size) return nullptr;
    void* p = pool_malloc(n * size, user);
    if (p) std::memset(p, 0, n * size);
    return p;
}

void* pool_realloc(void* ptr, std::size_t size, void* user) {
    if (!ptr) return pool_malloc(size, user);
    auto* h = header_of(ptr);
    std::size_t const old = h->size;
    int const old_class = class_of(old);
    int const new_class = class_of(size);
    if (old_class >= 0 && old_class == new_class) {
        h->size = size; // the block is already the class's full size
        return ptr;
    }
    if (old_class < 0 && new_class < 0) {
        void* raw = std::realloc(h, size + header_size);
        return raw ? user_part(raw, size) : nullptr;
    }
    void* fresh = pool_malloc(size, user);
    if (!fresh) return nullptr;
    std::memcpy(fresh, ptr, old < size ? old : size);
    pool_free(ptr, user);
    return fresh;
}

nghttp2_mem pooled{nullptr, &pool_malloc, &pool_free, &pool_calloc, &pool_realloc};

} // namespace

nghttp2_mem* pooled_nghttp2_mem() noexcept { return &pooled; }

nghttp2_mem* session_nghttp2_mem() noexcept { return pool_enabled ? &pooled : nullptr; }

} // namespace upshift::h2c::detail
