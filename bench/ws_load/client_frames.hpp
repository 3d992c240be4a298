#pragma once
// The client side of RFC 6455 framing, as much as the load generator needs: masked frames out
// (§5.3: "a client MUST mask all frames that it sends to the server"), unmasked frames in, read
// incrementally so a 64 KiB echo is checked piece by piece as it arrives and never buffered whole.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace ws_load {

enum : std::uint8_t { op_continuation = 0x0, op_text = 0x1, op_binary = 0x2, op_close = 0x8, op_ping = 0x9, op_pong = 0xA };

using mask_key = std::array<std::uint8_t, 4>;

/// XOR `n` bytes at `p` with `key`, where p[0] is payload byte `offset` (§5.3).
inline void apply_mask(char* p, std::size_t n, mask_key key, std::size_t offset = 0) noexcept {
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<char>(static_cast<std::uint8_t>(p[i]) ^ key[(offset + i) & 3]);
}

/// The size of a masked frame header for a payload of `length` bytes: 6, 8 or 14.
constexpr std::size_t masked_header_size(std::uint64_t length) noexcept {
    return length <= 125 ? 6 : length <= 0xFFFF ? 8 : 14;
}

/// A masked frame header (FIN set) with its masking key: 6, 8 or 14 bytes written to `out`.
inline std::size_t write_masked_header(char* out, std::uint8_t op, std::uint64_t length, mask_key key) noexcept {
    std::size_t n = 0;
    out[n++] = static_cast<char>(0x80 | op);
    if (length <= 125) {
        out[n++] = static_cast<char>(0x80 | length);
    } else if (length <= 0xFFFF) {
        out[n++] = static_cast<char>(0x80 | 126);
        out[n++] = static_cast<char>(length >> 8);
        out[n++] = static_cast<char>(length);
    } else {
        out[n++] = static_cast<char>(0x80 | 127);
        for (int shift = 56; shift >= 0; shift -= 8) out[n++] = static_cast<char>(length >> shift);
    }
    std::memcpy(out + n, key.data(), 4);
    return n + 4;
}

/// A whole masked frame (for Close and the like, not the hot path).
inline std::string masked_frame(std::uint8_t op, std::string payload, mask_key key) {
    char header[14];
    auto const n = write_masked_header(header, op, payload.size(), key);
    apply_mask(payload.data(), payload.size(), key);
    return std::string(header, n) + payload;
}

/// Incremental reader of server frames. feed() reports each payload piece and each frame end to
/// the sink; a protocol error (a masked server frame, §5.1; reserved bits, §5.2) returns false.
class frame_reader {
public:
    struct event {
        std::uint8_t op;             ///< the message's opcode (data) or the control frame's
        std::uint64_t offset;        ///< of this piece within the message
        char const* data;
        std::size_t size;
    };

    /// Sink needs: void piece(event const&) and bool frame_end(std::uint8_t op, bool fin, std::uint64_t message_size).
    /// Control frames (at most 125 bytes, §5.5) are collected and handed out whole.
    template <class Sink>
    bool feed(char const* p, std::size_t n, Sink& sink) {
        while (n > 0) {
            if (!in_payload_) {
                std::size_t const take = std::min(n, need_header_bytes() - header_len_);
                std::memcpy(header_.data() + header_len_, p, take);
                header_len_ += take;
                p += take;
                n -= take;
                if (header_len_ < need_header_bytes()) continue;  // the extended length follows (or more input)
                if (!start_frame()) return false;
                if (remaining_ == 0 && !end_frame(sink)) return false;
                continue;
            }
            auto const take = static_cast<std::size_t>(std::min<std::uint64_t>(n, remaining_));
            if (control_) {
                control_payload_.append(p, take);
            } else {
                sink.piece(event{message_op_, message_offset_, p, take});
                message_offset_ += take;
            }
            p += take;
            n -= take;
            remaining_ -= take;
            if (remaining_ == 0 && !end_frame(sink)) return false;
        }
        return true;
    }

    std::string const& control_payload() const noexcept { return control_payload_; }
    std::string const& error() const noexcept { return error_; }

private:
    std::size_t need_header_bytes() const noexcept {
        if (header_len_ < 2) return 2;
        auto const len7 = static_cast<std::uint8_t>(header_[1]) & 0x7F;
        return len7 == 126 ? 4 : len7 == 127 ? 10 : 2;
    }

    bool start_frame() {
        auto const b0 = static_cast<std::uint8_t>(header_[0]);
        auto const b1 = static_cast<std::uint8_t>(header_[1]);
        if (b1 & 0x80) return fail("server frame is masked (RFC 6455 §5.1)");
        if (b0 & 0x70) return fail("reserved bits set (no extension was negotiated)");
        op_ = b0 & 0x0F;
        fin_ = (b0 & 0x80) != 0;
        std::uint64_t len = b1 & 0x7F;
        if (len == 126) len = (std::uint64_t{static_cast<std::uint8_t>(header_[2])} << 8) | static_cast<std::uint8_t>(header_[3]);
        else if (len == 127) {
            len = 0;
            for (int i = 2; i < 10; ++i) len = (len << 8) | static_cast<std::uint8_t>(header_[static_cast<std::size_t>(i)]);
        }
        control_ = (op_ & 0x8) != 0;
        if (control_) {
            if (len > 125 || !fin_) return fail("bad control frame");
            control_payload_.clear();
        } else if (op_ == op_continuation) {
            if (!in_message_) return fail("continuation without a message");
        } else {
            if (in_message_) return fail("new message inside a fragmented one");
            message_op_ = op_;
            message_offset_ = 0;
            in_message_ = true;
        }
        remaining_ = len;
        in_payload_ = true;
        return true;
    }

    template <class Sink>
    bool end_frame(Sink& sink) {
        in_payload_ = false;
        header_len_ = 0;
        if (control_) return sink.frame_end(op_, true, control_payload_.size());
        if (fin_) in_message_ = false;
        return sink.frame_end(message_op_, fin_, message_offset_);
    }

    bool fail(char const* why) {
        error_ = why;
        return false;
    }

    std::array<char, 14> header_{};
    std::size_t header_len_ = 0;
    bool in_payload_ = false;
    bool control_ = false;
    bool fin_ = false;
    bool in_message_ = false;
    std::uint8_t op_ = 0;
    std::uint8_t message_op_ = 0;
    std::uint64_t remaining_ = 0;
    std::uint64_t message_offset_ = 0;
    std::string control_payload_;
    std::string error_;
};

} // namespace ws_load
