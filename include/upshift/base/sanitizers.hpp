#pragma once
// Whether this code is built with AddressSanitizer. Pools and caches that recycle memory turn
// themselves off then: a recycled block would hide a use after free from ASan.
#if defined(__SANITIZE_ADDRESS__)
#define UPSHIFT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UPSHIFT_ASAN 1
#endif
#endif

namespace upshift {

#ifdef UPSHIFT_ASAN
inline constexpr bool built_with_asan = true;
#else
inline constexpr bool built_with_asan = false;
#endif

} // namespace upshift
