#include "h2c/detail/stream_exchange.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <iterator>
#include <memory>

#include "h2c/detail/session.hpp"
#include "upshift/http1/serializer.hpp"
#include "upshift/server/server.hpp"

namespace upshift::h2c::detail {
namespace {

// RFC 9110 §6.4.1: 1xx, 204 and 304 responses never carry content.
bool status_has_body(unsigned code) noexcept { return !(code < 200 || code == 204 || code == 304); }

// RFC 9113 §8.2.2: connection-specific fields MUST NOT appear in HTTP/2; a
// handler written for HTTP/1.1 may still set them, so they are dropped here.
// Content-Length is set by the stream itself from what the handler declared.
bool dropped_response_field(std::string_view name) noexcept {
    for (std::string_view n :
         {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "content-length"})
        if (ascii::iequals(name, n)) return true;
    return false;
}

// The HTTP/1.1 request that became stream 1 keeps only end-to-end fields.
bool hop_by_hop_request_field(std::string_view name) noexcept {
    for (std::string_view n : {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
                               "http2-settings", "te", "content-length", "expect"})
        if (ascii::iequals(name, n)) return true;
    return false;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = ascii::to_lower(c);
    return out;
}

// A header block for nghttp2_submit_*. nghttp2 copies names and values on
// submit (no NO_COPY flags), so the block holds views and owns only what it
// must: the :status digits and the application's field names lowered for
// HTTP/2 (RFC 9113 §8.2.1), in one buffer reserved up front so that views into
// it stay valid. This is the response hot path: at most two allocations per
// block, not two per field.
class header_block {
public:
    /// :status `code` (none when 0, for trailers) first, as RFC 9113 §8.3 requires of
    /// pseudo-header fields, then `fields` without the connection-specific ones;
    /// `extra` is room for fields the stream adds after them with add().
    header_block(unsigned code, http1::fields const& fields, std::size_t extra) {
        std::size_t name_bytes = 0;
        for (auto const& [n, v] : fields) name_bytes += n.size();
        names_.reserve(name_bytes);
        nv_.reserve(fields.size() + extra + 1);
        if (code != 0) {
            auto const r = std::to_chars(std::begin(status_), std::end(status_), code);
            add(":status", {status_, static_cast<std::size_t>(r.ptr - status_)});
        }
        for (auto const& [n, v] : fields)
            if (!dropped_response_field(n)) add(lowered(n), v);
    }
    header_block(header_block const&) = delete;
    header_block& operator=(header_block const&) = delete;

    /// `name` (lower case) and `value` must outlive the submit.
    void add(std::string_view name, std::string_view value) {
        nv_.push_back({reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
                       reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
                       value.size(), NGHTTP2_NV_FLAG_NONE});
    }
    nghttp2_nv const* data() const noexcept { return nv_.data(); }
    std::size_t size() const noexcept { return nv_.size(); }

private:
    // Only names of the constructor's `fields` come here: they fit in what was reserved.
    std::string_view lowered(std::string_view name) {
        bool const upper = std::any_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
        if (!upper) return name;
        auto const at = names_.size();
        for (char c : name) names_.push_back(ascii::to_lower(c));
        return std::string_view(names_).substr(at);
    }

