// sleet::embedded_postgres: start-up, roles and pg_hba, settings, URLs, failures, stop/start.
#include "pg_probe.hpp"

#include <sleet/embedded_postgres.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>

namespace {

using sleet::embedded_postgres;
using sleet::embedded_postgres_error;
using sleet::embedded_postgres_params;

std::string pg_socket(const embedded_postgres& pg)
{
    return pg.socket_dir() + "/.s.PGSQL." + std::to_string(pg.port());
}

probe::session superuser_session(const embedded_postgres& pg, const std::string& db = "postgres")
{
    return probe::session(probe::connect_tcp(pg.host(), pg.port()), pg.superuser(), "", db);
}

// What the user sees for a role the generated pg_hba.conf does not mention (or a refused one).
std::string login_error(const embedded_postgres& pg, const std::string& user, const std::string& password = "")
{
    try {
        probe::session s(probe::connect_tcp(pg.host(), pg.port()), user, password);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "no error";
}

int auth_request_code(const embedded_postgres& pg, const std::string& user)
{
    auto fd = probe::connect_tcp(pg.host(), pg.port());
    return probe::auth_code(probe::first_answer(fd.get(), user, "postgres"));
}

TEST(EmbeddedPostgres, StartsOnAFreeLoopbackPortWithAPrivateSocket)
{
    embedded_postgres pg;
    EXPECT_NE(pg.port(), 0);
    EXPECT_EQ(pg.host(), "127.0.0.1");
    EXPECT_EQ(pg.superuser(), "postgres");
    EXPECT_TRUE(pg.running());
    EXPECT_GT(pg.postmaster_pid(), 0);
    EXPECT_EQ(pg.base_dir().rfind("/sleet-pg-"), pg.base_dir().find("/sleet-pg-"));
    EXPECT_NE(pg.base_dir().find("/sleet-pg-"), std::string::npos);
    EXPECT_EQ(pg.data_dir(), pg.base_dir() + "/data");
    EXPECT_EQ(pg.socket_dir(), pg.base_dir() + "/socket");
    EXPECT_TRUE(probe::exists(pg.data_dir() + "/PG_VERSION"));
    EXPECT_TRUE(probe::exists(pg_socket(pg)));
    EXPECT_TRUE(pg.ca_file().empty());
    EXPECT_TRUE(probe::exists(pg.bin_dir() + "/postgres"));

    // Without tls the server declines TLS with 'N'.
    EXPECT_EQ(probe::ssl_answer(pg.host(), pg.port()), 'N');

    // The superuser is trusted on loopback TCP and on the unix socket.
    auto s = superuser_session(pg);
    EXPECT_EQ(s.value("SELECT current_user"), "postgres");
    EXPECT_EQ(s.value("SHOW fsync"), "off");
    EXPECT_EQ(s.value("SHOW synchronous_commit"), "off");
    EXPECT_EQ(s.value("SHOW full_page_writes"), "off");
    EXPECT_EQ(s.value("SHOW max_connections"), "200");
    EXPECT_EQ(s.value("SHOW server_encoding"), "UTF8");
    EXPECT_EQ(s.value("SHOW lc_messages"), "C");
    EXPECT_EQ(s.value("SHOW port"), std::to_string(pg.port()));
    EXPECT_EQ(s.value("SHOW unix_socket_directories"), pg.socket_dir());
    probe::session u(probe::connect_unix(pg_socket(pg)), "postgres");
    EXPECT_EQ(u.value("SELECT 40 + 2"), "42");

    EXPECT_NE(pg.log().find("database system is ready to accept connections"), std::string::npos) << pg.log();
}

TEST(EmbeddedPostgres, EachUserGetsItsAuthMethodAndPasswordHash)
{
    embedded_postgres_params p;
    p.users = {
        {.name = "scram_user", .password = "s3cret"},                          // default: scram-sha-256
        {.name = "md5_user", .password = "md5pw", .auth_method = "md5"},
        {.name = "clear_user", .password = "clearpw", .auth_method = "password"},
        {.name = "trust_user", .auth_method = "trust"},
        {.name = "boss", .password = "bosspw", .auth_method = "password", .superuser = true},
    };
    embedded_postgres pg(p);

    // The first answer to a StartupMessage is the authentication request the pg_hba line asks for.
    EXPECT_EQ(auth_request_code(pg, "scram_user"), 10); // AuthenticationSASL
    EXPECT_EQ(auth_request_code(pg, "md5_user"), 5);    // AuthenticationMD5Password: stored as md5
    EXPECT_EQ(auth_request_code(pg, "clear_user"), 3);  // AuthenticationCleartextPassword
    EXPECT_EQ(auth_request_code(pg, "trust_user"), 0);  // AuthenticationOk

    probe::session md5(probe::connect_tcp(pg.host(), pg.port()), "md5_user", "md5pw");
    EXPECT_EQ(md5.value("SELECT current_user"), "md5_user");
    probe::session clear(probe::connect_tcp(pg.host(), pg.port()), "clear_user", "clearpw");
    EXPECT_EQ(clear.value("SELECT current_user"), "clear_user");
    probe::session boss(probe::connect_tcp(pg.host(), pg.port()), "boss", "bosspw");
    EXPECT_EQ(boss.value("SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user"), "true");

    // What a user sees with a wrong password.
    EXPECT_EQ(login_error(pg, "md5_user", "wrong"), "28P01: password authentication failed for user \"md5_user\"");
    EXPECT_EQ(login_error(pg, "clear_user", "wrong"), "28P01: password authentication failed for user \"clear_user\"");

    auto s = superuser_session(pg);
    EXPECT_EQ(s.value("SELECT rolpassword FROM pg_authid WHERE rolname = 'md5_user'"),
              "md5" + probe::md5_hex("md5pw" "md5_user"));
    EXPECT_EQ(s.value("SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = 'scram_user'"), "SCRAM-SHA-256$");
    EXPECT_EQ(s.value("SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = 'clear_user'"), "SCRAM-SHA-256$");
    EXPECT_EQ(s.value("SELECT count(*) FROM pg_authid WHERE rolname = 'trust_user' AND rolpassword IS NULL"), "1");
    EXPECT_EQ(s.value("SELECT rolsuper::text FROM pg_roles WHERE rolname = 'scram_user'"), "false");

    // Users may also log in over the unix socket with their method.
    probe::session local(probe::connect_unix(pg_socket(pg)), "md5_user", "md5pw");
    EXPECT_EQ(local.value("SELECT current_user"), "md5_user");

    // A role without a pg_hba.conf line: what the user sees.
    EXPECT_EQ(login_error(pg, "nobody"),
              "28000: no pg_hba.conf entry for host \"127.0.0.1\", user \"nobody\", database \"postgres\", no encryption");
}

TEST(EmbeddedPostgres, WritesThePgHbaItDocuments)
{
    embedded_postgres_params p;
    p.users = {{.name = "app", .password = "pw"}, {.name = "old", .password = "pw", .auth_method = "md5"}};
    p.extra_hba_lines = {"host all \"blocked\" 127.0.0.1/32 reject"};
    embedded_postgres pg(p);
    EXPECT_EQ(probe::slurp(pg.data_dir() + "/pg_hba.conf"),
              "# Written by sleet::embedded_postgres.\n"
              "host all \"blocked\" 127.0.0.1/32 reject\n"
              "local all \"postgres\" trust\n"
              "local all \"app\" scram-sha-256\n"
              "host all \"app\" 127.0.0.1/32 scram-sha-256\n"
              "host all \"app\" ::1/128 scram-sha-256\n"
              "local all \"old\" md5\n"
              "host all \"old\" 127.0.0.1/32 md5\n"
              "host all \"old\" ::1/128 md5\n"
              "host all \"postgres\" 127.0.0.1/32 trust\n"
              "host all \"postgres\" ::1/128 trust\n");
}

TEST(EmbeddedPostgres, ExtraHbaLinesComeFirst)
{
    embedded_postgres_params p;
    p.extra_hba_lines = {"host all all 127.0.0.1/32 reject"};
    embedded_postgres pg(p);
    // The reject line wins over the generated superuser trust line.
    EXPECT_EQ(login_error(pg, "postgres"),
              "28000: pg_hba.conf rejects connection for host \"127.0.0.1\", user \"postgres\", database \"postgres\", "
              "no encryption");
    // The unix socket is not affected.
    probe::session u(probe::connect_unix(pg_socket(pg)), "postgres");
    EXPECT_EQ(u.value("SELECT 1"), "1");
}

TEST(EmbeddedPostgres, QuotesNamesPasswordsAndSettings)
{
    embedded_postgres_params p;
    p.users = {{.name = "o'brien", .password = "it's \"quoted\" \\ ;", .auth_method = "password"},
               {.name = "Mixed Case", .password = "x'y", .auth_method = "md5"}};
    p.databases = {"my db", "it's"};
    p.settings = {{"work_mem", "8MB"}, {"application_name", "it's \\ fine"}, {"search_path", "\"$user\", public"}};
    embedded_postgres pg(p);

    probe::session a(probe::connect_tcp(pg.host(), pg.port()), "o'brien", "it's \"quoted\" \\ ;", "my db");
    EXPECT_EQ(a.value("SELECT current_user || '@' || current_database()"), "o'brien@my db");
    probe::session b(probe::connect_tcp(pg.host(), pg.port()), "Mixed Case", "x'y", "it's");
    EXPECT_EQ(b.value("SELECT current_user"), "Mixed Case");
    EXPECT_EQ(b.value("SHOW work_mem"), "8MB");
    EXPECT_EQ(b.value("SHOW search_path"), "\"$user\", public");
    EXPECT_EQ(b.value("SELECT setting FROM pg_settings WHERE name = 'application_name'"), "it's \\ fine");
}

TEST(EmbeddedPostgres, UserNamedLikeTheSuperuserGetsAPassword)
{
    embedded_postgres_params p;
    p.superuser = "admin";
    p.users = {{.name = "admin", .password = "adminpw", .auth_method = "password"}};
    embedded_postgres pg(p);
    EXPECT_EQ(pg.superuser(), "admin");
    // The user's line comes before the superuser's trust line: TCP now asks for the password.
    EXPECT_EQ(auth_request_code(pg, "admin"), 3);
    probe::session s(probe::connect_tcp(pg.host(), pg.port()), "admin", "adminpw");
    EXPECT_EQ(s.value("SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user"), "true");
    EXPECT_EQ(pg.url(), "postgresql://admin@127.0.0.1:" + std::to_string(pg.port()) + "/postgres");
}

TEST(EmbeddedPostgres, UrlsArePercentEncoded)
{
    embedded_postgres pg;
    const std::string port = std::to_string(pg.port());
    EXPECT_EQ(pg.url(), "postgresql://postgres@127.0.0.1:" + port + "/postgres");
    EXPECT_EQ(pg.url("app", "p@ss:w/rd", "my db"), "postgresql://app:p%40ss%3Aw%2Frd@127.0.0.1:" + port + "/my%20db");
    std::string encoded_dir;
    for (char c : pg.socket_dir()) encoded_dir += c == '/' ? std::string("%2F") : std::string(1, c);
    EXPECT_EQ(pg.socket_url(), "postgresql://postgres@" + encoded_dir + ":" + port + "/postgres");
    EXPECT_EQ(pg.socket_url("u", "p", "d"), "postgresql://u:p@" + encoded_dir + ":" + port + "/d");
}

TEST(EmbeddedPostgres, StartFailureReportsTheServerLog)
{
    embedded_postgres_params p;
    p.settings = {{"shared_buffers", "-5"}};
    std::string what;
    std::string tail;
    try {
        embedded_postgres pg(p);
    } catch (const embedded_postgres_error& e) {
        what = e.what();
        tail = e.log_tail();
    }
    // What the user sees: the step, the command, the data directory and the server's complaint.
    EXPECT_EQ(what.rfind("sleet::embedded_postgres: the server did not start (pg_ctl exited with status 1)\n", 0), 0u)
        << what;
    EXPECT_NE(what.find("command: /"), std::string::npos) << what;
    EXPECT_NE(what.find("/pg_ctl start -w -t 30 -D /"), std::string::npos) << what;
    EXPECT_NE(what.find("data directory: /"), std::string::npos) << what;
    EXPECT_NE(what.find("server log (last lines):"), std::string::npos) << what;
    EXPECT_NE(what.find("parameter \"shared_buffers\""), std::string::npos) << what;
    EXPECT_NE(tail.find("parameter \"shared_buffers\""), std::string::npos) << tail;
    // Nothing is left behind.
    auto at = what.find("data directory: ") + std::strlen("data directory: ");
    std::string data_dir = what.substr(at, what.find(' ', at) - at);
    EXPECT_FALSE(probe::exists(data_dir)) << data_dir;
    EXPECT_FALSE(probe::exists(data_dir.substr(0, data_dir.rfind('/')))) << data_dir;
}

TEST(EmbeddedPostgres, RoleCreationFailureReportsTheSingleUserOutput)
{
    embedded_postgres_params p;
    p.users = {{.name = "dup", .password = "a"}, {.name = "dup", .password = "b"}};
    try {
        embedded_postgres pg(p);
        FAIL() << "expected embedded_postgres_error";
    } catch (const embedded_postgres_error& e) {
        std::string what = e.what();
        EXPECT_EQ(what.rfind("sleet::embedded_postgres: creating roles and databases in single-user mode failed", 0), 0u)
            << what;
        EXPECT_NE(what.find("postgres --single"), std::string::npos) << what;
        EXPECT_NE(what.find("role \"dup\" already exists"), std::string::npos) << what;
    }
}

TEST(EmbeddedPostgres, ExplicitPortAlreadyInUseReportsTheBindError)
{
    // Hold a listening socket on some port, then ask for that port.
    probe::fd_guard holder(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(holder.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(holder.get(), 1), 0);
    socklen_t len = sizeof a;
    ASSERT_EQ(::getsockname(holder.get(), reinterpret_cast<sockaddr*>(&a), &len), 0);
    embedded_postgres_params p;
    p.port = ntohs(a.sin_port);
    try {
        embedded_postgres pg(p);
        FAIL() << "expected embedded_postgres_error";
    } catch (const embedded_postgres_error& e) {
        EXPECT_NE(std::string(e.what()).find("could not bind IPv4 address \"127.0.0.1\": Address already in use"),
                  std::string::npos)
            << e.what();
    }
}

TEST(EmbeddedPostgres, ExplicitPortIsUsed)
{
    // Find a free port the same way the library does, then request it explicitly.
    std::uint16_t port;
    {
        probe::fd_guard s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ASSERT_EQ(::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        socklen_t len = sizeof a;
        ASSERT_EQ(::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len), 0);
        port = ntohs(a.sin_port);
    }
    embedded_postgres_params p;
    p.port = port;
    embedded_postgres pg(p);
    EXPECT_EQ(pg.port(), port);
    EXPECT_EQ(probe::ssl_answer("127.0.0.1", port), 'N');
}

TEST(EmbeddedPostgres, InvalidParametersAreRejectedBeforeAnythingRuns)
{
    auto message = [](embedded_postgres_params p) -> std::string {
        try {
            embedded_postgres pg(std::move(p));
        } catch (const embedded_postgres_error& e) {
            return e.what();
        }
        return "no error";
    };
    embedded_postgres_params p;
    p.hostssl_only = true;
    EXPECT_EQ(message(p), "sleet::embedded_postgres: hostssl_only requires tls");
    p = {};
    p.users = {{.name = "a\"b"}};
    EXPECT_EQ(message(p), "sleet::embedded_postgres: invalid user name \"a\"b\" (empty, or contains '\"' or a line break)");
    p = {};
    p.users = {{.name = "x", .password = "line\nbreak"}};
    EXPECT_EQ(message(p), "sleet::embedded_postgres: the password of user \"x\" contains a NUL or a line break");
    p = {};
    p.users = {{.name = "x", .auth_method = "cert"}};
    EXPECT_EQ(message(p), "sleet::embedded_postgres: auth_method \"cert\" (user \"x\") requires tls");
    p = {};
    p.settings = {{"bad name", "1"}};
    EXPECT_EQ(message(p), "sleet::embedded_postgres: invalid setting name \"bad name\"");
    p = {};
    p.bin_dir = "/nonexistent/bin";
    EXPECT_EQ(message(p), "sleet::embedded_postgres: bin_dir \"/nonexistent/bin\" does not contain the executables "
                          "initdb, pg_ctl and postgres");
}

TEST(EmbeddedPostgres, StopServerAndStartServerKeepDataAndPort)
{
    embedded_postgres pg;
    const auto port = pg.port();
    superuser_session(pg).query("CREATE TABLE kept(x int); INSERT INTO kept VALUES (7)");
    const int first_pid = pg.postmaster_pid();

    pg.stop_server();
    EXPECT_FALSE(pg.running());
    EXPECT_EQ(pg.postmaster_pid(), -1);
    EXPECT_TRUE(probe::process_gone(first_pid));
    EXPECT_THROW(probe::connect_tcp(pg.host(), port), std::runtime_error); // connection refused
    pg.stop_server(); // no-op

    pg.start_server();
    EXPECT_TRUE(pg.running());
    EXPECT_EQ(pg.port(), port);
    EXPECT_EQ(superuser_session(pg).value("SELECT x FROM kept"), "7");

    // An immediate stop is a crash from the server's point of view; start-up recovers.
    pg.stop_server(sleet::embedded_stop_mode::immediate);
    EXPECT_FALSE(pg.running());
    pg.start_server();
    EXPECT_EQ(superuser_session(pg).value("SELECT x FROM kept"), "7");
}

TEST(EmbeddedPostgres, KilledServerCanBeRestarted)
{
    embedded_postgres pg;
    ::kill(pg.postmaster_pid(), SIGKILL);
    ASSERT_TRUE(probe::eventually([&] { return !pg.running(); }));
    pg.start_server(); // stale postmaster.pid: the server notices the pid is gone
    EXPECT_EQ(superuser_session(pg).value("SELECT 1"), "1");
}

TEST(EmbeddedPostgres, MoveTransfersOwnership)
{
    embedded_postgres a;
    const std::string base = a.base_dir();
    const auto port = a.port();
    embedded_postgres b(std::move(a));
    EXPECT_EQ(b.base_dir(), base);
    EXPECT_EQ(b.port(), port);
    EXPECT_TRUE(b.running());
    {
        embedded_postgres c(std::move(b));
        EXPECT_EQ(superuser_session(c).value("SELECT 1"), "1");
    }
    EXPECT_FALSE(probe::exists(base));

    // Move assignment stops the server the target held.
    embedded_postgres d;
    embedded_postgres e;
    const std::string d_base = d.base_dir();
    const std::string e_base = e.base_dir();
    const int d_pid = d.postmaster_pid();
    d = std::move(e);
    EXPECT_TRUE(probe::process_gone(d_pid));
    EXPECT_FALSE(probe::exists(d_base));
    EXPECT_EQ(d.base_dir(), e_base);
    EXPECT_TRUE(d.running());
}

} // namespace
