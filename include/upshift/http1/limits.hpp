#pragma once
#include <cstddef>
#include <cstdint>

namespace upshift::http1 {

/// Parser limits. Every limit has a sane default and maps to a precise status
/// when exceeded (see http1::error and status_for()).
struct limits {
    std::size_t max_request_line = 8 * 1024;     ///< request line incl. target -> 414 (501 for a long method)
    std::size_t max_header_bytes = 16 * 1024;    ///< whole head incl. request line -> 431
    std::size_t max_header_count = 100;          ///< number of field lines -> 431
    std::uint64_t max_body_bytes = 16ull << 20;  ///< declared or decoded body -> 413
    std::size_t max_chunk_line = 4 * 1024;       ///< chunk-size line incl. extensions -> 400
    std::size_t max_trailer_bytes = 8 * 1024;    ///< trailer section -> 431
};

} // namespace upshift::http1
