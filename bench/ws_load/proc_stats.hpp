#pragma once
// What the load generator reads about the server under test from /proc: CPU time (user + system,
// all threads, including exited ones) and resident memory.
#include <sys/types.h>

#include <cstdint>

namespace ws_load {

/// CPU time of a process in nanoseconds, split into user space and kernel (system) time.
struct cpu_times {
    std::int64_t user_ns = 0;
    std::int64_t sys_ns = 0;
    std::int64_t total_ns() const noexcept { return user_ns + sys_ns; }
};

/// utime and stime of process `pid` (from /proc/PID/stat, clock-tick resolution); false when it
/// cannot be read. The kernel share is what no change to the server's own code can remove: it bounds
/// how far the server can get ahead of another by CPU per operation.
bool process_cpu(pid_t pid, cpu_times& out);

/// Resident set size of `pid` in bytes: Rss of /proc/PID/smaps_rollup (VmRSS of /proc/PID/status
/// where smaps_rollup is missing); -1 when neither can be read.
std::int64_t process_rss_bytes(pid_t pid);

/// This process's own CPU time (user + system) in nanoseconds.
std::int64_t self_cpu_ns();

} // namespace ws_load
