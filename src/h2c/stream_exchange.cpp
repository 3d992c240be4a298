#include "h2c/detail/stream_exchange.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <iterator>
#include <memory>

#include "h2c/detail/session.hpp"
#include "h2c/detail/static_names.hpp"
#include "upshift/base/sanitizers.hpp"
#include "upshift/http1/error.hpp"
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
    // By length first: this runs for every response field.
    switch (name.size()) {
        case 7: return ascii::iequals(name, "upgrade");
        case 10: return ascii::iequals(name, "connection") || ascii::iequals(name, "keep-alive");
        case 14: return ascii::iequals(name, "content-length");
        case 16: return ascii::iequals(name, "proxy-connection");
        case 17: return ascii::iequals(name, "transfer-encoding");
        default: return false;
    }
}

// The HTTP/1.1 request that became stream 1 keeps only end-to-end fields.
bool hop_by_hop_request_field(std::string_view name) noexcept {
    for (std::string_view n : {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
                               "http2-settings", "te", "content-length", "expect"})
        if (ascii::iequals(name, n)) return true;
    return false;
}

// RFC 9110 §10.1.1: Expect is a list; "100-continue" (case-insensitive) is the
// only expectation defined. Sets expect_continue / expect_unknown as the
// HTTP/1.1 parser does.
void parse_expect(http1::request_head& h) {
    h.for_each("expect", [&h](std::string_view list) {
        while (!list.empty()) {
            auto const comma = list.find(',');
            auto item = list.substr(0, comma);
            list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
            while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
            while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
            if (item.empty()) continue;
            if (ascii::iequals(item, "100-continue"))
                h.expect_continue = true;
            else
                h.expect_unknown = true;
        }
    });
}

std::string_view as_view(nghttp2_rcbuf* b) noexcept {
    auto const v = nghttp2_rcbuf_get_buf(b);
    return {reinterpret_cast<char const*>(v.base), v.len};
}

// The :status value of `code` (100-599), with static storage.
std::string_view status_digits(unsigned code) noexcept {
    static constexpr auto table = [] {
        std::array<char, 3 * 500> t{};
        for (unsigned c = 100; c < 600; ++c) {
            t[3 * (c - 100)] = static_cast<char>('0' + c / 100);
            t[3 * (c - 100) + 1] = static_cast<char>('0' + c / 10 % 10);
            t[3 * (c - 100) + 2] = static_cast<char>('0' + c % 10);
        }
        return t;
    }();
    return {table.data() + 3 * (code - 100), 3};
}

// A header block for nghttp2_submit_*. It holds views. nghttp2 copies names
// and values on submit and lowers the names as it copies them (documented for
// nghttp2_submit_response/headers/trailer), which is what RFC 9113 §8.2.1 asks
// of field names in HTTP/2. Names it need not copy or lower, because they are
// lower case with static storage (literals, static_lower_name()), are marked
// NO_COPY_NAME; values with static storage or the session's lifetime (the
// :status digits, the configured Server) NO_COPY_VALUE: per response, nghttp2
// then lowers and copies only the names it does not know and the values. This
// is the response hot path: for ordinary responses the block lives on the
// stack and allocates nothing.
class header_block {
public:
    /// :status `code` (none when 0, for trailers) first, as RFC 9113 §8.3 requires of
    /// pseudo-header fields, then `fields` without the connection-specific ones;
    header_block(unsigned code, http1::fields const& fields) {
        if (code >= 100 && code < 600) {
            add_static(":status", status_digits(code), NGHTTP2_NV_FLAG_NO_COPY_VALUE);
        } else if (code != 0) {
            // Whatever the application chose (nghttp2 copies it).
            auto const r = std::to_chars(std::begin(status_), std::end(status_), code);
            add_static(":status", {status_, static_cast<std::size_t>(r.ptr - status_)});
        }
        for (auto const& [n, v] : fields) {
            if (dropped_response_field(n)) continue;
            if (n.size() == 4 && ascii::iequals(n, "date")) has_date_ = true;
            if (n.size() == 6 && ascii::iequals(n, "server")) has_server_ = true;
            if (auto const known = static_lower_name(n); !known.empty())
                add_static(known, v);
            else
                add(n, v);
        }
    }
    bool has_date() const noexcept { return has_date_; }
    bool has_server() const noexcept { return has_server_; }
    header_block(header_block const&) = delete;
    header_block& operator=(header_block const&) = delete;

