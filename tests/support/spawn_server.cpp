#include "support/spawn_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <utility>

extern char** environ;

namespace upshift::test {
namespace {

using clock = std::chrono::steady_clock;

int remaining_ms(clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0) return 0;
    return left > 1'000'000 ? 1'000'000 : static_cast<int>(left);
}

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

// A pidfd turns "the child exited" into a pollable event, so waits need no sleep loop.
int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
    long fd = ::syscall(SYS_pidfd_open, pid, 0);
    return fd < 0 ? -1 : static_cast<int>(fd);
#else
    (void)pid;
    return -1;
#endif
}

// Waits until `pid` has exited (or the deadline passes) and reaps it.
std::optional<process_exit> reap(pid_t pid, int pidfd, clock::time_point deadline) {
    for (;;) {
        int status = 0;
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return process_exit::from_wait_status(status);
        if (r < 0 && errno != EINTR) return process_exit{}; // not our child any more: report as unknown
        int left = remaining_ms(deadline);
        if (left == 0) return std::nullopt;
        if (pidfd >= 0) {
            pollfd p{pidfd, POLLIN, 0};
            ::poll(&p, 1, left);
        } else {
            // Kernel without pidfd_open: fall back to short polling of waitpid.
            ::usleep(5'000);
        }
    }
}

struct spawn_plumbing {
    posix_spawn_file_actions_t actions{};
    posix_spawnattr_t attr{};
    spawn_plumbing() {
        ::posix_spawn_file_actions_init(&actions);
        ::posix_spawnattr_init(&attr);
        // The child starts like one launched by a shell: default dispositions for the signals the
        // tests use (SIGPIPE is ignored in this process) and nothing blocked.
        sigset_t defaults;
        sigemptyset(&defaults);
        for (int s : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&defaults, s);
        ::posix_spawnattr_setsigdefault(&attr, &defaults);
        sigset_t none;
        sigemptyset(&none);
        ::posix_spawnattr_setsigmask(&attr, &none);
        ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
        ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    }
    ~spawn_plumbing() {
        ::posix_spawn_file_actions_destroy(&actions);
        ::posix_spawnattr_destroy(&attr);
    }
    spawn_plumbing(spawn_plumbing const&) = delete;
    spawn_plumbing& operator=(spawn_plumbing const&) = delete;
};

// posix_spawnp wants a mutable, null-terminated char* array.
struct c_argv {
    std::vector<std::string> storage;
    std::vector<char*> ptrs;
    explicit c_argv(std::vector<std::string> const& argv) : storage(argv) {
        for (auto& s : storage) ptrs.push_back(s.data());
        ptrs.push_back(nullptr);
    }
};

// The tests write to sockets the server may have closed; they want EPIPE, not death.
void ignore_sigpipe_once() {
    static bool const done = [] {
        std::signal(SIGPIPE, SIG_IGN);
        return true;
    }();
    (void)done;
}

} // namespace

process_exit process_exit::from_wait_status(int status) noexcept {
    process_exit e;
    if (WIFEXITED(status)) {
        e.exited = true;
        e.code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        e.signal = WTERMSIG(status);
    }
    return e;
}

std::ostream& operator<<(std::ostream& os, process_exit const& e) {
    if (e.exited) return os << "exited with code " << e.code;
    if (e.signal != 0) return os << "killed by signal " << e.signal << " (" << ::strsignal(e.signal) << ")";
    return os << "unknown exit";
}

std::optional<std::uint16_t> parse_url_port(std::string_view line) {
    auto at = line.find("http://");
    if (at == std::string_view::npos) return std::nullopt;
    auto rest = line.substr(at + 7);
    // Skip the host (an IPv6 literal is bracketed and contains colons).
    std::size_t colon;
    if (!rest.empty() && rest.front() == '[') {
        auto close = rest.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        colon = close + 1;
    } else {
        colon = rest.find_first_of(":/ )");
    }
    if (colon >= rest.size() || rest[colon] != ':') return std::nullopt;
    unsigned long port = 0;
    std::size_t i = colon + 1;
    std::size_t digits = 0;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9' && digits < 6) {
        port = port * 10 + static_cast<unsigned long>(rest[i] - '0');
        ++i;
        ++digits;
    }
    if (digits == 0 || port == 0 || port > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(port);
}

std::string app_path() {
    if (char const* env = std::getenv("UPSHIFT_TEST_APP"); env != nullptr && *env != '\0') return env;
    return UPSHIFT_APP_PATH;
}

