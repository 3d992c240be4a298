// Chunked transfer coding decoder (RFC 9112 §7.1).
#include "upshift/http1/chunked_decoder.hpp"

#include <cstring>

#include "http1/detail/char_class.hpp"
#include "http1/detail/field_section.hpp"
#include "http1/detail/start_line.hpp"

namespace upshift::http1 {
namespace {

constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

constexpr bool is_ws(char c) noexcept { return c == ' ' || c == '\t'; }

/// qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 §5.6.4)
constexpr bool is_qdtext(char c) noexcept {
    auto const u = static_cast<unsigned char>(c);
    return c == '\t' || c == ' ' || u == 0x21 || (u >= 0x23 && u <= 0x5B) || (u >= 0x5D && u <= 0x7E) || u >= 0x80;
}
/// quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
constexpr bool is_quotable(char c) noexcept {
    auto const u = static_cast<unsigned char>(c);
    return c == '\t' || (u >= 0x20 && u != 0x7F);
}

/// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
/// chunk-ext-val = token / quoted-string (RFC 9112 §7.1.1). Validated, ignored.
std::error_code check_extensions(std::string_view s) noexcept {
    std::size_t i = 0;
    auto const skip_bws = [&] {
        while (i < s.size() && is_ws(s[i])) ++i;
    };
    auto const token = [&] {
        std::size_t const start = i;
        while (i < s.size() && ascii::is_tchar(s[i])) ++i;
        return i > start;
    };
    bool first = true;
    for (;;) {
        skip_bws();
        if (i == s.size()) {
            // Whitespace after the size with nothing following is not in the grammar.
            if (!s.empty() && is_ws(s.back())) return first ? error::bad_chunk_size : error::bad_chunk_extension;
            return {};
        }
        if (s[i] != ';') return first ? error::bad_chunk_size : error::bad_chunk_extension;
        first = false;
        ++i;
        skip_bws();
        if (!token()) return error::bad_chunk_extension;
        std::size_t const after_name = i;
        skip_bws();
        if (i < s.size() && s[i] == '=') {
            ++i;
            skip_bws();
            if (i < s.size() && s[i] == '"') {
                ++i;
                for (;;) {
                    if (i == s.size()) return error::bad_chunk_extension;  // unterminated
                    char const c = s[i++];
                    if (c == '"') break;
                    if (c == '\\') {
                        if (i == s.size() || !is_quotable(s[i])) return error::bad_chunk_extension;
                        ++i;
                    } else if (!is_qdtext(c)) {
                        return error::bad_chunk_extension;
                    }
                }
            } else if (!token()) {
                return error::bad_chunk_extension;
            }
        } else {
            i = after_name;  // the BWS belongs to the next element
        }
    }
}

} // namespace

chunked_decoder::chunked_decoder(limits const& l) : limits_(l) {}

void chunked_decoder::reset() noexcept {
    state_ = state::size_line;
    remaining_ = total_ = 0;
    scanned_ = 0;
    trailers_.clear();
    raw_trailers_.clear();
    cursor_ = {};
    error_ = {};
}

chunked_decoder::step chunked_decoder::fail(std::size_t consumed, std::error_code ec) noexcept {
    state_ = state::failed;
    error_ = ec;
    return {consumed, {}, ec};
}

// chunk-size [ chunk-ext ], without the CRLF.
std::error_code chunked_decoder::parse_size_line(std::string_view line) noexcept {
    if (line.find('\r') != std::string_view::npos) return error::bare_cr;  // RFC 9112 §2.2
    std::uint64_t size = 0;
    std::size_t i = 0;
    for (; i < line.size(); ++i) {
        int const d = hex_value(line[i]);
        if (d < 0) break;
        if (size > (UINT64_MAX >> 4)) return error::chunk_size_overflow;
        size = (size << 4) | static_cast<std::uint64_t>(d);
    }
    if (i == 0) return error::bad_chunk_size;  // chunk-size = 1*HEXDIG
    if (auto ec = check_extensions(line.substr(i))) return ec;
    if (size > limits_.max_body_bytes - total_) return error::body_too_large;
    remaining_ = size;
    return {};
}

chunked_decoder::step chunked_decoder::decode(std::string_view in) {
    std::size_t pos = 0;
    std::size_t const n = in.size();
    for (;;) {
        switch (state_) {
        case state::size_line: {
            std::size_t const from = pos + scanned_;
            auto const* lf = static_cast<char const*>(from < n ? std::memchr(in.data() + from, '\n', n - from) : nullptr);
            if (lf == nullptr) {
                std::size_t have = n - pos;
                if (have > 0 && in[n - 1] == '\r') --have;
                if (have > limits_.max_chunk_line) return fail(pos, error::chunk_line_too_long);
                scanned_ = n - pos;
                return {pos, {}, error::need_more};
            }
            auto const lf_at = static_cast<std::size_t>(lf - in.data());
            bool const crlf = lf_at > pos && in[lf_at - 1] == '\r';
            std::size_t const line_end = crlf ? lf_at - 1 : lf_at;
            if (line_end - pos > limits_.max_chunk_line) return fail(pos, error::chunk_line_too_long);
            if (!crlf) return fail(pos, error::bare_lf);  // RFC 9112 §7.1: chunk line ends in CRLF
            if (auto ec = parse_size_line(in.substr(pos, line_end - pos))) return fail(pos, ec);
            pos = lf_at + 1;
            scanned_ = 0;
            if (remaining_ == 0) {
                state_ = state::trailers;  // last-chunk
                cursor_ = {};
                raw_trailers_.clear();
            } else {
                state_ = state::data;
            }
            break;
        }
        case state::data: {
            if (pos == n) return {pos, {}, error::need_more};
            std::size_t const avail = n - pos;
            std::size_t const take = remaining_ < avail ? static_cast<std::size_t>(remaining_) : avail;
            auto const data = in.substr(pos, take);
            pos += take;
            remaining_ -= take;
            total_ += take;
            if (remaining_ == 0) state_ = state::data_crlf;
            return {pos, data, {}};
        }
        case state::data_crlf:
            // RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
            if (pos == n) return {pos, {}, error::need_more};
            if (in[pos] != '\r') return fail(pos, error::bad_chunk_terminator);
            if (pos + 1 == n) return {pos, {}, error::need_more};
            if (in[pos + 1] != '\n') return fail(pos, error::bad_chunk_terminator);
            pos += 2;
            state_ = state::size_line;
            break;
        case state::trailers: {
            // trailer-section = *( field-line CRLF ), then CRLF (RFC 9112 §7.1.2),
            // parsed in place relative to its first byte.
            auto const section = in.substr(pos);
            std::size_t p = scanned_;
            detail::section_limits const lim{limits_.max_trailer_bytes, error::trailer_too_large,
                                             limits_.max_header_count, error::trailer_too_large, error::bad_trailer};
            auto ec = detail::scan_field_section(cursor_, section, p, lim,
                                                 [this](detail::raw_field const& f, std::string_view, std::string_view) {
                                                     raw_trailers_.push_back(f);
                                                     return std::error_code{};
                                                 });
            if (ec == error::need_more) {
                scanned_ = p;
                return {pos, {}, ec};
            }
            if (ec) return fail(pos, ec == error::trailer_too_large ? ec : make_error_code(error::bad_trailer));
            detail::build_fields(trailers_, raw_trailers_, section);
            scanned_ = 0;
            state_ = state::done;
            return {pos + p, {}, {}};
        }
        case state::done:
            return {0, {}, {}};
        case state::failed:
            return {0, {}, error_};
        }
    }
}

} // namespace upshift::http1
