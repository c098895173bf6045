// sleet::pool — a connection pool for many coroutines, possibly on many threads.
//
//   sleet::pool db(ioc.get_executor(), {.conninfo = "postgresql://app@db/app", .max_size = 8});
//   auto r = co_await db.async_execute("select $1::int", make_params(42));  // borrows for one query
//   {
//       auto c = co_await db.async_acquire();       // move-only handle, returns itself when destroyed
//       co_await c->async_execute("set statement_timeout = 1000");  // reset before the next borrower
//   }
//   int n = co_await db.transaction([&](sleet::transaction& tx) -> asio::awaitable<int> { ... });
//   co_await db.async_close();                      // graceful shutdown
//
// \par Guarantees
// - At most `max_size` connections; `min_size` kept open (re-opened in the background).
// - Waiters are served strictly first come, first served; each waits at most `acquire_timeout`
//   (errc::pool_acquire_timeout, with the pool's state and the last connection error in the
//   diagnostics).
// - A connection handed out is open, idle ('I'), with the session as the pool opened it:
//   a returned connection still in a transaction block is rolled back; one whose
//   session_modified() is set (SET, SET ROLE, LISTEN, temp tables, advisory locks, cursors,
//   ...) is reset with one simple query (`pool_params::reset_query`; not DISCARD ALL, so the
//   prepared-statement cache survives); if either fails, or it is closed, or the borrower
//   called discard(), it is closed instead. A connection idle for longer than
//   `liveness_check_after` is pinged (an empty query) before it is handed out.
// - Broken connections are dropped and replaced; after a failed connection attempt further
//   attempts are made one at a time with exponential backoff and jitter (no reconnect storm).
// - Connections retire after `max_lifetime` (less up to `lifetime_jitter` of it, so they do not
//   all retire together) and after `idle_timeout` idle while more than `min_size` are open.
// - A borrower holding a connection longer than `leak_threshold` is reported once to
//   `leak_handler` with the source location of its async_acquire call.
//
// \par Threading model
// The pool's state (nodes, idle list, waiter queue, timers) lives on one strand of the pool's
// executor; every entry point (acquire, release, cancellation, close) posts to it. Each
// connection is created on its own strand (`make_strand(executor)`), which its I/O and the
// pool's per-connection work (connect, liveness check, rollback/reset, close) run on; the pool
// reads a connection's state (is_open, transaction_status, session_modified) only on that
// strand. Completion handlers run on their associated executor (for a coroutine: its own),
// never inline and never on the pool's strand. So the pool may be used from coroutines on an
// io_context run by several threads; stats() may be called from any thread. A borrowed
// connection is used by its borrower only: its operations dispatch to the connection's strand.
//
// \par Shared connections for read-only statements
// A statement marked read-only (see pool_params::shared_depth) does not borrow a connection for
// itself: the pool keeps a few connections borrowed as "shared leases" and pipelines such
// statements on the least loaded one (up to shared_depth each; a new lease is borrowed while
// every lease is busy and the pool has room). Leases are ordinary borrows: they count in
// in_use, and they go back to the pool (reset as any borrow) when idle at a maintenance tick,
// one busy lease per tick when drained (so each passes the return/borrow checks regularly),
// when a borrower is waiting (new read-only statements then wait behind it, first come first
// served), or when the pool closes. A statement waiting for room fails with
// pool_acquire_timeout after acquire_timeout. A statement that fails fatally retires its
// lease's connection once the lease's other statements have finished.
//
// \par Per-operation cancellation
// async_acquire supports terminal, partial and total cancellation: a cancelled waiter leaves the
// queue at once and completes with operation_aborted; no connection is leaked. Queries on the
// pool forward cancellation to the acquire, then to the query.
//
// \par Object lifetimes
// Destroying the pool (without async_close) fails waiters with errc::pool_closed and closes idle
// connections; borrowed handles stay usable and close their connection when returned. The
// pool's timers keep the io_context busy until the pool is closed or destroyed.
#pragma once

#include <sleet/connection.hpp>
#include <sleet/source_location.hpp>
#include <sleet/transaction.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sleet {

class pooled_connection;

/// Reported when a borrower holds a connection longer than pool_params::leak_threshold.
struct leak_info {
    source_location acquired_at;  ///< the async_acquire (or transaction) call
    std::chrono::milliseconds held;    ///< how long it has been held so far
    std::int32_t backend_pid = 0;      ///< the server process of the connection
};