std::optional<std::string> find_program(std::string_view name) {
    if (name.find('/') != std::string_view::npos) {
        std::string p{name};
        if (::access(p.c_str(), X_OK) == 0) return p;
        return std::nullopt;
    }
    char const* path = std::getenv("PATH");
    std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
    while (!dirs.empty()) {
        auto sep = dirs.find(':');
        auto dir = dirs.substr(0, sep);
        dirs = sep == std::string_view::npos ? std::string_view{} : dirs.substr(sep + 1);
        if (dir.empty()) dir = ".";
        std::string candidate = std::string{dir} + "/" + std::string{name};
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return std::nullopt;
}

server_process::server_process(std::vector<std::string> extra_args) {
    spawn_options opts;
    opts.argv = {app_path(), "serve", "--listen", "127.0.0.1:0"};
    for (auto& a : extra_args) opts.argv.push_back(std::move(a));
    start(std::move(opts));
}

server_process::server_process(spawn_options opts) { start(std::move(opts)); }

void server_process::start(spawn_options opts) {
    ignore_sigpipe_once();
    kill_grace_ = opts.kill_grace;
    if (opts.argv.empty()) {
        error_ = "spawn: empty argv";
        return;
    }
    std::array<int, 2> out{-1, -1};
    std::array<int, 2> wake{-1, -1};
    // O_CLOEXEC on both pipes: a second child must not inherit this child's stdout write end, or
    // the drain thread would never see EOF.
    if (::pipe2(out.data(), O_CLOEXEC) != 0 || ::pipe2(wake.data(), O_CLOEXEC) != 0) {
        error_ = std::string{"pipe2: "} + std::strerror(errno);
        for (int fd : out)
            if (fd >= 0) ::close(fd);
        for (int fd : wake)
            if (fd >= 0) ::close(fd);
        return;
    }
    stdout_fd_ = out[0];
    wake_rd_ = wake[0];
    wake_wr_ = wake[1];

    spawn_plumbing plumbing;
    ::posix_spawn_file_actions_adddup2(&plumbing.actions, out[1], 1); // dup2 clears FD_CLOEXEC
    c_argv argv{opts.argv};
    pid_t pid = -1;
    int rc = ::posix_spawnp(&pid, argv.ptrs[0], &plumbing.actions, &plumbing.attr, argv.ptrs.data(), environ);
    ::close(out[1]);
    if (rc != 0) {
        error_ = "posix_spawnp(" + opts.argv[0] + "): " + std::strerror(rc);
        close_fd(stdout_fd_);
        close_fd(wake_rd_);
        close_fd(wake_wr_);
        return;
    }
    pid_ = pid;
    pidfd_ = open_pidfd(pid);
    drainer_ = std::thread{[this] { drain(); }};

    // Wait for the ready line, scanning only complete lines.
    auto deadline = clock::now() + opts.ready_timeout;
    std::unique_lock lock{mu_};
    std::size_t scanned = 0;
    for (;;) {
        std::size_t nl;
        while ((nl = out_.find('\n', scanned)) != std::string::npos) {
            std::string_view line{out_.data() + scanned, nl - scanned};
            scanned = nl + 1;
            if (auto p = opts.ready_line(line)) {
                port_ = *p;
                return;
            }
        }
        if (out_eof_) break;
        if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) break;
    }
    std::string seen = out_;
    bool eof = out_eof_;
    lock.unlock();
    error_ = "no ready line from '" + opts.argv[0] + "' ";
    if (eof) {
        auto st = wait_exit(std::chrono::seconds{2});
        error_ += "(stdout closed";
        if (st) {
            std::ostringstream os;
            os << ", " << *st;
            error_ += os.str();
        }
        error_ += ")";
    } else {
        error_ += "within " + std::to_string(opts.ready_timeout.count()) +
                  " ms (is the line written with a newline and stdout flushed?)";
    }
    error_ += "; stdout so far: [" + seen + "]";
}

