// sleet::transaction — callback-scoped transactions, savepoints, and a manual begin/commit API.
//
//   int n = co_await run_transaction(conn, [&](sleet::transaction& tx) -> asio::awaitable<int> {
//       co_await tx.async_execute("insert into t values ($1)", make_params(1));
//       co_await tx.savepoint([&](sleet::transaction& sp) -> asio::awaitable<void> {
//           co_await sp.async_execute("insert into t values (2)");   // undone if this throws
//       });
//       co_return 1;
//   }, {.isolation = isolation_level::serializable});
//
// (pool::transaction and pooled_connection::transaction do the same on a pooled connection.)
//
// \par Semantics
// BEGIN (with the options), await the body, COMMIT. If the body throws, the exception is caught,
// the handler is left (C++20 cannot co_await inside a catch block), ROLLBACK is awaited (its own
// failure is ignored) and the body's exception is rethrown. If COMMIT fails (e.g. SQLSTATE 40001
// on a serializable transaction) its error_with_diagnostics propagates, after a ROLLBACK.
// `tx.rollback()` ends the transaction early; the body's return then commits nothing.
// Nested scopes (`tx.savepoint(...)`) are SAVEPOINT / RELEASE SAVEPOINT / ROLLBACK TO SAVEPOINT.
// (The nested scope cannot be called `tx.transaction(...)`: C++ forbids a member function
// named like its class.)
//
// \par Cancellation
// If the awaiting coroutine is cancelled (a timeout through awaitable_operators or a bound
// cancellation_signal), the pending query completes with operation_aborted, which the body
// throws; the scope resets the coroutine's cancellation state, awaits the ROLLBACK, then rethrows
// operation_aborted. The rollback waits behind the connection's cancel-and-drain.
//
// \par Thread safety
// A transaction uses one connection; run its queries from one coroutine at a time (pipelining
// several queries of one transaction from concurrent coroutines is allowed and ordered, as on
// the connection). The transaction object must outlive its queries; it lives in the scope.
#pragma once

#include <sleet/connection.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace sleet {

enum class isolation_level { read_uncommitted, read_committed, repeatable_read, serializable };

/// Options of BEGIN. Unset fields keep the server's defaults (default_transaction_isolation, ...).
struct transaction_options {
    std::optional<isolation_level> isolation;
    bool read_only = false;
    /// Only meaningful for serializable read-only transactions (PostgreSQL ignores it otherwise).
    bool deferrable = false;

    /// "BEGIN", "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE", ...
    std::string begin_sql() const;
};

class transaction;

namespace detail {
using tx_command_handler_t = boost::asio::any_completion_handler<void(error_code)>;
/// Runs `sql` with the simple-query protocol and completes with its error code only.
void start_tx_command(connection& c, std::string sql, diagnostics* diag, tx_command_handler_t h);

template <class F> using tx_value_t = typename std::invoke_result_t<F&, transaction&>::value_type;

template <class T, class F> boost::asio::awaitable<T> run_tx_scope(transaction& tx, F& body);
struct tx_access;
} // namespace detail

/// One transaction scope (top level or a savepoint) on one connection. Created by the scope
/// functions; passed to the body by reference.
class transaction {
public:
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;

    connection& get_connection() const noexcept { return *conn_; }
    /// 0 for the top-level transaction, n for the n-th nested savepoint.
    unsigned depth() const noexcept { return depth_; }
    /// True after commit or rollback; queries then fail with errc::transaction_finished.
    bool finished() const noexcept { return finished_; }

    /// Like connection::async_execute, on this transaction's connection. Fails with
    /// errc::transaction_finished (without reaching the server) once the scope has ended.
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
    /// Like connection::async_simple_query, on this transaction's connection.
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

    /// A nested scope: SAVEPOINT, await `body`, RELEASE SAVEPOINT; ROLLBACK TO SAVEPOINT (and
    /// rethrow) if it throws. The outer transaction continues either way.
    template <class F> boost::asio::awaitable<detail::tx_value_t<F>> savepoint(F body)
    {
        transaction sp(*conn_, depth_ + 1);
        const std::string sql = sp.begin_sql_();  // named: GCC 12 mishandles temporaries in co_await
        co_await conn_->async_simple_query(sql);
        co_return co_await detail::run_tx_scope<detail::tx_value_t<F>>(sp, body);
    }

