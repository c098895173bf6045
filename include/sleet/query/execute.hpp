// sleet::query — the execution glue (the one query header that includes the driver and Asio):
// sleet::database runs the builders on a connection, so a query object is an Asio async
// operation:
//
//   sleet::database db(conn);
//   auto rows = co_await db.select().from(users).where(eq(users.id, 1));   // throws error_with_diagnostics
//   auto [ec, rows2] = co_await db.select().from(users)(asio::as_tuple(asio::use_awaitable));
//   db.insert(users).values({...})([](sleet::error_code ec, std::uint64_t n) { ... });
//
// \par Handler signature
// `void(error_code, R)`: R = std::vector<row type> for selects and `returning`, std::uint64_t (rows
// affected) for insert/update/delete without returning, std::int64_t for count().
//
// \par co_await forms
// `co_await q()` (the default token, with_diagnostics(use_awaitable)) throws
// error_with_diagnostics carrying the server's message, detail and hint: prefer it.
// `co_await <builder expression>` without a call works too (Asio treats the builder as an async
// operation) and throws the same error_with_diagnostics (see sleet/detail/await_operation.hpp).
// A named query must be called (`co_await q()`) or moved (`co_await std::move(q)`): Boost 1.81
// co_awaits only rvalue operations.
//
// \par Executor
// Intermediate handlers run on the connection's executor; the final handler is dispatched to
// its associated executor (default: the connection's). Never completes inline.
//
// \par Object lifetimes
// The query is copied (or moved) into the operation with its values: a deferred query is safe.
// The database and its connection must outlive the operation.
//
// \par Per-operation cancellation
// As the connection's async_execute (terminal): the handler's cancellation slot is given to the
// statement in flight.
#pragma once

#include <sleet/connection.hpp>
#include <sleet/detail/await_operation.hpp>
#include <sleet/query/builders.hpp>
#include <sleet/with_diagnostics.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace sleet {

class pool;
class transaction;

namespace detail {
using results_handler_t = boost::asio::any_completion_handler<void(error_code, std::vector<result>)>;

/// Decodes the results into the query's result type, then calls the user's handler: the
/// results of a batch (several statements), or the one result of a statement run alone.
template <class Handler, class Q>
struct decoding_handler {
    Handler inner_;
    diagnostics* diag_;

    void operator()(error_code ec, std::vector<result> rs) { finish(ec, rs); }
    void operator()(error_code ec, result r) { finish(ec, std::span<const result>(&r, 1)); }

private:
    void finish(error_code ec, std::span<const result> rs)
    {
        typename Q::result_type out{};
        if (!ec) {
            try {
                out = Q::decode(rs);
            } catch (const error_with_diagnostics& e) {
                ec = e.code();
                if (diag_) *diag_ = e.get_diagnostics();
            }
        }
        std::move(inner_)(ec, std::move(out));
    }
};
} // namespace detail

/// Where a database's statements run: a connection today, a pool or a transaction later. The
/// one virtual call per statement is the only cost of the indirection.
class query_executor {
public:
    virtual ~query_executor() = default;
    virtual boost::asio::any_io_executor get_executor() const = 0;
    /// Runs one statement with the extended protocol (as connection::async_execute).
    virtual void start_execute(std::string sql, param_list params, diagnostics* diag, detail::execute_handler_t h) = 0;
    /// 'I' idle, 'T' in a transaction block, 'E' in a failed one (as connection::transaction_status).
    virtual char transaction_status() const = 0;
    /// True when every statement runs in the same session (a connection, a transaction);
    /// false for a pool, where each statement may borrow another connection.
    virtual bool single_session() const { return true; }
};

/// An executor over one connection (which must outlive it).
std::shared_ptr<query_executor> make_connection_executor(connection& c);
/// An executor over a pool (which must outlive it): each statement borrows a connection for
/// itself. Work that needs one session (an insert split into several statements) fails with
/// errc::needs_single_session; run it in pool.transaction(...) instead.
std::shared_ptr<query_executor> make_pool_executor(pool& p);

/// What the logger hook receives for each statement, after it completes.
struct query_log {
    std::string_view sql;
    std::size_t param_count = 0;
    std::chrono::nanoseconds duration{};
    error_code ec;
    /// Rows returned or affected.
    std::uint64_t rows = 0;
    /// The parameter values, only when the logger was installed with `log_params = true`.
    std::span<const param_value> params;
};
using query_logger = std::function<void(const query_log&)>;

/// The entry point of the query builders: `db.select(...)`, `db.insert(t)`, `db.update(t)`,
/// `db.delete_(t)`, `db.count(t[, where])`. A cheap handle over a query_executor.
class database {
public:
    using executor_type = boost::asio::any_io_executor;
    using default_token = sleet::default_token;
    template <class Token, class R>
    static constexpr bool accepts_token =
        boost::asio::completion_token_for<Token, void(error_code, R)> || detail::await_operation_token_v<Token>;