    /// `name` and `value` must outlive the submit (nghttp2 copies both and lowers the name).
    void add(std::string_view name, std::string_view value) { push(name, value, NGHTTP2_NV_FLAG_NONE); }
    /// `name` is lower case with static storage (a literal): nghttp2 neither copies nor lowers it.
    /// `value` is copied unless `value_flag` is NGHTTP2_NV_FLAG_NO_COPY_VALUE, for a value that
    /// stays unchanged as long as the nghttp2 session.
    void add_static(std::string_view name, std::string_view value, std::uint8_t value_flag = 0) {
        push(name, value, static_cast<std::uint8_t>(NGHTTP2_NV_FLAG_NO_COPY_NAME | value_flag));
    }
    nghttp2_nv const* data() const noexcept { return nv_.data(); }
    std::size_t size() const noexcept { return nv_.size(); }

private:
    void push(std::string_view name, std::string_view value, std::uint8_t flags) {
        nv_.push_back({reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
                       reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
                       value.size(), flags});
    }

    char status_[16] = {};
    bool has_date_ = false;
    bool has_server_ = false;
    small_vec<nghttp2_nv, 24> nv_;
};

} // namespace

namespace {

// Freed stream blocks kept for the next stream on this thread (each loop is one
// thread, and a stream is made and freed on its loop), up to a bound. Not under
// AddressSanitizer: a recycled block would hide a use after free from it.
constexpr bool recycle_blocks = !built_with_asan;

struct block_cache {
    static constexpr std::size_t max_blocks = recycle_blocks ? 256 : 0;
    std::vector<void*> blocks;
    block_cache() = default;
    block_cache(block_cache const&) = delete;
    block_cache& operator=(block_cache const&) = delete;
    ~block_cache();
};

// Trivially destructible, so still readable while thread_local objects are being destroyed:
// a stream freed after the cache is gone goes straight back to the heap.
thread_local bool cache_gone = false;

block_cache::~block_cache() {
    cache_gone = true;
    for (void* b : blocks) ::operator delete(b);
}

block_cache& stream_blocks() {
    thread_local block_cache cache;
    return cache;
}

// Response buffers (out_) of freed streams, kept for the next stream on this thread that
// write()s its body: a body of a few KiB is above glibc's per-thread cache, so a fresh
// buffer per response costs a trip through malloc's bins and back. Bounded in number
// and size (a loop thread may have streams of many connections in flight at once: h2load
// -c10 -m10 has 100); not under AddressSanitizer (as the blocks above).
struct spare_buffers {
    static constexpr std::size_t max_count = recycle_blocks ? 128 : 0;
    static constexpr std::size_t max_capacity = 8 * 1024;
    std::vector<std::string> list;
    spare_buffers() = default;
    spare_buffers(spare_buffers const&) = delete;
    spare_buffers& operator=(spare_buffers const&) = delete;
    ~spare_buffers();
};

thread_local bool spares_gone = false; // as cache_gone

spare_buffers::~spare_buffers() { spares_gone = true; }

spare_buffers& spares() {
    thread_local spare_buffers s;
    return s;
}

/// `out`, empty and without a buffer of its own yet, gets a spare one if there is one.
void take_spare(std::string& out) noexcept {
    if (!recycle_blocks || spares_gone || !out.empty() || out.capacity() > std::string().capacity()) return;
    auto& list = spares().list;
    if (list.empty()) return;
    out.swap(list.back());
    list.pop_back();
}

/// `out`'s buffer, if it is worth keeping, goes to the spares (`out` is left empty or as it was).
void give_back(std::string& out) noexcept {
    if (!recycle_blocks || spares_gone) return;
    auto const cap = out.capacity();
    if (cap <= std::string().capacity() || cap > spare_buffers::max_capacity) return;
    auto& list = spares().list;
    if (list.size() >= spare_buffers::max_count) return;
    try {
        if (list.capacity() == 0) list.reserve(spare_buffers::max_count);
        out.clear();
        list.push_back(std::move(out));
    } catch (...) {
        // no room to remember it: it is freed with the stream
    }
}

} // namespace

