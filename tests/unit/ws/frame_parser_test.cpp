// Frame parser, server role (RFC 6455 §5). Every case runs whole, byte by
// byte and split at every offset (for_each_split), like a connection's reads.
#include "upshift/ws/frame_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/guard_page_buffer.hpp"
#include "support/split.hpp"
#include "unit/ws/client_frames.hpp"

namespace upshift::ws {
namespace {

using test::bytes;
using test::frame;
using test::frame_spec;
using test::raw_frame;
using upshift::test::close_body;
using upshift::test::rsv1;

struct event {
    opcode op;
    std::string data;
    bool operator==(event const&) const = default;
};

void PrintTo(event const& e, std::ostream* os) {
    *os << "{op " << static_cast<int>(e.op) << ", " << ::testing::PrintToString(e.data) << "}";
}

struct outcome {
    std::error_code ec;
    std::vector<event> events;   ///< complete data messages and control frames, in order
    std::size_t leftover = 0;    ///< unconsumed bytes at the end
    bool in_message = false;
};

/// Drives the parser like a session: append each read to the unconsumed
/// buffer, parse until need_more, collect payload, consume.
outcome run(::upshift::test::split const& s, frame_parser_options const& o = {}) {
    frame_parser p(o);
    outcome out;
    std::string buf;
    std::string message;
    for (auto piece : s.pieces) {
        buf.append(piece);
        for (;;) {
            auto const st = p.parse(buf);
            EXPECT_LE(st.consumed, buf.size());
            if (!st.payload.empty()) {
                // Zero-copy: the payload is the input, unmasked in place.
                EXPECT_GE(st.payload.data(), buf.data());
                EXPECT_LE(st.payload.data() + st.payload.size(), buf.data() + st.consumed);
            }
            if (st.ec == error::need_more) {
                EXPECT_EQ(st.consumed, 0u);
                EXPECT_TRUE(st.payload.empty());
                break;
            }
            if (st.ec) {
                out.ec = st.ec;
                EXPECT_TRUE(st.payload.empty());
                return out;
            }
            EXPECT_GT(st.consumed, 0u);  // no error: progress
            std::string_view const payload(st.payload.data(), st.payload.size());
            if (is_control(p.header().op)) {
                EXPECT_TRUE(st.header_done && st.frame_done);  // control frames come whole
                EXPECT_EQ(payload.size(), p.header().length);
                out.events.push_back({p.header().op, std::string(payload)});
            } else {
                message.append(payload);
                if (st.message_done) {
                    EXPECT_TRUE(st.frame_done);
                    out.events.push_back({p.message_opcode(), message});
                    message.clear();
                }
            }
            buf.erase(0, st.consumed);
        }
    }
    out.ec = error::need_more;
    out.leftover = buf.size();
    out.in_message = p.in_message();
    return out;
}

/// `in` parses, under every split, to exactly `expected` and nothing is left over.
void expect_events(std::string_view in, std::vector<event> const& expected, frame_parser_options const& o = {}) {
    SCOPED_TRACE(::testing::PrintToString(std::string(in.substr(0, 64))));
    ::upshift::test::for_each_split(in, [&](::upshift::test::split const& s) {
        SCOPED_TRACE(s.name);
        auto const r = run(s, o);
        EXPECT_EQ(r.ec, error::need_more);
        EXPECT_EQ(r.events, expected);
        EXPECT_EQ(r.leftover, 0u);
        EXPECT_FALSE(r.in_message);
    });
}

/// `in` fails with `e` under every split, and never reads past any prefix of it.
void expect_error(std::string_view in, error e, frame_parser_options const& o = {}) {
    SCOPED_TRACE(::testing::PrintToString(std::string(in.substr(0, 64))));
    ::upshift::test::for_each_split(in, [&](::upshift::test::split const& s) {
        SCOPED_TRACE(s.name);
        EXPECT_EQ(run(s, o).ec, e);
    });
    for (std::size_t k = 0; k <= in.size(); ++k) {
        ::upshift::test::guard_page_buffer g(in.substr(0, k));
        // The guard page buffer is writable memory (PROT_READ | PROT_WRITE); unmasking writes in place.
        std::span<char> rest(const_cast<char*>(g.view().data()), g.view().size());
        frame_parser p(o);
        for (;;) {
            auto const st = p.parse(rest);
            rest = rest.subspan(st.consumed);
            if (st.ec) break;
        }
    }
}

std::string repeat(std::size_t n, char c = 'x') { return std::string(n, c); }

// --- RFC 6455 §5.7 examples ---------------------------------------------------

TEST(FrameParser, Rfc5_7MaskedHello) {
    // §5.7: "A single-frame masked text message: 0x81 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58"
    auto const in = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
    EXPECT_EQ(in, frame(opcode::text, "Hello"));
    expect_events(in, {{opcode::text, "Hello"}});

    frame_parser p;
    std::string buf = in;
    auto const st = p.parse(buf);
    EXPECT_FALSE(st.ec);
    EXPECT_TRUE(st.header_done && st.frame_done && st.message_done);
    EXPECT_EQ(st.consumed, in.size());
    EXPECT_EQ(p.header().op, opcode::text);
    EXPECT_TRUE(p.header().fin && p.header().masked);
    EXPECT_EQ(p.header().mask, test::rfc_key);
    EXPECT_EQ(p.header().length, 5u);
    EXPECT_EQ(std::string_view(buf).substr(6, 5), "Hello");  // unmasked in place
}

TEST(FrameParser, Rfc5_7MaskedPong) {
    // §5.7: "Pong response (masked): 0x8a 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58"
    expect_events(bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}), {{opcode::pong, "Hello"}});
}

