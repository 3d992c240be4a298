// libFuzzer target: chunked_decoder driven like a connection (append a read,
// decode until need_more, consume), with input-chosen read sizes. The decoded
// body and the verdict must equal those of a whole-input run.
#include <cstdlib>
#include <string>

#include "fuzz_split.hpp"
#include "upshift/http1/chunked_decoder.hpp"

using namespace upshift;

namespace {

struct outcome {
    std::string body;
    std::error_code ec;
    bool done = false;
};

template <class Reads>
outcome run(Reads&& reads) {
    http1::limits lim;
    lim.max_body_bytes = 1 << 20;
    lim.max_chunk_line = 256;
    lim.max_trailer_bytes = 1024;
    http1::chunked_decoder d(lim);
    outcome o;
    std::string buf;
    reads([&](std::string_view piece) {
        buf.append(piece);
        for (;;) {
            auto st = d.decode(buf);
            if (st.consumed > buf.size()) std::abort();
            o.body.append(st.data);
            if (d.done()) (void)d.trailers().size();
            buf.erase(0, st.consumed);
            if (st.ec == http1::error::need_more) return true;
            if (st.ec) {
                o.ec = st.ec;
                return false;
            }
            if (d.done()) {
                o.done = true;
                return false;
            }
        }
    });
    if (!o.done && !o.ec) o.ec = http1::error::need_more;
    if (o.body.size() != d.body_bytes() && !o.ec) std::abort();
    return o;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    auto const s = fuzz::make_split(data, size);
    auto const whole = run([&](auto&& feed) { feed(s.bytes); });
    auto const split = run([&](auto&& feed) {
        std::size_t prev = 0;
        fuzz::for_each_prefix(s, [&](std::size_t n) {
            bool const more = feed(s.bytes.substr(prev, n - prev));
            prev = n;
            return more;
        });
    });
    if (whole.ec != split.ec || whole.body != split.body || whole.done != split.done) std::abort();
    return 0;
}
