// libFuzzer target: response_parser over input-chosen splits; the last split
// byte also picks the request method context (HEAD / CONNECT / GET).
#include <cstdlib>
#include <cstring>
#include <memory>

#include "fuzz_split.hpp"
#include "upshift/http1/response_parser.hpp"

using namespace upshift;

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    auto const s = fuzz::make_split(data, size);
    http1::response_context ctx;
    switch (s.sizes[3] % 3) {
    case 0: ctx.request_method = http1::method::get; break;
    case 1: ctx.request_method = http1::method::head; break;
    default: ctx.request_method = http1::method::connect; break;
    }
    http1::limits lim;
    lim.max_header_bytes = 2048;
    lim.max_header_count = 32;

    http1::response_parser whole(lim);
    auto const w = whole.parse(s.bytes, ctx);

    http1::response_parser p(lim);
    http1::parse_result r{0, http1::error::need_more};
    fuzz::for_each_prefix(s, [&](std::size_t n) {
        std::unique_ptr<char[]> copy(new char[n]);
        std::memcpy(copy.get(), s.bytes.data(), n);
        r = p.parse({copy.get(), n}, ctx);
        if (!r.ec && (r.consumed > n || p.head().status_code < 100 || p.head().status_code > 599)) std::abort();
        return r.ec == http1::error::need_more;
    });
    if (r.ec != w.ec || r.consumed != w.consumed) std::abort();
    return 0;
}
