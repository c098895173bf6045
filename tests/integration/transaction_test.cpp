// Transactions against the real server: commit, rollback on exception and on cancellation,
// savepoints, explicit rollback, options, serialization failures, the manual API.
#include "fixture.hpp"

#include <sleet/pool.hpp>
#include <sleet/transaction.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <stdexcept>
#include <vector>

using namespace sleet;
using namespace sleet::test;
using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

// Named: GCC 12 rejects string literals as temporaries inside a co_await expression.
const std::string table_tx_cancel = "tx_cancel";
const std::string table_tx_commit = "tx_commit";
const std::string table_tx_explicit = "tx_explicit";
const std::string table_tx_sp = "tx_sp";
const std::string table_tx_swallow = "tx_swallow";
const std::string table_tx_throw = "tx_throw";

pool_params params_for(std::string_view app, std::size_t max_size)
{
    pool_params p;
    p.conninfo = url("", "", "sslmode=disable&application_name=" + std::string(app));
    p.max_size = max_size;
    return p;
}

asio::awaitable<std::vector<std::int32_t>> ids(pool& db, std::string_view table)
{
    auto r = co_await db.async_execute("select id from " + std::string(table) + " order by id");
    std::vector<std::int32_t> out;
    for (const auto& row : r) out.push_back(row.get<std::int32_t>(0));
    co_return out;
}

} // namespace

TEST(transaction, begin_sql_spells_the_options)
{
    EXPECT_EQ(transaction_options{}.begin_sql(), "BEGIN");
    transaction_options o;
    o.isolation = isolation_level::serializable;
    o.read_only = true;
    o.deferrable = true;
    EXPECT_EQ(o.begin_sql(), "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE");
    o = {};
    o.isolation = isolation_level::read_committed;
    EXPECT_EQ(o.begin_sql(), "BEGIN ISOLATION LEVEL READ COMMITTED");
    o.isolation = isolation_level::repeatable_read;
    EXPECT_EQ(o.begin_sql(), "BEGIN ISOLATION LEVEL REPEATABLE READ");
    o.isolation = isolation_level::read_uncommitted;
    EXPECT_EQ(o.begin_sql(), "BEGIN ISOLATION LEVEL READ UNCOMMITTED");
}

TEST(transaction, commit_on_return_gives_the_body_value)
{
    run([]() -> asio::awaitable<void> {
        auto ex0 = co_await asio::this_coro::executor;
        pool db(ex0, params_for("sleet_tx_commit", 2));
        co_await db.async_simple_query("drop table if exists tx_commit; create table tx_commit(id int)");
        auto body = [&](sleet::transaction& tx) -> asio::awaitable<int> {
            EXPECT_EQ(tx.depth(), 0u);
            EXPECT_EQ(tx.get_connection().transaction_status(), 'T');
            co_await tx.async_execute("insert into tx_commit values ($1), ($2)", make_params(1, 2));
            auto r = co_await tx.async_simple_query("select count(*) from tx_commit");
            co_return static_cast<int>(r[0][0].get<std::int64_t>(0));
        };
        const int n = co_await db.transaction(body);
        EXPECT_EQ(n, 2);
        const auto got1 = co_await ids(db, table_tx_commit);
        EXPECT_EQ(got1, (std::vector<std::int32_t>{1, 2}));
    });
}

TEST(transaction, exception_in_the_body_rolls_back_and_is_rethrown)
{
    run([]() -> asio::awaitable<void> {
        auto ex0 = co_await asio::this_coro::executor;
        pool db(ex0, params_for("sleet_tx_throw", 1));
        co_await db.async_simple_query("drop table if exists tx_throw; create table tx_throw(id int primary key)");
        try {
            co_await db.transaction([&](sleet::transaction& tx) -> asio::awaitable<void> {
                co_await tx.async_execute("insert into tx_throw values (1)");
                throw std::runtime_error("business rule violated");
            });
            ADD_FAILURE() << "expected the body's exception";
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "business rule violated");  // the body's own exception, unchanged
        }
        const auto got3 = co_await ids(db, table_tx_throw);
        EXPECT_TRUE(got3.empty());

        // A server error inside the body: the same, with its SQLSTATE.
        try {
            co_await db.transaction([&](sleet::transaction& tx) -> asio::awaitable<void> {
                co_await tx.async_execute("insert into tx_throw values (5)");
                co_await tx.async_execute("insert into tx_throw values (5)");
            });
            ADD_FAILURE() << "expected a unique violation";
        } catch (const error_with_diagnostics& e) {
            EXPECT_EQ(e.sqlstate(), "23505");
        }
        const auto got4 = co_await ids(db, table_tx_throw);
        EXPECT_TRUE(got4.empty());
        // The connection came back clean (one connection, reused, idle).
        auto c = co_await db.async_acquire();
        EXPECT_EQ(c->transaction_status(), 'I');
        EXPECT_EQ(db.stats().created, 1u);
    });
}

