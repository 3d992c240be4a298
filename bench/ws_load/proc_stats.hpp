#pragma once
// What the load generator reads about the server under test from /proc: CPU time (user + system,
// all threads, including exited ones) and resident memory.
#include <sys/types.h>

#include <cstdint>

namespace ws_load {

/// utime + stime of process `pid` in nanoseconds (from /proc/PID/stat, clock-tick resolution);
/// -1 when it cannot be read.
std::int64_t process_cpu_ns(pid_t pid);

/// Resident set size of `pid` in bytes: Rss of /proc/PID/smaps_rollup (VmRSS of /proc/PID/status
/// where smaps_rollup is missing); -1 when neither can be read.
std::int64_t process_rss_bytes(pid_t pid);

/// This process's own CPU time (user + system) in nanoseconds.
std::int64_t self_cpu_ns();

} // namespace ws_load
