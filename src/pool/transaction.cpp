// sleet::transaction: SQL of the scopes, forwarding of queries, the manual API.
#include <sleet/transaction.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

namespace sleet {

namespace asio = boost::asio;

std::string transaction_options::begin_sql() const
{
    std::string s = "BEGIN";
    if (isolation) {
        s += " ISOLATION LEVEL ";
        switch (*isolation) {
        case isolation_level::read_uncommitted: s += "READ UNCOMMITTED"; break;
        case isolation_level::read_committed: s += "READ COMMITTED"; break;
        case isolation_level::repeatable_read: s += "REPEATABLE READ"; break;
        case isolation_level::serializable: s += "SERIALIZABLE"; break;
        }
    }
    if (read_only) s += " READ ONLY";
    if (deferrable) s += " DEFERRABLE";
    return s;
}

namespace {

std::string savepoint_name(unsigned depth) { return "sleet_sp_" + std::to_string(depth); }

/// Completes `h` later (never inline): posted to `ex`, then dispatched to h's executor.
template <class Handler, class... Args> void post_to_handler(const asio::any_io_executor& ex, Handler h, Args... args)
{
    asio::post(ex, [ex, h = std::move(h), ... args = std::move(args)]() mutable {
        auto hex = asio::get_associated_executor(h, ex);
        asio::dispatch(hex, [h = std::move(h), ... args = std::move(args)]() mutable { std::move(h)(std::move(args)...); });
    });
}

error_with_diagnostics finished_error()
{
    diagnostics d;
    d.assign_client("the transaction has already been committed or rolled back; its scope cannot run more queries");
    return error_with_diagnostics(make_error_code(errc::transaction_finished), std::move(d));
}

} // namespace

std::string transaction::begin_sql_() const { return "SAVEPOINT " + savepoint_name(depth_); }

std::string transaction::commit_sql_() const
{
    return depth_ == 0 ? std::string("COMMIT") : "RELEASE SAVEPOINT " + savepoint_name(depth_);
}

std::string transaction::rollback_sql_() const
{
    if (depth_ == 0) return "ROLLBACK";
    const auto n = savepoint_name(depth_);
    return "ROLLBACK TO SAVEPOINT " + n + "; RELEASE SAVEPOINT " + n;
}

asio::awaitable<void> transaction::commit()
{
    if (finished_) throw finished_error();
    const std::string sql = commit_sql_();
    auto rs = co_await conn_->async_simple_query(sql);
    finished_ = true;
    // COMMIT of a transaction block in which a statement failed "succeeds" with the tag
    // ROLLBACK: the work is lost, which the caller must hear about.
    if (depth_ == 0 && !rs.empty() && rs.back().command_tag() == "ROLLBACK") {
        diagnostics d;
        d.assign_client("COMMIT rolled the transaction back because a statement in it had failed "
                        "(the error was caught inside the transaction body)");
        throw error_with_diagnostics(make_sqlstate_error("25P02"), std::move(d));
    }
}

asio::awaitable<void> transaction::rollback()
{
    if (finished_) throw finished_error();
    finished_ = true;  // even if ROLLBACK fails, the scope is over (the connection is then broken)
    const std::string sql = rollback_sql_();
    co_await conn_->async_simple_query(sql);
}

asio::awaitable<void> transaction::rollback_quietly_()
{
    finished_ = true;
    const std::string sql = rollback_sql_();
    auto token = asio::as_tuple(asio::use_awaitable);
    auto [ec, rs] = co_await conn_->async_simple_query(sql, token);
    (void)ec;  // a broken connection is the pool's business; the body's error is the one reported
}

void transaction::start_execute(std::string sql, param_list params, diagnostics* diag, detail::execute_handler_t h)
{
    if (finished_) {
        auto e = finished_error();
        if (diag) *diag = e.get_diagnostics();
        return post_to_handler(conn_->get_executor(), std::move(h), e.code(), result{});
    }
    conn_->async_execute(sql, std::move(params), diag, std::move(h));
}

void transaction::start_simple_query(std::string sql, diagnostics* diag, detail::simple_query_handler_t h)
{
    if (finished_) {
        auto e = finished_error();
        if (diag) *diag = e.get_diagnostics();
        return post_to_handler(conn_->get_executor(), std::move(h), e.code(), std::vector<result>{});
    }
    conn_->async_simple_query(sql, diag, std::move(h));
}

namespace detail {

void start_tx_command(connection& c, std::string sql, diagnostics* diag, tx_command_handler_t h)
{
    auto slot = asio::get_associated_cancellation_slot(h);
    auto ex = c.get_executor();
    c.async_simple_query(sql, diag,
                         asio::bind_cancellation_slot(slot, [h = std::move(h), ex](error_code ec, std::vector<result>) mutable {
                             auto hex = asio::get_associated_executor(h, ex);
                             asio::dispatch(hex, [h = std::move(h), ec]() mutable { std::move(h)(ec); });
                         }));
}

} // namespace detail

} // namespace sleet
