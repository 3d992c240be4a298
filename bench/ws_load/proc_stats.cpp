#include "proc_stats.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace ws_load {
namespace {

/// The whole of a small /proc file ("" when it cannot be read).
std::string slurp(std::string const& path) {
    std::string out;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return out;
    char buf[4096];
    for (;;) {
        auto n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

/// "Field:   123 kB" -> 123 * 1024, or -1.
std::int64_t kib_field(std::string const& text, std::string const& field) {
    auto at = text.find(field);
    while (at != std::string::npos && at != 0 && text[at - 1] != '\n') at = text.find(field, at + 1);
    if (at == std::string::npos) return -1;
    return std::strtoll(text.c_str() + at + field.size(), nullptr, 10) * 1024;
}

} // namespace

bool process_cpu(pid_t pid, cpu_times& out) {
    auto const all = slurp("/proc/" + std::to_string(pid) + "/stat");
    // The command name (field 2) may contain spaces and parentheses: fields count from the last ')'.
    auto const close = all.rfind(')');
    if (close == std::string::npos) return false;
    char const* p = all.c_str() + close + 1;
    // After ')': state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15)
    for (int field = 3; field < 14; ++field) {
        p = std::strchr(p + 1, ' ');
        if (!p) return false;
    }
    char* end = nullptr;
    long long const utime = std::strtoll(p, &end, 10);
    long long const stime = std::strtoll(end, nullptr, 10);
    long long const ns_per_tick = 1'000'000'000LL / ::sysconf(_SC_CLK_TCK);
    out.user_ns = utime * ns_per_tick;
    out.sys_ns = stime * ns_per_tick;
    return true;
}

std::int64_t process_rss_bytes(pid_t pid) {
    auto const base = "/proc/" + std::to_string(pid);
    auto rss = kib_field(slurp(base + "/smaps_rollup"), "Rss:");
    if (rss < 0) rss = kib_field(slurp(base + "/status"), "VmRSS:");
    return rss;
}

std::int64_t self_cpu_ns() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    auto ns = [](timeval const& t) { return t.tv_sec * 1'000'000'000LL + t.tv_usec * 1000LL; };
    return ns(ru.ru_utime) + ns(ru.ru_stime);
}

} // namespace ws_load
