// permessage-deflate with zlib (RFC 7692 §7.2). See deflate_codec.hpp.
#include "upshift/ws/deflate_codec.hpp"

#include <zlib.h>

#include <algorithm>
#include <new>
#include <stdexcept>

namespace upshift::ws {
namespace {

constexpr char tail[4] = {'\x00', '\x00', '\xff', '\xff'};

unsigned clamp_uint(std::size_t n) { return static_cast<unsigned>(std::min<std::size_t>(n, 1u << 30)); }

} // namespace

struct deflater::impl {
    z_stream z{};
};

deflater::deflater(int window_bits, bool no_context_takeover, int mem_level)
    : p_(std::make_unique<impl>()), reset_each_(no_context_takeover) {
    // zlib refuses windowBits 8 for raw deflate (it used to silently change it to 9).
    int const w = std::clamp(window_bits, 9, 15);
    if (deflateInit2(&p_->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -w, mem_level, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::bad_alloc();
}

deflater::~deflater() { deflateEnd(&p_->z); }

void deflater::compress(std::string_view in, std::string& out) {
    auto& z = p_->z;
    std::size_t const start = out.size();
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    std::size_t left = in.size();
    for (;;) {
        std::size_t const chunk = clamp_uint(left);
        z.avail_in = static_cast<uInt>(chunk);
        std::size_t const used = out.size();
        out.resize(used + deflateBound(&z, static_cast<uLong>(chunk)) + 16);
        z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
        z.avail_out = static_cast<uInt>(out.size() - used);
        bool const last = chunk == left;
        int const rc = deflate(&z, last ? Z_SYNC_FLUSH : Z_NO_FLUSH);
        out.resize(out.size() - z.avail_out);
        left -= chunk - z.avail_in;
        if (rc != Z_OK && rc != Z_BUF_ERROR) throw std::runtime_error("deflate failed");
        if (last && z.avail_in == 0 && z.avail_out > 0) break;
    }
    // §7.2.1: remove the 4 octets 00 00 ff ff the sync flush ended with.
    if (out.size() - start >= 4 && std::string_view(out).substr(out.size() - 4) == std::string_view(tail, 4))
        out.resize(out.size() - 4);
    if (reset_each_) deflateReset(&z);
}

struct inflater::impl {
    z_stream z{};
};

inflater::inflater(int window_bits, bool no_context_takeover, std::size_t max_size)
    : p_(std::make_unique<impl>()), max_size_(max_size), reset_each_(no_context_takeover) {
    int const w = std::clamp(window_bits, 9, 15);
    if (inflateInit2(&p_->z, -w) != Z_OK) throw std::bad_alloc();
}

inflater::~inflater() { inflateEnd(&p_->z); }

void inflater::clear_message() {
    size_ = 0;
    done_ = false;
    // Keep a modest buffer for the next message, not a huge one.
    if (buf_.capacity() > step) std::vector<char>().swap(buf_);
}

inflate_status inflater::run(std::string_view in) {
    auto& z = p_->z;
    if (ended_) return inflate_status::ok;  // after BFINAL the rest of the message is ignored
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    std::size_t const cap_limit = max_size_ + 1;  // one byte past the limit proves it is exceeded
    for (;;) {
        if (size_ == buf_.size()) {
            if (buf_.size() >= cap_limit) return inflate_status::too_big;
            std::size_t const n = std::min(cap_limit, std::max(buf_.size() * 2, buf_.size() + 4096));
            std::size_t const bounded = std::min(n, buf_.size() + step);
            buf_.reserve(bounded);  // exact: no geometric overshoot
            buf_.resize(bounded);
        }
        z.next_out = reinterpret_cast<Bytef*>(buf_.data() + size_);
        z.avail_out = static_cast<uInt>(buf_.size() - size_);
        int const rc = inflate(&z, Z_SYNC_FLUSH);
        size_ = buf_.size() - z.avail_out;
        if (size_ > max_size_) return inflate_status::too_big;
        if (rc == Z_STREAM_END) {
            ended_ = true;
            return inflate_status::ok;
        }
        if (rc == Z_BUF_ERROR) {
            if (z.avail_in == 0) return inflate_status::ok;  // needs more input
            continue;                                       // needs more output
        }
        if (rc != Z_OK) return inflate_status::corrupt;
        if (z.avail_in == 0 && z.avail_out > 0) return inflate_status::ok;
    }
}

inflate_status inflater::feed(std::string_view in) {
    if (done_) clear_message();
    while (!in.empty()) {
        auto const chunk = in.substr(0, clamp_uint(in.size()));
        auto const st = run(chunk);
        if (st != inflate_status::ok) return st;
        in.remove_prefix(chunk.size());
    }
    return inflate_status::ok;
}

inflate_status inflater::finish() {
    if (done_) clear_message();
    auto const st = run({tail, 4});  // §7.2.2
    done_ = true;
    if (ended_ || reset_each_) {
        inflateReset(&p_->z);
        ended_ = false;
    }
    return st;
}

} // namespace upshift::ws
