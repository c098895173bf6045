// Connecting: every authentication method, TLS modes, unix sockets, bad input.
#include "fixture.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>

using namespace sleet;
using namespace sleet::test;
using namespace std::chrono_literals;

namespace {

/// Connects with `conninfo`; returns the error (empty on success) and the words.
asio::awaitable<std::pair<error_code, diagnostics>> try_connect(std::string conninfo)
{
    connection c(co_await asio::this_coro::executor);
    diagnostics diag;
    error_code ec;
    try {
        co_await c.async_connect(conninfo);
    } catch (const error_with_diagnostics& e) {
        ec = e.code();
        diag = e.get_diagnostics();
        // The exception text is what most users see: it must carry the words too.
        EXPECT_FALSE(std::string(e.what()).empty());
    }
    if (!ec) {
        // A working session: prove it with a round trip.
        auto rs = co_await c.async_simple_query("select current_user");
        EXPECT_EQ(rs.size(), 1u);
    }
    co_return std::pair{ec, diag};
}

std::string what_of(const error_code& ec, const diagnostics& d)
{
    return error_with_diagnostics(ec, d).what();
}

} // namespace

TEST(connect, trust)
{
    run([]() -> asio::awaitable<void> {
        connection c(co_await asio::this_coro::executor);
        co_await c.async_connect(url(trust_user));
        auto rs = co_await c.async_simple_query("select current_user, current_setting('client_encoding')");
        CO_ASSERT_EQ(rs.size(), 1u);
        EXPECT_EQ(rs[0][0].get<std::string>(0), trust_user);
        EXPECT_EQ(rs[0][0].get<std::string>(1), "UTF8");
        EXPECT_GT(c.backend_pid(), 0);
        EXPECT_FALSE(c.server_parameter("server_version").empty());
        EXPECT_EQ(c.transaction_status(), 'I');
    });
}

TEST(connect, cleartext_password)
{
    run([]() -> asio::awaitable<void> {
        auto [ec, d] = co_await try_connect(url(password_user, password_pw));
        EXPECT_FALSE(ec) << what_of(ec, d);
    });
}

TEST(connect, md5_password)
{
    run([]() -> asio::awaitable<void> {
        auto [ec, d] = co_await try_connect(url(md5_user, md5_pw));
        EXPECT_FALSE(ec) << what_of(ec, d);
    });
}

TEST(connect, scram_sha_256)
{
    run([]() -> asio::awaitable<void> {
        auto [ec, d] = co_await try_connect(url(scram_user, scram_pw));
        EXPECT_FALSE(ec) << what_of(ec, d);
    });
}

TEST(connect, scram_sha_256_plus_with_channel_binding_required_over_tls)
{
    run([]() -> asio::awaitable<void> {
        connection c(co_await asio::this_coro::executor);
        co_await c.async_connect(url(scram_user, scram_pw, "sslmode=require&channel_binding=require"));
        // The session really is encrypted.
        auto r = co_await c.async_execute("select ssl from pg_stat_ssl where pid = pg_backend_pid()");
        CO_ASSERT_EQ(r.size(), 1u);
        EXPECT_TRUE(r[0].get<bool>(0));
    });
}

TEST(connect, channel_binding_required_without_tls_is_refused)
{
    run([]() -> asio::awaitable<void> {
        auto [ec, d] = co_await try_connect(url(scram_user, scram_pw, "sslmode=disable&channel_binding=require"));
        // The user sees: channel binding is required (channel_binding=require), but the connection ... does not use TLS
        EXPECT_EQ(ec, make_error_code(errc::channel_binding_required));
        EXPECT_NE(d.client_message().find("channel binding is required"), std::string::npos) << d.client_message();
        EXPECT_NE(d.client_message().find("does not use TLS"), std::string::npos) << d.client_message();
    });
}

