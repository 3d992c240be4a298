#include "tls/stream_bio.hpp"

#include <algorithm>
#include <cstring>

namespace upshift::tls::detail {
namespace {

stream::transport& transport_of(BIO* b) { return *static_cast<stream::transport*>(BIO_get_data(b)); }

int bio_read(BIO* b, char* out, std::size_t len, std::size_t* got) {
    BIO_clear_retry_flags(b);
    auto& t = transport_of(b);
    if (t.seed_used < t.seed.size()) {
        std::size_t n = std::min(len, t.seed.size() - t.seed_used);
        std::memcpy(out, t.seed.data() + t.seed_used, n);
        t.seed_used += n;
        if (t.seed_used == t.seed.size()) std::string().swap(t.seed), t.seed_used = 0;
        *got = n;
        return 1;
    }
    auto r = t.inner->read({out, len});
    if (r.bytes > 0) {
        *got = r.bytes;
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
