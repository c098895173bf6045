#include "fake_server.hpp"

#include <sleet/wire/backend.hpp>
#include <sleet/wire/frontend.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <future>
#include <optional>
#include <stdexcept>
#include <thread>

namespace sleet::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

std::int32_t get_i32(std::string_view s, std::size_t at)
{
    auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + i])); };
    return static_cast<std::int32_t>(b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3));
}
} // namespace

// --- session ----------------------------------------------------------------------------------

asio::awaitable<void> fake_session::fill()
{
    char tmp[16 * 1024];
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(tmp), tuple_awaitable);
    if (ec) throw boost::system::system_error(ec);
    buf_.append(tmp, n);
}

asio::awaitable<std::vector<std::pair<std::string, std::string>>> fake_session::read_startup()
{
    for (;;) {
        while (buf_.size() < 4) co_await fill();
        const auto len = get_i32(buf_, 0);
        if (len < 8 || len > 10000) throw std::runtime_error("fake_server: bad startup packet length");
        while (buf_.size() < static_cast<std::size_t>(len)) co_await fill();
        std::string packet = buf_.substr(0, static_cast<std::size_t>(len));
        buf_.erase(0, static_cast<std::size_t>(len));
        const auto code = get_i32(packet, 4);
        if (code == wire::ssl_request_code) {
            co_await send("N");
            continue;
        }
        if (code != wire::protocol_version_3_0) throw std::runtime_error("fake_server: unexpected startup code");
        std::vector<std::pair<std::string, std::string>> params;
        std::string_view rest = std::string_view(packet).substr(8);
        while (!rest.empty() && rest.front() != '\0') {
            auto k = rest.find('\0');
            if (k == std::string_view::npos) break;
            std::string key(rest.substr(0, k));
            rest.remove_prefix(k + 1);
            auto v = rest.find('\0');
            if (v == std::string_view::npos) break;
            params.emplace_back(std::move(key), std::string(rest.substr(0, v)));
            rest.remove_prefix(v + 1);
        }
        co_return params;
    }
}

asio::awaitable<frontend_message> fake_session::read_message()
{
    for (;;) {
        // Frontend messages share the backend framing (type byte + int32 length).
        auto r = wire::split_message(buf_);
        if (r.status == wire::split_result::status_t::message) {
            frontend_message m{r.msg.type, std::string(r.msg.body)};
            buf_.erase(0, r.consumed);
            co_return m;
        }
        if (r.status == wire::split_result::status_t::error) throw boost::system::system_error(r.ec);
        co_await fill();
    }
}

asio::awaitable<void> fake_session::send(std::string bytes)
{
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(bytes), tuple_awaitable);
    if (ec) throw boost::system::system_error(ec);
}

asio::awaitable<std::string> fake_session::wait_for_close()
{
    std::string types;
    try {
        for (;;) {
            auto m = co_await read_message();
            types.push_back(m.type);
            if (m.type == 'X') break;
        }
    } catch (const std::exception&) {
    }
    co_return types;
}

std::string fake_session::message(char type, std::string_view body)
{
    std::string out;
    out.push_back(type);
    wire::put_int32(out, static_cast<std::int32_t>(body.size() + 4));
    out.append(body);
    return out;
}

std::string fake_session::authentication_ok()
{
    std::string b;
    wire::put_int32(b, 0);
    return message('R', b);
}

std::string fake_session::authentication_cleartext()
{
    std::string b;
    wire::put_int32(b, 3);
    return message('R', b);
}

std::string fake_session::authentication_sasl(const std::vector<std::string>& mechanisms)
{
    std::string b;
    wire::put_int32(b, 10);
    for (const auto& m : mechanisms) {
        b += m;
        b.push_back('\0');
    }
    b.push_back('\0');
    return message('R', b);
}

std::string fake_session::authentication_sasl_continue(std::string_view data)
{
    std::string b;
    wire::put_int32(b, 11);
    b.append(data);
    return message('R', b);
}

std::string fake_session::authentication_sasl_final(std::string_view data)
{
    std::string b;
    wire::put_int32(b, 12);
    b.append(data);
    return message('R', b);
}

std::string fake_session::error_response(std::string_view severity, std::string_view sqlstate, std::string_view text)
{
    std::string b;
    auto field = [&](char code, std::string_view v) {
        b.push_back(code);
        b.append(v);
        b.push_back('\0');
    };
    field('S', severity);
    field('V', severity);
    field('C', sqlstate);
    field('M', text);
    b.push_back('\0');
    return message('E', b);
}

std::string fake_session::backend_key_data(std::int32_t pid, std::int32_t key)
{
    std::string b;
    wire::put_int32(b, pid);
    wire::put_int32(b, key);
    return message('K', b);
}

std::string fake_session::ready_for_query(char status) { return message('Z', std::string_view(&status, 1)); }

std::string scram_client_nonce(std::string_view client_first)
{
    auto p = client_first.find(",r=");
    if (p == std::string_view::npos) return {};
    auto rest = client_first.substr(p + 3);
    return std::string(rest.substr(0, rest.find(',')));
}

// --- server -----------------------------------------------------------------------------------

struct fake_server::impl {
    asio::io_context ioc;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    tcp::acceptor acceptor{ioc};
    script run;
    std::atomic<std::size_t> accepted{0};
    std::thread thread;
    std::uint16_t port = 0;

    asio::awaitable<void> accept_loop()
    {
        for (;;) {
            auto [ec, s] = co_await acceptor.async_accept(tuple_awaitable);
            if (ec) co_return;
            ++accepted;
            auto session = std::make_shared<fake_session>(std::move(s));
            asio::co_spawn(
                ioc,
                [this, session]() -> asio::awaitable<void> {
                    try {
                        co_await run(*session);
                    } catch (const std::exception&) {
                        // the client went away or the script gave up: close
                    }
                },
                asio::detached);
        }
    }
};

fake_server::fake_server(script s) : impl_(std::make_unique<impl>())
{
    impl_->run = std::move(s);
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen();
    impl_->port = impl_->acceptor.local_endpoint().port();
    impl_->work.emplace(impl_->ioc.get_executor());
    asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
    impl_->thread = std::thread([i = impl_.get()] { i->ioc.run(); });
}

fake_server::~fake_server()
{
    impl* i = impl_.get();
    std::packaged_task<void()> stop([i] {
        boost::system::error_code ignored;
        i->acceptor.close(ignored);
    });
    auto fut = stop.get_future();
    asio::post(i->ioc, [&stop] { stop(); });
    fut.get();
    // Scripts still waiting on a client are abandoned with the io_context.
    i->work.reset();
    i->ioc.stop();
    i->thread.join();
}

std::uint16_t fake_server::port() const noexcept { return impl_->port; }

std::size_t fake_server::sessions() const { return impl_->accepted.load(); }

} // namespace sleet::test