TEST(connect, channel_binding_required_with_md5_server_method_is_refused)
{
    run([]() -> asio::awaitable<void> {
        // TLS is on, but the server asks for MD5, which cannot bind: fail closed.
        auto [ec, d] = co_await try_connect(url(md5_user, md5_pw, "sslmode=require&channel_binding=require"));
        EXPECT_EQ(ec, make_error_code(errc::channel_binding_required));
        EXPECT_NE(d.client_message().find("MD5"), std::string::npos) << d.client_message();
    });
}

TEST(connect, channel_binding_required_with_trust_is_refused)
{
    run([]() -> asio::awaitable<void> {
        // A trust server never authenticates with SCRAM: the client cannot know it talks to the real server.
        auto [ec, d] = co_await try_connect(url(trust_user, "", "sslmode=require&channel_binding=require"));
        EXPECT_EQ(ec, make_error_code(errc::channel_binding_required));
        EXPECT_NE(d.client_message().find("without channel binding"), std::string::npos) << d.client_message();
    });
}

TEST(connect, require_auth_refuses_a_weaker_method)
{
    run([]() -> asio::awaitable<void> {
        // The server asks for a cleartext password; the options demand SCRAM.
        auto [ec, d] = co_await try_connect(url(password_user, password_pw, "sslmode=disable&require_auth=scram-sha-256"));
        EXPECT_EQ(ec, make_error_code(errc::auth_method_not_allowed));
        EXPECT_NE(d.client_message().find("cleartext password"), std::string::npos) << d.client_message();
    });
}

TEST(connect, wrong_password_names_the_user_not_the_password)
{
    for (const char* user : {scram_user, md5_user, password_user}) {
        const std::string wrong = std::string("Wrong-Pw-") + user + "-xyz";
        run([&]() -> asio::awaitable<void> {
            auto [ec, d] = co_await try_connect(url(user, wrong));
            // The user sees the server's FATAL 28P01: password authentication failed for user "u_scram"
            EXPECT_EQ(sqlstate_of(ec), "28P01");
            CO_ASSERT_TRUE(d.server_error().has_value());
            EXPECT_EQ(d.server_error()->message, std::string("password authentication failed for user \"") + user + "\"");
            const std::string text = what_of(ec, d);
            EXPECT_NE(text.find(user), std::string::npos) << text;
            EXPECT_EQ(text.find(wrong), std::string::npos) << text;
        });
    }
}

TEST(connect, missing_password_is_a_clear_client_error)
{
    run([]() -> asio::awaitable<void> {
        auto [ec, d] = co_await try_connect(url(scram_user, ""));
        EXPECT_EQ(ec, make_error_code(errc::password_required));
        EXPECT_EQ(d.client_message(), "the server requested SCRAM authentication for user \"u_scram\", but no password was supplied");
    });
}

TEST(connect, tls_require)
{
    run([]() -> asio::awaitable<void> {
        connection c(co_await asio::this_coro::executor);
        co_await c.async_connect(url(scram_user, scram_pw, "sslmode=require"));
        auto r = co_await c.async_execute("select ssl, version from pg_stat_ssl where pid = pg_backend_pid()");
        CO_ASSERT_EQ(r.size(), 1u);
        EXPECT_TRUE(r[0].get<bool>(0));
        EXPECT_EQ(r[0].get<std::string>(1).rfind("TLSv1.", 0), 0u);
    });
}

TEST(connect, tls_verify_full_with_the_right_ca_and_name)
{
    run([]() -> asio::awaitable<void> {
        for (const char* host : {"localhost", "127.0.0.1"}) {
            connection c(co_await asio::this_coro::executor);
            const std::string u = "postgresql://" + std::string(scram_user) + ":" + scram_pw + "@" + host + ":" +
                                  std::to_string(server().port()) + "/postgres?sslmode=verify-full&sslrootcert=" + server().ca_file();
            co_await c.async_connect(u);
            auto r = co_await c.async_execute("select ssl from pg_stat_ssl where pid = pg_backend_pid()");
            EXPECT_TRUE(r[0].get<bool>(0)) << host;
        }
    });
}

