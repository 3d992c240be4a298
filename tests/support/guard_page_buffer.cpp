#include "support/guard_page_buffer.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace upshift::test {

guard_page_buffer::guard_page_buffer(std::string_view bytes) : size_(bytes.size()) {
    auto const page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    std::size_t const readable = (bytes.size() + page - 1) / page * page + page;
    map_len_ = readable + page;
    map_ = ::mmap(nullptr, map_len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map_ == MAP_FAILED) throw std::runtime_error("guard_page_buffer: mmap failed");
    auto* const base = static_cast<char*>(map_);
    if (::mprotect(base + readable, page, PROT_NONE) != 0) {
        ::munmap(map_, map_len_);
        throw std::runtime_error("guard_page_buffer: mprotect failed");
    }
    char* const dst = base + readable - bytes.size();
    if (!bytes.empty()) std::memcpy(dst, bytes.data(), bytes.size());
    data_ = dst;
}

guard_page_buffer::~guard_page_buffer() { ::munmap(map_, map_len_); }

} // namespace upshift::test
