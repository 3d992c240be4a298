#pragma once
// permessage-deflate data (RFC 7692 §7.2) with zlib, raw DEFLATE.
//
// deflater: one whole message per compress() call, Z_SYNC_FLUSH, the trailing
// 00 00 ff ff removed (§7.2.1). With no context takeover the LZ77 window is
// reset after each message (§7.1.1). A message sent in fragments goes through
// compress_part(), one call per fragment: each piece is flushed so that it can
// go out at once, and the message's data as a whole is what §7.2.1 asks for.
// A message that compresses to nothing (an empty one after a flush) is the
// single octet 00, an empty stored block without its 00 00 ff ff (§7.2.3.6):
// the receiver's appended 00 00 ff ff must complete a block, never start one. zlib's deflate does not do windowBits 8
// for raw streams, so 8 becomes 9 (zlib's documented quirk: zlib keeps
// distances below 2^w - 262, so a 9-bit zlib window stays within 256 and an
// 8-bit inflater on the other side still decodes it).
//
// inflater: feed() the compressed pieces of one message as they arrive, then
// finish() appends 00 00 ff ff (§7.2.2) and returns the message. Output grows
// by doubling and never beyond max_size + 1 bytes: as soon as the message
// would exceed max_size, the result is too_big (a decompression bomb does not
// grow memory). Window: always 15 bits, so that a verdict never depends on how
// the input was cut (see the constructor); window_bits is accepted and unused.
//
// Memory: deflateInit2 at windowBits 15, memLevel 8 holds about 256 KiB
// ((1 << (w + 2)) + (1 << (m + 9)) plus ~6 KiB of state); inflate about 32 KiB
// window (allocated at the first message) plus ~7 KiB of state.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace upshift::ws {

class deflater {
public:
    explicit deflater(int window_bits = 15, bool no_context_takeover = false, int mem_level = 8);
    ~deflater();
    deflater(deflater const&) = delete;
    deflater& operator=(deflater const&) = delete;

    /// Compresses `in` as one message, appending the payload (without 00 00 ff ff) to `out`.
    /// Not while a compress_part() message is unfinished.
    void compress(std::string_view in, std::string& out) { compress_part(in, true, out); }
    /// Compresses the next piece of a fragmented message, appending what the fragment carries
    /// to `out`; `fin` ends the message. The flush's 00 00 ff ff is held back (it carries no
    /// data) until the next piece shows the message goes on, and dropped at its end (§7.2.1).
    void compress_part(std::string_view in, bool fin, std::string& out);

private:
    void flush_into(std::string_view in, std::string& out);

    struct impl;
    std::unique_ptr<impl> p_;
    bool reset_each_ = false;
    bool held_tail_ = false;       // the last piece's 00 00 ff ff, not sent yet
    bool message_output_ = false;  // the current message has produced bytes
};

enum class inflate_status { ok, too_big, corrupt };

class inflater {
public:
    /// A buffer larger than this is not kept between messages.
    static constexpr std::size_t step = 64 * 1024;

    inflater(int window_bits, bool no_context_takeover, std::size_t max_size);
    ~inflater();
    inflater(inflater const&) = delete;
    inflater& operator=(inflater const&) = delete;

    /// Feeds the next compressed bytes of the current message.
    inflate_status feed(std::string_view in);
    /// Ends the message (§7.2.2: appends 00 00 ff ff); on ok, message() is the whole message.
    inflate_status finish();
    /// The inflated message so far; valid until clear_message() or the next feed() after finish().
    std::string_view message() const noexcept { return {buf_.data(), size_}; }
    /// Bytes held by the output buffer (for the bomb test).
    std::size_t buffer_capacity() const noexcept { return buf_.capacity(); }
    /// Forgets the current message (the window stays unless no context takeover).
    void clear_message();

private:
    inflate_status run(std::string_view in);

    struct impl;
    std::unique_ptr<impl> p_;
    std::vector<char> buf_;
    std::size_t size_ = 0;
    std::size_t max_size_;
    bool reset_each_;
    bool ended_ = false;  // the sender ended the stream with BFINAL
    bool done_ = false;   // finish() returned: the next feed() starts a new message
};

} // namespace upshift::ws