TEST(FrameParser, RejectsUnmaskedClientFrames) {
    // §5.1: "The server MUST close the connection upon receiving a frame that is not masked."
    // §5.7's unmasked examples are server-to-client frames.
    expect_error(bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), error::unmasked_frame);
    expect_error(bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), error::unmasked_frame);
    expect_error(bytes({0x82, 0x00}), error::unmasked_frame);  // even without payload
    expect_error(frame(opcode::text, "ok") + frame(opcode::text, "no", {.masked = false}), error::unmasked_frame);
    EXPECT_EQ(close_code_for(error::unmasked_frame), close_code::protocol_error);
}

// --- §5.3 masking -------------------------------------------------------------

TEST(FrameParser, UnmasksWithEveryKeyAndOffset) {
    // §5.3: octet i of the transformed data is octet i of the original XOR octet (i MOD 4) of the key.
    std::string payload;
    for (int i = 0; i < 300; ++i) payload += static_cast<char>(i * 7);
    for (masking_key key : {masking_key{0, 0, 0, 0}, masking_key{0xff, 0xff, 0xff, 0xff}, masking_key{1, 2, 3, 4}}) {
        auto const in = frame(opcode::binary, payload, {.key = key});
        // Pieces of every size exercise every offset of the key.
        for (std::size_t step = 1; step <= 9; ++step) {
            frame_parser p;
            std::string buf;
            std::string got;
            for (std::size_t i = 0; i < in.size(); i += step) {
                buf.append(in.substr(i, step));
                for (;;) {
                    auto const st = p.parse(buf);
                    ASSERT_TRUE(!st.ec || st.ec == error::need_more) << st.ec.message();
                    got.append(st.payload.data(), st.payload.size());
                    buf.erase(0, st.consumed);
                    if (st.ec) break;
                }
            }
            EXPECT_EQ(got, payload) << "step " << step;
        }
    }
}

// --- §5.2 payload length ------------------------------------------------------

TEST(FrameParser, LengthEncodings) {
    // §5.2: 0-125 in 7 bits; 126 + 16-bit length; 127 + 64-bit length.
    for (std::size_t n : {0u, 1u, 125u, 126u, 127u, 1000u}) {
        SCOPED_TRACE(n);
        expect_events(frame(opcode::binary, repeat(n)), {{opcode::binary, repeat(n)}});
    }
}

