// malloc_census.so: an LD_PRELOAD library that counts a process's live heap blocks by size, for
// the idle-memory measurement (bench/README.md, "idle connections"). Where RSS says how much a
// connection costs, this says what it is made of: how many blocks of which size stay allocated.
//
//   LD_PRELOAD=build/bench/bench/ws_load/malloc_census.so MALLOC_CENSUS_SIGNAL=10 (continued)
//       build/bench/bench/ws_load/upshift_echo_server 18491 &
//   ws_load --mode idle ... --server-pid $! --signal-server 10
//
// On the signal (SIGUSR1 by default) it writes to stderr the live blocks grouped by glibc's usable
// size (malloc_usable_size: the request rounded up to 8 mod 16, 24 at least; the chunk in memory
// is that plus 8 bytes), the number of malloc calls so far, and mallinfo2()'s view of the arenas.
// Two dumps subtracted give the blocks a batch of connections left behind.
//
// It forwards to glibc's own entry points (__libc_malloc and friends), so the heap layout is the
// one the process has without it; only the counters are added. Not for production use: the dump
// runs in the signal handler (fine for a server waiting in epoll_wait, which is when it is sent).
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void __libc_free(void*);
void* __libc_memalign(std::size_t, std::size_t);
}

namespace {

// Usable sizes up to 4 KiB counted exactly (in 8-byte steps); larger blocks in one bucket.
constexpr std::size_t step = 8;
constexpr std::size_t exact_limit = 4096;
constexpr std::size_t buckets = exact_limit / step + 1;

std::atomic<long long> live_count[buckets];
std::atomic<long long> live_bytes_big{0};
std::atomic<long long> calls{0};

std::size_t bucket_of(std::size_t usable) noexcept { return usable >= exact_limit ? buckets - 1 : usable / step; }

void count_in(void* p) noexcept {
    if (!p) return;
    auto const u = malloc_usable_size(p);
    live_count[bucket_of(u)].fetch_add(1, std::memory_order_relaxed);
    if (u >= exact_limit) live_bytes_big.fetch_add(static_cast<long long>(u), std::memory_order_relaxed);
    calls.fetch_add(1, std::memory_order_relaxed);
}

void count_out(void* p) noexcept {
    if (!p) return;
    auto const u = malloc_usable_size(p);
    live_count[bucket_of(u)].fetch_sub(1, std::memory_order_relaxed);
    if (u >= exact_limit) live_bytes_big.fetch_sub(static_cast<long long>(u), std::memory_order_relaxed);
}

void say(char const* text) noexcept {
    auto n = std::strlen(text);
    while (n > 0) {
        auto const w = ::write(2, text, n);
        if (w <= 0) return;
        text += w;
        n -= static_cast<std::size_t>(w);
    }
}

extern "C" void dump(int) {
    static int round = 0;
    ++round;
    char line[160];
    long long blocks = 0, bytes = 0;
    std::snprintf(line, sizeof line, "census %d: live blocks by usable size (chunk = usable + 8)\n", round);
    say(line);
    for (std::size_t b = 0; b + 1 < buckets; ++b) {
        auto const n = live_count[b].load(std::memory_order_relaxed);
        if (n == 0) continue;
        blocks += n;
        bytes += n * static_cast<long long>(b * step + 8);
        std::snprintf(line, sizeof line, "census %d: usable %5zu: %lld\n", round, b * step, n);
        say(line);
    }
    auto const big = live_count[buckets - 1].load(std::memory_order_relaxed);
    auto const big_bytes = live_bytes_big.load(std::memory_order_relaxed);
    blocks += big;
    bytes += big_bytes;
    struct mallinfo2 const mi = mallinfo2();
    std::snprintf(line, sizeof line, "census %d: usable >= %zu: %lld (%lld bytes)\n", round, exact_limit, big, big_bytes);
    say(line);
    std::snprintf(line, sizeof line,
                  "census %d: total live %lld blocks, %lld bytes of chunks; %lld malloc calls so far\n", round,
                  blocks, bytes, calls.load(std::memory_order_relaxed));
    say(line);
    std::snprintf(line, sizeof line,
                  "census %d: mallinfo2 arena %zu in use %zu free %zu mmap %zu (%zu blocks) top %zu\n", round,
                  mi.arena, mi.uordblks, mi.fordblks, mi.hblkhd, mi.hblks, mi.keepcost);
    say(line);
}

struct installer {
    installer() {
        int sig = SIGUSR1;
        if (char const* s = std::getenv("MALLOC_CENSUS_SIGNAL")) sig = std::atoi(s);
        std::signal(sig, dump);
    }
} const install;

} // namespace

extern "C" {

void* malloc(std::size_t n) {
    void* p = __libc_malloc(n);
    count_in(p);
    return p;
}

void* calloc(std::size_t n, std::size_t size) {
    void* p = __libc_calloc(n, size);
    count_in(p);
    return p;
}

void* realloc(void* old, std::size_t n) {
    count_out(old);
    void* p = __libc_realloc(old, n);
    if (p) count_in(p);
    else if (old && n != 0) count_in(old);  // failed: the old block is still there
    return p;
}

void free(void* p) {
    count_out(p);
    __libc_free(p);
}

void* memalign(std::size_t align, std::size_t n) {
    void* p = __libc_memalign(align, n);
    count_in(p);
    return p;
}

void* aligned_alloc(std::size_t align, std::size_t n) { return memalign(align, n); }

int posix_memalign(void** out, std::size_t align, std::size_t n) {
    void* p = memalign(align, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

} // extern "C"
