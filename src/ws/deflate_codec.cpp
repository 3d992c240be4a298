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

void deflater::flush_into(std::string_view in, std::string& out) {
    auto& z = p_->z;
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
        // Z_BUF_ERROR: nothing to do (no input since the last flush); zlib then writes nothing.
        int const rc = deflate(&z, last ? Z_SYNC_FLUSH : Z_NO_FLUSH);
        out.resize(out.size() - z.avail_out);
        left -= chunk - z.avail_in;
        if (rc != Z_OK && rc != Z_BUF_ERROR) throw std::runtime_error("deflate failed");
        if (last && z.avail_in == 0 && z.avail_out > 0) break;
    }
}

void deflater::compress_part(std::string_view in, bool fin, std::string& out) {
    std::size_t const start = out.size();
    if (held_tail_) out.append(tail, 4);  // the message went on: the held marker is data after all
    held_tail_ = false;
    flush_into(in, out);
    // §7.2.1: remove the 4 octets 00 00 ff ff the sync flush ended with (held back until the
    // message's end, so that only the last one is removed).
    if (out.size() - start >= 4 && std::string_view(out).substr(out.size() - 4) == std::string_view(tail, 4)) {
        out.resize(out.size() - 4);
        held_tail_ = !fin;
    }
    if (out.size() > start) message_output_ = true;
    if (!fin) return;
    // With context takeover, an empty message right after another one's flush makes zlib write
    // nothing; the receiver would then append 00 00 ff ff where a block must start and be left
    // mid-block (the next message corrupt). §7.2.3.6: send an empty stored block, 00.
    if (!message_output_) out.push_back('\0');
    message_output_ = false;
    if (reset_each_) deflateReset(&p_->z);
}

struct inflater::impl {
    z_stream z{};
};

inflater::inflater(int window_bits, bool no_context_takeover, std::size_t max_size)
    : p_(std::make_unique<impl>()), max_size_(max_size), reset_each_(no_context_takeover) {
    // Always a 32 KiB window, whatever client_max_window_bits says: zlib checks a distance
    // against its window *plus the output of the current inflate() call*, so with a smaller
    // window a peer's too-far reference was refused or accepted depending on how TCP cut the
    // frames (found by fuzz_ws_inflate). With 15 every valid DEFLATE distance is accepted, the
    // same way however the input arrives; the peer's window limit is its own side (§7.1.2.2).
    (void)window_bits;
    if (inflateInit2(&p_->z, -15) != Z_OK) throw std::bad_alloc();
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
            // Doubling, capped at the limit (reserve is exact, so never past it). Growing by a fixed
            // step instead copied the whole buffer every 64 KiB: inflating an N-byte message took
            // O(N^2) time, seconds of the loop thread for a 64 MiB message (found by the conformance
            // suite's Case12_8_7).
            std::size_t const n = std::min(cap_limit, std::max(buf_.size() * 2, buf_.size() + 4096));
            buf_.reserve(n);
            buf_.resize(n);
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
    auto st = run({tail, 4});  // §7.2.2
    // A valid message ends at a block boundary once 00 00 ff ff completes the empty stored block
    // the sender's flush ended with (§7.2.1), or after a block with BFINAL. Anything else, e.g. an
    // empty payload (the 4 octets then start a stored block), is not a compressed message, and
    // accepting it left the context mid-block: the next message inflated to garbage (found by the
    // conformance suite's Case12_8_8). zlib: data_type bit 128 = stopped at a block boundary.
    if (st == inflate_status::ok && !ended_ && (p_->z.data_type & 128) == 0) st = inflate_status::corrupt;
    done_ = true;
    if (ended_ || reset_each_) {
        inflateReset(&p_->z);
        ended_ = false;
    }
    return st;
}

} // namespace upshift::ws