void* stream_exchange::operator new(std::size_t size) {
    if (!recycle_blocks || cache_gone) return ::operator new(size);
    auto& c = stream_blocks();
    if (size == sizeof(stream_exchange) && !c.blocks.empty()) {
        void* b = c.blocks.back();
        c.blocks.pop_back();
        return b;
    }
    return ::operator new(size);
}

void stream_exchange::operator delete(void* p, std::size_t size) noexcept {
    if (!recycle_blocks || cache_gone) {
        ::operator delete(p);
        return;
    }
    auto& c = stream_blocks();
    if (size == sizeof(stream_exchange) && c.blocks.size() < block_cache::max_blocks) {
        try {
            c.blocks.push_back(p);
            return;
        } catch (...) {
            // no room to remember it: free it
        }
    }
    ::operator delete(p);
}

stream_exchange::stream_exchange(session& s, std::int32_t id) : s_(s), id_(id), started_(s.loop().now()) {}

stream_exchange::~stream_exchange() {
    if (alive_) *alive_ = false;
    release_held();
    // Nothing refers to these bytes any more: the session's output copied or wrote them.
    give_back(out_);
}

void stream_exchange::hold(nghttp2_rcbuf* b) {
    nghttp2_rcbuf_incref(b);
    held_.push_back(b);
}

void stream_exchange::release_held() noexcept {
    for (auto* b : held_) nghttp2_rcbuf_decref(b);
    held_.clear();
}

std::string_view stream_exchange::remote() const noexcept { return s_.remote(); }
bool stream_exchange::secure() const noexcept { return s_.secure(); }
net::loop& stream_exchange::loop() noexcept { return s_.loop(); }

// --- request head ------------------------------------------------------------

void stream_exchange::add_header(nghttp2_rcbuf* name_buf, nghttp2_rcbuf* value_buf, bool trailer) {
    auto const name = as_view(name_buf);
    auto const value = as_view(value_buf);
    auto const limit = s_.cfg().opts.max_header_list_size;
    // RFC 9113 §6.5.2: the size of a field is its name and value plus 32 octets.
    auto const size = name.size() + value.size() + 32;
    if (trailer) {
        // The same limit for the trailer section; above it the body ends in error.
        trailer_bytes_ += size;
        if (trailer_bytes_ > limit) {
            trailers_too_large_ = true;
            trailers_in_.clear();
            return;
        }
        hold(name_buf);
        hold(value_buf);
        trailers_in_.push_back({name, value});
        return;
    }
    header_bytes_ += size;
    if (header_bytes_ > limit) {
        head_error_ = 431;
        fields_.clear();
        return;
    }
    if (head_error_) return;
    if (!name.empty() && name.front() == ':') {
        // nghttp2 has checked the pseudo-header fields (RFC 9113 §8.3.1).
        std::string_view* slot = name == ":method" ? &method_
                               : name == ":path"   ? &path_
                               : name == ":authority" ? &authority_
                                                      : nullptr;
        if (slot) {
            hold(value_buf);
            *slot = value;
        }
        return;
    }
    hold(name_buf);
    hold(value_buf);
    fields_.push_back({name, value});
}

void stream_exchange::answer_head_error() {
    auto const code = head_error_;
    std::string_view const text =
        code == 417 ? "Expectation Failed\n" : "Request Header Fields Too Large\n"; // RFC 9110 §10.1.1, RFC 6585 §5
    respond(static_cast<http1::status>(code), {{"Content-Type", "text/plain"}}, std::string(text));
}

bool stream_exchange::complete_head(bool end_stream) {
    if (head_error_) return false;
    head_.fields = fields_.span();
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
    parse_expect(head_);
    if (head_.expect_unknown) {
        // RFC 9110 §10.1.1: an expectation the server does not understand gets 417.
        head_error_ = 417;
        return false;
    }
    // RFC 9110 §10.1.1 over HTTP/2 (RFC 9113 §8.1): a 100 goes out as an interim
    // HEADERS when the handler starts reading a body that has not started to arrive.
    continue_owed_ = head_.expect_continue && has_body_;
    return true;
}