TEST(connect, tls_verify_ca_accepts_any_name_signed_by_the_ca)
{
    run([]() -> asio::awaitable<void> {
        auto [ec, d] = co_await try_connect(url(scram_user, scram_pw, "sslmode=verify-ca&sslrootcert=" + server().ca_file()));
        EXPECT_FALSE(ec) << what_of(ec, d);
    });
}

TEST(connect, tls_verify_with_a_foreign_ca_is_refused)
{
    // A second server's CA did not sign the shared server's certificate.
    embedded_postgres other({.tls = true});
    run([&]() -> asio::awaitable<void> {
        auto [ec, d] = co_await try_connect(url(scram_user, scram_pw, "sslmode=verify-ca&sslrootcert=" + other.ca_file()));
        EXPECT_EQ(ec, make_error_code(errc::tls_handshake_failed));
        // The user sees: TLS handshake with "127.0.0.1" port N failed: unable to get local issuer certificate
        EXPECT_NE(d.client_message().find("TLS handshake with"), std::string::npos) << d.client_message();
        EXPECT_NE(d.client_message().find("certificate"), std::string::npos) << d.client_message();
    });
}

namespace {
/// A server whose certificate names only "db.sleet.invalid", that accepts TLS connections only.
embedded_postgres& tls_only_server()
{
    static embedded_postgres s({.tls = true,
                                .hostssl_only = true,
                                .tls_server_names = {"db.sleet.invalid"},
                                .users = {{scram_user, scram_pw, "scram-sha-256", false}}});
    return s;
}
} // namespace

TEST(connect, tls_verify_full_with_a_wrong_host_name_is_refused)
{
    auto& s = tls_only_server();
    run([&]() -> asio::awaitable<void> {
        const std::string u = "postgresql://" + std::string(scram_user) + ":" + scram_pw + "@localhost:" + std::to_string(s.port()) +
                              "/postgres?sslmode=verify-full&sslrootcert=" + s.ca_file();
        auto [ec, d] = co_await try_connect(u);
        EXPECT_EQ(ec, make_error_code(errc::tls_handshake_failed));
        // The user sees: TLS handshake with "localhost" port N failed: hostname mismatch (sslmode=verify-full: the
        // server certificate does not match host name "localhost")
        EXPECT_NE(d.client_message().find("hostname mismatch"), std::string::npos) << d.client_message();
        EXPECT_NE(d.client_message().find("does not match host name \"localhost\""), std::string::npos) << d.client_message();
        EXPECT_EQ(what_of(ec, d).find(scram_pw), std::string::npos);
    });
}

TEST(connect, hostssl_only_server_refuses_sslmode_disable_with_its_own_error)
{
    auto& s = tls_only_server();
    run([&]() -> asio::awaitable<void> {
        auto [ec, d] = co_await try_connect(s.url(scram_user, scram_pw).substr(0, s.url(scram_user, scram_pw).find('?')) +
                                            "?sslmode=disable");
        EXPECT_EQ(sqlstate_of(ec), "28000");
        CO_ASSERT_TRUE(d.server_error().has_value());
        // The user sees: FATAL 28000: no pg_hba.conf entry for host "127.0.0.1", user "u_scram", database "postgres", no encryption
        EXPECT_NE(d.server_error()->message.find("no pg_hba.conf entry"), std::string::npos) << d.server_error()->message;
        EXPECT_NE(d.server_error()->message.find("no encryption"), std::string::npos) << d.server_error()->message;
    });
}

TEST(connect, sslmode_allow_retries_with_tls_when_the_server_refuses_plain)
{
    auto& s = tls_only_server();
    run([&]() -> asio::awaitable<void> {
        auto base = s.url(scram_user, scram_pw);
        auto [ec, d] = co_await try_connect(base.substr(0, base.find('?')) + "?sslmode=allow");
        EXPECT_FALSE(ec) << what_of(ec, d);
    });
}

