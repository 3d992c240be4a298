#pragma once
// A per-thread cache of small static files: contents and the headers derived
// from them, so a hit costs no file system call at all instead of realpath +
// open + fstat + read + close. An entry older than the validity window is
// checked with one stat() (device, inode, size, mtime of what the name
// resolves to now) before it is used again, so an edited or replaced file is
// served stale for at most that window (default 1 s; 0 checks every request).
// It is nginx's open_file_cache / open_file_cache_valid, plus the contents.
//
// One cache per loop thread (thread_local): no locks on the hot path, and a
// server with N threads holds at most N copies of the budget.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <unordered_map>

#include "upshift/http1/fields.hpp"

namespace upshift::app {

struct cached_file {
    std::string path;          ///< root + "/" + name: what gets stat()ed to revalidate
    std::shared_ptr<std::string const> body;  ///< never null; shared with responses still being sent
    // The response's metadata, formatted once when the file enters the cache rather than on
    // every hit (a hit is the hot path of the static file server).
    std::string_view content_type;  ///< from content_type_for(): static storage
    std::string etag;
    long long last_modified = 0;     ///< unix seconds, clamped to the time the file was read
    std::string last_modified_text;  ///< last_modified as an IMF-fixdate
    http1::fields headers;           ///< a 200's fields for this file (all of the above), built once
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    timespec mtime{};
    std::chrono::steady_clock::time_point validated_at{};  ///< last time stat() agreed
};

class file_cache {
public:
    /// Per-thread total of cached bodies; files above max_file_bytes are never cached.
    static constexpr std::size_t budget_bytes = 32u << 20;
    static constexpr std::size_t max_file_bytes = 1u << 20;

    /// The calling thread's cache.
    static file_cache& local();

    /// The entry for `key` if it was checked within `valid` of `now`, or is
    /// unchanged on disk now; changed entries are dropped.
    cached_file const* find(std::string const& key, std::chrono::steady_clock::time_point now,
                            std::chrono::milliseconds valid);
    /// Stores a file that was just read whole (the caller checked it lies inside the root);
    /// returns the stored entry, or nullptr when the file is too large to be cached (then `f`
    /// is left as it was).
    cached_file const* insert(std::string key, cached_file&& f);

    std::size_t size() const noexcept { return entries_.size(); }

private:
    std::unordered_map<std::string, cached_file> entries_;
    std::size_t bytes_ = 0;
};

/// True if `st` still describes the file `f` was read from.
bool same_file(cached_file const& f, struct stat const& st) noexcept;

} // namespace upshift::app
