// Integration-test fixture: one real PostgreSQL server (sleet::embedded_postgres) for the whole
// test binary, with TLS and one role per authentication method, plus helpers to run coroutines.
#pragma once

#include <sleet/connection.hpp>
#include <sleet/embedded_postgres.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>

/// ASSERT_* cannot be used inside coroutines (they `return`); these `co_return` instead.
#define CO_ASSERT_TRUE(cond)                                                                                           \
    do {                                                                                                               \
        const bool co_ok_ = static_cast<bool>(cond);                                                                   \
        EXPECT_TRUE(co_ok_) << #cond;                                                                                  \
        if (!co_ok_) co_return;                                                                                        \
    } while (0)
#define CO_ASSERT_EQ(a, b)                                                                                             \
    do {                                                                                                               \
        const bool co_ok_ = ((a) == (b));                                                                              \
        EXPECT_EQ(a, b);                                                                                               \
        if (!co_ok_) co_return;                                                                                        \
    } while (0)

namespace sleet::test {

namespace asio = boost::asio;

/// Roles of the shared server. Passwords are distinctive so leak checks can search for them.
inline constexpr const char* trust_user = "u_trust";
inline constexpr const char* password_user = "u_password";
inline constexpr const char* md5_user = "u_md5";
inline constexpr const char* scram_user = "u_scram";
inline constexpr const char* password_pw = "pw-Clear-7731";
inline constexpr const char* md5_pw = "pw-Md5-8842";
inline constexpr const char* scram_pw = "pw-Scram-9953";

/// The shared server (started once per test binary, stopped at exit).
embedded_postgres& server();

/// A URL for `user` on the shared server, with extra query parameters (e.g. "sslmode=disable").
std::string url(std::string_view user, std::string_view password = {}, std::string_view query = "sslmode=disable");

/// Runs `fn` (a coroutine) on a fresh io_context until it finishes; rethrows its exception.
/// Fails the test (throws) if it does not finish within `limit`.
void run(std::function<asio::awaitable<void>()> fn, std::chrono::seconds limit = std::chrono::seconds(120));

/// Connects to the shared server as the superuser over TCP without TLS.
asio::awaitable<connection> connect_super(std::string_view query = "sslmode=disable");

/// Waits `d` on the current coroutine's executor.
asio::awaitable<void> sleep_for(std::chrono::steady_clock::duration d);

} // namespace sleet::test
