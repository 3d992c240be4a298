#include "log.hpp"

#include <atomic>
#include <cstdio>
#include <string>

namespace upshift::app {
namespace {

// Read on every loop thread, written once at start-up: relaxed is enough.
std::atomic<int> current_level{static_cast<int>(log_level::info)};

} // namespace

std::optional<log_level> parse_log_level(std::string_view text) noexcept {
    for (auto l : {log_level::error, log_level::warn, log_level::info, log_level::debug})
        if (text == to_string(l)) return l;
    return std::nullopt;
}

std::string_view to_string(log_level level) noexcept {
    switch (level) {
    case log_level::error: return "error";
    case log_level::warn: return "warn";
    case log_level::info: return "info";
    case log_level::debug: return "debug";
    }
    return "?";
}

void set_log_level(log_level level) noexcept {
    current_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

bool log_enabled(log_level level) noexcept {
    return static_cast<int>(level) <= current_level.load(std::memory_order_relaxed);
}

void log(log_level level, std::string_view message) {
    if (!log_enabled(level)) return;
    std::string line = "upshift: ";
    line += to_string(level);
    line += ": ";
    line += message;
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
}

void write_access_line(server::access_entry const& e) {
    std::string line;
    line.reserve(64 + e.remote.size() + e.target.size());
    line += e.remote;
    line += " \"";
    line += e.method;
    line += ' ';
    line += e.target;
    line += " HTTP/";
    line += std::to_string(e.version_major);
    line += '.';
    line += std::to_string(e.version_minor);
    line += "\" ";
    line += std::to_string(e.status);
    line += ' ';
    line += std::to_string(e.body_bytes);
    line += ' ';
    line += std::to_string(e.duration.count());
    line += "us\n";
    // One fwrite per line (stdio locks the stream per call) and a flush, so a
    // reader of a pipe sees each response as it happens.
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
}

} // namespace upshift::app
