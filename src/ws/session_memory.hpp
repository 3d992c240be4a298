#pragma once
// Where ws::session objects live: equal slots carved from 64 KiB blocks mapped for them alone,
// outside malloc's heap. Library-internal.
//
// Why: a session outlives the HTTP connection it came from, and a burst of upgrades allocates
// and frees that connection's buffers (a few KiB each) between the sessions. In malloc's heap
// the long-lived sessions then pin the freed pages around them, which stay resident: about a
// quarter of an idle connection's memory at 10,000 connections (bench/README.md). With the
// sessions elsewhere, the heap shrinks back once the burst is over, and a slot needs no
// malloc header. A block whose last session goes is unmapped (one spare is kept).
//
// Thread-safe (one lock per session opened or closed). Under AddressSanitizer the slots come
// from operator new instead, so that a use after free of a session is still reported.
#include <cstddef>

namespace upshift::ws::detail {

/// Memory for one object of `size` bytes aligned to `align` (the same on every call), or
/// nullptr when the system has none.
void* allocate_session(std::size_t size, std::size_t align) noexcept;
void free_session(void* p) noexcept;

} // namespace upshift::ws::detail
