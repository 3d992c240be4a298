#include "static_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <vector>

#include "conditional.hpp"
#include "file_cache.hpp"
#include "log.hpp"
#include "mime.hpp"
#include "responses.hpp"
#include "upshift/http1/serializer.hpp"
#include "upshift/net/loop.hpp"
#include "upshift/net/socket.hpp"
#include "url_path.hpp"

namespace upshift::app {
namespace {

// Files up to this size are read at once and sent with respond(). Larger ones are streamed in
// chunk_size pieces, so one response never holds much more than options::send_high_water.
constexpr std::uint64_t whole_file_max = 1 << 20;
constexpr std::size_t chunk_size = 64 * 1024;

// Caches may store files but must revalidate each use: an edited page shows up on the next
// reload, and the revalidation is a cheap 304.
constexpr std::string_view cache_control = "no-cache";

struct opened {
    net::fd file;
    struct stat st {};
    int error = 0;  ///< errno when !file
    bool is_dir() const noexcept { return S_ISDIR(st.st_mode); }
};

bool within(std::string_view root, std::string_view path) noexcept {
    if (root == "/") return true;
    return path.starts_with(root) && (path.size() == root.size() || path[root.size()] == '/');
}

std::string canonical(std::string const& path, int& error) {
    std::unique_ptr<char, decltype(&std::free)> p{::realpath(path.c_str(), nullptr), &std::free};
    if (!p) {
        error = errno;
        return {};
    }
    return p.get();
}

// Opens root/relative if it is a regular file or a directory that resolves inside the root.
// Blocking file system calls on the loop thread: fine for local disks and this demo server.
opened open_under_root(std::string const& root, std::string const& relative) {
    opened f;
    std::string const path = canonical(relative.empty() ? root : root + "/" + relative, f.error);
    if (path.empty()) return f;
    // decode_path() already refused "..", but a symlink inside the root may point anywhere:
    // only where the name finally resolves counts.
    if (!within(root, path)) {
        f.error = EACCES;
        return f;
    }
    // O_NONBLOCK so that opening a FIFO cannot block the loop (it is refused just below).
    f.file = net::fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)};
    if (!f.file) {
        f.error = errno;
        return f;
    }
    // fstat the descriptor, not the name: what was checked is what gets sent.
    if (::fstat(f.file.get(), &f.st) != 0) {
        f.error = errno;
        f.file.reset();
    } else if (!S_ISREG(f.st.st_mode) && !S_ISDIR(f.st.st_mode)) {
        f.error = ENOENT;  // devices, sockets, FIFOs are not documents
        f.file.reset();
    }
    return f;
}

void not_found(server::exchange& ex, std::string_view why) {
    if (log_enabled(log_level::debug)) {
        std::string msg = "404 ";
        msg += ex.request().target;
        msg += ": ";
        msg += why;
        log(log_level::debug, msg);
    }
    respond_text(ex, http1::status::not_found);
}

struct file_stream {
    net::fd file;
    std::uint64_t offset = 0;
    std::uint64_t remaining = 0;
    std::vector<char> buf = std::vector<char>(chunk_size);
};