    /// Runs on `c`, which must outlive the database and every query started through it.
    explicit database(connection& c);
    /// Runs each statement on a connection borrowed from `p` for that statement.
    explicit database(pool& p);
    /// Runs in the transaction's session (`tx` must outlive the database).
    explicit database(transaction& tx);
    explicit database(std::shared_ptr<query_executor> ex);

    executor_type get_executor() const;

    /// Calls `fn` after every statement with its SQL, parameter count, duration and outcome;
    /// parameter values only when `log_params` (they may be secrets). Empty `fn` removes it.
    void set_logger(query_logger fn, bool log_params = false);

    template <class... Es> auto select(const Es&... es) { return detail::make_select(this, es...); }
    template <class... Es> auto select_distinct(const Es&... es) { return detail::make_select_distinct(this, es...); }
    template <class... On, class... Es> auto select_distinct_on(const detail::distinct_on_list<On...>& on, const Es&... es)
    {
        return detail::make_select_distinct_on(this, on, es...);
    }
    template <table_type T> auto insert(const T&) { return insert_builder<database, T>(this); }
    template <table_type T> auto update(const T&) { return update_builder<database, T>(this); }
    template <table_type T> auto delete_(const T&) { return detail::make_delete<database, T>(this); }
    /// `select count(*) from t[ where cond]` → std::int64_t (drizzle's `$count`).
    template <table_type T> auto count(const T&) { return detail::make_count<database, T>(this); }
    template <table_type T, sql_expression E> auto count(const T&, const E& cond) { return detail::make_count<database, T>(this, cond); }

    /// Runs a built query with a completion token (the builders' call operator lands here).
    template <class Q, class Token>
    auto run(Q q, Token&& token)
    {
        using R = typename Q::result_type;
        auto init = [this](auto handler, Q query) {
            diagnostics* d = detail::diag_target(handler, nullptr);
            using H = std::decay_t<decltype(handler)>;
            // Called once, on the path taken: the user's handler wrapped to decode the result(s).
            auto decoder = [&] { return detail::decoding_handler<H, Q>{std::move(handler), d}; };
            std::vector<statement> stmts;
            try {
                if constexpr (requires { query.to_statement(false); }) {
                    statement st = query.to_statement(log_params_);
                    // One statement, no logger: straight to the executor (no batch state).
                    if (!logger_) return start_one(std::move(st), d, detail::execute_handler_t(decoder()));
                    stmts = detail::one_statement(std::move(st));
                } else {
                    stmts = query.statements(log_params_);
                }
            } catch (const error_with_diagnostics& e) {
                if (d) *d = e.get_diagnostics();
                return fail(e.code(), detail::results_handler_t(decoder()));
            }
            if (stmts.size() == 1 && !logger_) return start_one(std::move(stmts.front()), d, detail::execute_handler_t(decoder()));
            start_statements(std::move(stmts), d, detail::results_handler_t(decoder()));
        };
        if constexpr (detail::await_operation_token_v<Token>) {
            // `co_await q` without a call: fail with error_with_diagnostics, as the default token.
            return boost::asio::async_initiate<Token, void(std::exception_ptr, R)>(
                detail::diag_initiation<decltype(init)>{std::move(init)}, token, std::move(q));
        } else {
            return boost::asio::async_initiate<Token, void(error_code, R)>(std::move(init), token, std::move(q));
        }
    }

    /// Runs statements in order; several are wrapped in BEGIN/COMMIT (or a savepoint when a
    /// transaction is already open) and rolled back on the first failure.
    void start_statements(std::vector<statement> stmts, diagnostics* diag, detail::results_handler_t h);

private:
    void fail(error_code ec, detail::results_handler_t h);
    /// One statement on the executor, its result to `h`.
    void start_one(statement st, diagnostics* diag, detail::execute_handler_t h);

    std::shared_ptr<query_executor> ex_;
    std::shared_ptr<const query_logger> logger_;
    bool log_params_ = false;
};

} // namespace sleet

namespace boost::asio {
template <template <class, class> class Associator, class Handler, class Q, class Default>
struct associator<Associator, sleet::detail::decoding_handler<Handler, Q>, Default> : Associator<Handler, Default> {
    static typename Associator<Handler, Default>::type get(const sleet::detail::decoding_handler<Handler, Q>& h) noexcept
    {
        return Associator<Handler, Default>::get(h.inner_);
    }
    static auto get(const sleet::detail::decoding_handler<Handler, Q>& h, const Default& d) noexcept
        -> decltype(Associator<Handler, Default>::get(h.inner_, d))
    {
        return Associator<Handler, Default>::get(h.inner_, d);
    }
};
} // namespace boost::asio
