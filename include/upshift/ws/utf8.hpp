#pragma once
// Incremental UTF-8 validation for text messages (RFC 6455 §5.6, §8.1;
// UTF-8 as defined by RFC 3629 §4).
//
// A text message may be fragmented anywhere, even inside a code point, so the
// validator carries its state from one feed() to the next. It rejects
// overlong forms, UTF-16 surrogates (U+D800-U+DFFF), code points above
// U+10FFFF and stray continuation or invalid bytes (C0, C1, F5-FF), and it
// fails at the first byte that cannot start or continue a valid sequence: a
// receiver may fail the connection as soon as it sees such a byte (§8.1), so
// a bad prefix is caught before the rest of the message arrives.
//
//   utf8_validator v;
//   for each fragment: if (!v.feed(payload)) -> fail with error::invalid_utf8
//   at the end of the message: if (!v.finish()) -> fail (truncated sequence)
//
// ASCII runs are checked 16 bytes at a time; other bytes go through a
// byte-class DFA (Björn Höhrmann's scheme, our own tables), run as a "shift
// DFA" so that each byte costs one shift on the critical path.
#include <cstdint>
#include <string_view>

namespace upshift::ws {

class utf8_validator {
public:
    /// Validates the next bytes. Returns false if the bytes so far (across
    /// calls) are not a prefix of valid UTF-8; once false, stays false until reset().
    bool feed(std::string_view bytes) noexcept;

    /// True if every byte fed so far is valid and no code point is left
    /// unfinished: the message may end here.
    bool finish() const noexcept { return state_ == 0; }

    /// True once invalid input has been seen.
    bool failed() const noexcept;

    /// Starts a new message.
    void reset() noexcept { state_ = 0; }

private:
    std::uint8_t state_ = 0;  ///< DFA state: 0 between code points (see utf8.cpp)
};

/// True if `s` is complete, valid UTF-8.
bool is_valid_utf8(std::string_view s) noexcept;

} // namespace upshift::ws
