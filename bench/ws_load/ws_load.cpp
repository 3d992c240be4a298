// ws_load: a single-threaded epoll WebSocket load generator for echo servers (bench/ws_load/run.sh).
//
//   ws_load --mode echo     --port P --conns 100 --size 16 --inflight 16 --duration 5 --warmup 2 --server-pid PID
//   ws_load --mode upgrades --port P --conns 50 --duration 5 --warmup 1 --server-pid PID
//   ws_load --mode idle     --port P --conns 10000 --server-pid PID
//
// echo: every connection keeps `inflight` binary messages outstanding; each echo is checked byte
//   for byte and in order (the first 8 bytes carry the message's sequence number, the rest one of
//   16 random patterns), then the next message goes out. Reports msgs/s, latency percentiles (from
//   the writev that sends a message to the read that completes its echo) and the server's CPU time
//   per message over the measured window.
// upgrades: `conns` concurrent full cycles: connect, opening handshake (101 and
//   Sec-WebSocket-Accept checked), one 16-byte message and its echo, closing handshake, and the
//   server's TCP close (RFC 6455 §7.1.1: the server closes first). Reports cycles/s.
// idle: opens `conns` connections (handshake only), lets the server settle, and reports the
//   growth of its resident memory per connection; then one echo on every connection, and again.
//
// Output: one line of key=value pairs on stdout; anything wrong (a byte that differs, a missing
// 101, a timeout) prints `error=...` on stderr and exits 1. Client frames are masked (§5.3): messages
// up to 1 KiB with a fresh random key each; larger ones come from 16 precomputed masked variants,
// each with its own random key, so the hot path masks only their 8-byte sequence number.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "client_frames.hpp"
#include "latency_histogram.hpp"
#include "proc_stats.hpp"
#include "upshift/ws/handshake.hpp"

namespace ws_load {
namespace {

[[noreturn]] void die(std::string const& why) {
    std::fprintf(stderr, "ws_load: error=%s\n", why.c_str());
    std::exit(1);
}

std::uint64_t now_ns() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

enum class mode { echo, upgrades, idle };

struct config {
    mode m = mode::echo;
    std::string host = "127.0.0.1";
    int port = 0;
    std::string path = "/ws/echo";
    std::size_t conns = 100;
    std::size_t size = 16;
    std::size_t inflight = 1;
    double duration = 5;
    double warmup = 2;
    std::size_t connect_concurrency = 256;  // handshakes in progress at once while opening
    double settle = 1.5;                    // idle: seconds before each RSS reading
    pid_t server_pid = 0;
    std::string label = "server";
    int signal_server = 0;  // idle: sent to the server after each RSS reading (malloc_census.so dumps on it)
};

// --- payloads -------------------------------------------------------------------------------

constexpr std::size_t variants = 16;
constexpr std::size_t stamp_size = 8;       // the sequence number, little-endian
constexpr std::size_t inline_limit = 1024;  // messages up to this size are copied whole into the slot

/// What every connection sends: for message `seq`, variant seq % 16 with the sequence number in
/// its first 8 bytes. plain[] is what the echo must equal; masked[] is it masked with keys[].
struct payloads {
    std::size_t size = 0;
    std::vector<std::string> plain, masked;
    std::vector<mask_key> keys;