void stream_exchange::adopt_http1_request(upgrade::request_info const& r, std::string body) {
    // One buffer for every name and value, reserved whole so that views into it stay valid.
    char length_buf[24];
    auto const lr = std::to_chars(std::begin(length_buf), std::end(length_buf), body.size());
    std::string_view const length{length_buf, static_cast<std::size_t>(lr.ptr - length_buf)};
    std::size_t total = r.method.size() + r.target.size() + std::size("content-length") + length.size();
    for (auto const& [n, v] : r.headers) total += n.size() + v.size();
    adopted_.reserve(total);
    auto keep = [this](std::string_view x, bool lower) {
        auto const at = adopted_.size();
        adopted_.append(x);
        if (lower)
            for (auto i = at; i < adopted_.size(); ++i) adopted_[i] = ascii::to_lower(adopted_[i]);
        return std::string_view(adopted_).substr(at);
    };
    for (auto const& [n, v] : r.headers) {
        if (hop_by_hop_request_field(n)) continue;
        auto const name = keep(n, true);
        auto const value = keep(v, false);
        if (name == "host") authority_ = value;
        fields_.push_back({name, value});
    }
    method_ = keep(r.method, false);
    path_ = keep(r.target, false);
    if (!body.empty()) fields_.push_back({keep("content-length", false), keep(length, false)});
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
    if (reading_ && !reader_done_ && !closed_ && body_end_ && body_.empty())
        end_reader(trailers_too_large_ ? make_error_code(http1::error::trailer_too_large) : std::error_code{});
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
    trailers_visible_ = !ec;
    auto on_end = std::move(reader_.on_end);
    reader_ = {};
    if (on_end) on_end(ec);
}

void stream_exchange::read_body(server::body_reader reader) {
    if (reading_) return;
    reading_ = true;
    reader_ = std::move(reader);
    if (continue_owed_) {
        continue_owed_ = false;
        // RFC 9110 §10.1.1: a server MAY omit the 100 once some of the content has arrived.
        if (!body_end_ && unconsumed_ == 0 && body_.empty() && !responded_)
            send_interim(http1::status::continue_, {});
    }
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
    header_block const b{code, f};
    nghttp2_submit_headers(s_.h2(), NGHTTP2_FLAG_NONE, id_, nullptr, b.data(), b.size(), nullptr);
    s_.flush();
    return {};
}

void stream_exchange::submit_head(unsigned code, http1::fields const& headers,
                                  std::optional<std::uint64_t> length, bool with_data) {
    auto const& o = s_.cfg().opts;
    header_block b{code, headers};
    char length_buf[24];
    if (length && status_has_body(code)) {
        auto const r = std::to_chars(std::begin(length_buf), std::end(length_buf), *length);
        b.add_static("content-length", {length_buf, static_cast<std::size_t>(r.ptr - length_buf)});
    }
    if (o.date_header && !b.has_date()) b.add_static("date", s_.http_date());
    // The configuration outlives the session (and with it nghttp2's copy of this block).
    if (!o.server_header.empty() && !b.has_server())
        b.add_static("server", o.server_header, NGHTTP2_NV_FLAG_NO_COPY_VALUE);
    status_ = code;
    nghttp2_data_provider prd{};
    prd.source.ptr = this;
    prd.read_callback = &stream_exchange::read_data;
    nghttp2_submit_response(s_.h2(), id_, b.data(), b.size(), with_data ? &prd : nullptr);
}

void stream_exchange::respond(http1::status s, http1::fields const& headers, std::string body) {
    if (responded_ || closed_) return;
    auto const size = body.size();
    out_ = std::move(body);
    respond_whole(http1::to_int(s), headers, size);
}

void stream_exchange::respond_shared(http1::status s, http1::fields const& headers,
                                     std::shared_ptr<std::string const> body) {
    if (responded_ || closed_) return;
    auto const size = body ? body->size() : 0;
    shared_out_ = std::move(body);
    respond_whole(http1::to_int(s), headers, size);
}

