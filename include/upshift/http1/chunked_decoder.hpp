#pragma once
// Incremental decoder for the chunked transfer coding (RFC 9112 §7.1), with
// chunk extensions (validated and ignored) and trailer fields.
//
//   chunked_decoder d(limits);
//   for (;;) {
//       auto s = d.decode(buffer.data());
//       deliver(s.data);            // may be empty
//       buffer.consume(s.consumed); // after using s.data and trailers()
//       if (s.ec == error::need_more) -> read more
//       else if (s.ec) -> fatal
//       else if (d.done()) -> body complete; trailers() valid until consume
//   }
//
// A step never consumes part of a chunk-size line or of the trailer section
// (they are parsed whole, in place, so trailers() can point into the input);
// it remembers how far it scanned, so byte-at-a-time input costs O(n).
// Errors: bad_chunk_size, chunk_size_overflow, bad_chunk_extension,
// chunk_line_too_long, bare_cr, bare_lf, bad_chunk_terminator, body_too_large
// (limits::max_body_bytes, checked when a chunk is announced), bad_trailer,
// trailer_too_large. After an error every call returns it again.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include "upshift/http1/detail/head_state.hpp"
#include "upshift/http1/error.hpp"
#include "upshift/http1/limits.hpp"
#include "upshift/http1/message.hpp"

namespace upshift::http1 {

class chunked_decoder {
public:
    struct step {
        std::size_t consumed = 0;  ///< input bytes used by this step
        std::string_view data;     ///< decoded body bytes (a view into the input), possibly empty
        std::error_code ec;        ///< empty, need_more, or fatal
    };

    explicit chunked_decoder(limits const& l = {});

    /// Decodes at most one piece from `input` (the unconsumed bytes). Returns
    /// need_more only when nothing more can be done without more input.
    step decode(std::string_view input);

    bool done() const noexcept { return state_ == state::done; }
    std::uint64_t body_bytes() const noexcept { return total_; }
    /// Trailer fields, valid right after the step that finished, until the input is consumed.
    std::span<field const> trailers() const noexcept { return trailers_; }
    void reset() noexcept;

private:
    enum class state : std::uint8_t { size_line, data, data_crlf, trailers, done, failed };

    step fail(std::size_t consumed, std::error_code ec) noexcept;
    std::error_code parse_size_line(std::string_view line) noexcept;

    limits limits_;
    state state_ = state::size_line;
    std::uint64_t remaining_ = 0;
    std::uint64_t total_ = 0;
    std::size_t scanned_ = 0;  ///< progress inside the current size line or trailer section
    std::vector<field> trailers_;
    std::vector<detail::raw_field> raw_trailers_;
    detail::field_cursor cursor_;
    std::error_code error_;    ///< sticky after a failure
};

} // namespace upshift::http1
