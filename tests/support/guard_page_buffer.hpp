#pragma once
// guard_page_buffer: holds bytes so that the last one sits right before a
// PROT_NONE page (mmap + mprotect), so any read past the end faults at once,
// even without a sanitizer (the picohttpparser test.c technique).
#include <cstddef>
#include <string_view>

namespace upshift::test {

class guard_page_buffer {
public:
    explicit guard_page_buffer(std::string_view bytes);
    ~guard_page_buffer();
    guard_page_buffer(guard_page_buffer const&) = delete;
    guard_page_buffer& operator=(guard_page_buffer const&) = delete;

    /// The bytes; view().data() + view().size() is the first byte of the guard page.
    std::string_view view() const noexcept { return {data_, size_}; }

private:
    void* map_ = nullptr;
    std::size_t map_len_ = 0;
    char const* data_ = nullptr;
    std::size_t size_ = 0;
};

} // namespace upshift::test
