#pragma once
// The allocator every nghttp2 session of this module uses (nghttp2_session_server_new3).
//
// Per request nghttp2 allocates and frees four small blocks: the stream, the
// outbound item for the response HEADERS, its copy of the header list, and the
// item for the DATA that follows. With 100 streams in flight those bursts run
// past glibc's per-thread cache (7 blocks per size) into the slower bins; here
// freed blocks of the common small sizes are kept in per-thread free lists
// (bounded) and handed out again. Larger blocks (frame buffers, HPACK tables)
// go straight to malloc. A session lives on one loop thread; a block freed on
// another thread simply joins that thread's lists.
#include <nghttp2/nghttp2.h>

namespace upshift::h2c::detail {

/// The pooled allocator.
nghttp2_mem* pooled_nghttp2_mem() noexcept;

/// What sessions use: the pooled allocator, or nullptr (nghttp2's default,
/// malloc) under AddressSanitizer, where a recycled block would hide a use
/// after free.
nghttp2_mem* session_nghttp2_mem() noexcept;

} // namespace upshift::h2c::detail
