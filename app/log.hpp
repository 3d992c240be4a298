#pragma once
// Where the program's lines go: diagnostics to stderr (filtered by --log-level)
// and the access log to stdout (--access-log). Safe to call from any loop
// thread: each line is written with one stdio call, so lines never interleave.
#include <optional>
#include <string_view>

#include "upshift/server/options.hpp"

namespace upshift::app {

enum class log_level : int { error, warn, info, debug };

/// "error", "warn", "info" or "debug"; nullopt for anything else.
std::optional<log_level> parse_log_level(std::string_view text) noexcept;
std::string_view to_string(log_level level) noexcept;

void set_log_level(log_level level) noexcept;
/// True if messages at `level` are printed; check it before building an expensive message.
bool log_enabled(log_level level) noexcept;
/// Writes "upshift: <level>: <message>\n" to stderr when `level` is enabled.
void log(log_level level, std::string_view message);

/// Writes one access-log line to stdout and flushes it:
/// `<remote> "<METHOD> <target> HTTP/1.x" <status> <bytes> <micros>us`
void write_access_line(server::access_entry const& e);

} // namespace upshift::app