// Reads and writes until the body is complete or the writer pushes back; on_drain resumes.
// It runs only inside the connection's own callbacks (the handler, on_drain), so `out` is
// alive whenever it runs; if the connection goes away the pending on_drain, and with it the
// file, is destroyed with the connection.
void pump(server::response_writer& out, std::shared_ptr<file_stream> const& st) {
    while (st->remaining > 0) {
        auto const want = static_cast<std::size_t>(std::min<std::uint64_t>(st->buf.size(), st->remaining));
        ssize_t const n = ::pread(st->file.get(), st->buf.data(), want, static_cast<off_t>(st->offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            // Truncated or unreadable half-way: the Content-Length already sent cannot be met.
            // finish() on a short body makes the library close the connection, which is how
            // the client learns the response is incomplete (RFC 9112 §8).
            log(log_level::warn, n == 0 ? "file shrank while being sent; closing the connection"
                                        : "read error while sending a file; closing the connection");
            break;
        }
        auto const got = static_cast<std::size_t>(n);
        st->offset += got;
        st->remaining -= got;
        if (!out.write({st->buf.data(), got})) {
            out.on_drain([&out, st] { pump(out, st); });
            return;
        }
    }
    out.finish();
}

// Reads a small file whole; false on a read error.
bool read_whole(int fd, std::uint64_t size, std::string& body) {
    body.resize(static_cast<std::size_t>(size));
    std::size_t got = 0;
    while (got < body.size()) {
        ssize_t const n = ::pread(fd, body.data() + got, body.size() - got, static_cast<off_t>(got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        if (n == 0) break;  // shrank since fstat: send what is there, with its real length
        got += static_cast<std::size_t>(n);
    }
    body.resize(got);
    return true;
}

// Answers 304 / 412 when the preconditions say so (RFC 9110 §13.2.2); true when the caller
// should go on with a 200.
bool preconditions_allow(server::exchange& ex, std::string const& etag, long long last_modified) {
    switch (evaluate_preconditions(ex.request(), etag, last_modified)) {
    case precondition_result::not_modified:
        // RFC 9110 §15.4.5: a 304 carries the ETag and Cache-Control a 200 would carry (the
        // library adds Date) and never content; other metadata SHOULD NOT be sent.
        ex.respond(http1::status::not_modified, {{"ETag", etag}, {"Cache-Control", cache_control}});
        return false;
    case precondition_result::precondition_failed:
        respond_text(ex, http1::status::precondition_failed, {{"ETag", etag}});
        return false;
    case precondition_result::proceed:
        break;
    }
    return true;
}

// What a 200 for a file says about it besides its content: the validators (RFC 9110 §8.8) and
// the media type. Views: into a cache entry, or into the caller's locals for an uncached file.
struct file_metadata {
    std::string_view content_type;
    std::string_view etag;
    long long last_modified = 0;          ///< unix seconds
    std::string_view last_modified_text;  ///< the same as an IMF-fixdate
};

http1::fields file_headers(file_metadata const& m) {
    return {{"Content-Type", m.content_type},
            {"ETag", m.etag},
            {"Last-Modified", m.last_modified_text},
            {"Cache-Control", cache_control},
            {"X-Content-Type-Options", "nosniff"}};
}

// Sends a 200 whose content is `body` (or, for HEAD, only its length: RFC 9110 §9.3.2, the
// fields GET would send, including its Content-Length). `body` need only live for the call.
// respond() would take the body as a std::string of its own, one allocation and copy per
// request. HTTP/1.1 copies a small body into the connection's send queue anyway, so handing it
// to write() spares that string entirely. HTTP/2 copies it once, into the stream's buffer, but
// that buffer is recycled from an earlier stream (no malloc and free per response); a cached
// file goes through the overload below and is not copied at all. An empty body still goes
// through respond() over HTTP/2: its HEADERS end the stream, where a writer would send an empty
// DATA frame to end it. `headers`: file_headers(), built once per cached file.
void send_ok(server::exchange& ex, http1::fields const& headers, std::string_view body) {
    auto const& req = ex.request();
    if (req.method == http1::method::head) {
        ex.start_response(http1::status::ok, headers, body.size()).finish();
        return;
    }
    if (req.version_major >= 2 && body.empty()) {
        ex.respond(http1::status::ok, headers, std::string{});
        return;
    }
    auto& out = ex.start_response(http1::status::ok, headers, body.size());
    out.write(body);  // false only asks the producer to pause: every byte is already queued
    out.finish();
}

// As send_ok, for a cached file: its body is shared with the response, not copied (HTTP/2).
void send_ok(server::exchange& ex, http1::fields const& headers, std::shared_ptr<std::string const> const& body) {
    if (ex.request().method == http1::method::head) {
        ex.start_response(http1::status::ok, headers, body->size()).finish();
        return;
    }
    ex.respond_shared(http1::status::ok, headers, body);
}

// RFC 9110 §8.8.2.1: an origin server MUST NOT send a Last-Modified date later than the
// message's origination date; a file stamped in the future is clamped to now.
long long last_modified_of(server::exchange& ex, timespec const& mtime) {
    return std::min<long long>(mtime.tv_sec, ex.loop().unix_now());
}

void send_cached(server::exchange& ex, cached_file const& f) {
    if (f.mtime.tv_sec > f.last_modified) {
        // Stamped in the future when it was read: "now" moves on, so this rare case is
        // formatted per request, as for an uncached file.
        char date[32];
        file_metadata m{f.content_type, f.etag, last_modified_of(ex, f.mtime), {}};
        m.last_modified_text = http1::format_http_date(m.last_modified, date);
        if (!preconditions_allow(ex, f.etag, m.last_modified)) return;
        send_ok(ex, file_headers(m), f.body);
        return;
    }
    if (!preconditions_allow(ex, f.etag, f.last_modified)) return;
    send_ok(ex, f.headers, f.body);
}

// cache_key / path: where a small file read whole is remembered (see file_cache.hpp).
void send_file(server::exchange& ex, opened f, std::string const& name, std::string cache_key,
               std::string const& path) {
    auto const& req = ex.request();
    auto const size = static_cast<std::uint64_t>(f.st.st_size);
    long long const last_modified = last_modified_of(ex, f.st.st_mtim);
    std::string const etag = make_etag(size, f.st.st_mtim);
    if (!preconditions_allow(ex, etag, last_modified)) return;

    char date[32];
    file_metadata const m{content_type_for(name), etag, last_modified,
                          http1::format_http_date(last_modified, date)};
    if (req.method == http1::method::head) {
        ex.start_response(http1::status::ok, file_headers(m), size).finish();
        return;
    }
    if (size <= whole_file_max) {
        std::string body;
        if (!read_whole(f.file.get(), size, body)) {
            log(log_level::warn, std::string{"cannot read "} + name);
            respond_text(ex, http1::status::internal_server_error);
            return;
        }
        if (body.size() == size) {  // not caught mid-write
            cached_file c;
            c.path = path;
            c.body = std::make_shared<std::string const>(std::move(body));
            c.content_type = m.content_type;
            c.etag = etag;
            c.last_modified = last_modified;
            c.last_modified_text = m.last_modified_text;
            c.headers = file_headers(m);
            c.dev = f.st.st_dev;
            c.ino = f.st.st_ino;
            c.size = f.st.st_size;
            c.mtime = f.st.st_mtim;
            c.validated_at = ex.loop().now();
            if (auto const* stored = file_cache::local().insert(std::move(cache_key), std::move(c))) {
                send_ok(ex, stored->headers, stored->body);
                return;
            }
            // Not cached (too large): `c` still holds everything.
            send_ok(ex, c.headers, c.body);
            return;
        }
        send_ok(ex, file_headers(m), body);
        return;
    }
    auto st = std::make_shared<file_stream>();
    st->file = std::move(f.file);
    st->remaining = size;
    pump(ex.start_response(http1::status::ok, file_headers(m), size), st);
}

} // namespace

std::shared_ptr<static_files const> static_files::open(std::string const& root, std::chrono::milliseconds cache_valid,
                                                       std::error_code& ec) {
    ec.clear();
    int err = 0;
    std::string path = canonical(root, err);
    if (path.empty()) {
        ec = {err, std::system_category()};
        return nullptr;
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        ec = {errno, std::system_category()};
        return nullptr;
    }
    if (!S_ISDIR(st.st_mode)) {
        ec = std::make_error_code(std::errc::not_a_directory);
        return nullptr;
    }
    return std::shared_ptr<static_files const>(new static_files(std::move(path), cache_valid));
}

void static_files::serve(server::exchange& ex) const {
    auto const& req = ex.request();
    if (req.method != http1::method::get && req.method != http1::method::head) {
        respond_method_not_allowed(ex, "GET, HEAD");
        return;
    }
    decoded_path p;
    switch (decode_path(target_path(req.target), p)) {
    case path_error::bad_encoding:
        respond_text(ex, http1::status::bad_request);
        return;
    case path_error::forbidden:
        not_found(ex, "path refused");
        return;
    case path_error::none:
        break;
    }

    // The key holds the root (one thread may serve several) and the trailing slash,
    // which changes the answer for directories. It is built in a per-thread buffer that keeps
    // its capacity, so that a cache hit allocates nothing for it; a miss copies it (send_file).
    thread_local std::string key;
    key.assign(root_);
    key += '\0';
    key += p.relative;
    if (p.trailing_slash) key += '/';
    if (auto const* hit = file_cache::local().find(key, ex.loop().now(), cache_valid_)) {
        send_cached(ex, *hit);
        return;
    }

    auto f = open_under_root(root_, p.relative);
    if (!f.file) {
        not_found(ex, std::system_category().message(f.error));
        return;
    }
    std::string name = p.relative;
    if (!f.is_dir() && p.trailing_slash) {
        // "/style.css/" names a directory that does not exist; realpath() alone would accept it.
        not_found(ex, "not a directory");
        return;
    }
    if (f.is_dir()) {
        if (!p.trailing_slash) {
            // Relative links in the index resolve against the URL, so it must end in '/'
            // (RFC 3986 §5.2). Location is rebuilt from the decoded path, never copied from the
            // target: "//evil.example" must not turn into a redirect to another host.
            std::string location = "/";
            if (!p.relative.empty()) location.append(encode_path(p.relative)).append(1, '/');
            if (auto q = req.query(); !q.empty()) (location += '?') += q;
            respond_text(ex, http1::status::moved_permanently, {{"Location", location}});
            return;
        }
        name = p.relative.empty() ? "index.html" : p.relative + "/index.html";
        f = open_under_root(root_, name);
        if (!f.file || f.is_dir()) {
            not_found(ex, "directory without index.html");
            return;
        }
    }
    send_file(ex, std::move(f), name, std::string{key}, root_ == "/" ? "/" + name : root_ + "/" + name);
}

} // namespace upshift::app