void server_process::drain() {
    std::array<char, 16 * 1024> buf{};
    for (;;) {
        std::array<pollfd, 2> p{{{stdout_fd_, POLLIN, 0}, {wake_rd_, POLLIN, 0}}};
        int n = ::poll(p.data(), p.size(), -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (p[1].revents != 0) break;
        if (p[0].revents == 0) continue;
        ssize_t r = ::read(stdout_fd_, buf.data(), buf.size());
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        std::lock_guard lock{mu_};
        out_.append(buf.data(), static_cast<std::size_t>(r));
        cv_.notify_all();
    }
    std::lock_guard lock{mu_};
    out_eof_ = true;
    cv_.notify_all();
}

std::string server_process::authority() const { return "127.0.0.1:" + std::to_string(port_); }

std::string server_process::output() const {
    std::lock_guard lock{mu_};
    return out_;
}

bool server_process::wait_output(std::string_view needle, std::chrono::milliseconds timeout) const {
    std::unique_lock lock{mu_};
    return cv_.wait_for(lock, timeout, [&] { return out_.find(needle) != std::string::npos || out_eof_; }) &&
           out_.find(needle) != std::string::npos;
}

void server_process::terminate(int sig) {
    if (pid_ > 0 && !exit_) ::kill(pid_, sig);
}

std::optional<process_exit> server_process::wait_exit(std::chrono::milliseconds timeout) {
    if (exit_) return exit_;
    if (pid_ <= 0) return std::nullopt;
    exit_ = reap(pid_, pidfd_, clock::now() + timeout);
    return exit_;
}

server_process::~server_process() {
    if (pid_ > 0 && !exit_) {
        ::kill(pid_, SIGTERM);
        if (!wait_exit(kill_grace_)) {
            ::kill(pid_, SIGKILL);
            wait_exit(std::chrono::seconds{10});
        }
    }
    if (drainer_.joinable()) {
        // The child is gone, but a grandchild could still hold the pipe: wake the thread explicitly.
        char c = 'x';
        [[maybe_unused]] auto w = ::write(wake_wr_, &c, 1);
        drainer_.join();
    }
    close_fd(pidfd_);
    close_fd(stdout_fd_);
    close_fd(wake_rd_);
    close_fd(wake_wr_);
}

std::ostream& operator<<(std::ostream& os, command_result const& r) {
    os << "[";
    if (r.timed_out) os << "timed out, ";
    if (r.exit)
        os << *r.exit;
    else
        os << "not run";
    os << "] stderr: " << r.err;
    return os;
}

command_result run_command(std::vector<std::string> const& argv, std::chrono::milliseconds timeout) {
    ignore_sigpipe_once();
    command_result result;
    if (argv.empty()) {
        result.err = "run_command: empty argv";
        return result;
    }
    std::array<int, 2> out{-1, -1};
    std::array<int, 2> err{-1, -1};
    if (::pipe2(out.data(), O_CLOEXEC) != 0 || ::pipe2(err.data(), O_CLOEXEC) != 0) {
        result.err = std::string{"pipe2: "} + std::strerror(errno);
        for (int fd : out)
            if (fd >= 0) ::close(fd);
        for (int fd : err)
            if (fd >= 0) ::close(fd);
        return result;
    }
    spawn_plumbing plumbing;
    ::posix_spawn_file_actions_adddup2(&plumbing.actions, out[1], 1);
    ::posix_spawn_file_actions_adddup2(&plumbing.actions, err[1], 2);
    c_argv cargv{argv};
    pid_t pid = -1;
    int rc =
        ::posix_spawnp(&pid, cargv.ptrs[0], &plumbing.actions, &plumbing.attr, cargv.ptrs.data(), environ);
    ::close(out[1]);
    ::close(err[1]);
    if (rc != 0) {
        result.err = "posix_spawnp(" + argv[0] + "): " + std::strerror(rc);
        ::close(out[0]);
        ::close(err[0]);
        return result;
    }
    int pidfd = open_pidfd(pid);
    auto deadline = clock::now() + timeout;
    std::array<int, 2> fds{out[0], err[0]};
    std::array<std::string*, 2> sinks{&result.out, &result.err};
    std::array<char, 16 * 1024> buf{};
    int open_count = 2;
    while (open_count > 0) {
        std::array<pollfd, 2> p{{{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}}};
        int left = remaining_ms(deadline);
        if (left == 0) {
            result.timed_out = true;
            break;
        }
        int n = ::poll(p.data(), p.size(), left);
        if (n < 0 && errno != EINTR) break;
        for (std::size_t i = 0; i < 2; ++i) {
            if (fds[i] < 0 || p[i].revents == 0) continue;
            ssize_t r = ::read(fds[i], buf.data(), buf.size());
            if (r > 0) {
                sinks[i]->append(buf.data(), static_cast<std::size_t>(r));
            } else if (r == 0 || errno != EINTR) {
                ::close(fds[i]);
                fds[i] = -1; // poll ignores negative fds
                --open_count;
            }
        }
    }
    for (int fd : fds)
        if (fd >= 0) ::close(fd);
    if (result.timed_out) {
        ::kill(pid, SIGKILL);
        reap(pid, pidfd, clock::now() + std::chrono::seconds{10});
    } else {
        result.exit = reap(pid, pidfd, clock::now() + std::max(timeout, std::chrono::milliseconds{1'000}));
        if (!result.exit) {
            result.timed_out = true;
            ::kill(pid, SIGKILL);
            reap(pid, pidfd, clock::now() + std::chrono::seconds{10});
        }
    }
    if (pidfd >= 0) ::close(pidfd);
    return result;
}

} // namespace upshift::test