    char status_[8] = {};
    std::string names_;
    std::vector<nghttp2_nv> nv_;
};

} // namespace

stream_exchange::stream_exchange(session& s, std::int32_t id) : s_(s), id_(id) {}
stream_exchange::~stream_exchange() { *alive_ = false; }

std::string_view stream_exchange::remote() const noexcept { return s_.remote(); }
bool stream_exchange::secure() const noexcept { return s_.secure(); }
net::loop& stream_exchange::loop() noexcept { return s_.loop(); }

// --- request head ------------------------------------------------------------

void stream_exchange::add_header(std::string_view name, std::string_view value) {
    // RFC 9113 §6.5.2: the size of a field is its name and value plus 32 octets.
    header_bytes_ += name.size() + value.size() + 32;
    if (header_bytes_ > s_.cfg().opts.max_header_list_size) {
        head_error_ = 431;
        raw_.clear();
        return;
    }
    if (head_error_) return;
    if (!name.empty() && name.front() == ':') {
        // nghttp2 has checked the pseudo-header fields (RFC 9113 §8.3.1).
        if (name == ":method")
            method_ = value;
        else if (name == ":path")
            path_ = value;
        else if (name == ":authority")
            authority_ = value;
        return;
    }
    raw_.emplace_back(name, value);
}

bool stream_exchange::complete_head(bool end_stream) {
    if (head_error_) return false;
    fields_.clear();
    fields_.reserve(raw_.size());
    for (auto const& [n, v] : raw_) fields_.push_back({n, v});
    head_.fields = fields_;
    head_.version_major = 2;
    head_.version_minor = 0;
    head_.method_text = method_;
    head_.method = http1::parse_method(method_);
    head_.target = path_;
    // RFC 9113 §8.3.1: :authority stands for Host; a Host field may be used instead.
    head_.host = !authority_.empty() ? std::string_view(authority_) : head_.find("host");
    head_request_ = head_.method == http1::method::head;
    body_end_ = end_stream;
    auto const cl = head_.find("content-length");
    if (end_stream) {
        head_.body = http1::body_kind::none;
    } else if (!cl.empty()) {
        // nghttp2 has checked that it is a number and will check it against the DATA received.
        std::uint64_t n = 0;
        std::from_chars(cl.data(), cl.data() + cl.size(), n);
        head_.body = http1::body_kind::length;
        head_.content_length = n;
    } else {
        // A body of unknown length: what chunked means to an HTTP/1.1 handler.
        head_.body = http1::body_kind::chunked;
    }
    has_body_ = head_.body == http1::body_kind::chunked ||
                (head_.body == http1::body_kind::length && head_.content_length > 0);
    return true;
}

void stream_exchange::adopt_http1_request(upgrade::request_info const& r, std::string body) {
    for (auto const& [n, v] : r.headers) {
        if (hop_by_hop_request_field(n)) continue;
        if (ascii::iequals(n, "host")) authority_ = v;
        raw_.emplace_back(lower(n), v);
    }
    method_ = r.method;
    path_ = r.target;
    if (!body.empty()) raw_.emplace_back("content-length", std::to_string(body.size()));
    complete_head(body.empty());
    if (!body.empty()) {
        // The body was read in HTTP/1.1 framing before the switch: it is all here,
        // and it never counted against an HTTP/2 flow-control window.
        body_ = std::move(body);
        body_end_ = true;
    }
}

// --- request body ------------------------------------------------------------

void stream_exchange::on_data(std::string_view piece) {
    unconsumed_ += piece.size();
    if (discard_body_ || reader_done_) {
        consume(piece.size());
        return;
    }
    body_.append(piece);
    deliver();
}

void stream_exchange::on_end_of_body() {
    body_end_ = true;
    deliver();
}

void stream_exchange::deliver() {
    while (reading_ && !paused_ && !reader_done_ && !closed_ && !body_.empty()) {
        std::string piece = std::move(body_);
        body_.clear();
        if (reader_.on_data) reader_.on_data(piece);
        consume(piece.size());
    }
    if (reading_ && !reader_done_ && !closed_ && body_end_ && body_.empty()) end_reader({});
}

void stream_exchange::consume(std::size_t n) {
    // Only bytes that came in DATA frames reopen a window (stream 1's upgrade body did not).
    n = std::min(n, unconsumed_);
    if (n == 0 || closed_) return;
    unconsumed_ -= n;
    nghttp2_session_consume(s_.h2(), id_, n);
    s_.flush(); // the WINDOW_UPDATE
}

void stream_exchange::end_reader(std::error_code ec) {
    reader_done_ = true;
    auto on_end = std::move(reader_.on_end);
    reader_ = {};
    if (on_end) on_end(ec);
}

void stream_exchange::read_body(server::body_reader reader) {
    if (reading_) return;
    reading_ = true;
    reader_ = std::move(reader);
    deliver();
}

void stream_exchange::read_body_all(std::size_t max,
                                    unique_function<void(std::error_code, std::string)> done) {
    // Above max the rest of the stream's DATA is dropped as it arrives.
    read_body(server::collect_body(max, 0, [this] { discard_body_ = true; }, std::move(done)));
}

void stream_exchange::resume_body() {
    if (!paused_) return;
    paused_ = false;
    deliver();
}

// --- responses -----------------------------------------------------------------

std::error_code stream_exchange::send_interim(http1::status s, http1::fields const& f) {
    unsigned const code = http1::to_int(s);
    if (!http1::is_informational(code) || code == 101)
        return make_error_code(server::error::bad_interim_status);
    if (closed_) return make_error_code(server::error::connection_lost);
    if (responded_) return make_error_code(server::error::interim_after_final);
    // RFC 9113 §8.1: an interim response is a HEADERS frame without END_STREAM
    // whose :status is 1xx, before the final response's HEADERS.
    header_block const b{code, f, 0};
    nghttp2_submit_headers(s_.h2(), NGHTTP2_FLAG_NONE, id_, nullptr, b.data(), b.size(), nullptr);
    s_.flush();
    return {};
}

void stream_exchange::submit_head(unsigned code, http1::fields const& headers,
                                  std::optional<std::uint64_t> length, bool with_data) {
    auto const& o = s_.cfg().opts;
    header_block b{code, headers, 3};
    char length_buf[24];
    if (length && status_has_body(code)) {
        auto const r = std::to_chars(std::begin(length_buf), std::end(length_buf), *length);
        b.add("content-length", {length_buf, static_cast<std::size_t>(r.ptr - length_buf)});
    }
    char date_buf[32];
    if (o.date_header && !headers.has("date"))
        b.add("date", http1::format_http_date(s_.loop().unix_now(), date_buf));
    if (!o.server_header.empty() && !headers.has("server")) b.add("server", o.server_header);
    nghttp2_data_provider prd{};
    prd.source.ptr = this;
    prd.read_callback = &stream_exchange::read_data;
    nghttp2_submit_response(s_.h2(), id_, b.data(), b.size(), with_data ? &prd : nullptr);
}

void stream_exchange::respond(http1::status s, http1::fields headers, std::string body) {
    if (responded_ || closed_) return;
    responded_ = true;
    unsigned const code = http1::to_int(s);
    // As over HTTP/1.1: HEAD gets the length of the body it would have had.
    std::optional<std::uint64_t> length = body.size();
    if (!status_has_body(code)) length.reset();
    if (head_request_ || !status_has_body(code)) body.clear();
    bool const with_data = !body.empty();
    out_ = std::move(body);
    out_eof_ = true;
    submit_head(code, headers, length, with_data);
    if (!with_data) mark_complete();
    s_.flush();
}

server::response_writer& stream_exchange::start_response(http1::status s, http1::fields headers,
                                                         std::optional<std::uint64_t> content_length) {
    if (responded_ || closed_) {
        // Misuse or a lost stream: a writer that takes nothing.
        out_eof_ = true;
        return *this;
    }
    responded_ = true;
    unsigned const code = http1::to_int(s);
    bool const with_data = status_has_body(code) && !head_request_;
    submit_head(code, headers, content_length, with_data);
    if (!with_data) {
        out_eof_ = true;
        mark_complete();
    }
    s_.flush();
    return *this;
}

bool stream_exchange::write(std::string_view data) {
    if (closed_ || out_eof_ || !responded_) return false;
    if (out_offset_ > 0 && out_offset_ >= out_.size() / 2) {
        out_.erase(0, out_offset_);
        out_offset_ = 0;
    }
    out_.append(data);
    wake_data();
    s_.flush();
    bool const below = !closed_ && buffered_amount() < s_.cfg().opts.send_high_water;
    if (!below) drain_owed_ = true;
    return below;
}

void stream_exchange::finish(http1::fields const& trailers) {
    if (closed_ || out_eof_) return;
    out_eof_ = true;
    trailers_ = trailers;
    wake_data();
    s_.flush();
}

void stream_exchange::wake_data() {
    if (!deferred_ || closed_) return;
    deferred_ = false;
    nghttp2_session_resume_data(s_.h2(), id_);
}

ssize_t stream_exchange::read_data(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                                   std::uint32_t* flags, nghttp2_data_source* source, void*) {
    return static_cast<stream_exchange*>(source->ptr)->produce(buf, length, flags);
}

ssize_t stream_exchange::produce(std::uint8_t* buf, std::size_t length, std::uint32_t* flags) {
    std::size_t const n = std::min(length, buffered_amount());
    if (n > 0) std::memcpy(buf, out_.data() + out_offset_, n);
    out_offset_ += n;
    if (out_offset_ == out_.size()) {
        out_.clear();
        out_offset_ = 0;
    }
    if (drain_owed_ && buffered_amount() < s_.cfg().opts.send_high_water / 2) {
        drain_owed_ = false;
        // Outside nghttp2: the application will write again from on_drain.
        s_.loop().defer([this, alive = alive_] {
            if (*alive && !closed_ && on_drain_) on_drain_();
        });
    }
    if (n == 0 && !out_eof_) {
        deferred_ = true;
        return NGHTTP2_ERR_DEFERRED;
    }
    if (out_eof_ && buffered_amount() == 0) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        if (!trailers_.empty()) {
            // RFC 9113 §8.1: trailers are a HEADERS frame that ends the stream.
            *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
            header_block const b{0, trailers_, 0};
            nghttp2_submit_trailer(s_.h2(), id_, b.data(), b.size());
        }
        mark_complete();
    }
    return static_cast<ssize_t>(n);
}

void stream_exchange::mark_complete() {
    complete_ = true;
    // The answer is given: a request body nobody reads is dropped as it arrives,
    // so its bytes do not hold the connection's flow-control window.
    if (!reading_ && !body_end_) {
        discard_body_ = true;
        body_.clear();
        consume(unconsumed_);
    }
}

std::error_code stream_exchange::switch_protocols(upgrade::offer const&, http1::fields,
                                                  unique_function<void(upgrade::upgraded)>) {
    // RFC 9113 §8.6: HTTP/2 has no 101 and no Upgrade.
    return make_error_code(upgrade::error::not_eligible);
}

void stream_exchange::on_closed(bool reset) {
    if (closed_) return;
    // Received bytes nobody consumed still count against the connection's window.
    if (unconsumed_ > 0 && s_.h2()) nghttp2_session_consume_connection(s_.h2(), unconsumed_);
    unconsumed_ = 0;
    closed_ = true;
    bool const lost = reset || !complete_;
    if (reading_ && !reader_done_) end_reader(make_error_code(server::error::connection_lost));
    if (lost && !complete_) {
        if (auto fn = std::move(on_abort_)) fn();
    }
}

} // namespace upshift::h2c::detail
