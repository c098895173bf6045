// sleet::connection — one PostgreSQL session over TCP, TLS or a unix socket, on Boost.Asio.
//
// Every operation is an Asio asynchronous operation: it takes any completion token
// (use_awaitable, deferred, a callback, use_future, as_tuple(...)); the default token throws
// error_with_diagnostics on the co_await path. All I/O code is compiled once in the library;
// this header only declares the type-erased entry points.
//
// \par Pipelining
// Operations may be started while others are outstanding: their messages are written without
// waiting for earlier results and they complete in the order they were started. An error fails
// only its own operation. Each statement ends with its own Sync, except read-only ones
// (param_list::read_only(), set by the query builder for selects without row locks or raw SQL):
// when several are written back to back outside a transaction block they share one Sync, so
// the server answers them with one ReadyForQuery and one send. They then run in one implicit
// transaction, which is invisible to statements that only read. If one of them fails, the
// server skips the ones after it up to the Sync; those are sent again at once, so they still
// succeed (after any read-only statements already on the wire behind them: nothing else is
// written behind a shared Sync until it is answered, so they never run after a write started
// after them). (connection_params::shared_sync = false turns this off.)
//
// \par Executor
// Intermediate handlers run on the connection's executor; the final handler on the handler's
// associated executor (default: the connection's). No operation completes inline.
//
// \par Per-operation cancellation
// Every query operation supports terminal, partial and total cancellation (e.g. a timeout bound
// through a cancellation_signal or awaitable_operators). A cancelled query completes at once
// with boost::asio::error::operation_aborted. If its messages had already reached the server,
// the connection sends a CancelRequest (when nothing else is queued behind it on the wire) and
// drains to ReadyForQuery in the background, discarding the late 57014, so the next query sees
// only its own result. If draining fails within `cancel_drain_timeout`, the connection is
// closed: it is never left desynchronised.
//
// \par Thread safety
// Distinct objects: safe. Shared object: unsafe; run all operations of a connection on its
// executor (use a strand when the io_context has several threads).
//
// \par Object lifetimes
// Arguments are copied into the operation (a deferred operation owns its SQL and parameters).
// The connection may be destroyed with operations outstanding: they fail with
// errc::connection_closed.
#pragma once

#include <sleet/connect_options.hpp>
#include <sleet/error.hpp>
#include <sleet/result.hpp>
#include <sleet/types.hpp>
#include <sleet/with_diagnostics.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <ranges>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sleet {

/// One NotificationResponse (NOTIFY channel, 'payload').
struct notification {
    std::int32_t process_id = 0;  ///< backend that sent it
    std::string channel;
    std::string payload;
};

/// COPY FROM STDIN data source: append the next chunk of COPY data to `chunk` and return true,
/// or return false at the end. Throwing ends the COPY with CopyFail (the server reports the
/// error; the connection stays usable). Called on the connection's executor.
using copy_source = std::function<bool(std::string& chunk)>;
/// COPY TO STDOUT sink: called once per row (one CopyData message), on the connection's executor.
/// The view is valid only during the call.
using copy_sink = std::function<void(std::string_view row)>;

namespace detail {
class connection_impl;
struct connection_access;
using connect_handler_t = boost::asio::any_completion_handler<void(error_code)>;
using simple_query_handler_t = boost::asio::any_completion_handler<void(error_code, std::vector<result>)>;
using execute_handler_t = boost::asio::any_completion_handler<void(error_code, result)>;
using copy_handler_t = boost::asio::any_completion_handler<void(error_code, std::uint64_t)>;
using notification_handler_t = boost::asio::any_completion_handler<void(error_code, notification)>;
} // namespace detail

