#pragma once
// Child processes for integration tests: a long-running server whose stdout announces its port
// (server_process), and a one-shot command whose output and exit status are captured (run_command,
// used for curl). Everything is bounded by timeouts so a hung child fails a test instead of CTest's
// TIMEOUT killing the whole executable.
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace upshift::test {

/// How a child ended (decoded waitpid status).
struct process_exit {
    bool exited = false; ///< WIFEXITED: `code` is valid
    int code = -1;       ///< exit code when `exited`
    int signal = 0;      ///< terminating signal when !exited

    bool success() const noexcept { return exited && code == 0; }
    static process_exit from_wait_status(int status) noexcept;
};
std::ostream& operator<<(std::ostream& os, process_exit const& e);

/// Parses the port of the first "http://HOST:PORT" URL in `line` (upshift prints
/// "upshift listening on http://127.0.0.1:PORT"; python's http.server prints "(http://127.0.0.1:PORT/)").
std::optional<std::uint16_t> parse_url_port(std::string_view line);

/// The path of the upshift binary under test: $UPSHIFT_TEST_APP when set (to run the same tests against
/// another build or a stub), otherwise the UPSHIFT_APP_PATH compile definition.
std::string app_path();

/// Full path of `name` found on $PATH, or nullopt.
std::optional<std::string> find_program(std::string_view name);

struct spawn_options {
    std::vector<std::string> argv; ///< argv[0] is the program (a path, or a name looked up on $PATH)
    /// Called for each complete stdout line until it returns a port: that line means "ready".
    std::function<std::optional<std::uint16_t>(std::string_view line)> ready_line = parse_url_port;
    std::chrono::milliseconds ready_timeout{10'000};
    std::chrono::milliseconds kill_grace{3'000}; ///< destructor: SIGTERM, then SIGKILL after this
};

/// A child process whose stdout is a pipe drained by a background thread; stderr is inherited and
/// stdin is /dev/null. Construction waits (bounded) for the ready line; check ready() before use.
class server_process {
public:
    /// Spawns `app_path() serve --listen 127.0.0.1:0 <extra_args...>`.
    explicit server_process(std::vector<std::string> extra_args = {});
    /// Spawns any command (e.g. `python3 -u -m http.server 0 --bind 127.0.0.1`).
    explicit server_process(spawn_options opts);
    ~server_process();
    server_process(server_process const&) = delete;
    server_process& operator=(server_process const&) = delete;

    bool ready() const noexcept { return port_ != 0; }
    /// Why the process is not ready (spawn failure, early exit, no ready line in time).
    std::string const& error() const noexcept { return error_; }
    std::uint16_t port() const noexcept { return port_; }
    pid_t pid() const noexcept { return pid_; }
    /// Human-readable "127.0.0.1:PORT".
    std::string authority() const;

    /// Everything the child wrote to stdout so far (including the ready line).
    std::string output() const;
    /// Waits until output() contains `needle`; false on timeout.
    bool wait_output(std::string_view needle, std::chrono::milliseconds timeout) const;

    /// Sends `sig` to the child (no-op once it has been reaped).
    void terminate(int sig = SIGTERM);
    /// Waits for the child to exit; nullopt if it is still running after `timeout`. The status is
    /// cached, so later calls return it again.
    std::optional<process_exit> wait_exit(std::chrono::milliseconds timeout);

private:
    void start(spawn_options opts);
    void drain();

    pid_t pid_ = -1;
    int pidfd_ = -1;
    int stdout_fd_ = -1;
    int wake_rd_ = -1, wake_wr_ = -1; // wakes the drain thread at destruction
    std::uint16_t port_ = 0;
    std::string error_;
    std::chrono::milliseconds kill_grace_{3'000};
    std::optional<process_exit> exit_;

    mutable std::mutex mu_;
    mutable std::condition_variable cv_;
    std::string out_;      // guarded by mu_
    bool out_eof_ = false; // guarded by mu_
    std::thread drainer_;
};

/// Result of run_command.
struct command_result {
    std::optional<process_exit> exit; ///< nullopt: spawn failed or killed at the timeout
    std::string out;                  ///< stdout bytes
    std::string err;                  ///< stderr bytes
    bool timed_out = false;
};
std::ostream& operator<<(std::ostream& os, command_result const& r);

/// Runs argv (argv[0] looked up on $PATH) with stdin /dev/null, capturing stdout and stderr; SIGKILLs
/// it if it runs longer than `timeout`.
command_result run_command(std::vector<std::string> const& argv,
                           std::chrono::milliseconds timeout = std::chrono::seconds{30});

} // namespace upshift::test