/// Configuration of a pool. Durations of zero disable the feature where noted.
struct pool_params {
    /// URL or key=value connection string (parsed once, with PG* environment variables).
    std::string conninfo;
    /// Knobs of every connection (statement cache, ...).
    connection_params connection;
    /// Connections kept open even when idle (opened in the background at start).
    std::size_t min_size = 0;
    /// Upper bound on open (and opening) connections. Must be at least 1.
    std::size_t max_size = 10;
    /// Read-only statements run through async_execute (param_list::read_only(): the query
    /// builder's selects on a database over the pool) share borrowed connections, pipelined,
    /// up to this many in flight on one connection; other statements borrow a connection each.
    /// 0: every statement borrows a connection for itself.
    std::size_t shared_depth = 32;
    /// Longest wait in async_acquire; zero: wait forever.
    std::chrono::milliseconds acquire_timeout{30'000};
    /// Connections are closed after this long (zero: never), minus a random part up to
    /// `lifetime_jitter` of it. A borrowed connection retires when it is returned.
    std::chrono::milliseconds max_lifetime{30 * 60'000};
    double lifetime_jitter = 0.1;
    /// Idle connections above min_size are closed after this long idle (zero: never).
    std::chrono::milliseconds idle_timeout{10 * 60'000};
    /// A connection idle at least this long is pinged (empty query) before it is handed out;
    /// zero pings on every borrow, duration::max() never.
    std::chrono::milliseconds liveness_check_after{1000};
    /// Timeout of a liveness check, of the rollback/reset of a returned connection and of the
    /// Terminate on close.
    std::chrono::milliseconds check_timeout{5000};
    /// Used when the connection string sets no connect_timeout (zero: no timeout).
    std::chrono::milliseconds connect_timeout{10'000};
    /// Backoff between connection attempts after failures: initial * 2^(n-1) capped at max,
    /// shortened by up to `backoff_jitter` of itself.
    std::chrono::milliseconds reconnect_backoff_initial{100};
    std::chrono::milliseconds reconnect_backoff_max{10'000};
    double backoff_jitter = 0.5;
    /// Report a borrower that holds a connection this long (zero: never).
    std::chrono::milliseconds leak_threshold{0};
    /// Called (on the pool's strand: do not block) once per borrow held past leak_threshold.
    /// Empty: a line on stderr naming file, line and function of the acquire call.
    std::function<void(const leak_info&)> leak_handler;
    /// Run (simple-query protocol) on a returned connection whose session_modified() is set.
    std::string reset_query = "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; "
                              "SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES";
};

/// A snapshot of the pool's counters (each read atomically; together only approximately
/// consistent while the pool is busy).
struct pool_stats {
    std::size_t size = 0;       ///< connections open or opening (including those being closed)
    std::size_t idle = 0;       ///< ready to be handed out
    std::size_t in_use = 0;     ///< held by borrowers
    std::size_t waiters = 0;    ///< async_acquire calls queued
    std::uint64_t acquisitions = 0;  ///< connections handed out
    std::uint64_t timeouts = 0;      ///< async_acquire calls that timed out
    std::uint64_t errors = 0;        ///< failed connection attempts, checks and resets, broken returns
    std::uint64_t created = 0;       ///< connections opened successfully
    std::uint64_t closed = 0;        ///< connections closed (for any reason)
};

namespace detail {
class pool_impl;
struct pool_access;
struct pool_node;
using acquire_handler_t = boost::asio::any_completion_handler<void(error_code, pooled_connection)>;
using close_handler_t = boost::asio::any_completion_handler<void(error_code)>;
} // namespace detail

/// A borrowed connection. Move-only; returns the connection to its pool when destroyed (or on
/// release()). Use it from the borrowing coroutine; `->` reaches the connection.
class pooled_connection {
public:
    pooled_connection() noexcept = default;
    pooled_connection(pooled_connection&& o) noexcept;
    pooled_connection& operator=(pooled_connection&& o) noexcept;
    pooled_connection(const pooled_connection&) = delete;
    pooled_connection& operator=(const pooled_connection&) = delete;
    ~pooled_connection();

    bool valid() const noexcept { return node_ != nullptr; }
    explicit operator bool() const noexcept { return valid(); }
    /// The connection (precondition: valid()).
    connection& get() const noexcept;
    connection* operator->() const noexcept { return &get(); }
    connection& operator*() const noexcept { return get(); }

    /// Returns the connection to the pool now (the handle becomes empty).
    void release() noexcept;
    /// Asks the pool to close the connection instead of reusing it when it is returned.
    void discard() noexcept { discard_ = true; }

    /// run_transaction on this connection (see transaction.hpp).
    template <class F>
    boost::asio::awaitable<detail::tx_value_t<F>> transaction(F body, transaction_options opts = {})
    {
        co_return co_await run_transaction(get(), std::move(body), opts);
    }
    /// Manual transaction control on this connection (see transaction.hpp).
    template <boost::asio::completion_token_for<void(error_code)> Token = default_token>
    auto async_begin(const transaction_options& opts = {}, Token&& token = {})
    {
        return sleet::async_begin(get(), opts, std::forward<Token>(token));
    }
    template <boost::asio::completion_token_for<void(error_code)> Token = default_token>
    auto async_commit(Token&& token = {})
    {
        return sleet::async_commit(get(), std::forward<Token>(token));
    }
    template <boost::asio::completion_token_for<void(error_code)> Token = default_token>
    auto async_rollback(Token&& token = {})
    {
        return sleet::async_rollback(get(), std::forward<Token>(token));
    }

private:
    friend class detail::pool_impl;
    pooled_connection(std::shared_ptr<detail::pool_impl> p, std::shared_ptr<detail::pool_node> n) noexcept;

    std::shared_ptr<detail::pool_impl> pool_;
    std::shared_ptr<detail::pool_node> node_;
    bool discard_ = false;
};

class pool {
public:
    using executor_type = boost::asio::any_io_executor;

    /// Creates the pool (opening min_size connections in the background). Throws
    /// error_with_diagnostics (errc::invalid_connection_string) for a bad conninfo and
    /// std::invalid_argument for max_size == 0 or min_size > max_size.
    pool(executor_type ex, pool_params params);
    pool(pool&&) noexcept = default;
    pool& operator=(pool&&) = delete;
    /// Fails waiters, closes idle connections (see "Object lifetimes").
    ~pool();

    executor_type get_executor() const noexcept;
    const pool_params& params() const noexcept;
    pool_stats stats() const noexcept;

    /// Borrows a connection: an idle one, a new one (while size < max_size), or the first one
    /// returned when every connection is in use (FIFO among waiters).
    /// Handler signature: void(error_code, pooled_connection). Errors: pool_acquire_timeout,
    /// pool_closed, operation_aborted (cancelled). `where` is reported by the leak warning.
    /// The final handler runs on its associated executor (default: the pool's executor);
    /// never inline.
    template <boost::asio::completion_token_for<void(error_code, pooled_connection)> Token = default_token>
    auto async_acquire(Token&& token = {}, source_location where = source_location::current())
    {
        return async_acquire(nullptr, std::forward<Token>(token), where);
    }
    template <boost::asio::completion_token_for<void(error_code, pooled_connection)> Token = default_token>
    auto async_acquire(diagnostics* diag, Token&& token = {}, source_location where = source_location::current())
    {
        return boost::asio::async_initiate<Token, void(error_code, pooled_connection)>(
            [this, diag, where](auto handler) {
                auto* d = detail::diag_target(handler, diag);
                start_acquire(d, where, std::move(handler));
            },
            token);
    }

    /// Borrows a connection for one query, runs it, returns the connection (closing it if the
    /// query failed fatally). Handler signature: void(error_code, result).
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
    /// Borrows a connection for one simple query. Handler signature:
    /// void(error_code, std::vector<result>).
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

    /// Borrows a connection and runs a transaction on it (see transaction.hpp); the connection
    /// is held for the whole transaction.
    template <class F>
    boost::asio::awaitable<detail::tx_value_t<F>> transaction(F body, transaction_options opts = {},
                                                              source_location where = source_location::current())
    {
        default_token token;  // named: GCC 12 mishandles temporaries in co_await
        auto c = co_await async_acquire(token, where);
        co_return co_await run_transaction(*c, std::move(body), opts);
    }

    /// Graceful shutdown: stop handing out connections, fail waiters (errc::pool_closed), close
    /// idle connections, let borrowers finish and close theirs when returned; completes when
    /// every connection is closed. Handler signature: void(error_code).
    template <boost::asio::completion_token_for<void(error_code)> Token = default_token>
    auto async_close(Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [this](auto handler) {
                auto* d = detail::diag_target(handler, nullptr);
                (void)d;
                start_close(std::move(handler));
            },
            token);
    }

private:
    void start_acquire(diagnostics* diag, source_location where, detail::acquire_handler_t h);
    void start_execute(std::string sql, param_list params, diagnostics* diag, detail::execute_handler_t h);
    friend struct detail::pool_access;
    void start_simple_query(std::string sql, diagnostics* diag, detail::simple_query_handler_t h);
    void start_close(detail::close_handler_t h);

    std::shared_ptr<detail::pool_impl> impl_;
};

namespace detail {
/// For the query layer, which owns the SQL already: runs a statement without the copy that
/// async_execute's string_view makes (as detail::connection_access does for a connection).
struct pool_access {
    static void start_execute(pool& p, std::string sql, param_list params, diagnostics* diag, execute_handler_t h);
};
} // namespace detail

} // namespace sleet