/// Knobs of one connection (not part of the connection string).
struct connection_params {
    /// Largest backend message accepted; larger declared lengths are a protocol error.
    std::size_t max_message_size = std::size_t{1} << 30;
    /// After a cancelled query: how long to wait for the server to answer the CancelRequest and
    /// reach ReadyForQuery before closing the connection.
    std::chrono::milliseconds cancel_drain_timeout{5000};
    /// Prepared-statement cache: a query's SQL is parsed once into a named statement and its
    /// row description kept. false = unnamed statements only (PgBouncer transaction pooling).
    bool statement_cache = true;
    /// Most statements kept per connection (least recently used are closed first).
    std::size_t statement_cache_size = 256;
    /// Read-only statements (param_list::read_only(): the query builder's selects) pipelined
    /// back to back outside a transaction block share one Sync (see "Pipelining" above).
    /// false = one Sync per statement, always.
    bool shared_sync = true;
};

using notice_handler = std::function<void(const server_error_fields&)>;

class connection {
public:
    using executor_type = boost::asio::any_io_executor;

    explicit connection(executor_type ex, connection_params params = {});
    connection(connection&&) noexcept;
    connection& operator=(connection&&) noexcept;
    /// Closes the socket without a Terminate message; outstanding operations fail.
    ~connection();

    executor_type get_executor() const noexcept;

