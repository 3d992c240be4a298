#pragma once
// raw_client: a blocking-style TCP client for integration tests, built on a non-blocking socket and
// poll() so every operation has a deadline. It reads HTTP/1.1 responses with its own small parser,
// deliberately independent of upshift's http1 module: the tests check the server from outside.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace upshift::test {

using namespace std::chrono_literals;

/// One parsed response.
struct http_response {
    int version_major = 1;
    int version_minor = 1;
    int status = 0;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> headers;  ///< in order, names as received
    std::vector<std::pair<std::string, std::string>> trailers; ///< chunked trailer fields
    std::string body;
    bool chunked = false;
    bool close_delimited = false; ///< body ran until the connection closed (no length given)

    /// First value of `name` (case-insensitive), or nullopt.
    std::optional<std::string> header(std::string_view name) const;
    /// Number of field lines named `name`.
    std::size_t header_count(std::string_view name) const;
    /// True if the comma-separated list in header `name` contains `token` (case-insensitive),
    /// e.g. has_token("Connection", "close").
    bool has_token(std::string_view name, std::string_view token) const;
};
std::ostream& operator<<(std::ostream& os, http_response const& r);

/// Outcome of parsing a response from the front of a buffer.
struct parse_outcome {
    enum class kind { complete, need_more, error } what = kind::need_more;
    std::size_t consumed = 0; ///< bytes of the buffer used by the response (complete only)
    http_response response;
    std::string error;
};

/// Parses one response at the front of `bytes`. `head_request`: the request was HEAD, so there is no
/// body whatever the headers say (RFC 9112 §6.3 item 1). `eof`: no more bytes will come, which
/// completes a close-delimited body (RFC 9112 §6.3 item 8). 1xx, 204 and 304 have no body.
parse_outcome parse_response(std::string_view bytes, bool head_request = false, bool eof = false);

/// Parses every response in `bytes` (e.g. `curl -i` output, which shows interim responses before the
/// final one); nullopt with `error` filled if anything is malformed or incomplete.
std::optional<std::vector<http_response>> parse_responses(std::string_view bytes, bool head_request,
                                                          std::string* error = nullptr);

class raw_client {
public:
    /// Connects to 127.0.0.1:port; check connected().
    explicit raw_client(std::uint16_t port, std::chrono::milliseconds timeout = 5s);
    ~raw_client();
    raw_client(raw_client&& other) noexcept;
    raw_client& operator=(raw_client&& other) noexcept;
    raw_client(raw_client const&) = delete;
    raw_client& operator=(raw_client const&) = delete;

    bool connected() const noexcept { return fd_ >= 0 && error_.empty(); }
    /// Last failure description (connect, send, read, parse).
    std::string const& error() const noexcept { return error_; }
    int fd() const noexcept { return fd_; }

    /// Sends all bytes. While waiting for buffer space it also reads what the server sends (kept in
    /// received()), so a server answering early cannot deadlock the test. False on timeout or error
    /// (EPIPE/ECONNRESET also mark the peer closed).
    bool send_all(std::string_view bytes, std::chrono::milliseconds timeout = 10s);

    /// Reads until `delimiter` appears; returns the bytes up to and including it and consumes them.
    std::optional<std::string> read_until(std::string_view delimiter, std::chrono::milliseconds timeout = 5s);
    /// Reads until `complete(buffer)` returns a length n > 0; returns and consumes the first n bytes.
    std::optional<std::string> read_until(std::function<std::size_t(std::string_view)> const& complete,
                                          std::chrono::milliseconds timeout = 5s);
    /// Reads exactly n bytes.
    std::optional<std::string> read_exactly(std::size_t n, std::chrono::milliseconds timeout = 5s);

    /// Reads and consumes one response (interim 1xx responses are returned like any other).
    std::optional<http_response> read_response(std::chrono::milliseconds timeout = 5s,
                                               bool head_request = false);
    /// read_response() repeated until a final (non-1xx) status.
    std::optional<http_response> read_final_response(std::chrono::milliseconds timeout = 5s,
                                                     bool head_request = false);

    /// True if the peer closes (read returns 0, or ECONNRESET) within `timeout`. Bytes that arrive
    /// meanwhile are kept in received().
    bool wait_closed(std::chrono::milliseconds timeout);
    /// True once the peer's close has been observed.
    bool peer_closed() const noexcept { return peer_closed_; }

    /// Bytes received but not consumed by a read_* call.
    std::string const& received() const noexcept { return buf_; }
    void clear_received() { buf_.clear(); }

    void shutdown_write();
    void close();

private:
    // One poll+read; returns false on timeout. Sets peer_closed_ on EOF/reset.
    bool fill(std::chrono::steady_clock::time_point deadline);

    int fd_ = -1;
    std::string buf_;
    std::string error_;
    bool peer_closed_ = false;
};

/// Reads the whole file at `path` (binary); nullopt if it cannot be opened.
std::optional<std::string> read_file(std::string const& path);

} // namespace upshift::test
