#pragma once
// Gives free heap memory back to the system once a burst of upgrades is over. Library-internal.
//
// An upgrade goes through an HTTP/1 connection first (its object, a 2 KiB first read buffer,
// the request's copy for the hand-off: a few KiB per handshake in flight). When a burst of them
// becomes sessions that memory is freed, but glibc's malloc returns heap memory to the system
// only from the top of the heap, and a few small blocks still in use near the top keep all of
// it resident: about 1 MiB after 10,000 upgrades with 256 handshakes in flight, 100 bytes per
// idle connection (bench/README.md). So, a second after the last session opened on a loop
// thread, malloc_trim(0) releases the free pages inside the heap too (what jemalloc's decay
// does by itself). A steady stream of upgrades does not trim: only the quiet second after it.
#include "upshift/net/loop.hpp"

namespace upshift::ws::detail {

/// Loop thread: a session was opened on `l`.
void session_opened(net::loop& l) noexcept;

} // namespace upshift::ws::detail
