// libFuzzer target: ws::frame_parser driven like a session (append a read,
// parse until need_more, collect payload, consume), with input-chosen read
// sizes, plus the UTF-8 validator on the raw input. Invariants:
//   - a split run gives the same verdict, messages and control frames as a whole run;
//   - consumed never exceeds the input and payload views lie inside the consumed bytes;
//   - a delivered text message is valid UTF-8, a control payload is at most 125 bytes,
//     a delivered Close body parses; a message never exceeds max_message_size;
//   - utf8_validator agrees with a plain RFC 3629 decoder, whole and byte by byte.
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz_split.hpp"
#include "upshift/ws/close_payload.hpp"
#include "upshift/ws/frame_parser.hpp"
#include "upshift/ws/utf8.hpp"

using namespace upshift;

namespace {

constexpr std::uint64_t max_message = 4096;

struct outcome {
    std::error_code ec;
    std::vector<std::pair<int, std::string>> events;  // (opcode, payload)
    bool operator==(outcome const&) const = default;
};

void check(bool ok) {
    if (!ok) std::abort();
}

template <class Reads>
outcome run(Reads&& reads, bool allow_rsv1) {
    ws::frame_parser_options o;
    o.max_message_size = max_message;
    o.allow_rsv1 = allow_rsv1;
    ws::frame_parser p(o);
    outcome out;
    std::string buf;
    std::string message;
    reads([&](std::string_view piece) {
        buf.append(piece);
        for (;;) {
            auto const st = p.parse(buf);
            check(st.consumed <= buf.size());
            if (!st.payload.empty())
                check(st.payload.data() >= buf.data() && st.payload.data() + st.payload.size() <= buf.data() + st.consumed);
            if (st.ec == ws::error::need_more) {
                check(st.consumed == 0);
                return true;
            }
            if (st.ec) {
                out.ec = st.ec;
                check(ws::close_code_for(st.ec) != ws::close_code::internal_error);
                return false;
            }
            check(st.consumed > 0);
            std::string_view const payload(st.payload.data(), st.payload.size());
            auto const& h = p.header();
            if (ws::is_control(h.op)) {
                check(st.header_done && st.frame_done && h.fin && payload.size() <= ws::max_control_payload);
                if (h.op == ws::opcode::close) check(!ws::parse_close_payload(payload).ec);
                out.events.emplace_back(static_cast<int>(h.op), payload);
            } else {
                message.append(payload);
                check(message.size() <= max_message);
                if (st.message_done) {
                    if (p.message_opcode() == ws::opcode::text && !p.message_compressed())
                        check(ws::is_valid_utf8(message));
                    out.events.emplace_back(static_cast<int>(p.message_opcode()) | (p.message_compressed() ? 0x40 : 0),
                                            message);
                    message.clear();
                }
            }
            buf.erase(0, st.consumed);
        }
    });
    if (!out.ec) out.ec = ws::error::need_more;
    return out;
}

bool reference_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        auto const c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) { ++i; continue; }
        std::size_t len = 0;
        std::uint32_t cp = 0;
        std::uint32_t min = 0;
        if (c >= 0xC0 && c <= 0xDF) { len = 2; cp = c & 0x1Fu; min = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0Fu; min = 0x800; }
        else if (c >= 0xF0 && c <= 0xF7) { len = 4; cp = c & 0x07u; min = 0x10000; }
        else return false;
        if (i + len > s.size()) return false;
        for (std::size_t k = 1; k < len; ++k) {
            auto const b = static_cast<unsigned char>(s[i + k]);
            if ((b & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (b & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    auto const s = fuzz::make_split(data, size);
    for (bool allow_rsv1 : {false, true}) {
        auto const whole = run([&](auto&& feed) { feed(s.bytes); }, allow_rsv1);
        auto const split = run(
            [&](auto&& feed) {
                std::size_t prev = 0;
                fuzz::for_each_prefix(s, [&](std::size_t n) {
                    bool const more = feed(s.bytes.substr(prev, n - prev));
                    prev = n;
                    return more;
                });
            },
            allow_rsv1);
        check(whole == split);
    }

    // UTF-8: whole, byte by byte and in the input's chunks agree with the reference.
    bool const expected = reference_utf8(s.bytes);
    check(ws::is_valid_utf8(s.bytes) == expected);
    ws::utf8_validator bytewise;
    bool ok = true;
    for (char c : s.bytes) ok = bytewise.feed({&c, 1}) && ok;
    check((ok && bytewise.finish()) == expected);
    ws::utf8_validator chunked;
    bool chunks_ok = true;
    std::size_t prev = 0;
    fuzz::for_each_prefix(s, [&](std::size_t n) {
        chunks_ok = chunked.feed(s.bytes.substr(prev, n - prev)) && chunks_ok;
        prev = n;
        return true;
    });
    check((chunks_ok && chunked.finish()) == expected);
    check(ok == chunks_ok);  // fail-fast: the same prefix verdict however it is cut
    return 0;
}
