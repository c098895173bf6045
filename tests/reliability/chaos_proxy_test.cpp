// The chaos proxy itself, against a local echo server (no PostgreSQL involved).
#include "reliability.hpp"

#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <thread>

namespace sleet::test {
namespace {

using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

/// Echoes every byte back, on its own thread.
class echo_server {
public:
    echo_server()
    {
        tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
        acceptor_.open(ep.protocol());
        acceptor_.bind(ep);
        acceptor_.listen();
        port_ = acceptor_.local_endpoint().port();
        asio::co_spawn(ioc_, accept_loop(), asio::detached);
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~echo_server()
    {
        ioc_.stop();
        thread_.join();
    }
    std::uint16_t port() const { return port_; }

private:
    asio::awaitable<void> accept_loop()
    {
        for (;;) {
            auto [ec, s] = co_await acceptor_.async_accept(tuple_awaitable);
            if (ec) co_return;
            asio::co_spawn(ioc_, echo(std::move(s)), asio::detached);
        }
    }
    static asio::awaitable<void> echo(tcp::socket s)
    {
        char buf[4096];
        for (;;) {
            auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), tuple_awaitable);
            if (ec) co_return;
            auto [wec, w] = co_await asio::async_write(s, asio::buffer(buf, n), tuple_awaitable);
            if (wec) co_return;
        }
    }
    asio::io_context ioc_;
    tcp::acceptor acceptor_{ioc_};
    std::uint16_t port_ = 0;
    std::thread thread_;
};

asio::awaitable<tcp::socket> connect_to(std::uint16_t port)
{
    tcp::socket s(co_await asio::this_coro::executor);
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
    co_await s.async_connect(ep, asio::use_awaitable);
    co_return s;
}

/// Reads until `n` bytes, EOF/error or `timeout`; returns what arrived.
asio::awaitable<std::string> read_upto(tcp::socket& s, std::size_t n, std::chrono::milliseconds timeout)
{
    std::string got(n, '\0');
    asio::steady_timer t(co_await asio::this_coro::executor);
    t.expires_after(timeout);
    auto r = co_await (asio::async_read(s, asio::buffer(got), tuple_awaitable) || t.async_wait(asio::use_awaitable));
    if (r.index() == 0) got.resize(std::get<1>(std::get<0>(r)));
    else got.clear();  // timed out: async_read's partial count is lost with the cancelled op
    co_return got;
}

TEST(chaos_proxy, forwards_both_directions_counts_and_captures)
{
    echo_server echo;
    chaos_proxy proxy("127.0.0.1", echo.port());
    run([&]() -> asio::awaitable<void> {
        auto s = co_await connect_to(proxy.port());
        co_await asio::async_write(s, asio::buffer(std::string_view("hello")), asio::use_awaitable);
        auto got = co_await read_upto(s, 5, 2s);
        EXPECT_EQ(got, "hello");
    });
    auto st = proxy.stats();
    EXPECT_EQ(st.accepted, 1u);
    EXPECT_EQ(st.bytes_to_server, 5u);
    EXPECT_EQ(st.bytes_to_client, 5u);
    EXPECT_EQ(proxy.captured_to_server(), "hello");
    EXPECT_EQ(proxy.captured_to_client(), "hello");
}

TEST(chaos_proxy, refuse_accepts_gives_connection_refused_then_accepts_again)
{
    echo_server echo;
    chaos_proxy proxy("127.0.0.1", echo.port());
    const auto port = proxy.port();
    proxy.refuse_accepts(true);
    run([&]() -> asio::awaitable<void> {
        tcp::socket s(co_await asio::this_coro::executor);
        tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
        auto [ec] = co_await s.async_connect(ep, tuple_awaitable);
        EXPECT_EQ(ec, asio::error::connection_refused);
    });
    proxy.refuse_accepts(false);
    EXPECT_EQ(proxy.port(), port);
    run([&]() -> asio::awaitable<void> {
        auto s = co_await connect_to(port);
        co_await asio::async_write(s, asio::buffer(std::string_view("x")), asio::use_awaitable);
        EXPECT_EQ(co_await read_upto(s, 1, 2s), "x");
    });
}

TEST(chaos_proxy, stall_holds_data_until_released)
{
    echo_server echo;
    chaos_proxy proxy("127.0.0.1", echo.port());
    run([&]() -> asio::awaitable<void> {
        auto s = co_await connect_to(proxy.port());
        proxy.stall(true);
        co_await asio::async_write(s, asio::buffer(std::string_view("abc")), asio::use_awaitable);
        EXPECT_EQ(co_await read_upto(s, 3, 300ms), "");  // nothing arrives while stalled
        EXPECT_EQ(proxy.stats().bytes_to_server, 0u);
        proxy.stall(false);
        EXPECT_EQ(co_await read_upto(s, 3, 2s), "abc");
    });
}

TEST(chaos_proxy, drop_after_n_bytes_to_client_closes_the_connection)
{
    echo_server echo;
    chaos_proxy proxy("127.0.0.1", echo.port());
    proxy.drop_after(4, chaos_proxy::direction::to_client);
    run([&]() -> asio::awaitable<void> {
        auto s = co_await connect_to(proxy.port());
        co_await asio::async_write(s, asio::buffer(std::string_view("0123456789")), asio::use_awaitable);
        std::string got(10, '\0');
        auto [ec, n] = co_await asio::async_read(s, asio::buffer(got), tuple_awaitable);
        EXPECT_EQ(n, 4u);
        EXPECT_EQ(got.substr(0, n), "0123");
        EXPECT_TRUE(ec == asio::error::connection_reset || ec == asio::error::eof) << ec.message();
    });
    EXPECT_EQ(proxy.stats().active, 0u);
}

TEST(chaos_proxy, corrupt_flips_one_byte_at_the_offset)
{
    echo_server echo;
    chaos_proxy proxy("127.0.0.1", echo.port());
    proxy.corrupt_to_client(2, 0x20);
    run([&]() -> asio::awaitable<void> {
        auto s = co_await connect_to(proxy.port());
        co_await asio::async_write(s, asio::buffer(std::string_view("abcdef")), asio::use_awaitable);
        EXPECT_EQ(co_await read_upto(s, 6, 2s), "abCdef");
        co_await asio::async_write(s, asio::buffer(std::string_view("abc")), asio::use_awaitable);
        EXPECT_EQ(co_await read_upto(s, 3, 2s), "abc");  // once per connection
    });
}

TEST(chaos_proxy, inject_sends_bytes_to_the_client)
{
    echo_server echo;
    chaos_proxy proxy("127.0.0.1", echo.port());
    run([&]() -> asio::awaitable<void> {
        auto s = co_await connect_to(proxy.port());
        // Make sure the proxy has the connection before injecting.
        co_await asio::async_write(s, asio::buffer(std::string_view("1")), asio::use_awaitable);
        EXPECT_EQ(co_await read_upto(s, 1, 2s), "1");
        proxy.inject_to_client("ZZ");
        EXPECT_EQ(co_await read_upto(s, 2, 2s), "ZZ");
    });
}

TEST(chaos_proxy, stop_reading_from_client_blocks_the_writer)
{
    echo_server echo;
    chaos_proxy proxy("127.0.0.1", echo.port());
    run([&]() -> asio::awaitable<void> {
        auto s = co_await connect_to(proxy.port());
        proxy.stop_reading_from_client(true);
        std::string big(64u << 20, 'x');
        asio::steady_timer t(co_await asio::this_coro::executor);
        t.expires_after(500ms);
        auto r = co_await (asio::async_write(s, asio::buffer(big), tuple_awaitable) || t.async_wait(asio::use_awaitable));
        EXPECT_EQ(r.index(), 1u) << "a 64 MiB write must block when nobody reads";
    });
}

TEST(chaos_proxy, delay_and_rate_limit_slow_the_traffic)
{
    echo_server echo;
    chaos_proxy proxy("127.0.0.1", echo.port());
    proxy.delay(chaos_proxy::direction::to_server, 200ms);
    run([&]() -> asio::awaitable<void> {
        auto s = co_await connect_to(proxy.port());
        auto t0 = clock_type::now();
        co_await asio::async_write(s, asio::buffer(std::string_view("d")), asio::use_awaitable);
        EXPECT_EQ(co_await read_upto(s, 1, 2s), "d");
        EXPECT_GE(ms_since(t0), 190ms);
        proxy.delay(chaos_proxy::direction::to_server, 0ms);
        proxy.limit_rate(100'000);  // 100 kB/s: 50 kB take about 0.5 s each way
        std::string data(50'000, 'r');
        t0 = clock_type::now();
        co_await asio::async_write(s, asio::buffer(data), asio::use_awaitable);
        EXPECT_EQ((co_await read_upto(s, data.size(), 5s)).size(), data.size());
        EXPECT_GE(ms_since(t0), 400ms);
    });
}

TEST(chaos_proxy, cut_all_closes_every_connection)
{
    echo_server echo;
    chaos_proxy proxy("127.0.0.1", echo.port());
    run([&]() -> asio::awaitable<void> {
        auto a = co_await connect_to(proxy.port());
        auto b = co_await connect_to(proxy.port());
        co_await asio::async_write(a, asio::buffer(std::string_view("a")), asio::use_awaitable);
        co_await asio::async_write(b, asio::buffer(std::string_view("b")), asio::use_awaitable);
        EXPECT_EQ(co_await read_upto(a, 1, 2s), "a");
        EXPECT_EQ(co_await read_upto(b, 1, 2s), "b");
        EXPECT_EQ(proxy.stats().active, 2u);
        proxy.cut_all();
        char c;
        auto [ec, n] = co_await a.async_read_some(asio::buffer(&c, 1), tuple_awaitable);
        EXPECT_EQ(ec, asio::error::eof);
        EXPECT_EQ(proxy.stats().active, 0u);
    });
}

} // namespace
} // namespace sleet::test
