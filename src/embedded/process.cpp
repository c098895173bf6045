#include "process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string_view>
#include <system_error>

extern char** environ;

namespace sleet::detail::embedded {
namespace {

// ---- async-signal-safe helpers (used between fork and exec and in the watchdog) ----

void write_all(int fd, const char* s) noexcept
{
    std::size_t n = std::strlen(s);
    while (n > 0) {
        ssize_t w = ::write(fd, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        s += w;
        n -= static_cast<std::size_t>(w);
    }
}

void close_from(int first, int except = -1) noexcept
{
    // close_range(2) exists since Linux 5.9; fall back to a bounded loop.
    auto close_span = [](unsigned lo, unsigned hi) {
        if (lo > hi) return;
        if (::syscall(SYS_close_range, lo, hi, 0u) == 0) return;
        long max = ::sysconf(_SC_OPEN_MAX);
        if (max < 0 || max > 65536) max = 65536;
        for (long fd = lo; fd < max && static_cast<unsigned long>(fd) <= hi; ++fd) ::close(static_cast<int>(fd));
    };
    if (except >= first) {
        if (except > first) close_span(static_cast<unsigned>(first), static_cast<unsigned>(except - 1));
        close_span(static_cast<unsigned>(except + 1), ~0u);
    } else {
        close_span(static_cast<unsigned>(first), ~0u);
    }
}

void sleep_ms(long ms) noexcept
{
    timespec ts{ms / 1000, (ms % 1000) * 1000000L};
    while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/// Waits up to `ms` for `pid` to disappear.
bool wait_gone(pid_t pid, long ms) noexcept
{
    for (long waited = 0; waited <= ms; waited += 20) {
        if (process_gone(pid)) return true;
        sleep_ms(20);
    }
    return process_gone(pid);
}

bool is_dot(const char* name) noexcept
{
    return (name[0] == '.' && name[1] == '\0') || (name[0] == '.' && name[1] == '.' && name[2] == '\0');
}

// Removes `name` (relative to dirfd) and, if it is a directory, everything below it. Uses
// getdents64 directly: opendir/readdir allocate, which a forked child of a threaded process
// must not do.
bool remove_at(int dirfd, const char* name, int depth) noexcept
{
    if (::unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return true;
    if (errno != EISDIR && errno != EPERM) return false; // Linux reports EISDIR for directories
    if (depth > 64) return false;
    int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return false;
    // Deleting while listing can make getdents skip entries: rescan until a pass removes nothing.
    for (int pass = 0; pass < 64; ++pass) {
        bool removed_any = false;
        ::lseek(fd, 0, SEEK_SET);
        alignas(8) char buf[2048];
        for (;;) {
            long n = ::syscall(SYS_getdents64, fd, buf, sizeof buf);
            if (n <= 0) break;
            for (long off = 0; off < n;) {
                // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
                unsigned short reclen = 0;
                std::memcpy(&reclen, buf + off + 16, sizeof reclen);
                const char* entry = buf + off + 19;
                off += reclen;
                if (reclen == 0) break;
                if (is_dot(entry)) continue;
                if (remove_at(fd, entry, depth + 1)) removed_any = true;
            }
        }
        if (!removed_any) break;
    }
    ::close(fd);
    return ::unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT;
}

std::vector<std::string> clean_environment()
{
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) {
        std::string_view v(*e);
        if (v.starts_with("PG") || v.starts_with("LC_") || v.starts_with("LANG=") || v.starts_with("LANGUAGE="))
            continue;
        env.emplace_back(v);
    }
    env.emplace_back("LC_ALL=C");
    return env;
}

std::vector<char*> c_array(std::vector<std::string>& v)
{
    std::vector<char*> out;
    out.reserve(v.size() + 1);
    for (auto& s : v) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

[[noreturn]] void child_fail(const char* what) noexcept
{
    int e = errno;
    write_all(2, "sleet::embedded_postgres: ");
    write_all(2, what);
    write_all(2, ": ");
    write_all(2, std::strerror(e)); // glibc's strerror is fine for known errno values
    write_all(2, "\n");
    ::_exit(127);
}

} // namespace

pid_t spawn(const std::vector<std::string>& argv, const spawn_options& opts)
{
    // Everything the child needs is prepared before fork.
    std::vector<std::string> args = argv;
    std::vector<std::string> env = clean_environment();
    std::vector<char*> cargv = c_array(args);
    std::vector<char*> cenv = c_array(env);
    std::string cwd = opts.cwd.empty() ? std::string("/") : opts.cwd;
    int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) throw std::system_error(errno, std::generic_category(), "open /dev/null");

    pid_t pid = ::fork();
    if (pid < 0) {
        int e = errno;
        ::close(devnull);
        throw std::system_error(e, std::generic_category(), "fork");
    }
    if (pid == 0) {
        int in = opts.stdin_fd >= 0 ? opts.stdin_fd : devnull;
        int out = opts.stdout_fd >= 0 ? opts.stdout_fd : devnull;
        int err = opts.stderr_fd >= 0 ? opts.stderr_fd : out;
        // Move the sources above 2 first so that the dup2 calls cannot clobber each other.
        in = ::fcntl(in, F_DUPFD, 10);
        out = ::fcntl(out, F_DUPFD, 10);
        err = ::fcntl(err, F_DUPFD, 10);
        if (in < 0 || out < 0 || err < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0)
            ::_exit(127);
        close_from(3);
        sigset_t all;
        sigemptyset(&all);
        ::sigprocmask(SIG_SETMASK, &all, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        if (opts.user && opts.user->enabled) {
            gid_t g = opts.user->gid;
            if (::setgroups(1, &g) != 0) child_fail("setgroups");
            if (::setgid(opts.user->gid) != 0) child_fail("setgid");
            if (::setuid(opts.user->uid) != 0) child_fail("setuid");
        }
        if (::chdir(cwd.c_str()) != 0) child_fail("chdir");
        ::execve(cargv[0], cargv.data(), cenv.data());
        child_fail(cargv[0]);
    }
    ::close(devnull);
    return pid;
}

int wait_exit(pid_t pid)
{
    int status = 0;
    for (;;) {
        pid_t r = ::waitpid(pid, &status, 0);
        if (r == pid) break;
        if (r < 0 && errno == EINTR) continue;
        return -1; // ECHILD: the owner ignores SIGCHLD; the status is lost
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

int run(const std::vector<std::string>& argv, const spawn_options& opts) { return wait_exit(spawn(argv, opts)); }

std::pair<int, std::string> run_capture(const std::vector<std::string>& argv)
{
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
    spawn_options o;
    o.stdout_fd = fds[1];
    pid_t pid;
    try {
        pid = spawn(argv, o);
    } catch (...) {
        ::close(fds[0]);
        ::close(fds[1]);
        throw;
    }
    ::close(fds[1]);
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    return {wait_exit(pid), std::move(out)};
}

std::string command_line(const std::vector<std::string>& argv)
{
    std::string s;
    for (const auto& a : argv) {
        if (!s.empty()) s += ' ';
        if (!a.empty() && a.find_first_of(" \t'\"\\$") == std::string::npos) {
            s += a;
        } else {
            s += '\'';
            for (char c : a) s += c == '\'' ? std::string("'\\''") : std::string(1, c);
            s += '\'';
        }
    }
    return s;
}

bool process_gone(pid_t pid) noexcept
{
    if (pid <= 0) return true;
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
    // A zombie still answers kill(pid, 0); its state in /proc/<pid>/stat is 'Z' (or 'X').
    char path[64] = "/proc/";
    char digits[24];
    int n = 0;
    for (long v = pid; v > 0; v /= 10) digits[n++] = static_cast<char>('0' + v % 10);
    char* p = path + 6;
    while (n > 0) *p++ = digits[--n];
    std::memcpy(p, "/stat", 6);
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT;
    char buf[512];
    ssize_t r = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (r <= 0) return false;
    buf[r] = '\0';
    const char* close_paren = nullptr;
    for (ssize_t i = 0; i < r; ++i)
        if (buf[i] == ')') close_paren = buf + i; // the comm field may itself contain ')'
    if (!close_paren || close_paren[1] != ' ') return false;
    char state = close_paren[2];
    return state == 'Z' || state == 'X';
}

pid_t read_postmaster_pid(const char* pid_file) noexcept
{
    int fd = ::open(pid_file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    char buf[32];
    ssize_t r = ::read(fd, buf, sizeof buf);
    ::close(fd);
    long v = 0;
    bool any = false;
    for (ssize_t i = 0; i < r && buf[i] >= '0' && buf[i] <= '9'; ++i) {
        v = v * 10 + (buf[i] - '0');
        any = true;
        if (v > 1L << 30) return -1;
    }
    return any && v > 0 ? static_cast<pid_t>(v) : -1;
}

bool remove_tree(const char* path) noexcept { return remove_at(AT_FDCWD, path, 0); }

void watchdog::start(const std::string& base_dir, const std::string& pid_file)
{
    // Copies made before fork: the child must not allocate.
    std::string base = base_dir;
    std::string pidf = pid_file;
    int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) throw std::system_error(errno, std::generic_category(), "open /dev/null");
    // A socket pair rather than a pipe: send(MSG_NOSIGNAL) cannot raise SIGPIPE in the owner.
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        int e = errno;
        ::close(devnull);
        throw std::system_error(e, std::generic_category(), "socketpair");
    }
    pid_t pid = ::fork();
    if (pid < 0) {
        int e = errno;
        ::close(sv[0]);
        ::close(sv[1]);
        ::close(devnull);
        throw std::system_error(e, std::generic_category(), "fork");
    }
    if (pid == 0) {
        // Own session: a terminal's Ctrl-C or a killed process group must not take the
        // watchdog down together with its owner.
        ::setsid();
        ::prctl(PR_SET_NAME, "sleet-pg-watch", 0, 0, 0);
        ::signal(SIGINT, SIG_IGN);
        ::signal(SIGHUP, SIG_IGN);
        ::signal(SIGPIPE, SIG_IGN);
        // Its argv is the owner's, so `pkill -f <test binary>` (or a harness killing a hung
        // test by name) would match it too: it ignores SIGTERM and leaves only when its owner
        // is gone, after cleaning up. (SIGKILL of the watchdog itself cannot be handled.)
        ::signal(SIGTERM, SIG_IGN);
        sigset_t all;
        sigemptyset(&all);
        ::sigprocmask(SIG_SETMASK, &all, nullptr);
        int fd = ::fcntl(sv[1], F_DUPFD, 10);
        if (fd < 0) ::_exit(1);
        ::dup2(devnull, 0);
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
        // Hold nothing of the owner's (pipes a script reads to EOF, listening sockets ...).
        close_from(3, fd);
        char c = 0;
        ssize_t n;
        do {
            n = ::recv(fd, &c, 1, 0);
        } while (n < 0 && errno == EINTR);
        if (n == 1) ::_exit(0); // disarmed: the owner cleaned up itself
        // The owner is gone: immediate shutdown (SIGQUIT), then SIGKILL; then remove the files.
        pid_t pm = read_postmaster_pid(pidf.c_str());
        if (pm > 0) {
            ::kill(pm, SIGQUIT);
            if (!wait_gone(pm, 10000)) {
                ::kill(pm, SIGKILL);
                wait_gone(pm, 5000);
            }
        }
        remove_tree(base.c_str());
        ::_exit(0);
    }
    ::close(sv[1]);
    ::close(devnull);
    pid_ = pid;
    fd_ = sv[0];
}

void watchdog::release(bool cleaned) noexcept
{
    if (fd_ >= 0) {
        if (cleaned) {
            char c = 'x';
            (void)::send(fd_, &c, 1, MSG_NOSIGNAL);
        }
        ::close(fd_);
        fd_ = -1;
    }
    if (pid_ > 0) {
        int status;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {}
        pid_ = -1;
    }
}

} // namespace sleet::detail::embedded
