#include "chaos_proxy.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <future>
#include <list>
#include <stdexcept>
#include <thread>

namespace sleet::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t capture_limit = 8u << 20;
constexpr int to_server_i = 0;
constexpr int to_client_i = 1;
} // namespace

struct chaos_proxy::impl {
    struct link {
        explicit link(asio::io_context& ioc) : client(ioc), server(ioc) {}
        tcp::socket client;
        tcp::socket server;
        std::array<std::uint64_t, 2> count{};  // bytes forwarded per direction
        std::array<bool, 2> writing{};         // a write is in progress towards that side
        bool corrupted = false;
        bool closed = false;
        std::uint64_t id = 0;
    };

    asio::io_context ioc;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    tcp::acceptor acceptor{ioc};
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 0;
    std::string target_host;
    std::uint16_t target_port = 0;

    bool stopping = false;
    bool stalled = false;
    bool client_read_stopped = false;
    std::array<std::chrono::milliseconds, 2> delays{};
    std::size_t rate = 0;
    std::optional<std::uint64_t> drop_n;
    int drop_dir = to_client_i;
    std::optional<std::uint64_t> corrupt_offset;
    std::uint8_t corrupt_mask = 0xff;

    statistics st;
    std::array<std::string, 2> captured;
    std::list<std::shared_ptr<link>> links;
    std::thread thread;

    template <class F> auto call(F f)
    {
        using R = decltype(f());
        std::packaged_task<R()> task(std::move(f));
        auto fut = task.get_future();
        asio::post(ioc, [&task] { task(); });
        return fut.get();
    }

    void open_acceptor()
    {
        tcp::endpoint ep(asio::ip::make_address(listen_host), listen_port);
        acceptor.open(ep.protocol());
        acceptor.set_option(tcp::acceptor::reuse_address(true));
        acceptor.bind(ep);
        acceptor.listen();
        listen_port = acceptor.local_endpoint().port();
        asio::co_spawn(ioc, accept_loop(), asio::detached);
    }

    asio::awaitable<void> sleep(std::chrono::steady_clock::duration d)
    {
        asio::steady_timer t(ioc);
        t.expires_after(d);
        co_await t.async_wait(tuple_awaitable);
    }

    asio::awaitable<void> accept_loop()
    {
        for (;;) {
            auto [ec, s] = co_await acceptor.async_accept(tuple_awaitable);
            if (ec || stopping) co_return;
            auto l = std::make_shared<link>(ioc);
            l->client = std::move(s);
            l->client.set_option(tcp::no_delay(true));
            links.push_back(l);
            ++st.accepted;
            l->id = st.accepted;
            ++st.active;
            asio::co_spawn(ioc, start_link(l), asio::detached);
        }
    }

    asio::awaitable<void> start_link(std::shared_ptr<link> l)
    {
        tcp::resolver resolver(ioc);
        auto [rec, eps] = co_await resolver.async_resolve(target_host, std::to_string(target_port), tuple_awaitable);
        if (rec) {
            close_link(*l, true);
            co_return;
        }
        auto [cec, ep] = co_await asio::async_connect(l->server, eps, tuple_awaitable);
        if (cec || l->closed) {
            close_link(*l, true);
            co_return;
        }
        l->server.set_option(tcp::no_delay(true));
        asio::co_spawn(ioc, pump(l, to_server_i), asio::detached);
        asio::co_spawn(ioc, pump(l, to_client_i), asio::detached);
    }

    bool paused(int dir) const
    {
        if (stalled) return true;
        return dir == to_server_i && client_read_stopped;
    }

    asio::awaitable<void> pump(std::shared_ptr<link> l, int dir)
    {
        tcp::socket& from = dir == to_server_i ? l->client : l->server;
        tcp::socket& to = dir == to_server_i ? l->server : l->client;
        std::vector<char> buf(64 * 1024);
        for (;;) {
            while (paused(dir) && !l->closed && !stopping) co_await sleep(std::chrono::milliseconds(5));
            if (l->closed || stopping) break;
            std::size_t max = buf.size();
            if (rate > 0) max = std::clamp<std::size_t>(rate / 20, 1, buf.size());
            auto [rec, n] = co_await from.async_read_some(asio::buffer(buf.data(), max), tuple_awaitable);
            if (rec || l->closed) {
                close_link(*l, false);
                break;
            }
            // Data read while stalled is held, not delivered.
            while (paused(dir) && !l->closed && !stopping) co_await sleep(std::chrono::milliseconds(5));
            if (l->closed || stopping) break;
            if (delays[dir].count() > 0) co_await sleep(delays[dir]);
            if (l->closed) break;

            std::size_t fwd = n;
            bool drop = false;
            if (drop_n && drop_dir == dir && l->count[dir] + n >= *drop_n) {
                fwd = static_cast<std::size_t>(*drop_n - std::min(l->count[dir], *drop_n));
                drop = true;
            }
            if (dir == to_client_i && corrupt_offset && !l->corrupted && *corrupt_offset >= l->count[dir] &&
                *corrupt_offset < l->count[dir] + fwd) {
                buf[static_cast<std::size_t>(*corrupt_offset - l->count[dir])] ^= static_cast<char>(corrupt_mask);
                l->corrupted = true;
            }
            while (l->writing[dir] && !l->closed) co_await sleep(std::chrono::milliseconds(1));
            if (l->closed) break;
            error_code_t wec;
            if (fwd > 0) {
                // Counted before the write: the peer may read the bytes before this coroutine
                // resumes, and a test reading the counters then must see them.
                account(*l, dir, std::string_view(buf.data(), fwd));
                l->writing[dir] = true;
                auto [ec2, w] = co_await asio::async_write(to, asio::buffer(buf.data(), fwd), tuple_awaitable);
                l->writing[dir] = false;
                wec = ec2;
            }
            if (wec || drop) {
                close_link(*l, drop);
                break;
            }
            if (rate > 0) co_await sleep(std::chrono::microseconds(fwd * 1'000'000 / rate));
        }
    }
    using error_code_t = boost::system::error_code;