    explicit payloads(std::size_t n) : size(n) {
        std::mt19937_64 rng(20261130);
        for (std::size_t v = 0; v < variants; ++v) {
            std::string p(n, '\0');
            for (auto& c : p) c = static_cast<char>(rng());
            mask_key k{};
            for (auto& b : k) b = static_cast<std::uint8_t>(rng());
            std::string m = p;
            apply_mask(m.data(), m.size(), k);
            plain.push_back(std::move(p));
            masked.push_back(std::move(m));
            keys.push_back(k);
        }
    }
    static std::size_t variant(std::uint64_t seq) noexcept { return seq % variants; }
    /// Byte `i` of message `seq` as it must come back.
    char expected(std::uint64_t seq, std::size_t i) const noexcept {
        if (i < stamp_size) return static_cast<char>(seq >> (8 * i));
        return plain[variant(seq)][i];
    }
    /// Whether [data, data+n) equals message `seq` from byte `offset` on.
    bool matches(std::uint64_t seq, std::uint64_t offset, char const* data, std::size_t n) const noexcept {
        std::size_t i = 0;
        for (; i < n && offset + i < stamp_size; ++i)
            if (data[i] != expected(seq, offset + i)) return false;
        if (i == n) return true;
        return std::memcmp(data + i, plain[variant(seq)].data() + offset + i, n - i) == 0;
    }
};

// --- handshake keys ---------------------------------------------------------------------------

struct handshake_key {
    std::string request;  // the whole opening handshake
    std::string accept;   // the Sec-WebSocket-Accept it must get back
};

std::vector<handshake_key> make_handshake_keys(config const& c) {
    static constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::mt19937 rng(std::random_device{}());
    std::vector<handshake_key> keys;
    for (int k = 0; k < 64; ++k) {
        // 16 random bytes in base64 (§4.1 item 7): 21 free characters, one limited to the 2 top bits, "==".
        std::string key;
        for (int i = 0; i < 21; ++i) key += b64[rng() % 64];
        key += b64[(rng() % 4) * 16];
        key += "==";
        std::string req = "GET " + c.path + " HTTP/1.1\r\nHost: " + c.host + ":" + std::to_string(c.port) +
                          "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
                          "\r\nSec-WebSocket-Version: 13\r\n\r\n";
        keys.push_back({std::move(req), upshift::ws::accept_key(key)});
    }
    return keys;
}

// --- connections ------------------------------------------------------------------------------

enum class state { connecting, handshake, open, closing, awaiting_eof, done };

struct connection {
    int fd = -1;
    state st = state::connecting;
    std::size_t key = 0;
    std::string head;  // the 101 response while it arrives
    frame_reader reader;
    // Outgoing segments: headers live in `slots` (one per message in flight), bodies in payloads::masked.
    std::vector<iovec> out;
    std::size_t out_head = 0;
    std::vector<char> slots;
    std::vector<std::uint64_t> sent_at;  // per slot: when the message was handed to writev
    std::size_t unstamped = 0;           // messages queued since the last writev (their sent_at is pending)
    std::uint64_t next_send = 0, next_recv = 0;
    std::uint64_t cycle_start = 0;
    std::uint64_t target_sends = 0;      // upgrades/idle: how many messages to send in total
    bool sending = true;
};

class load_run {
public:
    explicit load_run(config c) : c_(std::move(c)), pl_(c_.size), keys_(make_handshake_keys(c_)) {
        ep_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (ep_ < 0) die("epoll_create1");
        slot_size_ = slot_size_for(c_.size);
        read_buf_.resize(256 * 1024);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(c_.port));
        if (::inet_pton(AF_INET, c_.host.c_str(), &a.sin_addr) != 1) die("bad --host (IPv4 literal)");
        addr_ = a;
    }

    void run() {
        switch (c_.m) {
        case mode::echo: run_echo(); break;
        case mode::upgrades: run_upgrades(); break;
        case mode::idle: run_idle(); break;
        }
    }

private:
    // --- modes ---

