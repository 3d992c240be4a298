// Server-role frame parser (RFC 6455 §5).
#include "upshift/ws/frame_parser.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "upshift/ws/close_payload.hpp"
#include "upshift/ws/mask.hpp"

namespace upshift::ws {
namespace {

frame_step need_more() noexcept {
    frame_step s;
    s.ec = error::need_more;
    return s;
}

std::string_view as_text(std::span<char const> s) noexcept { return {s.data(), s.size()}; }

} // namespace

void frame_parser::reset() noexcept { *this = frame_parser(options()); }

frame_step frame_parser::fail(error e) noexcept {
    error_ = static_cast<std::uint8_t>(e);
    in_payload_ = false;
    frame_step s;
    s.ec = e;
    return s;
}

frame_step frame_parser::parse(std::span<char> input) noexcept {
    if (error_ != 0) {
        frame_step s;
        s.ec = static_cast<error>(error_);
        return s;
    }
    if (!in_payload_) return parse_header(input);
    if (input.empty()) return need_more();
    frame_step step;
    deliver(input, 0, step);
    return step;
}

frame_step frame_parser::parse_header(std::span<char> input) noexcept {
    // Nothing is committed until the header (and, for a control frame, its
    // payload) is complete, so need_more leaves the parser as it was. Each check
    // runs as soon as its byte is in: the verdict does not depend on the split.
    auto const* b = reinterpret_cast<unsigned char const*>(input.data());
    std::size_t const n = input.size();
    if (n < 1) return need_more();

    unsigned const b0 = b[0];
    bool const fin = (b0 & 0x80) != 0;
    bool const rsv1 = (b0 & 0x40) != 0;
    bool const rsv2 = (b0 & 0x20) != 0;
    bool const rsv3 = (b0 & 0x10) != 0;
    auto const op = static_cast<opcode>(b0 & 0x0F);
    bool const control = is_control(op);

    // §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated that defines
    // meanings for non-zero values"; only permessage-deflate (RSV1) exists here,
    // and RFC 7692 §6 allows it on the first frame of a data message only.
    if (rsv2 || rsv3) return fail(error::reserved_bits);
    if (rsv1 && (!allow_rsv1_ || control || op == opcode::continuation))
        return fail(error::reserved_bits);
    // §5.2: "If an unknown opcode is received, the receiving endpoint MUST _Fail the WebSocket Connection_."
    if (!is_defined(op)) return fail(error::reserved_opcode);
    if (control) {
        // §5.5: "Control frames ... MUST NOT be fragmented."
        if (!fin) return fail(error::fragmented_control);
    } else if (op == opcode::continuation) {
        // §5.4: a continuation frame continues a message that was started.
        if (!in_message_) return fail(error::unexpected_continuation);
    } else if (in_message_) {
        // §5.4: "the fragments of one message MUST NOT be interleaved between the
        // fragments of another message" (no extension defines interleaving here).
        return fail(error::expected_continuation);
    }

    if (n < 2) return need_more();
    unsigned const b1 = b[1];
    // §5.1: "The server MUST close the connection upon receiving a frame that is not masked."
    if ((b1 & 0x80) == 0) return fail(error::unmasked_frame);
    unsigned const len7 = b1 & 0x7F;
    // §5.5: "All control frames MUST have a payload length of 125 bytes or less."
    if (control && len7 > max_control_payload) return fail(error::control_too_long);

    std::size_t const ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    std::uint64_t length = len7;
    if (ext != 0) {
        if (n < 2 + ext) return need_more();
        length = 0;
        for (std::size_t i = 0; i < ext; ++i) length = (length << 8) | b[2 + i];
        // §5.2: "the most significant bit MUST be 0" of the 64-bit length.
        if (ext == 8 && (length >> 63) != 0) return fail(error::length_msb_set);
        // §5.2: "in all cases, the minimal number of bytes MUST be used to encode the length".
        if ((ext == 2 && length < 126) || (ext == 8 && length <= 0xFFFF)) return fail(error::non_minimal_length);
    }
    if (!control) {
        std::uint64_t const so_far = op == opcode::continuation ? message_size_ : 0;
        if (length > max_message_size_ - so_far) return fail(error::message_too_big);
    }

    std::size_t const header_size = 2 + ext + 4;
    if (n < header_size) return need_more();
    if (control && n - header_size < length) return need_more();  // control frames are handed out whole

    fin_ = fin;
    rsv1_ = rsv1;
    set_ops(op, message_opcode());
    have_header_ = true;
    std::memcpy(mask_.data(), b + 2 + ext, 4);
    length_ = length;
    remaining_ = length;

    frame_step step;
    step.header_done = true;
    if (control) {
        auto const len = static_cast<std::size_t>(length);
        step.payload = input.subspan(header_size, len);
        step.consumed = header_size + len;
        step.frame_done = true;
        apply_mask(step.payload, mask_);
        remaining_ = 0;
        if (op == opcode::close) {
            // §5.5.1, §7.4: the body is empty or a valid code and a UTF-8 reason.
            auto const info = parse_close_payload(as_text(step.payload));
            if (info.ec) return fail(static_cast<error>(info.ec.value()));  // always a ws::error
        }
        return step;
    }

    if (op != opcode::continuation) {
        in_message_ = true;
        set_ops(op, op);
        message_compressed_ = rsv1;
        message_size_ = 0;
        utf8_.reset();
    }
    message_size_ += length;
    in_payload_ = true;
    deliver(input, header_size, step);
    return step;
}

void frame_parser::deliver(std::span<char> input, std::size_t header_size, frame_step& step) noexcept {
    std::size_t const available = input.size() - header_size;
    auto const k = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, available));
    auto const piece = input.subspan(header_size, k);
    apply_mask(piece, mask_, length_ - remaining_);
    remaining_ -= k;
    step.consumed = header_size + k;
    step.payload = piece;

    // §8.1: text is checked as it arrives, so an invalid byte fails the connection
    // before the rest of the message. A compressed message is checked after
    // inflating, by the caller.
    bool const check_text = message_opcode() == opcode::text && !message_compressed_;
    if (check_text && !utf8_.feed(as_text(piece))) {
        step = fail(error::invalid_utf8);
        return;
    }
    if (remaining_ != 0) return;
    in_payload_ = false;
    step.frame_done = true;
    if (!fin_) return;
    in_message_ = false;
    step.message_done = true;
    // §5.6: a text message as a whole is UTF-8, so it may not end inside a code point.
    if (check_text && !utf8_.finish()) step = fail(error::invalid_utf8);
}

} // namespace upshift::ws
