// sleet::listener — LISTEN/NOTIFY that survives reconnects.
//
// A listener owns one dedicated connection. async_listen() subscribes to channels;
// async_next() yields notifications in arrival order. When the connection is lost (server
// restart, pg_terminate_backend, network failure), the next async_next() reconnects with
// exponential backoff and jitter, LISTENs to every subscribed channel again, and goes on.
// Notifications sent while no connection was listening are lost: PostgreSQL does not keep them.
//
// \par Handler signatures
// async_listen: void(error_code). async_next: void(error_code, notification).
// \par Per-operation cancellation
// async_next supports any cancellation type (the subscription stays).
// \par Thread safety
// Like a connection: use it from one strand.
#pragma once

#include <sleet/connection.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>

#include <chrono>
#include <memory>
#include <set>
#include <string>

namespace sleet {

struct listener_params {
    connection_params connection{};
    std::chrono::milliseconds backoff_initial{100};
    std::chrono::milliseconds backoff_max{5000};
};

class listener {
public:
    listener(boost::asio::any_io_executor ex, connect_options opts, listener_params params = {});
    ~listener();
    listener(const listener&) = delete;
    listener& operator=(const listener&) = delete;

    /// Connects if needed and LISTENs on `channel`; the subscription is restored after reconnects.
    template <boost::asio::completion_token_for<void(error_code)> Token = default_token>
    auto async_listen(std::string_view channel, Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [this](auto handler, std::string ch) {
                auto* d = detail::diag_target(handler, nullptr);
                start_listen(std::move(ch), d, std::move(handler));
            },
            token, std::string(channel));
    }

    /// The next notification, reconnecting (and re-subscribing) first if the connection was lost.
    template <boost::asio::completion_token_for<void(error_code, notification)> Token = default_token>
    auto async_next(Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code, notification)>(
            [this](auto handler) {
                auto* d = detail::diag_target(handler, nullptr);
                start_next(d, std::move(handler));
            },
            token);
    }

    /// How many times the connection was re-established.
    std::size_t reconnects() const noexcept;
    /// The channels subscribed to (restored after every reconnect).
    std::vector<std::string> channels() const;
    /// Backend pid of the current connection (0 when disconnected).
    std::int32_t backend_pid() const noexcept;
    void close() noexcept;

private:
    struct impl;
    void start_listen(std::string channel, diagnostics* diag, detail::connect_handler_t h);
    void start_next(diagnostics* diag, detail::notification_handler_t h);
    std::shared_ptr<impl> impl_;
};

} // namespace sleet
