#pragma once
// permessage-deflate (RFC 7692) on the client's side, with zlib's raw DEFLATE (negative windowBits)
// and nothing from upshift's own deflate_codec, so the tests check the server from outside. Apart
// from ws_test_client.hpp so that only the tests that compress need zlib.
//
// - pmd_deflater: one message per compress(), Z_SYNC_FLUSH, the trailing 00 00 ff ff removed (§7.2.1);
//   the LZ77 window carries over between messages unless no context takeover (§7.1.1).
// - pmd_inflater: appends 00 00 ff ff and inflates (§7.2.2). When it must check a window limit
//   (window_bits < 15, or no context takeover) it inflates one output byte per inflate() call: zlib
//   then refuses every back-reference further than the bytes its window holds ("invalid distance
//   too far back"), so a server that uses a larger window, or the previous message's context, fails.
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace upshift::test {

inline constexpr char deflate_tail[4] = {'\x00', '\x00', '\xff', '\xff'};

class pmd_deflater {
public:
    /// zlib refuses raw windowBits 8; at 9 it keeps distances below 2^9 - 262 = 250, inside a
    /// 256-byte window, so 9 honours a limit of 8 too.
    explicit pmd_deflater(int window_bits = 15, bool no_context_takeover = false)
        : reset_each_{no_context_takeover} {
        ok_ = deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -std::clamp(window_bits, 9, 15), 8,
                           Z_DEFAULT_STRATEGY) == Z_OK;
    }
    ~pmd_deflater() {
        if (ok_) deflateEnd(&z_);
    }
    pmd_deflater(pmd_deflater const&) = delete;
    pmd_deflater& operator=(pmd_deflater const&) = delete;

    /// The compressed payload of one message (§7.2.1).
    std::string compress(std::string_view in) {
        std::string out;
        if (!ok_) return out;
        z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        z_.avail_in = static_cast<uInt>(in.size());
        do {
            std::size_t const used = out.size();
            out.resize(used + in.size() / 2 + 4096);
            z_.next_out = reinterpret_cast<Bytef*>(out.data() + used);
            z_.avail_out = static_cast<uInt>(out.size() - used);
            deflate(&z_, Z_SYNC_FLUSH);
            out.resize(out.size() - z_.avail_out);
        } while (z_.avail_out == 0 || z_.avail_in > 0);
        // §7.2.1: a sync flush ends with an empty stored block, 00 00 ff ff, which is removed.
        if (out.size() >= 4 && std::string_view{out}.substr(out.size() - 4) == std::string_view{deflate_tail, 4})
            out.resize(out.size() - 4);
        // An empty message right after another one's flush: zlib writes nothing at all, but the
        // receiver's appended 00 00 ff ff must complete a block, so send the empty stored block's
        // first octet (§7.2.3.6).
        if (out.empty()) out.push_back('\0');
        if (reset_each_) deflateReset(&z_);
        return out;
    }

private:
    z_stream z_{};
    bool ok_ = false;
    bool reset_each_;
};

class pmd_inflater {
public:
    pmd_inflater(int window_bits = 15, bool no_context_takeover = false)
        : reset_each_{no_context_takeover}, strict_{window_bits < 15 || no_context_takeover} {
        ok_ = inflateInit2(&z_, -std::clamp(window_bits, 8, 15)) == Z_OK;
    }
    ~pmd_inflater() {
        if (ok_) inflateEnd(&z_);
    }
    pmd_inflater(pmd_inflater const&) = delete;
    pmd_inflater& operator=(pmd_inflater const&) = delete;

    /// The message carried by one compressed payload (§7.2.2); nullopt with error() when the data is
    /// not valid DEFLATE or refers beyond the window.
    std::optional<std::string> inflate(std::string_view payload) { return inflate_part(payload, true); }

    /// What a part of a compressed message (say one fragment's payload) inflates to; `last` ends the
    /// message (the 00 00 ff ff of §7.2.2 is appended, and the window reset without context takeover).
    std::optional<std::string> inflate_part(std::string_view payload, bool last) {
        if (!ok_) {
            error_ = "inflateInit2 failed";
            return std::nullopt;
        }
        std::string in{payload};
        if (last) in.append(deflate_tail, 4);
        z_.next_in = reinterpret_cast<Bytef*>(in.data());
        z_.avail_in = static_cast<uInt>(in.size());
        std::string out;
        std::size_t const step = strict_ ? 1 : 64 * 1024;
        for (;;) {
            std::size_t const used = out.size();
            out.resize(used + step);
            z_.next_out = reinterpret_cast<Bytef*>(out.data() + used);
            z_.avail_out = static_cast<uInt>(step);
            int const rc = ::inflate(&z_, Z_SYNC_FLUSH);
            out.resize(out.size() - z_.avail_out);
            if (rc == Z_STREAM_END) {
                // A block with BFINAL ended the stream (§7.2.3.4): the next message starts a new one.
                inflateReset(&z_);
                break;
            }
            if (rc != Z_OK && rc != Z_BUF_ERROR) {
                error_ = z_.msg != nullptr ? z_.msg : "inflate error " + std::to_string(rc);
                return std::nullopt;
            }
            if (z_.avail_in == 0 && z_.avail_out > 0) break;  // all input used, output not full
            if (rc == Z_BUF_ERROR && z_.avail_in == 0) break;
        }
        if (last && reset_each_) inflateReset(&z_);
        return out;
    }
    std::string const& error() const noexcept { return error_; }

private:
    z_stream z_{};
    bool ok_ = false;
    bool reset_each_;
    bool strict_;
    std::string error_;
};

} // namespace upshift::test
