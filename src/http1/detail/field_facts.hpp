#pragma once
// Interpretation of the field lines that matter for framing and connection
// management (RFC 9110 §7.2, §7.6.1, §8.6, §10.1.1; RFC 9112 §3.2, §6).
// Called once per completed field line, so no field is looked at twice.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>

#include "upshift/http1/detail/head_state.hpp"

namespace upshift::http1::detail {

enum class role : std::uint8_t { request, response };

/// Records what field line `name: value` says; `value_off` is the value's
/// offset in the input. Returns an error for a line that is invalid on its own
/// (bad Content-Length, repeated Host, ...).
std::error_code note_field(field_facts& facts, std::string_view name, std::string_view value,
                           std::size_t value_off, role r) noexcept;

/// RFC 9112 §3.2 / RFC 3986 §3.2: `uri-host [ ":" port ]`; empty is allowed.
bool is_valid_host(std::string_view host) noexcept;

/// The Transfer-Encoding checks common to requests and responses, run once the
/// head is complete: HTTP/1.0, Content-Length alongside, unknown codings.
std::error_code check_transfer_encoding(field_facts const& facts, int major, int minor, role r) noexcept;

} // namespace upshift::http1::detail