TEST(FrameParser, LargeLengths) {
    // Split at every offset of the header and the last bytes only: the middle is plain payload.
    for (std::size_t n : {65535u, 65536u, 70000u}) {
        SCOPED_TRACE(n);
        std::string payload = repeat(n, 'a');
        payload[n / 2] = 'b';
        auto const in = frame(opcode::binary, payload);
        EXPECT_EQ(static_cast<unsigned char>(in[1]) & 0x7F, n <= 0xFFFF ? 126 : 127);
        for (std::size_t k : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{4}, std::size_t{7},
                              std::size_t{9}, std::size_t{11}, std::size_t{13}, std::size_t{14}, in.size() - 1}) {
            ::upshift::test::split s{"split@" + std::to_string(k), {std::string_view(in).substr(0, k),
                                                                     std::string_view(in).substr(k)}};
            auto const r = run(s);
            EXPECT_EQ(r.ec, error::need_more);
            ASSERT_EQ(r.events.size(), 1u);
            EXPECT_EQ(r.events[0].data, payload);
        }
    }
}

TEST(FrameParser, RejectsNonMinimalLengths) {
    // §5.2: "in all cases, the minimal number of bytes MUST be used to encode the length".
    expect_error(frame(opcode::binary, "", {.length_bytes = 2}), error::non_minimal_length);
    expect_error(frame(opcode::binary, repeat(125), {.length_bytes = 2}), error::non_minimal_length);
    expect_error(frame(opcode::binary, repeat(126), {.length_bytes = 8}), error::non_minimal_length);
    expect_error(frame(opcode::binary, repeat(65535), {.length_bytes = 8}), error::non_minimal_length);
    expect_error(bytes({0x82, 0xff, 0, 0, 0, 0, 0, 0, 0, 5}), error::non_minimal_length);  // no key needed to tell
    expect_events(frame(opcode::binary, repeat(126), {.length_bytes = 2}), {{opcode::binary, repeat(126)}});
    EXPECT_EQ(close_code_for(error::non_minimal_length), close_code::protocol_error);
}

