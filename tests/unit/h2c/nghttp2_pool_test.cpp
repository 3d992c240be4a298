// The allocator nghttp2 sessions use (h2c/detail/nghttp2_pool.hpp): it must
// behave as malloc, calloc, realloc and free do, whatever it recycles. (Sessions
// use nghttp2's default allocator under AddressSanitizer; the pool itself is
// tested there too.)
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "h2c/detail/nghttp2_pool.hpp"

namespace upshift::h2c::detail {
namespace {

class H2cNghttp2Pool : public ::testing::Test {
protected:
    void SetUp() override {
        mem_ = pooled_nghttp2_mem();
        ASSERT_NE(mem_, nullptr);
    }
    void* alloc(std::size_t n) { return mem_->malloc(n, mem_->mem_user_data); }
    void release(void* p) { mem_->free(p, mem_->mem_user_data); }
    void* grow(void* p, std::size_t n) { return mem_->realloc(p, n, mem_->mem_user_data); }
    nghttp2_mem* mem_ = nullptr;
};

TEST_F(H2cNghttp2Pool, BlocksAreAlignedAndDistinctAndKeepTheirBytes) {
    std::vector<void*> blocks;
    for (std::size_t n : {1u, 15u, 48u, 49u, 100u, 300u, 1000u, 2032u, 2033u, 5000u, 70000u}) {
        auto* p = static_cast<unsigned char*>(alloc(n));
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignof(std::max_align_t), 0u) << n;
        std::memset(p, static_cast<int>(n & 0xff), n);
        blocks.push_back(p);
    }
    std::size_t i = 0;
    for (std::size_t n : {1u, 15u, 48u, 49u, 100u, 300u, 1000u, 2032u, 2033u, 5000u, 70000u}) {
        auto* p = static_cast<unsigned char*>(blocks[i++]);
        for (std::size_t k = 0; k < n; ++k) ASSERT_EQ(p[k], n & 0xff) << n;
    }
    for (void* p : blocks) release(p);
}

TEST_F(H2cNghttp2Pool, AFreedBlockIsHandedOutAgainForItsSize) {
    void* a = alloc(200);
    release(a);
    void* b = alloc(180); // the same class (256 with its header)
    EXPECT_EQ(a, b);
    release(b);
}

TEST_F(H2cNghttp2Pool, CallocZeroesRecycledBlocks) {
    auto* a = static_cast<unsigned char*>(alloc(300));
    std::memset(a, 0xab, 300);
    release(a);
    auto* b = static_cast<unsigned char*>(mem_->calloc(10, 30, mem_->mem_user_data));
    ASSERT_NE(b, nullptr);
    for (int k = 0; k < 300; ++k) ASSERT_EQ(b[k], 0) << k;
    release(b);
    EXPECT_EQ(mem_->calloc(SIZE_MAX / 2, 4, mem_->mem_user_data), nullptr); // overflow
}

TEST_F(H2cNghttp2Pool, ReallocKeepsTheContentAcrossClassesAndToTheHeap) {
    auto* p = static_cast<unsigned char*>(grow(nullptr, 10));
    ASSERT_NE(p, nullptr);
    for (int k = 0; k < 10; ++k) p[k] = static_cast<unsigned char>(k);
    for (std::size_t n : {20u, 40u, 500u, 1500u, 3000u, 100000u, 600u, 8u}) {
        p = static_cast<unsigned char*>(grow(p, n));
        ASSERT_NE(p, nullptr) << n;
        for (std::size_t k = 0; k < std::min<std::size_t>(n, 10); ++k) ASSERT_EQ(p[k], k) << n;
        if (n > 10) std::memset(p + 10, 0x5a, n - 10);
    }
    release(p);
    release(nullptr); // as free(NULL)
}

} // namespace
} // namespace upshift::h2c::detail