    /// Rolls this scope back now (ROLLBACK, or ROLLBACK TO SAVEPOINT for a nested scope). The
    /// scope commits nothing when the body returns. Throws error_with_diagnostics on failure.
    boost::asio::awaitable<void> rollback();
    /// Commits this scope now (COMMIT, or RELEASE SAVEPOINT). Rarely needed: returning from the
    /// body commits.
    boost::asio::awaitable<void> commit();

private:
    transaction(connection& c, unsigned depth) : conn_(&c), depth_(depth) {}

    std::string begin_sql_() const;
    std::string commit_sql_() const;
    std::string rollback_sql_() const;
    /// ROLLBACK without throwing (used on the exception path).
    boost::asio::awaitable<void> rollback_quietly_();

    void start_execute(std::string sql, param_list params, diagnostics* diag, detail::execute_handler_t h);
    void start_simple_query(std::string sql, diagnostics* diag, detail::simple_query_handler_t h);

    friend struct detail::tx_access;

    connection* conn_;
    unsigned depth_;
    bool finished_ = false;
};

namespace detail {

struct tx_access {
    static transaction make(connection& c) { return transaction(c, 0); }
    static boost::asio::awaitable<void> rollback_quietly(transaction& tx) { return tx.rollback_quietly_(); }
};

/// The body-then-commit / rollback-and-rethrow part shared by top-level and nested scopes.
template <class T, class F> boost::asio::awaitable<T> run_tx_scope(transaction& tx, F& body)
{
    std::exception_ptr failure;
    std::optional<std::conditional_t<std::is_void_v<T>, char, T>> value;
    try {
        if constexpr (std::is_void_v<T>) co_await body(tx);
        else value.emplace(co_await body(tx));
    } catch (...) {
        failure = std::current_exception();
    }
    if (!failure && !tx.finished()) {
        try {
            co_await tx.commit();
        } catch (...) {
            failure = std::current_exception();
        }
    }
    if (failure) {
        // A cancelled coroutine would refuse to await the ROLLBACK: start a fresh cancellation
        // state so that the rollback runs, then report the original failure.
        auto cs = co_await boost::asio::this_coro::cancellation_state;
        if (cs.cancelled() != boost::asio::cancellation_type::none)
            co_await boost::asio::this_coro::reset_cancellation_state();
        if (!tx.finished()) co_await tx_access::rollback_quietly(tx);
        std::rethrow_exception(failure);
    }
    if constexpr (!std::is_void_v<T>) co_return std::move(*value);
}

} // namespace detail

/// BEGIN with `opts` on `c`, await `body(tx)`, COMMIT; ROLLBACK and rethrow if the body throws
/// or COMMIT fails. Returns the body's value. The connection must not be used by anyone else
/// meanwhile (queries of other coroutines would join the transaction).
template <class F>
boost::asio::awaitable<detail::tx_value_t<F>> run_transaction(connection& c, F body, transaction_options opts = {})
{
    const std::string sql = opts.begin_sql();  // named: GCC 12 mishandles temporaries in co_await
    co_await c.async_simple_query(sql);
    transaction tx = detail::tx_access::make(c);
    co_return co_await detail::run_tx_scope<detail::tx_value_t<F>>(tx, body);
}

// ---------------------------------------------------------------------------------------------
// Manual API: async_begin / async_commit / async_rollback on a connection.
// Handler signature: void(error_code). Intermediate handlers on the connection's executor, the
// final one on the handler's associated executor; never completes inline. Cancellation as for
// connection::async_simple_query.
// ---------------------------------------------------------------------------------------------

template <boost::asio::completion_token_for<void(error_code)> Token = default_token>
auto async_begin(connection& c, const transaction_options& opts = {}, Token&& token = {})
{
    return boost::asio::async_initiate<Token, void(error_code)>(
        [&c](auto handler, std::string sql) {
            auto* d = detail::diag_target(handler, nullptr);
            detail::start_tx_command(c, std::move(sql), d, std::move(handler));
        },
        token, opts.begin_sql());
}

template <boost::asio::completion_token_for<void(error_code)> Token = default_token>
auto async_commit(connection& c, Token&& token = {})
{
    return boost::asio::async_initiate<Token, void(error_code)>(
        [&c](auto handler) {
            auto* d = detail::diag_target(handler, nullptr);
            detail::start_tx_command(c, "COMMIT", d, std::move(handler));
        },
        token);
}

template <boost::asio::completion_token_for<void(error_code)> Token = default_token>
auto async_rollback(connection& c, Token&& token = {})
{
    return boost::asio::async_initiate<Token, void(error_code)>(
        [&c](auto handler) {
            auto* d = detail::diag_target(handler, nullptr);
            detail::start_tx_command(c, "ROLLBACK", d, std::move(handler));
        },
        token);
}

} // namespace sleet