    /// Connects, negotiates TLS per sslmode, authenticates and waits for ReadyForQuery.
    /// Handler signature: void(error_code). Cancellation: terminal (closes the socket).
    template <boost::asio::completion_token_for<void(error_code)> Token = default_token>
    auto async_connect(const connect_options& opts, Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [this](auto handler, connect_options o) {
                auto* d = detail::diag_target(handler, nullptr);
                start_connect(std::move(o), d, std::move(handler));
            },
            token, opts);
    }
    /// Parses `conninfo` (URL or key=value, with PG* environment), then connects. A parse error
    /// completes the operation with errc::invalid_connection_string.
    template <boost::asio::completion_token_for<void(error_code)> Token = default_token>
    auto async_connect(std::string_view conninfo, Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [this](auto handler, std::string s) {
                auto* d = detail::diag_target(handler, nullptr);
                start_connect_string(std::move(s), d, std::move(handler));
            },
            token, std::string(conninfo));
    }

    /// Simple-query protocol: one or more ;-separated statements, text results, one result per
    /// statement. Handler signature: void(error_code, std::vector<result>).
    template <boost::asio::completion_token_for<void(error_code, std::vector<result>)> Token = default_token>
    auto async_simple_query(std::string_view sql, Token&& token = {})
    {
        return async_simple_query(sql, nullptr, std::forward<Token>(token));
    }
    template <boost::asio::completion_token_for<void(error_code, std::vector<result>)> Token = default_token>
    auto async_simple_query(std::string_view sql, diagnostics* diag, Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code, std::vector<result>)>(
            [this, diag](auto handler, std::string s) {
                auto* d = detail::diag_target(handler, diag);
                start_simple_query(std::move(s), d, std::move(handler));
            },
            token, std::string(sql));
    }

    /// Extended protocol with bound parameters ($1, $2, ...): Parse (once per SQL text, cached),
    /// Bind, Execute, Sync. Results come back in binary where the type has a binary codec.
    /// Handler signature: void(error_code, result).
    template <boost::asio::completion_token_for<void(error_code, result)> Token = default_token>
    auto async_execute(std::string_view sql, param_list params, Token&& token = {})
    {
        return async_execute(sql, std::move(params), nullptr, std::forward<Token>(token));
    }
    template <boost::asio::completion_token_for<void(error_code, result)> Token = default_token>
    auto async_execute(std::string_view sql, Token&& token = {})
    {
        return async_execute(sql, param_list{}, nullptr, std::forward<Token>(token));
    }
    template <boost::asio::completion_token_for<void(error_code, result)> Token = default_token>
    auto async_execute(std::string_view sql, param_list params, diagnostics* diag, Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code, result)>(
            [this, diag](auto handler, std::string s, param_list p) {
                auto* d = detail::diag_target(handler, diag);
                start_execute(std::move(s), std::move(p), d, std::move(handler));
            },
            token, std::string(sql), std::move(params));
    }

    // --- LISTEN / NOTIFY --------------------------------------------------------------------

    /// LISTEN on `channel` (quoted as an identifier, so any name works). Handler: void(error_code).
    template <boost::asio::completion_token_for<void(error_code)> Token = default_token>
    auto async_listen(std::string_view channel, Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [this](auto handler, std::string ch) {
                auto* d = detail::diag_target(handler, nullptr);
                start_listen(std::move(ch), true, d, std::move(handler));
            },
            token, std::string(channel));
    }
    /// UNLISTEN `channel` ("*" for all). Handler: void(error_code).
    template <boost::asio::completion_token_for<void(error_code)> Token = default_token>
    auto async_unlisten(std::string_view channel, Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [this](auto handler, std::string ch) {
                auto* d = detail::diag_target(handler, nullptr);
                start_listen(std::move(ch), false, d, std::move(handler));
            },
            token, std::string(channel));
    }
    /// Waits for the next notification. Notifications that arrive while queries run (between
    /// their results) are queued, never lost; this returns them in arrival order. One waiter at a
    /// time. Handler: void(error_code, notification). Cancellation: any type; the queue is kept.
    template <boost::asio::completion_token_for<void(error_code, notification)> Token = default_token>
    auto async_wait_notification(Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code, notification)>(
            [this](auto handler) {
                auto* d = detail::diag_target(handler, nullptr);
                start_wait_notification(d, std::move(handler));
            },
            token);
    }
    /// Channels this session listens on (as acknowledged by the server).
    std::vector<std::string> listening_channels() const;
    /// Notifications received and not yet taken by async_wait_notification.
    std::size_t queued_notifications() const noexcept;

    // --- COPY -------------------------------------------------------------------------------

    /// Runs `sql` (a `COPY ... FROM STDIN`, text/csv/binary) and feeds it from `source`.
    /// While it runs, later operations wait (nothing may interleave with COPY data).
    /// Handler: void(error_code, std::uint64_t rows).
    template <boost::asio::completion_token_for<void(error_code, std::uint64_t)> Token = default_token>
    auto async_copy_in(std::string_view sql, copy_source source, Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code, std::uint64_t)>(
            [this](auto handler, std::string s, copy_source src) {
                auto* d = detail::diag_target(handler, nullptr);
                start_copy_in(std::move(s), std::move(src), d, std::move(handler));
            },
            token, std::string(sql), std::move(source));
    }
    /// COPY FROM STDIN fed from a range of chunks (each convertible to std::string_view, e.g.
    /// one text-format line per element, or copy_binary_writer output). The range is moved into
    /// the operation.
    template <class Range, boost::asio::completion_token_for<void(error_code, std::uint64_t)> Token = default_token>
        requires std::ranges::input_range<Range> &&
                 std::convertible_to<std::ranges::range_reference_t<Range>, std::string_view>
    auto async_copy_in_range(std::string_view sql, Range&& chunks, Token&& token = {})
    {
        auto holder = std::make_shared<std::decay_t<Range>>(std::forward<Range>(chunks));
        auto it = std::make_shared<std::ranges::iterator_t<std::decay_t<Range>>>(std::ranges::begin(*holder));
        copy_source src = [holder, it](std::string& chunk) {
            if (*it == std::ranges::end(*holder)) return false;
            std::string_view v = **it;
            chunk.append(v.data(), v.size());
            ++*it;
            return true;
        };
        return async_copy_in(sql, std::move(src), std::forward<Token>(token));
    }
    /// Runs `sql` (a `COPY ... TO STDOUT`) and hands each row to `sink` as it arrives.
    /// Handler: void(error_code, std::uint64_t rows).
    template <boost::asio::completion_token_for<void(error_code, std::uint64_t)> Token = default_token>
    auto async_copy_out(std::string_view sql, copy_sink sink, Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code, std::uint64_t)>(
            [this](auto handler, std::string s, copy_sink k) {
                auto* d = detail::diag_target(handler, nullptr);
                start_copy_out(std::move(s), std::move(k), d, std::move(handler));
            },
            token, std::string(sql), std::move(sink));
    }

    /// Sends Terminate and closes. Outstanding operations fail with errc::connection_closed.
    /// Handler signature: void(error_code).
    template <boost::asio::completion_token_for<void(error_code)> Token = default_token>
    auto async_close(Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [this](auto handler) { start_close(std::move(handler)); }, token);
    }

    /// Closes the socket now, without Terminate.
    void close() noexcept;
    bool is_open() const noexcept;

    /// Server parameters reported by ParameterStatus (server_version, TimeZone, ...).
    const std::map<std::string, std::string, std::less<>>& server_parameters() const noexcept;
    std::string_view server_parameter(std::string_view name) const noexcept;
    std::int32_t backend_pid() const noexcept;
    /// 'I' idle, 'T' in a transaction block, 'E' in a failed transaction block.
    char transaction_status() const noexcept;
    /// Called with each NoticeResponse (warnings, RAISE NOTICE). Default: ignored.
    void set_notice_handler(notice_handler h);
    /// Number of statements in the prepared-statement cache.
    std::size_t cached_statements() const noexcept;
    /// Number of catalog lookups this connection has made for user and extension types (names
    /// declared by `pg_type<T>::type_name`, and result types outside the built-in table). Each
    /// type is looked up once per connection; the cache is dropped after DISCARD ALL and after
    /// an "undefined object" error (42704, e.g. a type dropped and created again).
    std::size_t type_lookups() const noexcept;
    /// True once a statement may have left state in the session that outlives it: SET/RESET
    /// (incl. SET ROLE), LISTEN, CREATE TABLE (temp tables), DECLARE, PREPARE, LOAD, or SQL that
    /// mentions advisory locks, set_config or temp. Conservative: a pool resets the session
    /// (or discards the connection) before reuse when it is set.
    bool session_modified() const noexcept;
    void clear_session_modified() noexcept;
    /// True while operations are outstanding (including cancelled ones still draining).
    bool has_pending_requests() const noexcept;
    /// For an idle connection (no operation outstanding): true when the server has sent
    /// something nobody asked for — typically the FATAL error and EOF of a terminated backend —
    /// or the connection is closed. One non-blocking peek at the socket; a pool calls it before
    /// handing the connection out. False while operations are outstanding.
    bool idle_input_pending() const noexcept;

private:
    void start_connect(connect_options opts, diagnostics* diag, detail::connect_handler_t h);
    void start_connect_string(std::string conninfo, diagnostics* diag, detail::connect_handler_t h);
    void start_simple_query(std::string sql, diagnostics* diag, detail::simple_query_handler_t h);
    void start_execute(std::string sql, param_list params, diagnostics* diag, detail::execute_handler_t h);
    void start_close(detail::connect_handler_t h);
    void start_listen(std::string channel, bool listen, diagnostics* diag, detail::connect_handler_t h);
    void start_wait_notification(diagnostics* diag, detail::notification_handler_t h);
    void start_copy_in(std::string sql, copy_source src, diagnostics* diag, detail::copy_handler_t h);
    void start_copy_out(std::string sql, copy_sink sink, diagnostics* diag, detail::copy_handler_t h);

    friend struct detail::connection_access;
    std::shared_ptr<detail::connection_impl> impl_;
};

namespace detail {
/// For the pool and the query layer, which own the SQL already: runs a statement without the
/// copy that async_execute's string_view makes. Same semantics as async_execute.
struct connection_access {
    static void start_execute(connection& c, std::string sql, param_list params, diagnostics* diag, execute_handler_t h);
};
} // namespace detail

} // namespace sleet
