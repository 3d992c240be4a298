// UTF-8 validation DFA (RFC 3629 §4, the table of well-formed byte sequences).
#include "upshift/ws/utf8.hpp"

#include <array>
#include <cstddef>
#include <cstring>

namespace upshift::ws {
namespace {

// Byte classes: bytes that behave alike in every state share a class.
enum byte_class : std::uint8_t {
    c_ascii,     // 00-7F
    c_cont_8x,   // 80-8F continuation
    c_cont_9x,   // 90-9F continuation
    c_cont_ab,   // A0-BF continuation
    c_invalid,   // C0, C1 (overlong 2-byte leads), F5-FF (beyond U+10FFFF)
    c_lead2,     // C2-DF
    c_e0,        // E0: next byte A0-BF (no overlong 3-byte forms)
    c_lead3,     // E1-EC, EE-EF
    c_ed,        // ED: next byte 80-9F (no surrogates U+D800-U+DFFF)
    c_f0,        // F0: next byte 90-BF (no overlong 4-byte forms)
    c_lead4,     // F1-F3
    c_f4,        // F4: next byte 80-8F (nothing above U+10FFFF)
};
constexpr std::size_t class_count = 12;

constexpr std::array<std::uint8_t, 256> make_classes() {
    std::array<std::uint8_t, 256> t{};
    for (unsigned b = 0; b < 256; ++b) {
        byte_class c = c_invalid;
        if (b <= 0x7F) c = c_ascii;
        else if (b <= 0x8F) c = c_cont_8x;
        else if (b <= 0x9F) c = c_cont_9x;
        else if (b <= 0xBF) c = c_cont_ab;
        else if (b <= 0xC1) c = c_invalid;
        else if (b <= 0xDF) c = c_lead2;
        else if (b == 0xE0) c = c_e0;
        else if (b == 0xED) c = c_ed;
        else if (b <= 0xEF) c = c_lead3;
        else if (b == 0xF0) c = c_f0;
        else if (b <= 0xF3) c = c_lead4;
        else if (b == 0xF4) c = c_f4;
        t[b] = c;
    }
    return t;
}

enum state_index : std::uint8_t { s_accept, s_reject, s_need1, s_need2, s_need3, s_e0, s_ed, s_f0, s_f4 };
constexpr std::size_t state_count = 9;

// The DFA as a table of (state, class) -> state.
constexpr std::array<std::uint8_t, state_count * class_count> make_transitions() {
    std::array<std::uint8_t, state_count * class_count> t{};
    for (auto& x : t) x = s_reject;  // anything not listed below, and everything after a rejection
    auto const set = [&](state_index from, byte_class c, state_index to) { t[from * class_count + c] = to; };
    auto const cont = [&](state_index from, state_index to) {
        set(from, c_cont_8x, to);
        set(from, c_cont_9x, to);
        set(from, c_cont_ab, to);
    };
    set(s_accept, c_ascii, s_accept);
    set(s_accept, c_lead2, s_need1);
    set(s_accept, c_e0, s_e0);
    set(s_accept, c_lead3, s_need2);
    set(s_accept, c_ed, s_ed);
    set(s_accept, c_f0, s_f0);
    set(s_accept, c_lead4, s_need3);
    set(s_accept, c_f4, s_f4);
    cont(s_need1, s_accept);
    cont(s_need2, s_need1);
    cont(s_need3, s_need2);
    set(s_e0, c_cont_ab, s_need1);
    set(s_ed, c_cont_8x, s_need1);
    set(s_ed, c_cont_9x, s_need1);
    set(s_f0, c_cont_9x, s_need2);
    set(s_f0, c_cont_ab, s_need2);
    set(s_f4, c_cont_8x, s_need2);
    return t;
}

// The same DFA as a "shift DFA": a state is a bit offset (index * 6), and
// rows[byte] holds, at each state's offset, the next state's offset. A step is
// `s = rows[byte] >> (s & 63)`: the load does not depend on the state, so the
// critical path is one shift per byte instead of two dependent loads.
constexpr unsigned state_bits = 6;
static_assert(state_count * state_bits <= 64);
constexpr std::uint64_t offset(std::size_t state) { return state * state_bits; }

constexpr std::array<std::uint64_t, 256> make_rows() {
    auto const classes = make_classes();
    auto const transitions = make_transitions();
    std::array<std::uint64_t, 256> rows{};
    for (std::size_t b = 0; b < 256; ++b)
        for (std::size_t from = 0; from < state_count; ++from)
            rows[b] |= offset(transitions[from * class_count + classes[b]]) << offset(from);
    return rows;
}

constexpr auto rows = make_rows();
constexpr std::uint64_t accept = offset(s_accept);
constexpr std::uint64_t reject = offset(s_reject);

constexpr std::uint64_t high_bits = 0x8080808080808080ULL;

} // namespace

bool utf8_validator::failed() const noexcept { return state_ == reject; }

bool utf8_validator::feed(std::string_view bytes) noexcept {
    auto const* p = reinterpret_cast<unsigned char const*>(bytes.data());
    auto const* const end = p + bytes.size();
    std::uint64_t s = state_;
    if (s == reject) return false;

    while (end - p >= 16) {
        if (s == accept) {
            // Between code points: skip 16 ASCII bytes at once (high bits all clear).
            std::uint64_t a;
            std::uint64_t b;
            std::memcpy(&a, p, 8);
            std::memcpy(&b, p + 8, 8);
            if (((a | b) & high_bits) == 0) {
                p += 16;
                continue;
            }
        }
        for (int i = 0; i < 16; ++i) s = rows[*p++] >> (s & 63);
        s &= 63;
        // Rejection is absorbing, so testing once per block still fails inside this call.
        if (s == reject) {
            state_ = static_cast<std::uint8_t>(s);
            return false;
        }
    }
    while (p != end) s = rows[*p++] >> (s & 63);
    state_ = static_cast<std::uint8_t>(s & 63);
    return state_ != reject;
}

bool is_valid_utf8(std::string_view s) noexcept {
    utf8_validator v;
    return v.feed(s) && v.finish();
}

} // namespace upshift::ws