    void account(link& l, int dir, std::string_view bytes)
    {
        l.count[dir] += bytes.size();
        (dir == to_server_i ? st.bytes_to_server : st.bytes_to_client) += bytes.size();
        auto& cap = captured[dir];
        if (cap.size() < capture_limit) cap.append(bytes.substr(0, capture_limit - cap.size()));
    }

    void close_link(link& l, bool reset)
    {
        if (l.closed) return;
        l.closed = true;
        error_code_t ignored;
        for (tcp::socket* s : {&l.client, &l.server}) {
            if (!s->is_open()) continue;
            if (reset) s->set_option(asio::socket_base::linger(true, 0), ignored);
            s->close(ignored);
        }
        --st.active;
        links.remove_if([&](const auto& p) { return p.get() == &l; });
    }

    void cut_all(bool reset)
    {
        auto copy = links;
        for (auto& l : copy) close_link(*l, reset);
    }
};

chaos_proxy::chaos_proxy(std::string target_host, std::uint16_t target_port) : impl_(std::make_shared<impl>())
{
    impl_->target_host = std::move(target_host);
    impl_->target_port = target_port;
    impl_->work.emplace(impl_->ioc.get_executor());
    impl_->open_acceptor();
    impl_->thread = std::thread([i = impl_.get()] { i->ioc.run(); });
}

chaos_proxy::~chaos_proxy()
{
    impl* i = impl_.get();
    i->call([i] {
        i->stopping = true;
        boost::system::error_code ignored;
        i->acceptor.close(ignored);
        i->cut_all(false);
    });
    i->work.reset();
    i->thread.join();
}

const std::string& chaos_proxy::host() const noexcept { return impl_->listen_host; }
std::uint16_t chaos_proxy::port() const noexcept { return impl_->listen_port; }

void chaos_proxy::refuse_accepts(bool on)
{
    impl* i = impl_.get();
    i->call([i, on] {
        if (on) {
            boost::system::error_code ignored;
            i->acceptor.close(ignored);
        } else if (!i->acceptor.is_open()) {
            i->open_acceptor();
        }
    });
}

void chaos_proxy::stall(bool on)
{
    impl* i = impl_.get();
    i->call([i, on] { i->stalled = on; });
}

void chaos_proxy::stop_reading_from_client(bool on)
{
    impl* i = impl_.get();
    i->call([i, on] { i->client_read_stopped = on; });
}

void chaos_proxy::delay(direction dir, std::chrono::milliseconds d)
{
    impl* i = impl_.get();
    i->call([i, dir, d] { i->delays[dir == direction::to_server ? to_server_i : to_client_i] = d; });
}

void chaos_proxy::limit_rate(std::size_t bytes_per_second)
{
    impl* i = impl_.get();
    i->call([i, bytes_per_second] { i->rate = bytes_per_second; });
}

void chaos_proxy::cut_all(bool reset)
{
    impl* i = impl_.get();
    i->call([i, reset] { i->cut_all(reset); });
}

void chaos_proxy::drop_after(std::optional<std::uint64_t> n, direction dir)
{
    impl* i = impl_.get();
    i->call([i, n, dir] {
        i->drop_n = n;
        i->drop_dir = dir == direction::to_server ? to_server_i : to_client_i;
    });
}

void chaos_proxy::corrupt_to_client(std::optional<std::uint64_t> offset, std::uint8_t mask)
{
    impl* i = impl_.get();
    i->call([i, offset, mask] {
        i->corrupt_offset = offset;
        i->corrupt_mask = mask;
        for (auto& l : i->links) l->corrupted = false;
    });
}

void chaos_proxy::inject_to_client(std::string bytes)
{
    impl* i = impl_.get();
    std::promise<void> done;
    auto fut = done.get_future();
    asio::co_spawn(
        i->ioc,
        [i, bytes = std::move(bytes)]() -> asio::awaitable<void> {
            auto copy = i->links;
            for (auto& l : copy) {
                while (l->writing[to_client_i] && !l->closed) co_await i->sleep(std::chrono::milliseconds(1));
                if (l->closed) continue;
                i->account(*l, to_client_i, bytes);
                l->writing[to_client_i] = true;
                co_await asio::async_write(l->client, asio::buffer(bytes), tuple_awaitable);
                l->writing[to_client_i] = false;
            }
        },
        [&done](std::exception_ptr) { done.set_value(); });
    fut.get();
}

chaos_proxy::statistics chaos_proxy::stats() const
{
    impl* i = impl_.get();
    return i->call([i] { return i->st; });
}

std::vector<chaos_proxy::connection_info> chaos_proxy::connections() const
{
    impl* i = impl_.get();
    return i->call([i] {
        std::vector<connection_info> out;
        for (const auto& l : i->links) out.push_back(connection_info{l->id, l->count[to_server_i], l->count[to_client_i]});
        return out;
    });
}

std::string chaos_proxy::captured_to_server() const
{
    impl* i = impl_.get();
    return i->call([i] { return i->captured[to_server_i]; });
}

std::string chaos_proxy::captured_to_client() const
{
    impl* i = impl_.get();
    return i->call([i] { return i->captured[to_client_i]; });
}

} // namespace sleet::test