TEST(connect, sslmode_prefer_uses_tls_when_offered)
{
    run([]() -> asio::awaitable<void> {
        connection c(co_await asio::this_coro::executor);
        co_await c.async_connect(url(scram_user, scram_pw, "sslmode=prefer"));
        auto r = co_await c.async_execute("select ssl from pg_stat_ssl where pid = pg_backend_pid()");
        EXPECT_TRUE(r[0].get<bool>(0));
    });
}

TEST(connect, unix_socket)
{
    run([]() -> asio::awaitable<void> {
        connection c(co_await asio::this_coro::executor);
        co_await c.async_connect(server().socket_url());
        auto r = co_await c.async_execute("select inet_client_addr() is null");
        EXPECT_TRUE(r[0].get<bool>(0));  // NULL client address: a unix-socket session
    });
}

TEST(connect, malformed_url_is_a_clear_error_without_the_password)
{
    run([]() -> asio::awaitable<void> {
        auto [ec, d] = co_await try_connect("postgresql://bob:Hunter2-Secret@localhost:99999/db");
        EXPECT_EQ(ec, make_error_code(errc::invalid_connection_string));
        EXPECT_FALSE(d.client_message().empty());
        EXPECT_EQ(what_of(ec, d).find("Hunter2-Secret"), std::string::npos) << what_of(ec, d);
    });
}

TEST(connect, refused_port_reports_the_address)
{
    // Find a port nobody listens on.
    asio::io_context tmp;
    asio::ip::tcp::acceptor a(tmp, {asio::ip::make_address("127.0.0.1"), 0});
    const auto port = a.local_endpoint().port();
    a.close();
    run([port]() -> asio::awaitable<void> {
        auto [ec, d] = co_await try_connect("postgresql://x@127.0.0.1:" + std::to_string(port) + "/db?sslmode=disable");
        EXPECT_EQ(ec, asio::error::connection_refused);
        EXPECT_NE(d.client_message().find("could not connect to \"127.0.0.1\" port " + std::to_string(port)), std::string::npos)
            << d.client_message();
    });
}

TEST(connect, connect_timeout_against_a_silent_server)
{
    // A listener that accepts and never answers.
    run([]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        asio::ip::tcp::acceptor a(ex, {asio::ip::make_address("127.0.0.1"), 0});
        const auto port = a.local_endpoint().port();
        asio::ip::tcp::socket held(ex);
        a.async_accept(held, [](boost::system::error_code) {});
        const auto start = std::chrono::steady_clock::now();
        auto [ec, d] = co_await try_connect("postgresql://x@127.0.0.1:" + std::to_string(port) + "/db?sslmode=disable&connect_timeout=2");
        const auto took = std::chrono::steady_clock::now() - start;
        EXPECT_EQ(ec, make_error_code(errc::connect_timeout));
        EXPECT_NE(d.client_message().find("connect_timeout"), std::string::npos) << d.client_message();
        EXPECT_LT(took, 5s);
        EXPECT_GE(took, 1900ms);
    });
}

TEST(connect, multiple_hosts_are_tried_in_order)
{
    asio::io_context tmp;
    asio::ip::tcp::acceptor a(tmp, {asio::ip::make_address("127.0.0.1"), 0});
    const auto dead = a.local_endpoint().port();
    a.close();
    run([dead]() -> asio::awaitable<void> {
        connection c(co_await asio::this_coro::executor);
        co_await c.async_connect("host=127.0.0.1,127.0.0.1 port=" + std::to_string(dead) + "," + std::to_string(server().port()) +
                                 " user=" + trust_user + " dbname=postgres sslmode=disable");
        auto r = co_await c.async_execute("select 1");
        EXPECT_EQ(r[0].get<std::int32_t>(0), 1);
    });
}
