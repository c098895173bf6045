// Internal to sleet_embedded: child processes, the crash watchdog and tree removal.
// Everything that runs in a forked child before exec (or in the watchdog, which never execs)
// uses only async-signal-safe system calls, because the owner may have other threads.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace sleet::detail::embedded {

/// Identity to switch to in the child (used when running as root).
struct run_as {
    bool enabled = false;
    uid_t uid = 0;
    gid_t gid = 0;
    std::string name;
};

struct spawn_options {
    int stdin_fd = -1;  ///< -1: /dev/null
    int stdout_fd = -1; ///< -1: /dev/null
    int stderr_fd = -1; ///< -1: same as stdout
    const run_as* user = nullptr;
    std::string cwd;    ///< empty: "/"
};

/// Starts argv[0] (an absolute path) with a cleaned environment (no PG*, LANG or LC_*
/// variables; LC_ALL=C) and all descriptors but 0-2 closed. Throws std::system_error if fork fails.
pid_t spawn(const std::vector<std::string>& argv, const spawn_options& opts);
/// Waits for `pid`; returns its exit code, or 128 + signal number when it was killed.
int wait_exit(pid_t pid);
/// spawn + wait_exit.
int run(const std::vector<std::string>& argv, const spawn_options& opts);
/// Runs argv and returns {exit code, stdout}.
std::pair<int, std::string> run_capture(const std::vector<std::string>& argv);

/// "a b 'c d'" for messages.
std::string command_line(const std::vector<std::string>& argv);

/// True when `pid` no longer exists or is a zombie. Async-signal-safe.
bool process_gone(pid_t pid) noexcept;
/// First line of <data_dir>/postmaster.pid as a pid, or -1. Async-signal-safe.
pid_t read_postmaster_pid(const char* pid_file) noexcept;
/// Removes a directory tree (does not follow symlinks). Async-signal-safe. True on success.
bool remove_tree(const char* path) noexcept;

/// The crash watchdog: a forked child that waits on a socket whose other end the owner holds.
/// When the owner disarms it, it exits; when the owner dies (the socket reaches EOF), it stops
/// the postmaster named in <data_dir>/postmaster.pid (SIGQUIT, then SIGKILL) and removes base_dir.
class watchdog {
public:
    watchdog() = default;
    watchdog(const watchdog&) = delete;
    watchdog& operator=(const watchdog&) = delete;
    ~watchdog() { release(false); }

    /// Forks the watchdog. Throws std::system_error on failure.
    void start(const std::string& base_dir, const std::string& pid_file);
    /// cleaned = true: the owner already removed everything, the watchdog just exits;
    /// false: the watchdog does its cleanup. Waits for the watchdog to exit. Idempotent.
    void release(bool cleaned) noexcept;
    pid_t pid() const noexcept { return pid_; }

private:
    pid_t pid_ = -1;
    int fd_ = -1;
};

} // namespace sleet::detail::embedded
