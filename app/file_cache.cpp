#include "file_cache.hpp"

namespace upshift::app {

file_cache& file_cache::local() {
    thread_local file_cache cache;
    return cache;
}

bool same_file(cached_file const& f, struct stat const& st) noexcept {
    return S_ISREG(st.st_mode) && st.st_dev == f.dev && st.st_ino == f.ino && st.st_size == f.size &&
           st.st_mtim.tv_sec == f.mtime.tv_sec && st.st_mtim.tv_nsec == f.mtime.tv_nsec;
}

cached_file const* file_cache::find(std::string const& key, std::chrono::steady_clock::time_point now,
                                    std::chrono::milliseconds valid) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return nullptr;
    if (valid.count() > 0 && now - it->second.validated_at < valid) return &it->second;
    // stat() follows symlinks like the original lookup did: a retargeted link,
    // a replaced or edited file all show up as a different inode, size or mtime.
    struct stat st {};
    if (::stat(it->second.path.c_str(), &st) == 0 && same_file(it->second, st)) {
        it->second.validated_at = now;
        return &it->second;
    }
    bytes_ -= it->second.body->size();
    entries_.erase(it);
    return nullptr;
}

cached_file const* file_cache::insert(std::string key, cached_file&& f) {
    if (f.body->size() > max_file_bytes) return nullptr;
    if (auto it = entries_.find(key); it != entries_.end()) {
        bytes_ -= it->second.body->size();
        entries_.erase(it);
    }
    // Crude but bounded: when the budget is spent, start over. A site whose
    // hot set exceeds 32 MiB per thread wants sendfile, not this cache.
    if (bytes_ + f.body->size() > budget_bytes) {
        entries_.clear();
        bytes_ = 0;
    }
    bytes_ += f.body->size();
    return &entries_.emplace(std::move(key), std::move(f)).first->second;
}

} // namespace upshift::app