TEST(transaction, savepoints_nest_and_roll_back_alone)
{
    run([]() -> asio::awaitable<void> {
        auto ex0 = co_await asio::this_coro::executor;
        pool db(ex0, params_for("sleet_tx_sp", 1));
        co_await db.async_simple_query("drop table if exists tx_sp; create table tx_sp(id int primary key)");
        co_await db.transaction([&](sleet::transaction& tx) -> asio::awaitable<void> {
            co_await tx.async_execute("insert into tx_sp values (1)");
            // A throwing nested scope is rolled back to its savepoint; the outer one goes on.
            try {
                co_await tx.savepoint([&](sleet::transaction& sp) -> asio::awaitable<void> {
                    EXPECT_EQ(sp.depth(), 1u);
                    co_await sp.async_execute("insert into tx_sp values (2)");
                    throw std::runtime_error("undo 2");
                });
                ADD_FAILURE() << "expected the nested exception";
            } catch (const std::runtime_error& e) {
                EXPECT_STREQ(e.what(), "undo 2");
            }
            // A failing statement inside a savepoint does not poison the outer transaction.
            try {
                co_await tx.savepoint([&](sleet::transaction& sp) -> asio::awaitable<void> {
                    co_await sp.async_execute("insert into tx_sp values (1)");  // duplicate
                });
                ADD_FAILURE() << "expected a unique violation";
            } catch (const error_with_diagnostics& e) {
                EXPECT_EQ(e.sqlstate(), "23505");
            }
            EXPECT_EQ(tx.get_connection().transaction_status(), 'T');
            // Two levels: the inner one rolls back explicitly, the middle one commits.
            const int v = co_await tx.savepoint([&](sleet::transaction& sp) -> asio::awaitable<int> {
                co_await sp.async_execute("insert into tx_sp values (3)");
                co_await sp.savepoint([&](sleet::transaction& inner) -> asio::awaitable<void> {
                    EXPECT_EQ(inner.depth(), 2u);
                    co_await inner.async_execute("insert into tx_sp values (4)");
                    co_await inner.rollback();
                });
                co_return 3;
            });
            EXPECT_EQ(v, 3);
        });
        const auto got2 = co_await ids(db, table_tx_sp);
        EXPECT_EQ(got2, (std::vector<std::int32_t>{1, 3}));
    });
}

TEST(transaction, explicit_rollback_ends_the_scope)
{
    run([]() -> asio::awaitable<void> {
        auto ex0 = co_await asio::this_coro::executor;
        pool db(ex0, params_for("sleet_tx_explicit", 1));
        co_await db.async_simple_query("drop table if exists tx_explicit; create table tx_explicit(id int)");
        const int v = co_await db.transaction([&](sleet::transaction& tx) -> asio::awaitable<int> {
            co_await tx.async_execute("insert into tx_explicit values (1)");
            co_await tx.rollback();
            EXPECT_TRUE(tx.finished());
            EXPECT_EQ(tx.get_connection().transaction_status(), 'I');
            // Queries after the end would run outside any transaction: refused.
            try {
                co_await tx.async_execute("insert into tx_explicit values (2)");
                ADD_FAILURE() << "a query after rollback ran";
            } catch (const error_with_diagnostics& e) {
                EXPECT_EQ(e.code(), make_error_code(errc::transaction_finished));
                EXPECT_EQ(e.get_diagnostics().client_message(),
                          "the transaction has already been committed or rolled back; its scope cannot run more queries");
            }
            co_return 9;
        });
        EXPECT_EQ(v, 9);
        const auto got5 = co_await ids(db, table_tx_explicit);
        EXPECT_TRUE(got5.empty());
    });
}

