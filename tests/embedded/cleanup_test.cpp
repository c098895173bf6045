// sleet::embedded_postgres cleanup guarantees: destructor, stop(), process exit without
// destructor (atexit), and a crashing owner (SIGKILL, abort: the watchdog).
#include "pg_probe.hpp"

#include <sleet/embedded_postgres.hpp>

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <functional>

namespace {

using sleet::embedded_postgres;

struct child_report {
    std::string base_dir;
    int postmaster_pid = -1;
    int wait_status = 0;
};

// Forks a child that creates a server, reports its directory and postmaster pid through a
// pipe, then ends the way `finish` says. The parent waits for the child and returns the report.
child_report run_owner_child(const std::function<void(embedded_postgres*)>& finish)
{
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    pid_t child = ::fork();
    if (child < 0) throw std::runtime_error("fork");
    if (child == 0) {
        ::close(fds[0]);
        rlimit no_core{0, 0};
        ::setrlimit(RLIMIT_CORE, &no_core); // abort() should not leave a core file behind
        try {
            auto* pg = new embedded_postgres(); // deliberately leaked: no destructor runs
            std::string msg = pg->base_dir() + "\n" + std::to_string(pg->postmaster_pid()) + "\n";
            if (::write(fds[1], msg.data(), msg.size()) != static_cast<ssize_t>(msg.size())) ::_exit(3);
            ::close(fds[1]);
            finish(pg);
        } catch (const std::exception& e) {
            std::string msg = std::string("error: ") + e.what() + "\n";
            (void)!::write(fds[1], msg.data(), msg.size());
            ::_exit(2);
        }
        ::_exit(4);
    }
    ::close(fds[1]);
    std::string out;
    char buf[512];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    child_report r;
    ::waitpid(child, &r.wait_status, 0);
    auto nl = out.find('\n');
    if (out.rfind("error: ", 0) == 0 || nl == std::string::npos) throw std::runtime_error("child failed: " + out);
    r.base_dir = out.substr(0, nl);
    r.postmaster_pid = std::stoi(out.substr(nl + 1));
    return r;
}

// Our children named sleet-pg-watch (comm is the second field of /proc/<pid>/stat).
int watchdog_children()
{
    int n = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
        std::string stat = probe::slurp(e.path().string() + "/stat");
        auto open = stat.find('('), close = stat.rfind(')');
        if (open == std::string::npos || close == std::string::npos) continue;
        std::string comm = stat.substr(open + 1, close - open - 1);
        int ppid = std::atoi(stat.c_str() + close + 4); // ") S <ppid>"
        if (comm == "sleet-pg-watch" && ppid == ::getpid()) ++n;
    }
    return n;
}

// The pid of our child watchdog, or -1.
int watchdog_child_pid()
{
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
        std::string stat = probe::slurp(e.path().string() + "/stat");
        auto open = stat.find('('), close = stat.rfind(')');
        if (open == std::string::npos || close == std::string::npos) continue;
        int ppid = std::atoi(stat.c_str() + close + 4);
        if (stat.substr(open + 1, close - open - 1) == "sleet-pg-watch" && ppid == ::getpid())
            return std::atoi(e.path().filename().c_str());
    }
    return -1;
}

TEST(EmbeddedPostgresCleanup, AWatchdogRunsWhileTheServerDoes)
{
    embedded_postgres pg;
    EXPECT_EQ(watchdog_children(), 1);
}

TEST(EmbeddedPostgresCleanup, DestructorStopsTheServerAndRemovesTheDirectory)
{
    std::string base;
    int pid;
    {
        embedded_postgres pg;
        base = pg.base_dir();
        pid = pg.postmaster_pid();
        ASSERT_TRUE(probe::exists(base));
        ASSERT_FALSE(probe::process_gone(pid));
    }
    // Synchronous: gone when the destructor returns.
    EXPECT_TRUE(probe::process_gone(pid));
    EXPECT_FALSE(probe::exists(base));
    // The watchdog was told and reaped: no sleet-pg-watch child is left.
    EXPECT_EQ(watchdog_children(), 0);
}

