// sleet::listener: a dedicated connection plus the channel set, reconnecting on demand.
#include <sleet/listener.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <random>

namespace sleet {

namespace asio = boost::asio;

struct listener::impl : std::enable_shared_from_this<listener::impl> {
    impl(asio::any_io_executor e, connect_options o, listener_params p) : ex(std::move(e)), opts(std::move(o)), params(p) {}

    asio::any_io_executor ex;
    connect_options opts;
    listener_params params;
    std::unique_ptr<connection> conn;
    std::set<std::string> channels;
    std::size_t reconnects = 0;
    bool ever_connected = false;
    bool closed = false;
    std::mt19937 rng{std::random_device{}()};

    /// Connects (with backoff between failed attempts) and re-LISTENs every channel.
    asio::awaitable<error_code> ensure_connected(diagnostics* diag)
    {
        auto delay = params.backoff_initial;
        for (;;) {
            if (closed) co_return make_error_code(errc::connection_closed);
            if (conn && conn->is_open()) co_return error_code{};
            conn = std::make_unique<connection>(ex, params.connection);
            diagnostics d;
            auto [ec] = co_await conn->async_connect(opts, asio::as_tuple(asio::use_awaitable));
            if (!ec) {
                for (const auto& ch : channels) {
                    std::tie(ec) = co_await conn->async_listen(ch, asio::as_tuple(asio::use_awaitable));
                    if (ec) break;
                }
            }
            if (!ec) {
                if (ever_connected) ++reconnects;
                ever_connected = true;
                co_return error_code{};
            }
            if (ec == asio::error::operation_aborted) co_return ec;
            if (!ever_connected) {
                // The first connection fails like a connection would: the caller decides.
                if (diag) diag->assign_client("listener could not connect: " + ec.message());
                conn.reset();
                co_return ec;
            }
            // Reconnecting: wait with jitter, then try again (no storm against a restarting server).
            std::uniform_real_distribution<double> jitter(0.5, 1.0);
            asio::steady_timer t(ex);
            t.expires_after(std::chrono::duration_cast<std::chrono::milliseconds>(delay * jitter(rng)));
            auto [tec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
            if (tec) co_return tec;
            delay = std::min(delay * 2, params.backoff_max);
        }
    }

    asio::awaitable<error_code> listen(std::string channel, diagnostics* diag)
    {
        channels.insert(channel);
        if (auto ec = co_await ensure_connected(diag)) co_return ec;
        auto [ec] = co_await conn->async_listen(channel, asio::as_tuple(asio::use_awaitable));
        co_return ec;
    }

    asio::awaitable<std::tuple<error_code, notification>> next(diagnostics* diag)
    {
        for (;;) {
            if (auto ec = co_await ensure_connected(diag)) co_return std::tuple{ec, notification{}};
            auto [ec, n] = co_await conn->async_wait_notification(asio::as_tuple(asio::use_awaitable));
            if (!ec) co_return std::tuple{ec, std::move(n)};
            if (ec == asio::error::operation_aborted || closed) co_return std::tuple{ec, notification{}};
            // The connection is gone (is_fatal): reconnect and wait again.
        }
    }
};

listener::listener(asio::any_io_executor ex, connect_options opts, listener_params params)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(opts), params))
{
}

listener::~listener() { close(); }

void listener::close() noexcept
{
    if (!impl_) return;
    impl_->closed = true;
    if (impl_->conn) impl_->conn->close();
}

std::size_t listener::reconnects() const noexcept { return impl_->reconnects; }
std::vector<std::string> listener::channels() const { return {impl_->channels.begin(), impl_->channels.end()}; }
std::int32_t listener::backend_pid() const noexcept { return impl_->conn && impl_->conn->is_open() ? impl_->conn->backend_pid() : 0; }

void listener::start_listen(std::string channel, diagnostics* diag, detail::connect_handler_t h)
{
    auto self = impl_;
    auto slot = asio::get_associated_cancellation_slot(h);
    asio::co_spawn(
        self->ex, [self, channel = std::move(channel), diag]() mutable { return self->listen(std::move(channel), diag); },
        asio::bind_cancellation_slot(slot, [self, h = std::move(h)](std::exception_ptr ep, error_code ec) mutable {
            if (ep) ec = make_error_code(errc::connection_closed);
            auto hex = asio::get_associated_executor(h, self->ex);
            asio::dispatch(hex, [h = std::move(h), ec]() mutable { std::move(h)(ec); });
        }));
}

void listener::start_next(diagnostics* diag, detail::notification_handler_t h)
{
    auto self = impl_;
    auto slot = asio::get_associated_cancellation_slot(h);
    asio::co_spawn(self->ex, [self, diag]() { return self->next(diag); },
                   asio::bind_cancellation_slot(
                       slot, [self, h = std::move(h)](std::exception_ptr ep, std::tuple<error_code, notification> r) mutable {
                           auto [ec, n] = std::move(r);
                           if (ep) ec = make_error_code(errc::connection_closed);
                           auto hex = asio::get_associated_executor(h, self->ex);
                           asio::dispatch(hex, [h = std::move(h), ec = ec, n = std::move(n)]() mutable { std::move(h)(ec, std::move(n)); });
                       }));
}

} // namespace sleet
