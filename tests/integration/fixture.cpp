#include "fixture.hpp"

#include <boost/asio/this_coro.hpp>

#include <future>
#include <optional>

namespace sleet::test {

namespace {
std::unique_ptr<embedded_postgres> g_server;

class server_environment : public ::testing::Environment {
public:
    void SetUp() override
    {
        embedded_postgres_params p;
        p.tls = true;
        p.tls_server_names = {"localhost", "127.0.0.1"};
        p.users = {
            {trust_user, "", "trust", false},
            {password_user, password_pw, "password", false},
            {md5_user, md5_pw, "md5", false},
            {scram_user, scram_pw, "scram-sha-256", false},
        };
        g_server = std::make_unique<embedded_postgres>(std::move(p));
    }
    void TearDown() override { g_server.reset(); }
};

[[maybe_unused]] auto* const g_env = ::testing::AddGlobalTestEnvironment(new server_environment);
} // namespace

embedded_postgres& server() { return *g_server; }

std::string url(std::string_view user, std::string_view password, std::string_view query)
{
    std::string u = server().url(user, password);
    if (!query.empty()) u += (u.find('?') == std::string::npos ? "?" : "&") + std::string(query);
    return u;
}

void run(std::function<asio::awaitable<void>()> fn, std::chrono::seconds limit)
{
    asio::io_context ioc;
    std::exception_ptr error;
    bool done = false;
    asio::co_spawn(ioc, fn(), [&](std::exception_ptr e) {
        error = e;
        done = true;
        ioc.stop();  // leftover background work (e.g. a drain after a cancel) must not keep the test alive
    });
    ioc.run_for(limit);
    if (!done) throw std::runtime_error("test coroutine did not finish within the time limit");
    if (error) std::rethrow_exception(error);
}

asio::awaitable<connection> connect_super(std::string_view query)
{
    connection c(co_await asio::this_coro::executor);
    co_await c.async_connect(url("", "", query));
    co_return c;
}

asio::awaitable<void> sleep_for(std::chrono::steady_clock::duration d)
{
    asio::steady_timer t(co_await asio::this_coro::executor);
    t.expires_after(d);
    co_await t.async_wait(asio::use_awaitable);
}

} // namespace sleet::test
