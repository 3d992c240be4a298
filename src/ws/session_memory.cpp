// The session slot pool (session_memory.hpp).
#include "ws/session_memory.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <mutex>
#include <new>

#include "upshift/base/sanitizers.hpp"

namespace upshift::ws::detail {

#ifdef UPSHIFT_ASAN

void* allocate_session(std::size_t size, std::size_t) noexcept { return ::operator new(size, std::nothrow); }
void free_session(void* p) noexcept { ::operator delete(p); }

#else

namespace {

constexpr std::size_t block_size = 64 * 1024;  // also its alignment: a slot finds its block by masking

/// The head of a block; the slots follow it.
struct block {
    block* prev = nullptr;  // in the pool's list of blocks with a free slot
    block* next = nullptr;
    void* free = nullptr;    // freed slots, linked through their first word
    std::uint32_t live = 0;  // slots in use
    std::uint32_t carved = 0;  // slots used at least once; the rest of the block was never touched
};

constexpr std::size_t round_up(std::size_t n, std::size_t to) noexcept { return (n + to - 1) / to * to; }

class pool {
public:
    void* allocate(std::size_t size, std::size_t align) noexcept {
        std::lock_guard const lock(mu_);
        if (slot_ == 0) {
            slot_ = round_up(size, align);
            first_ = round_up(sizeof(block), align);
            per_block_ = static_cast<std::uint32_t>((block_size - first_) / slot_);
        }
        block* b = open_;
        if (!b) {
            b = map_block();
            if (!b) return nullptr;
            link(b);
        }
        void* p = nullptr;
        if (b->free) {
            p = b->free;
            b->free = *static_cast<void**>(p);
        } else {
            p = reinterpret_cast<char*>(b) + first_ + b->carved * slot_;
            ++b->carved;
        }
        if (++b->live == per_block_) unlink(b);
        return p;
    }

    void free(void* p) noexcept {
        std::lock_guard const lock(mu_);
        auto* b = reinterpret_cast<block*>(reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{block_size - 1});
        if (b->live == per_block_) link(b);  // it has a free slot again
        *static_cast<void**>(p) = b->free;
        b->free = p;
        if (--b->live > 0) return;
        // Empty: given back, unless it is the only block with room (a session that comes and
        // goes would otherwise map and unmap a block each time).
        if (open_ == b && b->next == nullptr) return;
        unlink(b);
        ::munmap(b, block_size);
    }

private:
    static block* map_block() noexcept {
        // Twice the size, then the unaligned ends are given back.
        void* raw = ::mmap(nullptr, 2 * block_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (raw == MAP_FAILED) return nullptr;
        auto const start = reinterpret_cast<std::uintptr_t>(raw);
        auto const aligned = round_up(start, block_size);
        if (aligned > start) ::munmap(raw, aligned - start);
        auto const end = start + 2 * block_size;
        if (end > aligned + block_size) ::munmap(reinterpret_cast<void*>(aligned + block_size), end - aligned - block_size);
        return new (reinterpret_cast<void*>(aligned)) block{};
    }

    void link(block* b) noexcept {
        b->prev = nullptr;
        b->next = open_;
        if (open_) open_->prev = b;
        open_ = b;
    }

    void unlink(block* b) noexcept {
        if (b->prev) b->prev->next = b->next;
        else open_ = b->next;
        if (b->next) b->next->prev = b->prev;
        b->prev = b->next = nullptr;
    }

    std::mutex mu_;
    block* open_ = nullptr;  // blocks with at least one free slot
    std::size_t slot_ = 0;
    std::size_t first_ = 0;
    std::uint32_t per_block_ = 0;
};

pool& sessions() noexcept {
    // Never destroyed: sessions may still be freed while static objects are torn down.
    static pool* const p = new pool;
    return *p;
}

} // namespace

void* allocate_session(std::size_t size, std::size_t align) noexcept { return sessions().allocate(size, align); }
void free_session(void* p) noexcept { sessions().free(p); }

#endif

} // namespace upshift::ws::detail
