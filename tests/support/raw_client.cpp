#include "support/raw_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <sstream>

namespace upshift::test {
namespace {

using clock = std::chrono::steady_clock;

int remaining_ms(clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0) return 0;
    return left > 1'000'000 ? 1'000'000 : static_cast<int>(left);
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// RFC 9110 §5.6.2 tchar.
bool is_tchar(char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return std::string_view{"!#$%&'*+-.^_`|~"}.find(c) != std::string_view::npos;
}

bool parse_decimal(std::string_view s, std::uint64_t& out) {
    if (s.empty() || s.size() > 18) return false;
    out = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        out = out * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return true;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// Parses field lines "name: value" separated by CRLF (no final empty line) into `out`.
bool parse_fields(std::string_view block, std::vector<std::pair<std::string, std::string>>& out,
                  std::string& error) {
    while (!block.empty()) {
        auto eol = block.find("\r\n");
        std::string_view line = block.substr(0, eol);
        block = eol == std::string_view::npos ? std::string_view{} : block.substr(eol + 2);
        if (line.find_first_of("\r\n") != std::string_view::npos) {
            error = "bare CR or LF in field line (RFC 9112 §2.2)";
            return false;
        }
        if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
            error = "obsolete line folding (RFC 9112 §5.2)";
            return false;
        }
        auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            error = "field line without a name and colon: [" + std::string{line} + "]";
            return false;
        }
        auto name = line.substr(0, colon);
        for (char c : name) {
            if (!is_tchar(c)) {
                error = "invalid field name (RFC 9112 §5.1): [" + std::string{name} + "]";
                return false;
            }
        }
        out.emplace_back(std::string{name}, std::string{trim_ows(line.substr(colon + 1))});
    }
    return true;
}

// Decodes a chunked body starting at `bytes` (RFC 9112 §7.1). Returns the bytes used, 0 if incomplete,
// or sets `error`.
std::size_t decode_chunked(std::string_view bytes, http_response& r, std::string& error) {
    std::size_t pos = 0;
    std::string body;
    for (;;) {
        auto eol = bytes.find("\r\n", pos);
        if (eol == std::string_view::npos) return 0;
        std::string_view line = bytes.substr(pos, eol - pos);
        auto semi = line.find(';');
        std::string_view size_text = trim_ows(line.substr(0, semi));
        if (size_text.empty() || size_text.size() > 15) {
            error = "bad chunk size line: [" + std::string{line} + "]";
            return 0;
        }
        std::size_t size = 0;
        for (char c : size_text) {
            int v = hex_value(c);
            if (v < 0) {
                error = "bad chunk size line: [" + std::string{line} + "]";
                return 0;
            }
            size = size * 16 + static_cast<std::size_t>(v);
        }
        pos = eol + 2;
        if (size == 0) {
            // Trailer section (zero or more field lines), then the final CRLF.
            if (bytes.size() < pos + 2) return 0;
            if (bytes.substr(pos, 2) == "\r\n") {
                r.body = std::move(body);
                return pos + 2;
            }
            auto end = bytes.find("\r\n\r\n", pos);
            if (end == std::string_view::npos) return 0;
            if (!parse_fields(bytes.substr(pos, end - pos), r.trailers, error)) return 0;
            r.body = std::move(body);
            return end + 4;
        }
        if (bytes.size() < pos + size + 2) return 0;
        body.append(bytes.substr(pos, size));
        if (bytes.substr(pos + size, 2) != "\r\n") {
            error = "chunk data not followed by CRLF";
            return 0;
        }
        pos += size + 2;
    }
}

} // namespace

std::optional<std::string> http_response::header(std::string_view name) const {
    for (auto const& [n, v] : headers)
        if (iequals(n, name)) return v;
    return std::nullopt;
}

std::size_t http_response::header_count(std::string_view name) const {
    std::size_t n = 0;
    for (auto const& h : headers)
        if (iequals(h.first, name)) ++n;
    return n;
}

