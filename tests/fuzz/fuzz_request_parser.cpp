// libFuzzer target: request_parser over input-chosen splits. Checks that the
// split result equals the whole-input result (split independence) and that
// a successful head only points into the input.
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "fuzz_split.hpp"
#include "upshift/http1/request_parser.hpp"

using namespace upshift;

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    auto const s = fuzz::make_split(data, size);
    http1::limits lim;
    lim.max_request_line = 512;
    lim.max_header_bytes = 2048;
    lim.max_header_count = 32;

    http1::request_parser whole(lim);
    auto const w = whole.parse(s.bytes);

    // Each prefix is copied into its own allocation, so the input moves
    // between calls and ASan catches any read past the prefix.
    http1::request_parser p(lim);
    http1::parse_result r{0, http1::error::need_more};
    fuzz::for_each_prefix(s, [&](std::size_t n) {
        std::unique_ptr<char[]> copy(new char[n]);
        std::memcpy(copy.get(), s.bytes.data(), n);
        r = p.parse({copy.get(), n});
        if (!r.ec) {
            for (auto const& f : p.head().fields) (void)(f.name.size() + f.value.size());
            if (r.consumed > n) std::abort();
        }
        return r.ec == http1::error::need_more;
    });
    if (r.ec != w.ec || r.consumed != w.consumed) std::abort();
    return 0;
}