TEST(transaction, commit_after_a_swallowed_error_is_reported)
{
    run([]() -> asio::awaitable<void> {
        auto ex0 = co_await asio::this_coro::executor;
        pool db(ex0, params_for("sleet_tx_swallow", 1));
        co_await db.async_simple_query("drop table if exists tx_swallow; create table tx_swallow(id int)");
        try {
            co_await db.transaction([&](sleet::transaction& tx) -> asio::awaitable<void> {
                co_await tx.async_execute("insert into tx_swallow values (1)");
                auto tok = asio::as_tuple(asio::use_awaitable);
                auto [ec, r] = co_await tx.async_execute("select 1/0", tok);  // error ignored by the body
                EXPECT_EQ(sqlstate_of(ec), "22012");
            });
            ADD_FAILURE() << "COMMIT of a failed transaction block reported success";
        } catch (const error_with_diagnostics& e) {
            // The user sees that the COMMIT did not commit.
            EXPECT_EQ(e.sqlstate(), "25P02");
            EXPECT_NE(e.get_diagnostics().client_message().find("COMMIT rolled the transaction back"), std::string::npos);
        }
        const auto got6 = co_await ids(db, table_tx_swallow);
        EXPECT_TRUE(got6.empty());
    });
}

TEST(transaction, options_reach_the_server)
{
    run([]() -> asio::awaitable<void> {
        auto ex0 = co_await asio::this_coro::executor;
        pool db(ex0, params_for("sleet_tx_options", 1));
        transaction_options o;
        o.isolation = isolation_level::repeatable_read;
        o.read_only = true;
        try {
            co_await db.transaction(
                [&](sleet::transaction& tx) -> asio::awaitable<void> {
                    auto r = co_await tx.async_execute(
                        "select current_setting('transaction_isolation'), current_setting('transaction_read_only')");
                    EXPECT_EQ(r[0].get<std::string>(0), "repeatable read");
                    EXPECT_EQ(r[0].get<std::string>(1), "on");
                    co_await tx.async_simple_query("create table tx_ro(id int)");
                },
                o);
            ADD_FAILURE() << "a read-only transaction created a table";
        } catch (const error_with_diagnostics& e) {
            EXPECT_EQ(e.sqlstate(), "25006");  // read_only_sql_transaction
        }
    });
}

TEST(transaction, serialization_failure_surfaces_sqlstate_40001)
{
    run([]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        pool db(ex, params_for("sleet_tx_serial", 2));
        co_await db.async_simple_query(
            "drop table if exists tx_serial; create table tx_serial(class int, value int);"
            "insert into tx_serial values (1, 10), (2, 20)");
        transaction_options o;
        o.isolation = isolation_level::serializable;
        // Write skew: each reads one class and inserts into the other, both read before either
        // writes; serializable isolation must fail one of them.
        int read[2] = {0, 0};
        std::string outcome[2];
        int done = 0;
        for (int me = 0; me < 2; ++me) {
            asio::co_spawn(
                ex,
                [&, me]() -> asio::awaitable<void> {
                    try {
                        co_await db.transaction(
                            [&](sleet::transaction& tx) -> asio::awaitable<void> {
                                co_await tx.async_execute("select sum(value) from tx_serial where class = $1", make_params(me + 1));
                                read[me] = 1;
                                while (!read[1 - me]) co_await sleep_for(1ms);
                                co_await tx.async_execute("insert into tx_serial values ($1, 1)", make_params(2 - me));
                                co_await sleep_for(me * 20ms);  // commit one after the other
                            },
                            o);
                        outcome[me] = "committed";
                    } catch (const error_with_diagnostics& e) {
                        outcome[me] = e.sqlstate();
                    }
                    ++done;
                },
                asio::detached);
        }
        while (done < 2) co_await sleep_for(2ms);
        // One commits; the other fails with serialization_failure, for the caller to retry.
        std::vector<std::string> got{outcome[0], outcome[1]};
        std::sort(got.begin(), got.end());
        EXPECT_EQ(got, (std::vector<std::string>{"40001", "committed"}));
        auto r = co_await db.async_execute("select count(*) from tx_serial");
        EXPECT_EQ(r[0].get<std::int64_t>(0), 3);
    });
}