// The whole body (`size` bytes) is in outgoing(): the stream only sends it.
void stream_exchange::respond_whole(unsigned code, http1::fields const& headers, std::size_t size) {
    responded_ = true;
    continue_owed_ = false;
    // As over HTTP/1.1: HEAD gets the length of the body it would have had.
    std::optional<std::uint64_t> length = size;
    if (!status_has_body(code)) length.reset();
    bool const with_data = size > 0 && status_has_body(code) && !head_request_;
    if (!with_data) {
        out_.clear();
        shared_out_.reset();
    }
    out_eof_ = true;
    submit_head(code, headers, length, with_data);
    if (!with_data) mark_complete();
    s_.flush();
}

server::response_writer& stream_exchange::start_response(http1::status s, http1::fields const& headers,
                                                         std::optional<std::uint64_t> content_length) {
    if (responded_ || closed_) {
        // Misuse or a lost stream: a writer that takes nothing.
        out_eof_ = true;
        return *this;
    }
    responded_ = true;
    continue_owed_ = false;
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
    take_spare(out_);
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

ssize_t stream_exchange::produce(std::uint8_t*, std::size_t length, std::uint32_t* flags) {
    std::size_t const n = std::min(length, buffered_amount());
    if (n == 0 && !out_eof_) {
        deferred_ = true;
        return NGHTTP2_ERR_DEFERRED;
    }
    // nghttp2 calls send_data() for these n bytes next, before anything else on
    // this session: they are not copied into its frame buffer.
    if (n > 0) *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
    if (out_eof_ && n == buffered_amount()) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        if (!trailers_.empty()) {
            // RFC 9113 §8.1: trailers are a HEADERS frame that ends the stream.
            *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
            header_block const b{0, trailers_};
            nghttp2_submit_trailer(s_.h2(), id_, b.data(), b.size());
        }
        mark_complete();
    }
    return static_cast<ssize_t>(n);
}

void stream_exchange::send_data(std::uint8_t const* framehd, std::size_t length, std::size_t padlen) {
    // The frame as RFC 9113 §6.1 lays it out: header, pad length, data, padding.
    static constexpr char zeros[256] = {};
    s_.queue_output({reinterpret_cast<char const*>(framehd), 9});
    if (padlen > 0) {
        char const pad_length = static_cast<char>(padlen - 1);
        s_.queue_output({&pad_length, 1});
    }
    length = std::min(length, buffered_amount());
    std::string_view const payload{outgoing().data() + out_offset_, length};
    // After finish() (or respond(), respond_shared()) nothing is appended any more and the body
    // lives as long as the stream: the bytes can be written from where they are.
    if (out_eof_)
        s_.queue_output_stable(payload);
    else
        s_.queue_output(payload);
    if (padlen > 1) s_.queue_output({zeros, padlen - 1});
    out_offset_ += length;
    body_sent_ += length;
    if (out_offset_ == out_.size() && !out_eof_) {
        out_.clear();
        out_offset_ = 0;
    }
    if (drain_owed_ && buffered_amount() < s_.cfg().opts.send_high_water / 2) {
        drain_owed_ = false;
        if (!alive_) alive_ = std::make_shared<bool>(true);
        // Outside nghttp2: the application will write again from on_drain.
        s_.loop().defer([this, alive = alive_] {
            if (*alive && !closed_ && on_drain_) on_drain_();
        });
    }
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
    log_access();
    bool const lost = reset || !complete_;
    if (reading_ && !reader_done_) end_reader(make_error_code(server::error::connection_lost));
    if (lost && !complete_) {
        if (auto fn = std::move(on_abort_)) fn();
    }
}

} // namespace upshift::h2c::detail

namespace upshift::h2c::detail {

void stream_exchange::log_access() {
    // As over HTTP/1.1: one line per response, once it has ended (here: the
    // stream closed), also when the stream was reset after the response began.
    auto const& log = s_.cfg().opts.access_log;
    if (!log || logged_ || status_ == 0) return;
    logged_ = true;
    server::access_entry e;
    e.remote = s_.remote();
    e.method = method_;
    e.target = path_;
    e.version_major = 2;
    e.version_minor = 0;
    e.status = status_;
    e.body_bytes = body_sent_;
    e.duration = std::chrono::duration_cast<std::chrono::microseconds>(net::clock::now() - started_);
    log(e);
}

} // namespace upshift::h2c::detail
