#include "tls/stream_bio.hpp"

#include <algorithm>
#include <cstring>
#include <memory>

namespace upshift::tls::detail {
namespace {

stream::transport& transport_of(BIO* b) { return *static_cast<stream::transport*>(BIO_get_data(b)); }

/// TLS records are at most 2^14 + 256 bytes of ciphertext plus a 5-byte header
/// (RFC 8446 §5.2); one read of the socket takes at most this much.
constexpr std::size_t max_read = (1u << 14) + 256 + 5;

/// Where a read with a budget lands before it is split between OpenSSL and `held`:
/// one per thread (a BIO call never outlives it), so idle streams hold no buffer.
char* read_scratch() {
    thread_local std::unique_ptr<char[]> const buffer{new char[max_read]};
    return buffer.get();
}

int bio_read(BIO* b, char* out, std::size_t len, std::size_t* got) {
    BIO_clear_retry_flags(b);
    auto& t = transport_of(b);
    if (t.held_used < t.held.size()) {
        std::size_t n = std::min(len, t.held.size() - t.held_used);
        std::memcpy(out, t.held.data() + t.held_used, n);
        t.held_used += n;
        if (t.held_used == t.held.size()) std::string().swap(t.held), t.held_used = 0;
        *got = n;
        return 1;
    }
    // OpenSSL asks for exactly what it needs next (a record header, then its body):
    // reading only that costs two system calls per record. With a budget, one read
    // takes the header and whatever follows, up to the room in the caller's buffer.
    std::size_t const want = std::min(std::max(len, t.read_budget), max_read);
    char* const into = want > len ? read_scratch() : out;
    auto r = t.inner->read({into, want});
    if (r.bytes > 0) {
        t.read_budget -= std::min(t.read_budget, r.bytes);
        std::size_t const n = std::min(len, r.bytes);
        if (into != out) {
            std::memcpy(out, into, n);
            if (r.bytes > n) t.held.assign(into + n, r.bytes - n);
        }
        *got = n;
        return 1;
    }
    if (r.ec == std::errc::operation_would_block) {
        BIO_set_retry_read(b);
    } else if (r.ec) {
        t.inner_error = r.ec;
    }
    return 0;  // without a retry flag: end of stream
}

int bio_write(BIO* b, char const* in, std::size_t len, std::size_t* written) {
    BIO_clear_retry_flags(b);
    auto& t = transport_of(b);
    iovec v{const_cast<char*>(in), len};  // iovec is not const-correct; nothing writes through it
    auto r = t.inner->writev({&v, 1});
    if (r.bytes > 0) {
        *written = r.bytes;
        return 1;
    }
    if (r.ec == std::errc::operation_would_block) {
        BIO_set_retry_write(b);
    } else if (r.ec) {
        t.inner_error = r.ec;
    }
    return 0;
}

long bio_ctrl(BIO*, int cmd, long, void*) {
    // OpenSSL flushes after each flight; the inner stream has no buffer of its own.
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

int bio_create(BIO* b) {
    BIO_set_init(b, 1);
    return 1;
}

BIO_METHOD* stream_method() {
    // Built once, never freed: OpenSSL keeps a pointer to it in every BIO.
    static BIO_METHOD* const method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "upshift net::stream");
        BIO_meth_set_read_ex(m, bio_read);
        BIO_meth_set_write_ex(m, bio_write);
        BIO_meth_set_ctrl(m, bio_ctrl);
        BIO_meth_set_create(m, bio_create);
        return m;
    }();
    return method;
}

} // namespace

BIO* make_stream_bio(stream::transport& t) {
    BIO* b = BIO_new(stream_method());
    if (b) BIO_set_data(b, &t);
    return b;
}

} // namespace upshift::tls::detail