TEST(transaction, cancellation_rolls_back)
{
    run([]() -> asio::awaitable<void> {
        auto ex0 = co_await asio::this_coro::executor;
        pool db(ex0, params_for("sleet_tx_cancel", 1));
        co_await db.async_simple_query("drop table if exists tx_cancel; create table tx_cancel(id int)");
        bool after_sleep = false;
        auto body = [&](sleet::transaction& tx) -> asio::awaitable<int> {
            co_await tx.async_execute("insert into tx_cancel values (1)");
            co_await tx.async_execute("select pg_sleep(5)");
            after_sleep = true;
            co_return 1;
        };
        const auto start = std::chrono::steady_clock::now();
        auto res = co_await (db.transaction(body) || sleep_for(200ms));
        EXPECT_EQ(res.index(), 1u);  // the timeout won
        EXPECT_FALSE(after_sleep);
        EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
        const auto got7 = co_await ids(db, table_tx_cancel);
        EXPECT_TRUE(got7.empty());  // rolled back
        auto c = co_await db.async_acquire();
        EXPECT_EQ(c->transaction_status(), 'I');
        EXPECT_EQ(db.stats().created, 1u);  // the same connection, cleanly reused
    });
}

TEST(transaction, on_a_plain_connection_and_a_pooled_connection)
{
    run([]() -> asio::awaitable<void> {
        auto conn = co_await connect_super();
        co_await conn.async_simple_query("drop table if exists tx_plain; create table tx_plain(id int)");
        const auto v = co_await run_transaction(conn, [&](sleet::transaction& tx) -> asio::awaitable<std::string> {
            co_await tx.async_execute("insert into tx_plain values (1)");
            co_return std::string("done");
        });
        EXPECT_EQ(v, "done");
        EXPECT_EQ(conn.transaction_status(), 'I');

        auto ex0 = co_await asio::this_coro::executor;
        pool db(ex0, params_for("sleet_tx_pooled", 1));
        auto c = co_await db.async_acquire();
        co_await c.transaction([&](sleet::transaction& tx) -> asio::awaitable<void> {
            co_await tx.async_execute("insert into tx_plain values (2)");
        });
        auto r = co_await c->async_execute("select count(*) from tx_plain");
        EXPECT_EQ(r[0].get<std::int64_t>(0), 2);
    });
}

TEST(transaction, manual_begin_commit_rollback)
{
    run([]() -> asio::awaitable<void> {
        auto ex0 = co_await asio::this_coro::executor;
        pool db(ex0, params_for("sleet_tx_manual", 1));
        co_await db.async_simple_query("drop table if exists tx_manual; create table tx_manual(id int)");
        auto c = co_await db.async_acquire();
        co_await c.async_begin();
        EXPECT_EQ(c->transaction_status(), 'T');
        co_await c->async_execute("insert into tx_manual values (1)");
        co_await c.async_rollback();
        EXPECT_EQ(c->transaction_status(), 'I');

        transaction_options o;
        o.isolation = isolation_level::serializable;
        co_await async_begin(*c, o);
        auto r = co_await c->async_execute("select current_setting('transaction_isolation')");
        EXPECT_EQ(r[0].get<std::string>(0), "serializable");
        co_await c->async_execute("insert into tx_manual values (2)");
        co_await async_commit(*c);
        EXPECT_EQ(c->transaction_status(), 'I');
        auto n = co_await c->async_execute("select count(*) from tx_manual");
        EXPECT_EQ(n[0].get<std::int64_t>(0), 1);

        // Error-code path: BEGIN inside a failed block reports the server's error.
        co_await c->async_simple_query("begin");
        auto tok = asio::as_tuple(asio::use_awaitable);
        auto [e1, r1] = co_await c->async_simple_query("select 1/0", tok);
        auto [e2] = co_await c.async_commit(tok);  // "COMMIT" ends the failed block (tag ROLLBACK)
        EXPECT_EQ(sqlstate_of(e1), "22012");
        EXPECT_FALSE(e2);
        EXPECT_EQ(c->transaction_status(), 'I');
    });
}
