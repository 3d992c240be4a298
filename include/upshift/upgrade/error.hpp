#pragma once
#include <system_error>

namespace upshift::upgrade {

enum class error {
    not_offered = 1,   ///< switch_protocols with a protocol the client did not offer (RFC 9110 §7.8)
    not_eligible,      ///< the request may not switch (HTTP/1.0, no Connection: upgrade)
    already_responded, ///< a final response (or another switch) has started
};
std::error_category const& error_category() noexcept;
inline std::error_code make_error_code(error e) noexcept { return {static_cast<int>(e), error_category()}; }

} // namespace upshift::upgrade

template <>
struct std::is_error_code_enum<upshift::upgrade::error> : std::true_type {};