    void run_echo() {
        open_all(c_.conns);
        for (auto& cn : conns_) {
            for (std::size_t i = 0; i < c_.inflight; ++i) queue_message(*cn);
            flush(*cn);
        }
        auto const t0 = now_ns();
        auto const warm_end = t0 + static_cast<std::uint64_t>(c_.warmup * 1e9);
        auto const end = warm_end + static_cast<std::uint64_t>(c_.duration * 1e9);
        poll_until([&] { return now_ns() >= warm_end; }, warm_end + 30'000'000'000ull, "warm-up");
        start_window();
        poll_until([&] { return now_ns() >= end; }, end + 30'000'000'000ull, "measured run");
        end_window();
        // Stop sending; every echo still in flight must come back (and be right) before the Close.
        for (auto& cn : conns_) cn->sending = false;
        poll_until([&] { return all_echoed(); }, now_ns() + 10'000'000'000ull, "draining the last echoes");
        close_all();
        double const secs = static_cast<double>(window_ns_) / 1e9;
        double const msgs = static_cast<double>(window_msgs_);
        std::printf("mode=echo server=%s conns=%zu size=%zu inflight=%zu seconds=%.2f msgs=%llu msgs_per_s=%.0f "
                    "p50_us=%.1f p99_us=%.1f p999_us=%.1f server_cpu_pct=%.1f server_cpu_ns_per_msg=%.0f "
                    "server_sys_ns_per_msg=%.0f client_cpu_pct=%.1f verified_msgs=%llu\n",
                    c_.label.c_str(), c_.conns, c_.size, c_.inflight, secs, static_cast<unsigned long long>(window_msgs_),
                    msgs / secs, static_cast<double>(hist_.quantile(0.50)) / 1e3,
                    static_cast<double>(hist_.quantile(0.99)) / 1e3, static_cast<double>(hist_.quantile(0.999)) / 1e3,
                    server_cpu_pct(), per_op(server_cpu_.total_ns(), msgs), per_op(server_cpu_.sys_ns, msgs),
                    100.0 * static_cast<double>(client_cpu_ns_) / static_cast<double>(window_ns_),
                    static_cast<unsigned long long>(verified_));
    }

    void run_upgrades() {
        // Upgrade cycles use a fixed 16-byte message.
        c_.size = 16;
        pl_ = payloads(16);
        slot_size_ = slot_size_for(16);
        cycling_ = true;
        auto const t0 = now_ns();
        auto const warm_end = t0 + static_cast<std::uint64_t>(c_.warmup * 1e9);
        auto const end = warm_end + static_cast<std::uint64_t>(c_.duration * 1e9);
        for (std::size_t i = 0; i < c_.conns; ++i) start_connection(1);
        poll_until([&] { return now_ns() >= warm_end; }, warm_end + 30'000'000'000ull, "warm-up");
        start_window();
        poll_until([&] { return now_ns() >= end; }, end + 30'000'000'000ull, "measured run");
        end_window();
        cycling_ = false;  // cycles in progress finish, no new ones start
        poll_until([&] { return open_count_ == 0; }, now_ns() + 10'000'000'000ull, "finishing the last cycles");
        double const secs = static_cast<double>(window_ns_) / 1e9;
        double const n = static_cast<double>(window_cycles_);
        std::printf("mode=upgrades server=%s concurrency=%zu seconds=%.2f cycles=%llu upgrades_per_s=%.0f "
                    "p50_us=%.1f p99_us=%.1f server_cpu_pct=%.1f server_cpu_ns_per_upgrade=%.0f "
                    "server_sys_ns_per_upgrade=%.0f client_cpu_pct=%.1f\n",
                    c_.label.c_str(), c_.conns, secs, static_cast<unsigned long long>(window_cycles_), n / secs,
                    static_cast<double>(hist_.quantile(0.50)) / 1e3, static_cast<double>(hist_.quantile(0.99)) / 1e3,
                    server_cpu_pct(), per_op(server_cpu_.total_ns(), n), per_op(server_cpu_.sys_ns, n),
                    100.0 * static_cast<double>(client_cpu_ns_) / static_cast<double>(window_ns_));
    }

    void run_idle() {
        if (c_.server_pid <= 0) die("--mode idle needs --server-pid");
        // One-time costs (lazy code, JIT, first buffers) are paid by a warm-up batch first.
        open_all(std::min<std::size_t>(100, c_.conns));
        echo_once_each();
        close_all();
        settle();
        auto const base = rss();
        open_all(c_.conns);
        settle();
        auto const idle = rss();
        echo_once_each();
        settle();
        auto const used = rss();
        close_all();
        auto per = [&](std::int64_t v) { return static_cast<double>(v - base) / static_cast<double>(c_.conns); };
        std::printf("mode=idle server=%s conns=%zu rss_base_kib=%lld rss_idle_kib=%lld rss_after_echo_kib=%lld "
                    "bytes_per_idle_conn=%.0f bytes_per_conn_after_echo=%.0f\n",
                    c_.label.c_str(), c_.conns, static_cast<long long>(base / 1024), static_cast<long long>(idle / 1024),
                    static_cast<long long>(used / 1024), per(idle), per(used));
    }

    // --- measurement ---

    void start_window() {
        hist_.clear();
        window_msgs_ = 0;
        window_cycles_ = 0;
        measuring_ = true;
        window_start_ = now_ns();
        server_cpu_known_ = c_.server_pid > 0 && process_cpu(c_.server_pid, server_cpu_start_);
        client_cpu_start_ = self_cpu_ns();
    }
    void end_window() {
        measuring_ = false;
        window_ns_ = now_ns() - window_start_;
        client_cpu_ns_ = self_cpu_ns() - client_cpu_start_;
        cpu_times end{};
        if (server_cpu_known_ && process_cpu(c_.server_pid, end)) {
            server_cpu_.user_ns = end.user_ns - server_cpu_start_.user_ns;
            server_cpu_.sys_ns = end.sys_ns - server_cpu_start_.sys_ns;
        } else {
            server_cpu_known_ = false;
        }
    }
    double server_cpu_pct() const {
        return server_cpu_known_ ? 100.0 * static_cast<double>(server_cpu_.total_ns()) / static_cast<double>(window_ns_)
                                 : -1;
    }
    /// Server CPU nanoseconds per operation over the window; 0 when unknown or no operation.
    double per_op(std::int64_t ns, double ops) const {
        return server_cpu_known_ && ops > 0 ? static_cast<double>(ns) / ops : 0.0;
    }
    std::int64_t rss() const {
        auto const v = process_rss_bytes(c_.server_pid);
        if (v < 0) die("cannot read the server's RSS (pid " + std::to_string(c_.server_pid) + ")");
        if (c_.signal_server > 0) ::kill(c_.server_pid, c_.signal_server);
        return v;
    }
    void settle() {
        auto const until = now_ns() + static_cast<std::uint64_t>(c_.settle * 1e9);
        poll_until([&] { return now_ns() >= until; }, until + 5'000'000'000ull, "settling");
    }

    // --- connection management ---

    /// Opens n connections (at most connect_concurrency handshakes at once) and waits until all are open.
    void open_all(std::size_t n) {
        std::size_t started = 0;
        auto top_up = [&] {
            while (started < n && pending_handshakes_ < c_.connect_concurrency) {
                start_connection(0);
                ++started;
            }
        };
        top_up();
        poll_until(
            [&] {
                top_up();
                return started == n && pending_handshakes_ == 0;
            },
            now_ns() + 60'000'000'000ull, "opening connections");
    }

    void start_connection(std::uint64_t sends) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (::connect(fd, reinterpret_cast<sockaddr const*>(&addr_), sizeof addr_) != 0 && errno != EINPROGRESS)
            die(std::string("connect: ") + std::strerror(errno));
        auto cn = std::make_unique<connection>();
        cn->fd = fd;
        cn->key = key_rr_++ % keys_.size();
        cn->target_sends = sends;
        cn->slots.assign(std::max<std::size_t>(1, c_.inflight) * slot_size_, 0);
        cn->sent_at.assign(std::max<std::size_t>(1, c_.inflight), 0);
        cn->head.reserve(256);
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.ptr = cn.get();
        if (::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl");
        ++pending_handshakes_;
        ++open_count_;
        cn->cycle_start = now_ns();  // upgrade cycles: latency from connect() on
        if (cycling_) cycling_conns_.push_back(std::move(cn));
        else conns_.push_back(std::move(cn));
    }

    void finish_connection(connection& cn) {
        ::close(cn.fd);  // also leaves the epoll set
        cn.fd = -1;
        cn.st = state::done;
        --open_count_;
        if (c_.m == mode::upgrades) {
            if (measuring_) {
                ++window_cycles_;
                hist_.record(now_ns() - cn.cycle_start);
            }
            done_cycles_.push_back(&cn);
            if (cycling_) start_connection(1);
        }
    }

    void close_all() {
        // The closing handshake on every connection (§7.1.2), then wait for the servers' TCP close.
        for (auto& cn : conns_) {
            if (cn->st != state::open) continue;
            send_close(*cn);
        }
        poll_until([&] { return open_count_ == 0; }, now_ns() + 30'000'000'000ull, "closing connections");
        conns_.clear();
    }

    void send_close(connection& cn) {
        static std::string const close_frame = masked_frame(op_close, std::string("\x03\xe8", 2), {1, 2, 3, 4});
        cn.st = state::closing;
        cn.sending = false;
        push(cn, close_frame.data(), close_frame.size());
        flush(cn);
    }

    void echo_once_each() {
        for (auto& cn : conns_) {
            cn->sending = false;  // exactly one message: none follows the echo
            queue_message(*cn);
            flush(*cn);
        }
        poll_until([&] { return all_echoed(); }, now_ns() + 60'000'000'000ull, "one echo per connection");
    }

    bool all_echoed() const {
        for (auto const& cn : conns_)
            if (cn->next_recv != cn->next_send) return false;
        return true;
    }

    // --- sending ---

    // A small message's slot is exactly its frame, so the frames of consecutive messages lie end to
    // end and go out as one iovec: writing 16 pipelined messages as 16 segments cost the generator
    // more kernel time than the frames themselves (it, not the server, was the limit at 16 in flight).
    static std::size_t slot_size_for(std::size_t size) noexcept {
        return size <= inline_limit ? masked_header_size(size) + size : 14 + stamp_size;
    }

    void push(connection& cn, char const* p, std::size_t n) {
        if (cn.out.size() > cn.out_head) {
            auto& last = cn.out.back();
            if (static_cast<char const*>(last.iov_base) + last.iov_len == p) {
                last.iov_len += n;
                return;
            }
        }
        cn.out.push_back({const_cast<char*>(p), n});
    }

    void queue_message(connection& cn) {
        auto const seq = cn.next_send++;
        auto const v = payloads::variant(seq);
        char* slot = cn.slots.data() + (seq % cn.sent_at.size()) * slot_size_;
        std::size_t const stamp = std::min(stamp_size, pl_.size);
        if (pl_.size <= inline_limit) {
            // A fresh key for every frame (§5.3), the whole payload masked here: cheap at this size.
            auto const key = fresh_key();
            std::size_t const n = write_masked_header(slot, op_binary, pl_.size, key);
            std::memcpy(slot + n, pl_.plain[v].data(), pl_.size);
            for (std::size_t i = 0; i < stamp; ++i) slot[n + i] = static_cast<char>(seq >> (8 * i));
            apply_mask(slot + n, pl_.size, key);
            push(cn, slot, n + pl_.size);
        } else {
            // Large payloads are sent from the precomputed masked variants (16 keys in turn): masking
            // 64 KiB per message would cost the generator about as much CPU as the server's whole echo.
            // The server's work is the same whatever the key.
            auto const key = pl_.keys[v];
            std::size_t n = write_masked_header(slot, op_binary, pl_.size, key);
            for (std::size_t i = 0; i < stamp; ++i)
                slot[n + i] = static_cast<char>(static_cast<std::uint8_t>(seq >> (8 * i)) ^ key[i & 3]);
            n += stamp;
            push(cn, slot, n);
            push(cn, pl_.masked[v].data() + stamp, pl_.size - stamp);
        }
        ++cn.unstamped;
    }

    mask_key fresh_key() noexcept {
        // xorshift64*: unpredictable enough for a load generator, and nearly free.
        rng_ ^= rng_ >> 12;
        rng_ ^= rng_ << 25;
        rng_ ^= rng_ >> 27;
        auto const r = rng_ * 2685821657736338717ull;
        return {static_cast<std::uint8_t>(r >> 32), static_cast<std::uint8_t>(r >> 40), static_cast<std::uint8_t>(r >> 48),
                static_cast<std::uint8_t>(r >> 56)};
    }

    void flush(connection& cn) {
        if (cn.unstamped > 0) {
            // The messages queued since the last write are "sent" now.
            auto const t = now_ns();
            for (std::uint64_t s = cn.next_send - cn.unstamped; s < cn.next_send; ++s) cn.sent_at[s % cn.sent_at.size()] = t;
            cn.unstamped = 0;
        }
        while (cn.out_head < cn.out.size()) {
            auto const count = static_cast<int>(std::min<std::size_t>(cn.out.size() - cn.out_head, 512));
            ssize_t w = ::writev(cn.fd, cn.out.data() + cn.out_head, count);
            if (w < 0) {
                if (errno == EAGAIN || errno == EINTR) return;  // EPOLLOUT (edge-triggered) resumes
                die(std::string("writev: ") + std::strerror(errno) + " (server " + c_.label + ")");
            }
            auto left = static_cast<std::size_t>(w);
            while (left > 0) {
                auto& seg = cn.out[cn.out_head];
                if (left >= seg.iov_len) {
                    left -= seg.iov_len;
                    ++cn.out_head;
                } else {
                    seg.iov_base = static_cast<char*>(seg.iov_base) + left;
                    seg.iov_len -= left;
                    left = 0;
                }
            }
        }
        cn.out.clear();
        cn.out_head = 0;
    }

    // --- receiving ---

    struct sink {
        load_run& run;
        connection& cn;
        void piece(frame_reader::event const& e) {
            if (e.op != op_binary) run.fail(cn, "echo came back as opcode " + std::to_string(e.op));
            if (cn.next_recv >= cn.next_send) run.fail(cn, "an echo for a message never sent");
            if (e.offset + e.size > run.pl_.size) run.fail(cn, "echo longer than the message");
            if (!run.pl_.matches(cn.next_recv, e.offset, e.data, e.size))
                run.fail(cn, "echo differs from message " + std::to_string(cn.next_recv) + " in bytes " +
                                 std::to_string(e.offset) + ".." + std::to_string(e.offset + e.size) + " (wrong bytes or order)");
        }
        bool frame_end(std::uint8_t op, bool fin, std::uint64_t size) {
            if (op == op_close) return run.on_close_frame(cn);
            if (op == op_ping) {
                // §5.5.2: answer with a Pong carrying the same payload.
                run.pongs_.push_back(masked_frame(op_pong, cn.reader.control_payload(), {9, 8, 7, 6}));
                run.push(cn, run.pongs_.back().data(), run.pongs_.back().size());
                return true;
            }
            if (op == op_pong) return true;
            if (!fin) return true;
            if (size != run.pl_.size) run.fail(cn, "echo of " + std::to_string(size) + " bytes, sent " + std::to_string(run.pl_.size));
            run.on_echo(cn);
            return true;
        }
    };

    void on_echo(connection& cn) {
        auto const seq = cn.next_recv++;
        ++verified_;
        if (measuring_ && c_.m == mode::echo) {
            ++window_msgs_;
            hist_.record(read_time_ - cn.sent_at[seq % cn.sent_at.size()]);
        }
        if (cn.target_sends > 0) {
            if (cn.next_recv == cn.target_sends) send_close(cn);  // upgrade cycle: the message is back
            return;
        }
        if (cn.sending) queue_message(cn);
    }

    bool on_close_frame(connection& cn) {
        if (cn.st != state::closing) fail(cn, "server sent Close unasked");
        // Our Close was answered: the server now closes TCP first (§7.1.1); we wait for its FIN.
        cn.st = state::awaiting_eof;
        return true;
    }

    [[noreturn]] void fail(connection& cn, std::string const& why) {
        (void)cn;
        die(why + " (server " + c_.label + ")");
    }

    void on_event(connection& cn, std::uint32_t events) {
        if (cn.st == state::done) return;
        if (cn.st == state::connecting) {
            if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
            int err = 0;
            socklen_t len = sizeof err;
            ::getsockopt(cn.fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0) die(std::string("connect: ") + std::strerror(err) + " (server " + c_.label + ")");
            auto const& req = keys_[cn.key].request;
            if (::write(cn.fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) die("handshake write");
            cn.st = state::handshake;
        }
        if (events & EPOLLOUT) flush(cn);
        if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable(cn, (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
    }

    void on_readable(connection& cn, bool peer_closed) {
        for (;;) {
            ssize_t r = ::read(cn.fd, read_buf_.data(), read_buf_.size());
            if (r < 0) {
                if (errno == EAGAIN || errno == EINTR) break;
                die(std::string("read: ") + std::strerror(errno) + " (server " + c_.label + ")");
            }
            if (r == 0) {
                if (cn.st != state::awaiting_eof) fail(cn, "server closed the connection unexpectedly");
                finish_connection(cn);
                return;
            }
            read_time_ = now_ns();
            char const* p = read_buf_.data();
            auto n = static_cast<std::size_t>(r);
            if (cn.st == state::handshake) {
                auto const before = cn.head.size();
                cn.head.append(p, n);
                auto const end = cn.head.find("\r\n\r\n");
                if (end == std::string::npos) {
                    if (cn.head.size() > 8192) fail(cn, "handshake response too long");
                    continue;
                }
                check_handshake(cn, cn.head.substr(0, end + 4));
                auto const used = end + 4 - before;
                p += used;
                n -= used;
                cn.head.clear();
                cn.head.shrink_to_fit();
                cn.st = state::open;
                --pending_handshakes_;
                if (cn.target_sends > 0) {
                    queue_message(cn);
                    flush(cn);
                }
            }
            sink s{*this, cn};
            if (!cn.reader.feed(p, n, s)) fail(cn, cn.reader.error());
            if (cn.st == state::done) return;
            // A short read means the socket is drained (edge-triggered: new data brings a new edge),
            // except for an EOF already signalled in this event: that must still be read.
            if (static_cast<std::size_t>(r) < read_buf_.size() && !peer_closed && cn.st != state::awaiting_eof) break;
        }
        flush(cn);
    }

    void check_handshake(connection& cn, std::string const& head) {
        if (head.compare(0, 13, "HTTP/1.1 101 ") != 0)
            fail(cn, "no 101: " + head.substr(0, head.find('\r')));
        std::string lower = head;
        for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        auto const at = lower.find("\r\nsec-websocket-accept:");
        if (at == std::string::npos) fail(cn, "101 without Sec-WebSocket-Accept");
        auto v = head.substr(at + 23);
        v = v.substr(0, v.find('\r'));
        auto const b = v.find_first_not_of(" \t");
        v = b == std::string::npos ? "" : v.substr(b, v.find_last_not_of(" \t") - b + 1);
        if (v != keys_[cn.key].accept) fail(cn, "wrong Sec-WebSocket-Accept (RFC 6455 §4.2.2)");
        if (lower.find("\r\nsec-websocket-extensions:") != std::string::npos) fail(cn, "extension negotiated unasked");
    }

    // --- the loop ---

    template <class Done>
    void poll_until(Done done, std::uint64_t deadline, char const* what) {
        epoll_event events[512];
        while (!done()) {
            if (now_ns() > deadline) die(std::string("timeout while ") + what + " (server " + c_.label + ")");
            int n = ::epoll_wait(ep_, events, 512, 10);
            if (n < 0) {
                if (errno == EINTR) continue;
                die("epoll_wait");
            }
            for (int i = 0; i < n; ++i) on_event(*static_cast<connection*>(events[i].data.ptr), events[i].events);
            reap_cycles();
        }
    }

    void reap_cycles() {
        // Finished upgrade cycles are freed after the event batch that may still name them.
        if (done_cycles_.empty()) return;
        std::erase_if(cycling_conns_, [](auto const& cn) { return cn->st == state::done; });
        done_cycles_.clear();
    }

    config c_;
    payloads pl_;
    std::vector<handshake_key> keys_;
    int ep_ = -1;
    sockaddr_in addr_{};
    std::size_t slot_size_ = 0;
    std::vector<char> read_buf_;
    std::uint64_t read_time_ = 0;
    std::vector<std::unique_ptr<connection>> conns_;
    std::vector<std::unique_ptr<connection>> cycling_conns_;
    std::vector<connection*> done_cycles_;
    std::deque<std::string> pongs_;  // Pong frames stay put while queued (servers here never ping)
    std::size_t key_rr_ = 0;
    std::uint64_t rng_ = std::random_device{}() | 1ull;
    std::size_t pending_handshakes_ = 0;
    std::size_t open_count_ = 0;
    bool cycling_ = false;
    bool measuring_ = false;
    latency_histogram hist_;
    std::uint64_t window_msgs_ = 0, window_cycles_ = 0, verified_ = 0;
    std::uint64_t window_start_ = 0, window_ns_ = 1;
    bool server_cpu_known_ = false;
    cpu_times server_cpu_start_{}, server_cpu_{};  ///< the server's CPU at the window's start, and over it
    std::int64_t client_cpu_start_ = 0, client_cpu_ns_ = 0;
};

void raise_fd_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
}

void usage() {
    std::fputs("usage: ws_load --mode echo|upgrades|idle --port P [--host 127.0.0.1] [--path /ws/echo]\n"
               "               [--conns N] [--size BYTES] [--inflight K] [--duration S] [--warmup S]\n"
               "               [--server-pid PID] [--label NAME] [--settle S] [--connect-concurrency N]\n"
               "               [--signal-server SIGNO]   (idle: signal the server after each RSS reading)\n",
               stderr);
    std::exit(2);
}

config parse(int argc, char** argv) {
    config c;
    for (int i = 1; i < argc; ++i) {
        std::string const a = argv[i];
        if (i + 1 >= argc) usage();
        std::string const v = argv[++i];
        if (a == "--mode") c.m = v == "echo" ? mode::echo : v == "upgrades" ? mode::upgrades : v == "idle" ? mode::idle : (usage(), mode::echo);
        else if (a == "--host") c.host = v;
        else if (a == "--port") c.port = std::stoi(v);
        else if (a == "--path") c.path = v;
        else if (a == "--conns") c.conns = std::stoul(v);
        else if (a == "--size") c.size = std::stoul(v);
        else if (a == "--inflight") c.inflight = std::stoul(v);
        else if (a == "--duration") c.duration = std::stod(v);
        else if (a == "--warmup") c.warmup = std::stod(v);
        else if (a == "--server-pid") c.server_pid = static_cast<pid_t>(std::stol(v));
        else if (a == "--label") c.label = v;
        else if (a == "--settle") c.settle = std::stod(v);
        else if (a == "--connect-concurrency") c.connect_concurrency = std::stoul(v);
        else if (a == "--signal-server") c.signal_server = std::stoi(v);
        else usage();
    }
    if (c.port <= 0 || c.conns == 0 || c.size == 0 || c.inflight == 0) usage();
    return c;
}

} // namespace
} // namespace ws_load

int main(int argc, char** argv) {
    auto c = ws_load::parse(argc, argv);
    ws_load::raise_fd_limit();
    ws_load::load_run run(std::move(c));
    run.run();
    return 0;
}