TEST(FrameParser, RejectsLengthWithMostSignificantBitSet) {
    // §5.2: 64-bit length, "the most significant bit MUST be 0".
    frame_parser_options o;
    o.max_message_size = UINT64_MAX;
    expect_error(bytes({0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0}), error::length_msb_set, o);
    expect_error(bytes({0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), error::length_msb_set, o);
    // 2^63 - 1 is a legal length (need_more: the payload never comes).
    frame_parser p(o);
    std::string buf = bytes({0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4});
    auto const st = p.parse(buf);
    EXPECT_FALSE(st.ec);
    EXPECT_EQ(p.header().length, 0x7fffffffffffffffULL);
    EXPECT_EQ(p.parse(std::span<char>()).ec, error::need_more);
}

// --- §5.2 reserved bits and opcodes ------------------------------------------

TEST(FrameParser, RejectsReservedBits) {
    // §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated that defines meanings for non-zero values".
    for (int rsv : {4, 2, 1, 7}) {  // RSV1, RSV2, RSV3, all three (frame_spec's bits 2..0)
        SCOPED_TRACE(rsv);
        expect_error(frame(opcode::text, "x", {.rsv = rsv}), error::reserved_bits);
        expect_error(frame(opcode::ping, "", {.rsv = rsv}), error::reserved_bits);
    }
    EXPECT_EQ(close_code_for(error::reserved_bits), close_code::protocol_error);
}

TEST(FrameParser, Rsv1WithPermessageDeflate) {
    // RFC 7692 §6: RSV1 marks the first frame of a compressed message; it MUST NOT be
    // set on control frames or continuation frames. RSV2/RSV3 stay reserved.
    frame_parser_options o;
    o.allow_rsv1 = true;
    auto const compressed_start = frame(opcode::text, "\xff\x01", {.fin = false, .rsv = rsv1});
    expect_events(compressed_start + frame(opcode::continuation, "\xfe"), {{opcode::text, "\xff\x01\xfe"}}, o);
    expect_error(compressed_start + frame(opcode::continuation, "x", {.rsv = rsv1}), error::reserved_bits, o);
    expect_error(frame(opcode::ping, "", {.rsv = rsv1}), error::reserved_bits, o);
    expect_error(frame(opcode::close, "", {.rsv = rsv1}), error::reserved_bits, o);
    expect_error(frame(opcode::binary, "", {.rsv = 2 /* RSV2 */}), error::reserved_bits, o);
    expect_error(frame(opcode::binary, "", {.rsv = 1 /* RSV3 */}), error::reserved_bits, o);

    // The text of a compressed message is the caller's to check after inflating.
    frame_parser p(o);
    std::string buf = compressed_start;
    EXPECT_FALSE(p.parse(buf).ec);
    EXPECT_TRUE(p.message_compressed());
    EXPECT_TRUE(p.header().rsv1);
    // An uncompressed text message is checked again (§8.1).
    expect_error(frame(opcode::text, "\xff"), error::invalid_utf8, o);
}

TEST(FrameParser, RejectsReservedOpcodes) {
    // §5.2: "%x3-7 are reserved for further non-control frames", "%xB-F are reserved for
    // further control frames"; §5.2: an unknown opcode MUST fail the connection.
    for (int bits : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
        SCOPED_TRACE(bits);
        auto const op = static_cast<std::uint8_t>(bits);
        expect_error(raw_frame(op, ""), error::reserved_opcode);
        expect_error(raw_frame(op, "payload"), error::reserved_opcode);
        // In the middle of a fragmented message too.
        expect_error(frame(opcode::text, "a", {.fin = false}) + raw_frame(op, ""), error::reserved_opcode);
    }
    // Fail fast: the first byte is enough.
    frame_parser p;
    std::string one = bytes({0x83});
    EXPECT_EQ(p.parse(one).ec, error::reserved_opcode);
    EXPECT_EQ(close_code_for(error::reserved_opcode), close_code::protocol_error);
}

// --- §5.5 control frames ------------------------------------------------------

TEST(FrameParser, ControlFramesComeWhole) {
    // Ping/pong/close payloads (≤ 125 bytes) are handed out in one view, however they arrive.
    expect_events(frame(opcode::ping, "Hello"), {{opcode::ping, "Hello"}});
    expect_events(frame(opcode::ping, ""), {{opcode::ping, ""}});
    expect_events(frame(opcode::pong, repeat(125)), {{opcode::pong, repeat(125)}});
    frame_parser p;
    std::string const in = frame(opcode::ping, "abc");
    std::string buf;
    for (std::size_t i = 0; i + 1 < in.size(); ++i) {
        buf += in[i];
        auto const st = p.parse(buf);
        EXPECT_EQ(st.ec, error::need_more);
        EXPECT_FALSE(st.header_done);
    }
    buf += in.back();
    auto const st = p.parse(buf);
    EXPECT_FALSE(st.ec);
    EXPECT_EQ(st.consumed, in.size());
    EXPECT_EQ(std::string_view(st.payload.data(), st.payload.size()), "abc");
}

TEST(FrameParser, RejectsLongControlFrames) {
    // §5.5: "All control frames MUST have a payload length of 125 bytes or less".
    for (auto op : {opcode::ping, opcode::pong, opcode::close}) {
        SCOPED_TRACE(static_cast<int>(op));
        expect_error(frame(op, repeat(126)), error::control_too_long);
        expect_error(frame(op, repeat(126), {.length_bytes = 2}), error::control_too_long);
        // Known from the second byte alone.
        frame_parser p;
        std::string two = frame(op, repeat(200)).substr(0, 2);
        EXPECT_EQ(p.parse(two).ec, error::control_too_long);
    }
    EXPECT_EQ(close_code_for(error::control_too_long), close_code::protocol_error);
}

TEST(FrameParser, RejectsFragmentedControlFrames) {
    // §5.5: "Control frames ... MUST NOT be fragmented."
    for (auto op : {opcode::ping, opcode::pong, opcode::close}) {
        SCOPED_TRACE(static_cast<int>(op));
        expect_error(frame(op, "a", {.fin = false}), error::fragmented_control);
    }
    EXPECT_EQ(close_code_for(error::fragmented_control), close_code::protocol_error);
}

// --- §5.4 fragmentation -------------------------------------------------------

TEST(FrameParser, FragmentedMessage) {
    // §5.7: "A fragmented unmasked text message" (masked here: it is a client's): "Hel" then "lo".
    auto const hello = frame(opcode::text, "Hel", {.fin = false}) + frame(opcode::continuation, "lo");
    expect_events(hello, {{opcode::text, "Hello"}});
    // Empty fragments, and a FIN-only empty continuation.
    expect_events(frame(opcode::binary, "", {.fin = false}) + frame(opcode::continuation, "", {.fin = false}) +
                      frame(opcode::continuation, "ab", {.fin = false}) + frame(opcode::continuation, ""),
                  {{opcode::binary, "ab"}});
    // Back-to-back messages.
    expect_events(hello + frame(opcode::binary, "x"), {{opcode::text, "Hello"}, {opcode::binary, "x"}});
}

TEST(FrameParser, ControlFramesBetweenFragments) {
    // §5.4: "Control frames MAY be injected in the middle of a fragmented message."
    auto const in = frame(opcode::text, "Hel", {.fin = false}) + frame(opcode::ping, "p1") +
                    frame(opcode::continuation, "l", {.fin = false}) + frame(opcode::pong, "") +
                    frame(opcode::continuation, "o");
    expect_events(in, {{opcode::ping, "p1"}, {opcode::pong, ""}, {opcode::text, "Hello"}});
}

TEST(FrameParser, RejectsContinuationWithoutMessage) {
    // §5.4: a fragmented message starts with a non-continuation opcode; a continuation with
    // no message in progress belongs to nothing.
    expect_error(frame(opcode::continuation, "x"), error::unexpected_continuation);
    expect_error(frame(opcode::text, "done") + frame(opcode::continuation, "x"), error::unexpected_continuation);
    expect_error(frame(opcode::ping, "") + frame(opcode::continuation, "x", {.fin = false}),
                 error::unexpected_continuation);
    EXPECT_EQ(close_code_for(error::unexpected_continuation), close_code::protocol_error);
}

TEST(FrameParser, RejectsNewMessageWhileFragmented) {
    // §5.4: "the fragments of one message MUST NOT be interleaved between the fragments of another
    // message unless an extension has been negotiated that can interpret the interleaving".
    auto const start = frame(opcode::text, "a", {.fin = false});
    expect_error(start + frame(opcode::text, "b"), error::expected_continuation);
    expect_error(start + frame(opcode::binary, "b"), error::expected_continuation);
    expect_error(start + frame(opcode::ping, "") + frame(opcode::binary, "b", {.fin = false}),
                 error::expected_continuation);
    EXPECT_EQ(close_code_for(error::expected_continuation), close_code::protocol_error);
}

TEST(FrameParser, PayloadArrivesInPieces) {
    // A data frame's payload is handed out as it arrives: nothing waits for the whole frame.
    std::string const in = frame(opcode::binary, "0123456789");
    frame_parser p;
    std::string buf = in.substr(0, 6 + 4);  // header (2 + 4 key) and 4 payload bytes
    auto st = p.parse(buf);
    EXPECT_FALSE(st.ec);
    EXPECT_TRUE(st.header_done);
    EXPECT_FALSE(st.frame_done);
    EXPECT_EQ(std::string_view(st.payload.data(), st.payload.size()), "0123");
    EXPECT_EQ(p.payload_remaining(), 6u);
    EXPECT_TRUE(p.in_message());
    buf.erase(0, st.consumed);
    EXPECT_EQ(p.parse(buf).ec, error::need_more);
    buf += in.substr(10);
    st = p.parse(buf);
    EXPECT_FALSE(st.ec);
    EXPECT_FALSE(st.header_done);
    EXPECT_TRUE(st.frame_done && st.message_done);
    EXPECT_EQ(std::string_view(st.payload.data(), st.payload.size()), "456789");
    EXPECT_FALSE(p.in_message());
}

TEST(FrameParser, LeavesTheNextFrameInTheBuffer) {
    std::string buf = frame(opcode::binary, "ab") + frame(opcode::binary, "cd").substr(0, 3);
    frame_parser p;
    auto const st = p.parse(buf);
    EXPECT_FALSE(st.ec);
    EXPECT_EQ(st.consumed, 8u);
    EXPECT_TRUE(st.message_done);
    buf.erase(0, st.consumed);
    EXPECT_EQ(p.parse(buf).ec, error::need_more);
    EXPECT_EQ(p.parse(std::span<char>()).ec, error::need_more);
}

// --- message size limit -------------------------------------------------------

TEST(FrameParser, MessageSizeLimit) {
    frame_parser_options o;
    o.max_message_size = 10;
    expect_events(frame(opcode::binary, repeat(10)), {{opcode::binary, repeat(10)}}, o);
    expect_error(frame(opcode::binary, repeat(11)), error::message_too_big, o);
    // Summed over fragments; control frames in between do not count.
    expect_events(frame(opcode::text, repeat(5), {.fin = false}) + frame(opcode::ping, repeat(50)) +
                      frame(opcode::continuation, repeat(5)),
                  {{opcode::ping, repeat(50)}, {opcode::text, repeat(10)}}, o);
    expect_error(frame(opcode::text, repeat(5), {.fin = false}) + frame(opcode::continuation, repeat(6)),
                 error::message_too_big, o);
    // Each message starts from zero.
    expect_events(frame(opcode::binary, repeat(10)) + frame(opcode::binary, repeat(10)),
                  {{opcode::binary, repeat(10)}, {opcode::binary, repeat(10)}}, o);
    // Checked at the header, before any payload arrives.
    frame_parser p(o);
    std::string head = frame(opcode::binary, repeat(200)).substr(0, 4);
    EXPECT_EQ(p.parse(head).ec, error::message_too_big);
    EXPECT_EQ(close_code_for(error::message_too_big), close_code::message_too_big);  // §7.4.1: 1009
}

// --- §5.6 / §8.1 UTF-8 ----------------------------------------------------------

TEST(FrameParser, TextMustBeUtf8) {
    // §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds that the byte
    // stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket Connection_."
    expect_error(frame(opcode::text, "ab\xff"), error::invalid_utf8);
    expect_error(frame(opcode::text, "\xed\xa0\x80"), error::invalid_utf8);  // surrogate
    expect_error(frame(opcode::text, "\xc0\xaf"), error::invalid_utf8);      // overlong
    expect_error(frame(opcode::text, "\xce"), error::invalid_utf8);          // ends inside a code point
    expect_error(frame(opcode::text, "\xce", {.fin = false}) + frame(opcode::continuation, ""),
                 error::invalid_utf8);
    expect_events(frame(opcode::text, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"),
                  {{opcode::text, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"}});
    // Binary messages are not text.
    expect_events(frame(opcode::binary, "\xff\xfe"), {{opcode::binary, "\xff\xfe"}});
    EXPECT_EQ(close_code_for(error::invalid_utf8), close_code::invalid_payload);  // §7.4.1: 1007
}

TEST(FrameParser, CodePointsMaySpanFragments) {
    // §5.6: the text of a message is UTF-8 as a whole; a fragment may end inside a code point.
    auto const in = frame(opcode::text, "\xf0\x9f", {.fin = false}) + frame(opcode::ping, "") +
                    frame(opcode::continuation, "\x98", {.fin = false}) + frame(opcode::continuation, "\x80!");
    expect_events(in, {{opcode::ping, ""}, {opcode::text, "\xf0\x9f\x98\x80!"}});
}

TEST(FrameParser, InvalidUtf8FailsBeforeTheMessageEnds) {
    // §8.1 with fail-fast: the first fragment's bad byte is enough; the rest never has to arrive.
    frame_parser p;
    std::string buf = frame(opcode::text, "ok \xf4\x90", {.fin = false});
    EXPECT_EQ(p.parse(buf).ec, error::invalid_utf8);
    // And inside one frame, before its end arrives.
    frame_parser q;
    std::string part = frame(opcode::text, "abc\x80" + repeat(100)).substr(0, 6 + 4);
    EXPECT_EQ(q.parse(part).ec, error::invalid_utf8);
}

// --- §5.5.1 / §7.4 Close ----------------------------------------------------------

TEST(FrameParser, ChecksCloseBodies) {
    // §5.5.1: empty, or a 2-byte code followed by UTF-8.
    expect_events(frame(opcode::close, ""), {{opcode::close, ""}});
    expect_events(frame(opcode::close, close_body(1000)), {{opcode::close, close_body(1000)}});
    expect_events(frame(opcode::close, close_body(4000, "bye \xe2\x82\xac")),
                  {{opcode::close, close_body(4000, "bye \xe2\x82\xac")}});
    expect_error(frame(opcode::close, "\x03"), error::close_payload_too_short);
    // §7.4.1/§7.4.2: codes not valid on the wire.
    for (int value : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
        SCOPED_TRACE(value);
        auto const code = static_cast<std::uint16_t>(value);
        expect_error(frame(opcode::close, close_body(code)), error::invalid_close_code);
    }
    expect_error(frame(opcode::close, close_body(1000, "\xff")), error::invalid_close_reason);
    expect_error(frame(opcode::close, close_body(1000, "\xe2\x82")), error::invalid_close_reason);
    EXPECT_EQ(close_code_for(error::close_payload_too_short), close_code::protocol_error);
    EXPECT_EQ(close_code_for(error::invalid_close_code), close_code::protocol_error);
    EXPECT_EQ(close_code_for(error::invalid_close_reason), close_code::invalid_payload);
}

// --- behaviour ------------------------------------------------------------------

TEST(FrameParser, ErrorsAreStickyAndResetRestarts) {
    frame_parser p;
    std::string bad = frame(opcode::text, "x", {.masked = false});
    EXPECT_EQ(p.parse(bad).ec, error::unmasked_frame);
    std::string good = frame(opcode::text, "x");
    EXPECT_EQ(p.parse(good).ec, error::unmasked_frame);
    p.reset();
    auto const st = p.parse(good);
    EXPECT_FALSE(st.ec);
    EXPECT_TRUE(st.message_done);
}

TEST(FrameParser, ResetKeepsOptions) {
    frame_parser_options o;
    o.max_message_size = 3;
    o.allow_rsv1 = true;
    frame_parser p(o);
    p.reset();
    EXPECT_EQ(p.options().max_message_size, 3u);
    EXPECT_TRUE(p.options().allow_rsv1);
}

TEST(FrameParser, EmptyDataFrame) {
    frame_parser p;
    std::string buf = frame(opcode::text, "");
    auto const st = p.parse(buf);
    EXPECT_FALSE(st.ec);
    EXPECT_TRUE(st.header_done && st.frame_done && st.message_done);
    EXPECT_TRUE(st.payload.empty());
    EXPECT_EQ(st.consumed, 6u);
}

} // namespace
} // namespace upshift::ws
