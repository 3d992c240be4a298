#pragma once
// Payload masking (RFC 6455 §5.3): octet i of the transformed data is octet i
// of the original XOR octet (i MOD 4) of the masking key. The same operation
// masks and unmasks.
#include <cstdint>
#include <span>

#include "upshift/ws/frame.hpp"

namespace upshift::ws {

/// XORs `data` in place with `key`, where data[0] is payload byte `offset` of
/// its frame, so a payload that arrives in pieces is unmasked piece by piece:
/// call with offset 0, then with the number of payload bytes already unmasked.
/// Works 32 bytes at a time with AVX2 on payloads of 256 bytes and more when the CPU has it,
/// 8 bytes at a time otherwise, on any alignment.
void apply_mask(std::span<char> data, masking_key key, std::uint64_t offset = 0) noexcept;

} // namespace upshift::ws