TEST(EmbeddedPostgresCleanup, StopIsIdempotentAndKeepsTheAccessors)
{
    embedded_postgres pg;
    const std::string base = pg.base_dir();
    const auto port = pg.port();
    const int pid = pg.postmaster_pid();
    pg.stop();
    EXPECT_TRUE(probe::process_gone(pid));
    EXPECT_FALSE(probe::exists(base));
    EXPECT_FALSE(pg.running());
    EXPECT_EQ(pg.log(), "");
    EXPECT_EQ(pg.port(), port);
    EXPECT_EQ(pg.base_dir(), base);
    pg.stop();
    pg.stop_server();
    // What the user sees when restarting a stopped server.
    try {
        pg.start_server();
        FAIL() << "expected embedded_postgres_error";
    } catch (const sleet::embedded_postgres_error& e) {
        EXPECT_STREQ(e.what(), "sleet::embedded_postgres: start_server() after stop(): the data directory is gone");
    }
}

TEST(EmbeddedPostgresCleanup, StdExitWithoutDestructorCleansUpBeforeTheProcessEnds)
{
    child_report r = run_owner_child([](embedded_postgres*) { std::exit(0); });
    ASSERT_TRUE(WIFEXITED(r.wait_status));
    EXPECT_EQ(WEXITSTATUS(r.wait_status), 0);
    // The atexit handler stopped the server synchronously: no waiting needed.
    EXPECT_TRUE(probe::process_gone(r.postmaster_pid));
    EXPECT_FALSE(probe::exists(r.base_dir)) << r.base_dir;
}

TEST(EmbeddedPostgresCleanup, SigkilledOwnerIsCleanedUpByTheWatchdog)
{
    child_report r = run_owner_child([](embedded_postgres*) { ::raise(SIGKILL); });
    ASSERT_TRUE(WIFSIGNALED(r.wait_status));
    EXPECT_EQ(WTERMSIG(r.wait_status), SIGKILL);
    EXPECT_TRUE(probe::eventually([&] { return probe::process_gone(r.postmaster_pid); }));
    EXPECT_TRUE(probe::eventually([&] { return !probe::exists(r.base_dir); })) << r.base_dir;
}

TEST(EmbeddedPostgresCleanup, WatchdogSurvivesSigtermAimedAtItsOwnerByNameAndStillCleansUp)
{
    // A harness that kills a hung test by name (`pkill -f <binary>`) sends SIGTERM to the
    // watchdog too (it carries the owner's argv). It must ignore that and still clean up when
    // the owner dies.
    child_report r = run_owner_child([](embedded_postgres*) {
        const int w = watchdog_child_pid();
        if (w <= 0) ::_exit(5);
        ::kill(w, SIGTERM);
        ::usleep(200 * 1000);
        if (::kill(w, 0) != 0) ::_exit(6);  // the watchdog died of SIGTERM
        ::raise(SIGKILL);
    });
    ASSERT_TRUE(WIFSIGNALED(r.wait_status)) << "child exit status " << (WIFEXITED(r.wait_status) ? WEXITSTATUS(r.wait_status) : -1);
    EXPECT_TRUE(probe::eventually([&] { return probe::process_gone(r.postmaster_pid); }));
    EXPECT_TRUE(probe::eventually([&] { return !probe::exists(r.base_dir); })) << r.base_dir;
}

TEST(EmbeddedPostgresCleanup, AbortingOwnerIsCleanedUpByTheWatchdog)
{
    child_report r = run_owner_child([](embedded_postgres*) { std::abort(); });
    ASSERT_TRUE(WIFSIGNALED(r.wait_status));
    EXPECT_EQ(WTERMSIG(r.wait_status), SIGABRT);
    EXPECT_TRUE(probe::eventually([&] { return probe::process_gone(r.postmaster_pid); }));
    EXPECT_TRUE(probe::eventually([&] { return !probe::exists(r.base_dir); })) << r.base_dir;
}

TEST(EmbeddedPostgresCleanup, QuickExitIsCleanedUpByTheWatchdog)
{
    // _exit skips atexit handlers: the watchdog notices the closed socket.
    child_report r = run_owner_child([](embedded_postgres*) { ::_exit(0); });
    ASSERT_TRUE(WIFEXITED(r.wait_status));
    EXPECT_TRUE(probe::eventually([&] { return probe::process_gone(r.postmaster_pid); }));
    EXPECT_TRUE(probe::eventually([&] { return !probe::exists(r.base_dir); })) << r.base_dir;
}

TEST(EmbeddedPostgresCleanup, AForkedChildDoesNotStopTheParentsServer)
{
    embedded_postgres pg;
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // exit() runs the atexit handler, and the inherited object is alive in the child.
        std::exit(0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_TRUE(pg.running());
    EXPECT_TRUE(probe::exists(pg.data_dir()));
    EXPECT_EQ(probe::ssl_answer(pg.host(), pg.port()), 'N');
}

} // namespace
