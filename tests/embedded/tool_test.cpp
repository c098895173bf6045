// The sleet-embedded-pg tool (tools/sleet-pg/main.cpp) as scripts use it: first stdout line is
// the URL; it stops and cleans up when stdin closes or on SIGTERM.
#include "pg_probe.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>

#include <climits>
#include <vector>

namespace {

std::string tool_path()
{
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return {};
    std::string self(buf, static_cast<std::size_t>(n));
    return self.substr(0, self.rfind('/')) + "/sleet-embedded-pg";
}

struct tool_process {
    pid_t pid = -1;
    int in = -1;  // write end of the tool's stdin
    int out = -1; // read end of its stdout
    int err = -1; // read end of its stderr

    ~tool_process()
    {
        for (int fd : {in, out, err})
            if (fd >= 0) ::close(fd); // closing stdin asks the tool to stop
        if (pid > 0) {
            for (int i = 0; i < 200 && ::waitpid(pid, nullptr, WNOHANG) == 0; ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            if (::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
        }
    }

    static std::unique_ptr<tool_process> start(const std::vector<std::string>& args)
    {
        int i[2], o[2], e[2];
        if (::pipe2(i, O_CLOEXEC) || ::pipe2(o, O_CLOEXEC) || ::pipe2(e, O_CLOEXEC)) throw std::runtime_error("pipe");
        std::string path = tool_path();
        std::vector<std::string> argv{path};
        argv.insert(argv.end(), args.begin(), args.end());
        std::vector<char*> cargv;
        for (auto& a : argv) cargv.push_back(a.data());
        cargv.push_back(nullptr);
        auto t = std::make_unique<tool_process>();
        t->pid = ::fork();
        if (t->pid == 0) {
            ::dup2(i[0], 0);
            ::dup2(o[1], 1);
            ::dup2(e[1], 2);
            ::execv(path.c_str(), cargv.data());
            ::_exit(127);
        }
        ::close(i[0]);
        ::close(o[1]);
        ::close(e[1]);
        t->in = i[1];
        t->out = o[0];
        t->err = e[0];
        return t;
    }

    std::string read_line()
    {
        std::string line;
        char c;
        while (::read(out, &c, 1) == 1 && c != '\n') line += c;
        return line;
    }

    std::string read_all_stderr()
    {
        std::string s;
        char buf[1024];
        for (ssize_t n; (n = ::read(err, buf, sizeof buf)) > 0;) s.append(buf, static_cast<std::size_t>(n));
        return s;
    }

    int wait()
    {
        int status = 0;
        ::waitpid(pid, &status, 0);
        pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
};

std::uint16_t port_of(const std::string& url)
{
    auto at = url.find("@127.0.0.1:");
    return static_cast<std::uint16_t>(std::stoi(url.substr(at + 11)));
}

std::string data_dir_of(const std::string& err)
{
    const std::string key = "data directory: ";
    auto at = err.find(key);
    if (at == std::string::npos) return {};
    at += key.size();
    return err.substr(at, err.find('\n', at) - at);
}

class Tool : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (::access(tool_path().c_str(), X_OK) != 0)
            GTEST_SKIP() << "sleet-embedded-pg is not built next to this test binary (build the target first)";
    }
};

TEST_F(Tool, PrintsTheUrlAndStopsWhenStdinCloses)
{
    auto t = tool_process::start({});
    std::string url = t->read_line();
    EXPECT_EQ(url.rfind("postgresql://postgres@127.0.0.1:", 0), 0u) << url;
    EXPECT_EQ(url.substr(url.rfind('/')), "/postgres");
    const auto port = port_of(url);
    EXPECT_EQ(probe::ssl_answer("127.0.0.1", port), 'N');
    probe::session s(probe::connect_tcp("127.0.0.1", port), "postgres");
    EXPECT_EQ(s.value("SELECT 1"), "1");

    ::close(t->in);
    t->in = -1;
    std::string err = t->read_all_stderr();
    EXPECT_EQ(t->wait(), 0) << err;
    std::string data_dir = data_dir_of(err);
    ASSERT_FALSE(data_dir.empty()) << err;
    EXPECT_FALSE(probe::exists(data_dir));
    EXPECT_NE(err.find("sleet-embedded-pg: stopped\n"), std::string::npos) << err;
}

TEST_F(Tool, UsersAndSigterm)
{
    auto t = tool_process::start({"--no-stdin", "--auth", "password", "--user", "app", "--password", "pw",
                                  "--database", "appdb", "--url-user", "app"});
    std::string url = t->read_line();
    const auto port = port_of(url);
    EXPECT_EQ(url, "postgresql://app:pw@127.0.0.1:" + std::to_string(port) + "/postgres");
    probe::session s(probe::connect_tcp("127.0.0.1", port), "app", "pw", "appdb");
    EXPECT_EQ(s.value("SELECT current_user || '@' || current_database()"), "app@appdb");

    ::close(t->in); // ignored with --no-stdin
    t->in = -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_EQ(probe::ssl_answer("127.0.0.1", port), 'N');

    ::kill(t->pid, SIGTERM);
    std::string err = t->read_all_stderr();
    EXPECT_EQ(t->wait(), 0) << err;
    EXPECT_FALSE(probe::exists(data_dir_of(err)));
}

TEST_F(Tool, TlsUrlCarriesTheCa)
{
    auto t = tool_process::start({"--tls"});
    std::string url = t->read_line();
    EXPECT_NE(url.find("?sslmode=verify-full&sslrootcert=%2F"), std::string::npos) << url;
    EXPECT_EQ(probe::ssl_answer("127.0.0.1", port_of(url)), 'S');
}

TEST_F(Tool, UnknownOptionIsAUsageError)
{
    auto t = tool_process::start({"--bogus"});
    std::string err = t->read_all_stderr();
    EXPECT_EQ(t->wait(), 2);
    // What the user sees first.
    EXPECT_EQ(err.rfind("sleet-embedded-pg: unknown option \"--bogus\"\nusage: sleet-embedded-pg [options]\n", 0), 0u)
        << err;
}

TEST_F(Tool, StartFailureExitsWithStatus1AndTheLog)
{
    auto t = tool_process::start({"--set", "shared_buffers=-5"});
    EXPECT_EQ(t->read_line(), ""); // no URL
    std::string err = t->read_all_stderr();
    EXPECT_EQ(t->wait(), 1);
    EXPECT_EQ(err.rfind("sleet::embedded_postgres: the server did not start", 0), 0u) << err;
}

} // namespace