bool http_response::has_token(std::string_view name, std::string_view token) const {
    for (auto const& [n, v] : headers) {
        if (!iequals(n, name)) continue;
        std::string_view list = v;
        while (!list.empty()) {
            auto comma = list.find(',');
            if (iequals(trim_ows(list.substr(0, comma)), token)) return true;
            list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        }
    }
    return false;
}

std::ostream& operator<<(std::ostream& os, http_response const& r) {
    os << "HTTP/" << r.version_major << "." << r.version_minor << " " << r.status << " " << r.reason << "\n";
    for (auto const& [n, v] : r.headers) os << n << ": " << v << "\n";
    os << "(body " << r.body.size() << " bytes";
    if (r.body.size() <= 200) os << ": [" << r.body << "]";
    return os << ")";
}

parse_outcome parse_response(std::string_view bytes, bool head_request, bool eof) {
    parse_outcome out;
    auto fail = [&](std::string msg) {
        out.what = parse_outcome::kind::error;
        out.error = std::move(msg);
        return out;
    };
    auto head_end = bytes.find("\r\n\r\n");
    if (head_end == std::string_view::npos) {
        if (eof)
            return fail("connection closed inside the response head; got [" +
                        std::string{bytes.substr(0, 300)} + "]");
        return out;
    }
    std::string_view head = bytes.substr(0, head_end);
    auto eol = head.find("\r\n");
    std::string_view status_line = head.substr(0, eol);
    std::string_view field_block = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);

    // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
    http_response& r = out.response;
    if (status_line.size() < 13 || status_line.substr(0, 5) != "HTTP/" || status_line[6] != '.' ||
        status_line[8] != ' ' || status_line[12] != ' ')
        return fail("malformed status line: [" + std::string{status_line} + "]");
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (!digit(status_line[5]) || !digit(status_line[7]) || !digit(status_line[9]) ||
        !digit(status_line[10]) || !digit(status_line[11]))
        return fail("malformed status line: [" + std::string{status_line} + "]");
    r.version_major = status_line[5] - '0';
    r.version_minor = status_line[7] - '0';
    r.status = (status_line[9] - '0') * 100 + (status_line[10] - '0') * 10 + (status_line[11] - '0');
    r.reason = std::string{status_line.substr(13)};
    if (r.reason.find_first_of("\r\n") != std::string::npos) return fail("bare CR or LF in status line");
    std::string err;
    if (!parse_fields(field_block, r.headers, err)) return fail(err);

    std::size_t body_start = head_end + 4;
    std::string_view rest = bytes.substr(body_start);
    // RFC 9112 §6.3 item 1: HEAD, 1xx, 204 and 304 responses end with the head.
    if (head_request || (r.status >= 100 && r.status < 200) || r.status == 204 || r.status == 304) {
        out.what = parse_outcome::kind::complete;
        out.consumed = body_start;
        return out;
    }
    if (r.header_count("Transfer-Encoding") > 0) {
        // RFC 9112 §6.3 item 4 (server side): chunked must be the final coding.
        std::string te;
        for (auto const& [n, v] : r.headers)
            if (iequals(n, "Transfer-Encoding")) te += (te.empty() ? "" : ",") + v;
        auto last_comma = te.rfind(',');
        std::string_view last =
            trim_ows(std::string_view{te}.substr(last_comma == std::string::npos ? 0 : last_comma + 1));
        if (!iequals(last, "chunked")) return fail("Transfer-Encoding without final chunked: " + te);
        if (r.header_count("Content-Length") > 0)
            return fail("response has both Transfer-Encoding and Content-Length (RFC 9112 §6.2)");
        r.chunked = true;
        std::size_t used = decode_chunked(rest, r, err);
        if (!err.empty()) return fail(err);
        if (used == 0) {
            if (eof) return fail("connection closed inside a chunked body");
            return out;
        }
        out.what = parse_outcome::kind::complete;
        out.consumed = body_start + used;
        return out;
    }
    if (r.header_count("Content-Length") > 0) {
        std::optional<std::uint64_t> length;
        for (auto const& [n, v] : r.headers) {
            if (!iequals(n, "Content-Length")) continue;
            std::uint64_t value = 0;
            if (!parse_decimal(v, value)) return fail("invalid Content-Length: [" + v + "]");
            if (length && *length != value) return fail("conflicting Content-Length values");
            length = value;
        }
        if (rest.size() < *length) {
            if (eof) {
                return fail("connection closed after " + std::to_string(rest.size()) + " of " +
                            std::to_string(*length) + " body bytes");
            }
            return out;
        }
        r.body = std::string{rest.substr(0, *length)};
        out.what = parse_outcome::kind::complete;
        out.consumed = body_start + *length;
        return out;
    }
    // RFC 9112 §6.3 item 8: no length, the body runs until the connection closes.
    if (!eof) return out;
    r.body = std::string{rest};
    r.close_delimited = true;
    out.what = parse_outcome::kind::complete;
    out.consumed = bytes.size();
    return out;
}

