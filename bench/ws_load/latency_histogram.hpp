#pragma once
// Log-linear latency histogram (HdrHistogram's idea, fixed size): values below 64 ns are exact,
// above that each power of two is split into 32 buckets, so any percentile is within ~3 % of
// the true value. Recording is two shifts and an increment: cheap enough for every message.
#include <array>
#include <bit>
#include <cstdint>

namespace ws_load {

class latency_histogram {
public:
    void record(std::uint64_t ns) noexcept {
        ++counts_[index(ns)];
        ++total_;
    }
    void clear() noexcept {
        counts_.fill(0);
        total_ = 0;
    }
    std::uint64_t total() const noexcept { return total_; }

    /// The value at quantile q (0..1), as the middle of its bucket, in ns; 0 when empty.
    std::uint64_t quantile(double q) const noexcept {
        if (total_ == 0) return 0;
        auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_));
        if (rank >= total_) rank = total_ - 1;
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < counts_.size(); ++i) {
            seen += counts_[i];
            if (seen > rank) return middle(i);
        }
        return middle(counts_.size() - 1);
    }

private:
    static constexpr unsigned sub_bits = 5;  // 32 buckets per power of two
    static constexpr std::size_t exact = 64;
    static constexpr std::size_t buckets = exact + (64 - sub_bits - 1) * (std::size_t{1} << sub_bits);

    static std::size_t index(std::uint64_t v) noexcept {
        if (v < exact) return static_cast<std::size_t>(v);
        unsigned const msb = 63u - static_cast<unsigned>(std::countl_zero(v));  // >= 6
        unsigned const shift = msb - sub_bits;                                   // >= 1
        auto const mantissa = static_cast<std::size_t>(v >> shift) - (std::size_t{1} << sub_bits);
        return exact + (shift - 1) * (std::size_t{1} << sub_bits) + mantissa;
    }
    static std::uint64_t middle(std::size_t i) noexcept {
        if (i < exact) return i;
        std::size_t const shift = (i - exact) / (std::size_t{1} << sub_bits) + 1;
        std::size_t const mantissa = (i - exact) % (std::size_t{1} << sub_bits) + (std::size_t{1} << sub_bits);
        return (std::uint64_t{mantissa} << shift) + (std::uint64_t{1} << (shift - 1));
    }

    std::array<std::uint64_t, buckets> counts_{};
    std::uint64_t total_ = 0;
};

} // namespace ws_load
