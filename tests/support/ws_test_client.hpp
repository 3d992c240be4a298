#pragma once
// The client side of RFC 6455 on a raw_client, for every WebSocket test that talks to a server over a
// real socket (tests/unit/ws in process, tests/conformance/ws against `upshift serve`): the opening
// handshake (§4.1), masked client frames built byte by byte (§5.2, §5.3), a reader of the server's
// frames (§5.2) and the closing handshake (§5.5.1, §7.1). Opcodes and RSV bits are plain wire
// values: this shares nothing with upshift's ws module, so the tests check the server from outside.
// permessage-deflate's zlib side lives apart, in ws_test_deflate.hpp.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "support/raw_client.hpp"

namespace upshift::test {

// Opcodes (§5.2, §11.8).
inline constexpr int op_continuation = 0x0;
inline constexpr int op_text = 0x1;
inline constexpr int op_binary = 0x2;
inline constexpr int op_close = 0x8;
inline constexpr int op_ping = 0x9;
inline constexpr int op_pong = 0xA;

/// RSV1 as frame_spec::rsv and server_frame::rsv hold it (RSV1..3 as bits 2..0); permessage-deflate's
/// "Per-Message Compressed" bit (RFC 7692 §6).
inline constexpr int rsv1 = 4;

/// RFC 6455 §1.3's example Sec-WebSocket-Key and the Sec-WebSocket-Accept a server answers it with.
inline constexpr std::string_view rfc_handshake_key = "dGhlIHNhbXBsZSBub25jZQ==";
inline constexpr std::string_view rfc_handshake_accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

// ---- the opening handshake (§4.1) ----------------------------------------------------------------

/// A client's opening handshake request for `target`; `extra_headers` are whole lines, each ending
/// in CRLF (subprotocols, extension offers, Origin).
std::string ws_upgrade_request(std::string_view target, std::string_view extra_headers = {},
                               std::string_view key = rfc_handshake_key, std::string_view version = "13");

/// Sends ws_upgrade_request(target, extra_headers), then `after` in the same write (frames that
/// follow the request at once), and reads the response head: success for a 101 that carries the
/// right Sec-WebSocket-Accept (§4.2.2 item 5.4). The 101 goes to `response` when given.
::testing::AssertionResult ws_handshake(raw_client& c, std::string_view target,
                                        std::string_view extra_headers = {}, std::string_view after = {},
                                        http_response* response = nullptr);

// ---- client frames (§5.2, §5.3) ------------------------------------------------------------------

using mask_key = std::array<std::uint8_t, 4>;
inline constexpr mask_key rfc_mask_key{0x37, 0xfa, 0x21, 0x3d}; // the key of RFC 6455 §5.7's examples

struct frame_spec {
    bool fin = true;
    int rsv = 0;        ///< RSV1..3 as bits 2..0 (rsv1 = 4)
    bool masked = true; ///< a client MUST mask (§5.3); false only to test that the server refuses
    mask_key key = rfc_mask_key;
    int length_bytes = -1; ///< -1: minimal; 0, 2 or 8: force the 7-bit, 16-bit or 64-bit form
};

/// A frame header with `declared` as payload length, followed by the masking key when masked; the
/// payload is not included (so the length can be a lie).
std::string client_frame_header(int op, std::uint64_t declared, frame_spec const& spec = {});

/// A whole frame: opcode bits `op` (any 4-bit value) and `payload`, masked with spec.key.
std::string client_frame(int op, std::string_view payload, frame_spec const& spec = {});

/// A Close body: the 2-byte code (network order) then the reason (§5.5.1).
std::string close_body(int code, std::string_view reason = {});

// ---- server frames (§5.2) ------------------------------------------------------------------------

/// One frame as the server sent it; the payload unmasked if it was masked (which a server MUST NOT, §5.1).
struct server_frame {
    bool fin = false;
    int rsv = 0; ///< RSV1..3 as bits 2..0
    int op = 0;
    bool masked = false;
    std::string payload;

    bool has_rsv1() const { return (rsv & rsv1) != 0; }
    /// The status code of a Close; 0 when its body is empty (§5.5.1).
    int close_code() const;
    std::string close_reason() const;
};
std::ostream& operator<<(std::ostream& os, server_frame const& f);

/// Length of the complete frame at the front of `bytes`, or 0 while it is incomplete.
std::size_t server_frame_length(std::string_view bytes);
/// Decodes the complete frame `bytes` (server_frame_length(bytes) == bytes.size()).
server_frame decode_server_frame(std::string_view bytes);
/// The next frame; nullopt on timeout or when the connection closed first.
std::optional<server_frame> read_server_frame(raw_client& c, std::chrono::milliseconds timeout = 5s);

/// Reads frames up to the server's Close and returns it; every frame before it goes to `before_close`
/// (which checks it). nullopt, with a gtest failure, when no Close comes within `timeout` per frame;
/// nullopt too as soon as `before_close` has a fatal failure.
std::optional<server_frame> read_until_close(raw_client& c,
                                             std::function<void(server_frame const&)> const& before_close,
                                             std::chrono::milliseconds timeout = 10s);

// ---- the closing handshake (§5.5.1, §7.1) ---------------------------------------------------------

enum class close_reply { none, echo };

/// The server closes: the next frame is an unmasked Close with `code` and no RSV bit (RFC 6455 §5.2,
/// RFC 7692 §6.1); with close_reply::echo the client answers it with its own Close (§5.5.1); then the
/// server closes TCP without sending anything more (§7.1.1). gtest failures otherwise.
void expect_server_close(raw_client& c, int code, close_reply reply, std::chrono::milliseconds timeout = 5s);

// ---- payloads ------------------------------------------------------------------------------------

/// Deterministic bytes (an LCG's high bits); valid UTF-8 (printable ASCII) when `ascii`.
std::string payload_of(std::size_t n, bool ascii, unsigned seed = 7);

} // namespace upshift::test