std::optional<std::vector<http_response>> parse_responses(std::string_view bytes, bool head_request,
                                                          std::string* error) {
    std::vector<http_response> all;
    while (!bytes.empty()) {
        auto o = parse_response(bytes, head_request, true);
        if (o.what != parse_outcome::kind::complete) {
            if (error != nullptr)
                *error = o.what == parse_outcome::kind::error ? o.error : "incomplete response";
            return std::nullopt;
        }
        bytes.remove_prefix(o.consumed);
        all.push_back(std::move(o.response));
    }
    if (all.empty()) {
        if (error != nullptr) *error = "no response at all";
        return std::nullopt;
    }
    return all;
}

raw_client::raw_client(std::uint16_t port, std::chrono::milliseconds timeout) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        error_ = std::string{"socket: "} + std::strerror(errno);
        return;
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sockaddr* sa = reinterpret_cast<sockaddr*>(&addr);
    if (::connect(fd_, sa, sizeof addr) != 0) {
        if (errno != EINPROGRESS) {
            error_ = std::string{"connect: "} + std::strerror(errno);
            return;
        }
        pollfd p{fd_, POLLOUT, 0};
        int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
        if (n <= 0) {
            error_ = "connect: timed out";
            return;
        }
        int so_error = 0;
        socklen_t len = sizeof so_error;
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &so_error, &len);
        if (so_error != 0) {
            error_ = std::string{"connect: "} + std::strerror(so_error);
            return;
        }
    }
}

raw_client::~raw_client() { close(); }

raw_client::raw_client(raw_client&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), buf_(std::move(other.buf_)), error_(std::move(other.error_)),
      peer_closed_(other.peer_closed_) {}

raw_client& raw_client::operator=(raw_client&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = std::exchange(other.fd_, -1);
        buf_ = std::move(other.buf_);
        error_ = std::move(other.error_);
        peer_closed_ = other.peer_closed_;
    }
    return *this;
}

void raw_client::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void raw_client::shutdown_write() {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

bool raw_client::fill(clock::time_point deadline) {
    if (fd_ < 0 || peer_closed_) return false;
    std::array<char, 64 * 1024> chunk{};
    for (;;) {
        ssize_t r = ::recv(fd_, chunk.data(), chunk.size(), 0);
        if (r > 0) {
            buf_.append(chunk.data(), static_cast<std::size_t>(r));
            return true;
        }
        if (r == 0) {
            peer_closed_ = true;
            return true;
        }
        if (errno == EINTR) continue;
        if (errno == ECONNRESET) {
            peer_closed_ = true;
            return true;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            error_ = std::string{"recv: "} + std::strerror(errno);
            return false;
        }
        int left = remaining_ms(deadline);
        if (left == 0) return false;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, left) == 0) return false;
    }
}

