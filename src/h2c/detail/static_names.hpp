#pragma once
// Lower-case spellings, with static storage, of the field names responses
// usually carry (RFC 7541 Appendix A's names and a few common others).
//
// Why: nghttp2 copies every name it is handed and lowers it as it copies
// (RFC 9113 §8.2.1), per response, unless the name is marked
// NGHTTP2_NV_FLAG_NO_COPY_NAME, in which case it must already be lower case
// and stay valid until the frame is sent. A name found here satisfies both
// for ever, so neither copy nor lowering happens for it.
#include <string_view>

namespace upshift::h2c::detail {

/// The lower-case static spelling of `name` (compared case-insensitively),
/// or an empty view if it is not one of the known names.
std::string_view static_lower_name(std::string_view name) noexcept;

} // namespace upshift::h2c::detail
