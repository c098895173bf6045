// sleet-embedded-pg: starts a throwaway PostgreSQL server (sleet::embedded_postgres), prints
// its connection URL on stdout (one line), and keeps it running until stdin reaches EOF or the
// process gets SIGTERM, SIGINT or SIGHUP; then it stops the server and removes its files.
//
//   sleet-embedded-pg [--port N] [--tls] [--hostssl-only] [--tls-expired-cert]
//                     [--user NAME [--password PW] [--auth METHOD] [--superuser]]...
//                     [--auth METHOD] [--database NAME]... [--set NAME=VALUE]...
//                     [--bin-dir DIR] [--url-user NAME] [--no-stdin]
#include <sleet/embedded_postgres.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view usage = R"(usage: sleet-embedded-pg [options]
Starts a throwaway PostgreSQL server, prints its URL on stdout and runs until stdin closes
(or SIGTERM/SIGINT/SIGHUP); then stops it and removes its files.

  --port N            TCP port on 127.0.0.1 (default 0: a free port)
  --tls               generate a CA and server certificate; ssl=on. The URL then carries
                      sslmode=verify-full&sslrootcert=<CA file>
  --hostssl-only      with --tls: refuse non-TLS TCP connections
  --tls-expired-cert  with --tls: the server certificate is already expired
  --user NAME         create a login role (repeatable); the options below apply to the last one
  --password PW       its password
  --auth METHOD       its pg_hba method (trust, password, md5, scram-sha-256 ...); before any
                      --user: the default for all users (default scram-sha-256)
  --superuser         the last --user is a superuser
  --database NAME     create a database (repeatable)
  --set NAME=VALUE    extra postgresql.conf setting (repeatable)
  --bin-dir DIR       directory with initdb, pg_ctl and postgres (default: discovered)
  --url-user NAME     print the URL for this --user (with its password) instead of the superuser's
  --no-stdin          ignore stdin; run until a signal (for `sleet-embedded-pg ... &` in scripts,
                      whose background jobs get /dev/null as stdin)
)";

[[noreturn]] void usage_error(const std::string& msg)
{
    std::cerr << "sleet-embedded-pg: " << msg << "\n" << usage;
    std::exit(2);
}

} // namespace

int main(int argc, char** argv)
{
    sleet::embedded_postgres_params params;
    std::string default_auth;
    std::string url_user;
    bool watch_stdin = true;

    auto value = [&](int& i) -> std::string {
        if (i + 1 >= argc) usage_error(std::string(argv[i]) + " needs a value");
        return argv[++i];
    };
    auto last_user = [&](std::string_view opt) -> sleet::embedded_user& {
        if (params.users.empty()) usage_error(std::string(opt) + " must follow --user");
        return params.users.back();
    };
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--help" || a == "-h") {
            std::cout << usage;
            return 0;
        } else if (a == "--port") {
            std::string v = value(i);
            char* end = nullptr;
            long p = std::strtol(v.c_str(), &end, 10);
            if (v.empty() || *end != '\0' || p < 0 || p > 65535) usage_error("invalid port \"" + v + "\"");
            params.port = static_cast<std::uint16_t>(p);
        } else if (a == "--tls") {
            params.tls = true;
        } else if (a == "--hostssl-only") {
            params.hostssl_only = true;
        } else if (a == "--tls-expired-cert") {
            params.tls_expired_cert = true;
        } else if (a == "--user") {
            params.users.push_back({.name = value(i)});
        } else if (a == "--password") {
            last_user(a).password = value(i);
        } else if (a == "--auth") {
            std::string m = value(i);
            if (params.users.empty()) default_auth = m;
            else params.users.back().auth_method = m;
        } else if (a == "--superuser") {
            last_user(a).superuser = true;
        } else if (a == "--database") {
            params.databases.push_back(value(i));
        } else if (a == "--set") {
            std::string kv = value(i);
            auto eq = kv.find('=');
            if (eq == std::string::npos || eq == 0) usage_error("--set needs NAME=VALUE, got \"" + kv + "\"");
            params.settings.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
        } else if (a == "--bin-dir") {
            params.bin_dir = value(i);
        } else if (a == "--url-user") {
            url_user = value(i);
        } else if (a == "--no-stdin") {
            watch_stdin = false;
        } else {
            usage_error("unknown option \"" + std::string(a) + "\"");
        }
    }
    for (auto& u : params.users)
        if (u.auth_method.empty()) u.auth_method = default_auth;
    std::string url_password;
    if (!url_user.empty()) {
        bool found = false;
        for (const auto& u : params.users)
            if (u.name == url_user) {
                url_password = u.password;
                found = true;
            }
        if (!found) usage_error("--url-user " + url_user + " names no --user");
    }

    // Signals are taken through a signalfd; blocked from now on so that none is lost.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGHUP);
    sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &stop_signals, SFD_CLOEXEC);
    if (sfd < 0) {
        std::cerr << "sleet-embedded-pg: signalfd failed\n";
        return 1;
    }

    try {
        sleet::embedded_postgres pg(std::move(params));
        std::cout << pg.url(url_user, url_password) << std::endl; // one line, flushed
        std::cerr << "sleet-embedded-pg: PostgreSQL running (postmaster pid " << pg.postmaster_pid()
                  << ")\n  data directory: " << pg.data_dir() << "\n  unix socket:    " << pg.socket_dir()
                  << "/.s.PGSQL." << pg.port() << "\n";
        if (!pg.ca_file().empty()) std::cerr << "  CA certificate: " << pg.ca_file() << "\n";
        std::cerr << (watch_stdin ? "  stops when stdin closes or on SIGTERM/SIGINT\n" : "  stops on SIGTERM/SIGINT\n")
                  << std::flush;

        for (;;) {
            pollfd fds[2] = {{sfd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
            int n = poll(fds, watch_stdin ? 2 : 1, -1);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) break;
            if (fds[0].revents != 0) break;
            if (watch_stdin && fds[1].revents != 0) {
                char buf[4096];
                ssize_t r = read(STDIN_FILENO, buf, sizeof buf);
                if (r < 0 && errno == EINTR) continue;
                if (r <= 0) break; // EOF (or stdin unusable)
            }
        }
        pg.stop();
        std::cerr << "sleet-embedded-pg: stopped\n";
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
    return 0;
}