bool raw_client::send_all(std::string_view bytes, std::chrono::milliseconds timeout) {
    if (fd_ < 0) return false;
    auto deadline = clock::now() + timeout;
    std::array<char, 64 * 1024> chunk{};
    while (!bytes.empty()) {
        ssize_t w = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (w > 0) {
            bytes.remove_prefix(static_cast<std::size_t>(w));
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EPIPE || errno == ECONNRESET)) {
            error_ = std::string{"send: "} + std::strerror(errno);
            // Whatever the server sent before resetting may still be queued for reading.
            while (fill(clock::now())) {}
            peer_closed_ = true;
            return false;
        }
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            error_ = std::string{"send: "} + std::strerror(errno);
            return false;
        }
        int left = remaining_ms(deadline);
        if (left == 0) {
            error_ = "send: timed out with " + std::to_string(bytes.size()) + " bytes unsent";
            return false;
        }
        short events = POLLOUT;
        if (!peer_closed_) events |= POLLIN;
        pollfd p{fd_, events, 0};
        if (::poll(&p, 1, left) > 0 && (p.revents & POLLIN) != 0) {
            // Drain what the server sends meanwhile (pipelined responses, an early error).
            ssize_t r = ::recv(fd_, chunk.data(), chunk.size(), 0);
            if (r > 0)
                buf_.append(chunk.data(), static_cast<std::size_t>(r));
            else if (r == 0 || (r < 0 && errno == ECONNRESET))
                peer_closed_ = true;
        }
    }
    return true;
}

std::optional<std::string>
raw_client::read_until(std::function<std::size_t(std::string_view)> const& complete,
                       std::chrono::milliseconds timeout) {
    auto deadline = clock::now() + timeout;
    for (;;) {
        if (std::size_t n = complete(buf_); n > 0) {
            std::string out = buf_.substr(0, n);
            buf_.erase(0, n);
            return out;
        }
        if (peer_closed_) {
            error_ = "peer closed; unconsumed: [" + buf_.substr(0, 300) + "]";
            return std::nullopt;
        }
        if (!fill(deadline)) {
            if (error_.empty() || error_.rfind("recv", 0) != 0)
                error_ = "read timed out; unconsumed: [" + buf_.substr(0, 300) + "]";
            return std::nullopt;
        }
    }
}

std::optional<std::string> raw_client::read_until(std::string_view delimiter,
                                                  std::chrono::milliseconds timeout) {
    return read_until(
        [delimiter](std::string_view b) -> std::size_t {
            auto at = b.find(delimiter);
            return at == std::string_view::npos ? 0 : at + delimiter.size();
        },
        timeout);
}

std::optional<std::string> raw_client::read_exactly(std::size_t n, std::chrono::milliseconds timeout) {
    return read_until([n](std::string_view b) -> std::size_t { return b.size() >= n ? n : 0; }, timeout);
}

std::optional<http_response> raw_client::read_response(std::chrono::milliseconds timeout, bool head_request) {
    auto deadline = clock::now() + timeout;
    for (;;) {
        auto o = parse_response(buf_, head_request, peer_closed_);
        if (o.what == parse_outcome::kind::complete) {
            buf_.erase(0, o.consumed);
            return std::move(o.response);
        }
        if (o.what == parse_outcome::kind::error) {
            error_ = o.error;
            return std::nullopt;
        }
        if (peer_closed_) {
            error_ = "peer closed before a complete response; got [" + buf_.substr(0, 300) + "]";
            return std::nullopt;
        }
        if (!fill(deadline)) {
            error_ = "timed out waiting for a response; got [" + buf_.substr(0, 300) + "]";
            return std::nullopt;
        }
    }
}

std::optional<http_response> raw_client::read_final_response(std::chrono::milliseconds timeout,
                                                             bool head_request) {
    auto deadline = clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
        auto r = read_response(std::max(left, std::chrono::milliseconds{0}), head_request);
        if (!r || r->status >= 200) return r;
    }
}

bool raw_client::wait_closed(std::chrono::milliseconds timeout) {
    auto deadline = clock::now() + timeout;
    while (!peer_closed_) {
        if (!fill(deadline)) return peer_closed_;
    }
    return true;
}

std::optional<std::string> read_file(std::string const& path) {
    // Plain read(2): istreambuf_iterator trips GCC 12's -Wnull-dereference at -O1 and above.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string out;
    std::array<char, 64 * 1024> chunk{};
    for (;;) {
        ssize_t r = ::read(fd, chunk.data(), chunk.size());
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            ::close(fd);
            if (r < 0) return std::nullopt;
            return out;
        }
        out.append(chunk.data(), static_cast<std::size_t>(r));
    }
}

} // namespace upshift::test
