#pragma once
// Incremental, zero-copy WebSocket frame parser for the server role
// (RFC 6455 §5). It checks every frame-level MUST, tracks the message a
// fragment belongs to, unmasks payload in place in the caller's buffer and
// validates text as it arrives; it never allocates and never reads past the
// input.
//
// A session drives it like this (`buf` is the connection's mutable read
// buffer; the first call gets upgraded.leftover):
//
//   for (;;) {
//       auto s = p.parse(buf.unconsumed());          // std::span<char>
//       if (s.header_done && is_control(p.header().op))
//           -> s.payload is the whole control payload (ping: pong it back;
//              close: parse_close_payload(s.payload) already passed)
//       else if (!s.payload.empty())
//           -> deliver or append s.payload: the next piece of the data
//              message p.message_opcode() (text already UTF-8 checked,
//              unless p.message_compressed())
//       if (s.message_done) -> the data message is complete
//       buf.consume(s.consumed);                      // after using s.payload
//       if (s.ec == error::need_more) -> read more, then loop
//       else if (s.ec) -> fail: send Close with close_code_for(s.ec), close
//   }
//
// Data payload is handed out as soon as it arrives, so a large message never
// has to sit in the read buffer whole: a session that delivers whole messages
// appends the pieces to a message buffer (bounded by max_message_size), one
// that streams passes them on. Control frames (at most 125 bytes, §5.5) are
// handed out whole: the parser waits for the full frame before consuming it,
// so their payload is always one view.
//
// Errors (all fatal, sticky until reset(); see error.hpp for close codes):
// unmasked_frame, reserved_bits, reserved_opcode, fragmented_control,
// control_too_long, unexpected_continuation, expected_continuation,
// non_minimal_length, length_msb_set, message_too_big, invalid_utf8,
// close_payload_too_short, invalid_close_code, invalid_close_reason.
// Checks run in byte order, so a frame split anywhere gives the same verdict,
// and header errors are reported as soon as the offending byte is in.
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include "upshift/ws/error.hpp"
#include "upshift/ws/frame.hpp"
#include "upshift/ws/utf8.hpp"

namespace upshift::ws {

struct frame_parser_options {
    /// Largest data message, summed over its frames' payload lengths; checked
    /// when each header arrives, before any payload: error::message_too_big (1009).
    /// For compressed messages this bounds the compressed size; the inflater must
    /// bound the inflated size itself.
    std::uint64_t max_message_size = 16 * 1024 * 1024;
    /// permessage-deflate was negotiated: RSV1 is allowed on the first frame of
    /// a data message (RFC 7692 §6), never on control or continuation frames.
    bool allow_rsv1 = false;
};

/// What one parse() call did.
struct frame_step {
    /// Input bytes used (header and payload); consume them after using `payload`.
    std::size_t consumed = 0;
    /// Empty, error::need_more (nothing can be done without more input), or fatal.
    std::error_code ec;
    /// A new frame header was parsed in this step: header() describes it.
    bool header_done = false;
    /// The current frame's payload bytes in this step, unmasked in place: a view
    /// into the input. The whole payload for control frames.
    std::span<char> payload;
    /// The current frame ended in this step (all its payload was delivered).
    bool frame_done = false;
    /// The current data message ended in this step (a FIN data frame ended).
    bool message_done = false;
};

class frame_parser {
public:
    explicit frame_parser(frame_parser_options const& o = {}) noexcept
        : max_message_size_(o.max_message_size), allow_rsv1_(o.allow_rsv1) {}

    /// Parses from the start of `input`, the unconsumed bytes. Each call handles
    /// at most one frame: a header, plus as much of that frame's payload as is
    /// in `input`; or, inside a frame, as much payload as is in `input`.
    /// The payload is unmasked in place, so `input` must be the caller's buffer,
    /// and consumed bytes must not be passed again.
    frame_step parse(std::span<char> input) noexcept;

    /// The current (or last) frame's header; valid after a step with header_done.
    frame_header header() const noexcept {
        return {.fin = fin_, .rsv1 = rsv1_, .op = frame_op(), .masked = have_header_, .mask = mask_, .length = length_};
    }
    /// Payload bytes of the current frame not delivered yet.
    std::uint64_t payload_remaining() const noexcept { return remaining_; }
    /// A data message has started and its FIN frame has not ended yet.
    bool in_message() const noexcept { return in_message_; }
    /// text or binary: the opcode of the current (or last) data message.
    opcode message_opcode() const noexcept { return static_cast<opcode>(ops_ >> 4); }
    /// The current data message's first frame had RSV1 set (compressed, RFC 7692).
    bool message_compressed() const noexcept { return message_compressed_; }
    /// Sum of the current data message's frame lengths so far (announced in headers).
    std::uint64_t message_size() const noexcept { return message_size_; }

    frame_parser_options options() const noexcept { return {.max_message_size = max_message_size_, .allow_rsv1 = allow_rsv1_}; }

    /// Forgets all state, including a sticky error.
    void reset() noexcept;

private:
    frame_step fail(error e) noexcept;
    frame_step parse_header(std::span<char> input) noexcept;
    void deliver(std::span<char> input, std::size_t header_size, frame_step& step) noexcept;
    opcode frame_op() const noexcept { return static_cast<opcode>(ops_ & 0x0F); }
    void set_ops(opcode frame, opcode message) noexcept {
        ops_ = static_cast<std::uint8_t>(static_cast<unsigned>(frame) | static_cast<unsigned>(message) << 4);
    }

    // Packed (40 bytes): a server keeps one per connection, idle or not. RSV2/RSV3 are not
    // stored: a header with either set fails. The payload offset for unmasking is
    // length_ - remaining_.
    std::uint64_t max_message_size_;
    std::uint64_t length_ = 0;         ///< the current frame's payload length
    std::uint64_t remaining_ = 0;      ///< payload bytes of the current frame still to come
    std::uint64_t message_size_ = 0;
    masking_key mask_{};
    utf8_validator utf8_;              ///< text messages, uncompressed only
    std::uint8_t error_ = 0;           ///< a ws::error, sticky after a failure (0: none)
    std::uint8_t ops_ = 0x11;          ///< the current frame's opcode | the message's << 4 (text, text)
    bool fin_ : 1 = true;
    bool rsv1_ : 1 = false;
    bool have_header_ : 1 = false;     ///< a header was parsed (masked: the parser requires it)
    bool in_payload_ : 1 = false;      ///< inside a data frame's payload
    bool in_message_ : 1 = false;
    bool message_compressed_ : 1 = false;
    bool allow_rsv1_ : 1 = false;
};

} // namespace upshift::ws
