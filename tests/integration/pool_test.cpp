// sleet::pool against the real server: load, broken connections, timeouts, session cleanup,
// cancellation of waiters, FIFO order, leaks, lifetime, shutdown.
#include "fixture.hpp"

#include <sleet/pool.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>

#include <optional>
#include <set>
#include <vector>

using namespace sleet;
using namespace sleet::test;
using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

pool_params params_for(std::string_view app, std::size_t max_size)
{
    pool_params p;
    p.conninfo = url("", "", "sslmode=disable&application_name=" + std::string(app));
    p.max_size = max_size;
    return p;
}

/// Server backends whose application_name is `app`.
asio::awaitable<std::int64_t> count_backends(connection& c, std::string_view app)
{
    auto r = co_await c.async_execute("select count(*) from pg_stat_activity where application_name = $1",
                                      make_params(std::string(app)));
    co_return r[0].get<std::int64_t>(0);
}

/// Polls until `count_backends` equals `want` (backends exit asynchronously) or 5 s pass.
asio::awaitable<std::int64_t> wait_backends(connection& c, std::string_view app, std::int64_t want)
{
    std::int64_t n = -1;
    for (int i = 0; i < 500; ++i) {
        n = co_await count_backends(c, app);
        if (n == want) break;
        co_await sleep_for(10ms);
    }
    co_return n;
}

/// Waits until `pred()` holds (the pool works in the background) or 5 s pass.
template <class Pred> asio::awaitable<bool> eventually(Pred pred)
{
    for (int i = 0; i < 500; ++i) {
        if (pred()) co_return true;
        co_await sleep_for(10ms);
    }
    co_return pred();
}

} // namespace

TEST(pool, execute_borrows_for_one_query_and_counts)
{
    run([]() -> asio::awaitable<void> {
        auto ex0 = co_await asio::this_coro::executor;
        pool db(ex0, params_for("sleet_pool_basic", 4));
        auto r = co_await db.async_execute("select $1::int4 * 2", make_params(21));
        EXPECT_EQ(r[0].get<std::int32_t>(0), 42);
        auto rs = co_await db.async_simple_query("select 'a'; select 'b'");
        CO_ASSERT_EQ(rs.size(), 2u);
        EXPECT_EQ(rs[1][0].get<std::string>(0), "b");
        CO_ASSERT_TRUE(co_await eventually([&] { return db.stats().idle == 1; }));
        const auto s = db.stats();
        EXPECT_EQ(s.size, 1u);  // the second query reused the first connection
        EXPECT_EQ(s.in_use, 0u);
        EXPECT_EQ(s.acquisitions, 2u);
        EXPECT_EQ(s.created, 1u);
        EXPECT_EQ(s.errors, 0u);
        co_await db.async_close();
        EXPECT_EQ(db.stats().size, 0u);
        EXPECT_EQ(db.stats().closed, 1u);
    });
}

TEST(pool, five_thousand_coroutines_on_a_pool_of_eight)
{
    run([]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        pool db(ex, params_for("sleet_pool_5000", 8));
        constexpr int n = 5000;
        int ok = 0, wrong = 0, failed = 0, done = 0;
        for (int i = 0; i < n; ++i) {
            asio::co_spawn(
                ex,
                [&, i]() -> asio::awaitable<void> {
                    if (i % 2 == 0) {
                        auto r = co_await db.async_execute("select $1::int4 + 1", make_params(i));
                        (r[0].get<std::int32_t>(0) == i + 1 ? ok : wrong)++;
                    } else {
                        auto c = co_await db.async_acquire();
                        auto r = co_await c->async_execute("select $1::int4 - 1", make_params(i));
                        (r[0].get<std::int32_t>(0) == i - 1 ? ok : wrong)++;
                    }
                },
                [&](std::exception_ptr e) {
                    if (e) ++failed;
                    ++done;
                });
        }
        while (done < n) co_await sleep_for(10ms);  // run() fails the test after 120 s (a deadlock)
        EXPECT_EQ(ok, n);
        EXPECT_EQ(wrong, 0);
        EXPECT_EQ(failed, 0);
        const auto s = db.stats();
        EXPECT_EQ(s.acquisitions, static_cast<std::uint64_t>(n));
        EXPECT_LE(s.created, 8u);  // no churn: at most max_size connections were ever opened
        EXPECT_LE(s.size, 8u);
        EXPECT_EQ(s.waiters, 0u);
        EXPECT_EQ(s.timeouts, 0u);
        co_await db.async_close();
    });
}

TEST(pool, terminating_every_backend_mid_load_fails_in_flight_queries_then_recovers)
{
    run([]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        const std::string app = "sleet_pool_terminate";
        pool db(ex, params_for(app, 8));
        auto admin = co_await connect_super();

        int ok = 0, fatal = 0, other = 0, done = 0;
        std::vector<std::string> other_errors;
        auto worker = [&](int i) -> asio::awaitable<void> {
            auto tok = asio::as_tuple(asio::use_awaitable);
            auto [ec, r] = co_await db.async_execute("select $1::int4, pg_sleep(0.01)", make_params(i), tok);
            if (!ec && r[0].get<std::int32_t>(0) == i) ++ok;
            else if (ec && is_fatal(ec)) ++fatal;
            else {
                ++other;
                other_errors.push_back(ec.message());
            }
            ++done;
        };
        constexpr int phase1 = 400;
        for (int i = 0; i < phase1; ++i) asio::co_spawn(ex, worker(i), asio::detached);
        co_await sleep_for(60ms);
        CO_ASSERT_EQ(db.stats().size, 8u);  // mid-load: all 8 connections open and busy
        CO_ASSERT_TRUE(db.stats().waiters > 300);
        // On a loaded machine the last backends may still be starting: wait (bounded) until the
        // server lists all 8 under the pool's application_name, then terminate them all.
        for (int i = 0; i < 200; ++i) {
            auto seen = co_await admin.async_execute("select count(*) from pg_stat_activity where application_name = $1", make_params(app));
            if (seen[0].get<std::int64_t>(0) == 8) break;
            co_await sleep_for(2ms);
        }
        CO_ASSERT_TRUE(done < phase1 / 2);  // still mid-load
        auto killed = co_await admin.async_execute(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = $1", make_params(app));
        EXPECT_EQ(killed[0].get<std::int64_t>(0), 8);
        while (done < phase1) co_await sleep_for(5ms);
        // What the user sees: the queries running at that moment fail with a connection error
        // (57P01 "terminating connection due to administrator command" or the closed socket).
        // One query at most per terminated connection; a connection caught between two queries
        // is recognised on borrow (its FATAL message and EOF are already waiting) and replaced
        // without failing anyone.
        EXPECT_GE(fatal, 1);
        EXPECT_LE(fatal, 8);
        EXPECT_EQ(other, 0) << (other_errors.empty() ? "" : other_errors.front());
        EXPECT_EQ(ok + fatal, phase1);
        EXPECT_GT(ok, 8);  // work before the kill and after it succeeded

        // Later queries succeed on new connections.
        const int ok_before = ok;
        done = 0;
        constexpr int phase2 = 200;
        for (int i = 0; i < phase2; ++i) asio::co_spawn(ex, worker(i), asio::detached);
        while (done < phase2) co_await sleep_for(5ms);
        EXPECT_EQ(ok - ok_before, phase2);
        const auto s = db.stats();
        EXPECT_GE(s.created, 9u);  // replacements were opened
        EXPECT_LE(s.size, 8u);

        // No leaked connections: the server sees exactly the pool's connections, then none.
        CO_ASSERT_TRUE(co_await eventually([&] { return db.stats().idle == db.stats().size; }));
        const auto pooled = static_cast<std::int64_t>(db.stats().size);
        const auto on_server = co_await wait_backends(admin, app, pooled);
        EXPECT_EQ(on_server, pooled);
        co_await db.async_close();
        const auto got1 = co_await wait_backends(admin, app, 0);
        EXPECT_EQ(got1, 0);
    });
}

TEST(pool, acquire_timeout_is_reported_clearly_when_all_connections_are_held)
{
    run([]() -> asio::awaitable<void> {
        auto p = params_for("sleet_pool_timeout", 2);
        p.acquire_timeout = 200ms;
        auto ex0 = co_await asio::this_coro::executor;
        pool db(ex0, p);
        auto a = co_await db.async_acquire();
        auto b = co_await db.async_acquire();
        const auto start = std::chrono::steady_clock::now();
        try {
            auto c = co_await db.async_acquire();
            ADD_FAILURE() << "expected a timeout";
        } catch (const error_with_diagnostics& e) {
            // The user sees:
            // "timed out after 200 ms waiting for a connection from the pool (2 of 2 connections in use, 0 other waiters)"
            EXPECT_EQ(e.code(), make_error_code(errc::pool_acquire_timeout));
            EXPECT_EQ(e.get_diagnostics().client_message(),
                      "timed out after 200 ms waiting for a connection from the pool (2 of 2 connections in use, 0 other waiters)");
            EXPECT_NE(std::string(e.what()).find("timed out after 200 ms"), std::string::npos) << e.what();
        }
        const auto took = std::chrono::steady_clock::now() - start;
        EXPECT_GE(took, 190ms);
        EXPECT_LT(took, 2s);
        EXPECT_EQ(db.stats().timeouts, 1u);
        EXPECT_EQ(db.stats().waiters, 0u);
        // As an error code, with the same words through a diagnostics object.
        diagnostics d;
        auto tok = asio::as_tuple(asio::use_awaitable);
        auto [ec, c] = co_await db.async_acquire(&d, tok);
        EXPECT_EQ(ec, make_error_code(errc::pool_acquire_timeout));
        EXPECT_FALSE(c.valid());
        EXPECT_NE(d.client_message().find("2 of 2 connections in use"), std::string::npos) << d.client_message();
        // A returned connection serves the next waiter.
        a.release();
        auto c2 = co_await db.async_acquire();
        EXPECT_TRUE(c2.valid());
    });
}

TEST(pool, connection_returned_mid_transaction_is_clean_for_the_next_borrower)
{
    run([]() -> asio::awaitable<void> {
        auto ex0 = co_await asio::this_coro::executor;
        pool db(ex0, params_for("sleet_pool_midtx", 1));
        co_await db.async_simple_query("drop table if exists pool_midtx; create table pool_midtx(id int)");
        std::int32_t pid = 0;
        {
            auto c = co_await db.async_acquire();
            pid = c->backend_pid();
            co_await c->async_simple_query("begin; insert into pool_midtx values (1)");
            EXPECT_EQ(c->transaction_status(), 'T');
        }  // returned inside the transaction
        {
            auto c = co_await db.async_acquire();
            EXPECT_EQ(c->backend_pid(), pid);  // reused, after a ROLLBACK
            EXPECT_EQ(c->transaction_status(), 'I');
            auto r = co_await c->async_execute("select count(*) from pool_midtx");
            EXPECT_EQ(r[0].get<std::int64_t>(0), 0);  // the insert was rolled back
            // A failed transaction block ('E') is rolled back too.
            auto tok = asio::as_tuple(asio::use_awaitable);
            auto [ec, rs] = co_await c->async_simple_query("begin; select 1/0", tok);
            EXPECT_EQ(sqlstate_of(ec), "22012");
            EXPECT_EQ(c->transaction_status(), 'E');
        }
        auto c = co_await db.async_acquire();
        EXPECT_EQ(c->backend_pid(), pid);
        EXPECT_EQ(c->transaction_status(), 'I');
        auto r = co_await c->async_execute("select 1");
        EXPECT_EQ(r[0].get<std::int32_t>(0), 1);
        EXPECT_EQ(db.stats().errors, 0u);
    });
}

TEST(pool, session_state_is_reset_for_the_next_borrower)
{
    run([]() -> asio::awaitable<void> {
        auto ex0 = co_await asio::this_coro::executor;
        pool db(ex0, params_for("sleet_pool_reset", 1));
        std::int32_t pid = 0;
        std::string me;
        std::size_t cached = 0;
        {
            auto c = co_await db.async_acquire();
            pid = c->backend_pid();
            auto who = co_await c->async_execute("select current_user::text");
            me = who[0].get<std::string>(0);
            co_await c->async_simple_query("set statement_timeout = '1234'");
            co_await c->async_simple_query(std::string("set role ") + trust_user);
            co_await c->async_simple_query("listen pool_channel");
            co_await c->async_simple_query("create temp table pool_tmp(x int)");
            co_await c->async_execute("select pg_advisory_lock(4242)");
            auto role = co_await c->async_execute("select current_user::text");
            EXPECT_EQ(role[0].get<std::string>(0), trust_user);
            EXPECT_TRUE(c->session_modified());
            cached = c->cached_statements();
            EXPECT_GT(cached, 0u);
        }
        auto c = co_await db.async_acquire();
        EXPECT_EQ(c->backend_pid(), pid);  // the same session, reset (not a new connection)
        EXPECT_FALSE(c->session_modified());
        auto r = co_await c->async_execute(
            "select current_setting('statement_timeout'), current_user::text, "
            "(select count(*) from pg_listening_channels()), "
            "(select count(*) from pg_class where relnamespace = pg_my_temp_schema()), "
            "(select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid())");
        EXPECT_EQ(r[0].get<std::string>(0), "0");        // SET undone
        EXPECT_EQ(r[0].get<std::string>(1), me);         // SET ROLE undone
        EXPECT_EQ(r[0].get<std::int64_t>(2), 0);         // UNLISTEN
        EXPECT_EQ(r[0].get<std::int64_t>(3), 0);         // temp table dropped
        EXPECT_EQ(r[0].get<std::int64_t>(4), 0);         // advisory lock released
        // Not DISCARD ALL: the prepared-statement cache survived.
        EXPECT_GE(c->cached_statements(), cached);
        EXPECT_EQ(db.stats().errors, 0u);
    });
}

TEST(pool, session_reset_failure_discards_the_connection)
{
    run([]() -> asio::awaitable<void> {
        auto p = params_for("sleet_pool_badreset", 1);
        p.reset_query = "select no_such_function()";
        auto ex0 = co_await asio::this_coro::executor;
        pool db(ex0, p);
        std::int32_t pid = 0;
        {
            auto c = co_await db.async_acquire();
            pid = c->backend_pid();
            co_await c->async_simple_query("set work_mem = '8MB'");
        }
        auto c = co_await db.async_acquire();
        EXPECT_NE(c->backend_pid(), pid);  // the unresettable session was closed, a new one opened
        auto r = co_await c->async_execute("select current_setting('work_mem')");
        EXPECT_EQ(r[0].get<std::string>(0), "4MB");
        EXPECT_EQ(db.stats().errors, 1u);
    });
}

TEST(pool, cancelled_waiter_leaves_the_queue_and_leaks_nothing)
{
    run([]() -> asio::awaitable<void> {
        auto ex0 = co_await asio::this_coro::executor;
        pool db(ex0, params_for("sleet_pool_cancel", 1));
        auto held = co_await db.async_acquire();

        // Per-operation cancellation through a bound signal.
        asio::cancellation_signal sig;
        std::optional<error_code> got;
        bool got_connection = false;
        db.async_acquire(asio::bind_cancellation_slot(sig.slot(), [&](error_code ec, pooled_connection c) {
            got = ec;
            got_connection = c.valid();
        }));
        CO_ASSERT_TRUE(co_await eventually([&] { return db.stats().waiters == 1; }));
        sig.emit(asio::cancellation_type::terminal);
        CO_ASSERT_TRUE(co_await eventually([&] { return got.has_value(); }));
        EXPECT_EQ(*got, asio::error::operation_aborted);
        EXPECT_FALSE(got_connection);
        EXPECT_EQ(db.stats().waiters, 0u);

        // A timeout through awaitable operators.
        auto res = co_await (db.async_acquire() || sleep_for(50ms));
        EXPECT_EQ(res.index(), 1u);
        EXPECT_EQ(db.stats().waiters, 0u);

        // Nothing leaked: the held connection goes back to idle, and is the only one.
        held.release();
        CO_ASSERT_TRUE(co_await eventually([&] { return db.stats().idle == 1; }));
        const auto s = db.stats();
        EXPECT_EQ(s.size, 1u);
        EXPECT_EQ(s.in_use, 0u);
        auto again = co_await db.async_acquire();
        EXPECT_TRUE(again.valid());
        EXPECT_EQ(db.stats().acquisitions, 2u);  // the cancelled waiters never got one
    });
}

TEST(pool, waiters_are_served_first_come_first_served)
{
    run([]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        pool db(ex, params_for("sleet_pool_fifo", 1));
        auto held = co_await db.async_acquire();
        std::vector<int> order;
        int done = 0;
        constexpr int n = 10;
        for (int i = 0; i < n; ++i) {
            asio::co_spawn(
                ex,
                [&, i]() -> asio::awaitable<void> {
                    auto c = co_await db.async_acquire();
                    order.push_back(i);
                    co_await sleep_for(2ms);
                },
                [&](std::exception_ptr) { ++done; });
            // Queue them in a known order.
            CO_ASSERT_TRUE(co_await eventually([&] { return db.stats().waiters == static_cast<std::size_t>(i + 1); }));
        }
        held.release();
        CO_ASSERT_TRUE(co_await eventually([&] { return done == n; }));
        EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    });
}

TEST(pool, leak_warning_names_where_the_connection_was_acquired)
{
    run([]() -> asio::awaitable<void> {
        auto p = params_for("sleet_pool_leak", 2);
        p.leak_threshold = 100ms;
        std::vector<leak_info> leaks;
        p.leak_handler = [&](const leak_info& i) { leaks.push_back(i); };
        auto ex0 = co_await asio::this_coro::executor;
        pool db(ex0, p);
        const auto line = sleet::source_location::current().line() + 1;
        auto c = co_await db.async_acquire();
        co_await sleep_for(300ms);
        CO_ASSERT_EQ(leaks.size(), 1u);  // reported once per borrow
        EXPECT_EQ(leaks[0].acquired_at.line(), line);
        EXPECT_NE(std::string(leaks[0].acquired_at.file_name()).find("pool_test.cpp"), std::string::npos);
        EXPECT_GE(leaks[0].held, 100ms);
        EXPECT_EQ(leaks[0].backend_pid, c->backend_pid());
    });
}

TEST(pool, graceful_close_fails_waiters_and_lets_borrowers_finish)
{
    run([]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        const std::string app = "sleet_pool_close";
        pool db(ex, params_for(app, 1));
        auto admin = co_await connect_super();
        auto held = co_await db.async_acquire();

        std::optional<error_code> waiter_ec;
        std::string waiter_msg;
        asio::co_spawn(
            ex,
            [&]() -> asio::awaitable<void> {
                diagnostics d;
                auto tok = asio::as_tuple(asio::use_awaitable);
                auto [ec, c] = co_await db.async_acquire(&d, tok);
                waiter_ec = ec;
                waiter_msg = d.client_message();
            },
            asio::detached);
        CO_ASSERT_TRUE(co_await eventually([&] { return db.stats().waiters == 1; }));

        bool closed = false;
        db.async_close([&](error_code ec) {
            EXPECT_FALSE(ec);
            closed = true;
        });
        CO_ASSERT_TRUE(co_await eventually([&] { return waiter_ec.has_value(); }));
        EXPECT_EQ(*waiter_ec, make_error_code(errc::pool_closed));
        EXPECT_EQ(waiter_msg, "the pool was closed while waiting for a connection");

        // No new borrowers.
        try {
            auto c = co_await db.async_acquire();
            ADD_FAILURE() << "acquire after close succeeded";
        } catch (const error_with_diagnostics& e) {
            EXPECT_EQ(e.code(), make_error_code(errc::pool_closed));
            EXPECT_EQ(e.get_diagnostics().client_message(),
                      "the pool is closed: it hands out no connections after async_close() or its destruction");
        }
        // The borrower finishes its work; close completes when it returns the connection.
        auto r = co_await held->async_execute("select 7");
        EXPECT_EQ(r[0].get<std::int32_t>(0), 7);
        co_await sleep_for(20ms);
        EXPECT_FALSE(closed);
        held.release();
        CO_ASSERT_TRUE(co_await eventually([&] { return closed; }));
        EXPECT_EQ(db.stats().size, 0u);
        const auto got2 = co_await wait_backends(admin, app, 0);
        EXPECT_EQ(got2, 0);
    });
}

TEST(pool, broken_connection_is_replaced)
{
    run([]() -> asio::awaitable<void> {
        auto ex0 = co_await asio::this_coro::executor;
        pool db(ex0, params_for("sleet_pool_broken", 1));
        auto admin = co_await connect_super();
        std::int32_t pid = 0;
        {
            auto c = co_await db.async_acquire();
            pid = c->backend_pid();
            co_await admin.async_execute("select pg_terminate_backend($1)", make_params(pid));
            auto tok = asio::as_tuple(asio::use_awaitable);
            auto [ec, r] = co_await c->async_execute("select 1", tok);
            EXPECT_TRUE(is_fatal(ec)) << ec.message();
            EXPECT_FALSE(c->is_open());
        }
        auto r = co_await db.async_execute("select pg_backend_pid()");
        EXPECT_NE(r[0].get<std::int32_t>(0), pid);
        EXPECT_EQ(db.stats().errors, 1u);
        EXPECT_EQ(db.stats().created, 2u);
    });
}

TEST(pool, liveness_check_replaces_a_connection_that_died_while_idle)
{
    run([]() -> asio::awaitable<void> {
        auto p = params_for("sleet_pool_liveness", 1);
        p.liveness_check_after = 50ms;
        auto ex0 = co_await asio::this_coro::executor;
        pool db(ex0, p);
        auto admin = co_await connect_super();
        auto r1 = co_await db.async_execute("select pg_backend_pid()");
        const auto pid = r1[0].get<std::int32_t>(0);
        co_await admin.async_execute("select pg_terminate_backend($1)", make_params(pid));
        co_await sleep_for(100ms);
        // The borrower never sees the dead session: the check on borrow caught it.
        auto r2 = co_await db.async_execute("select pg_backend_pid()");
        EXPECT_NE(r2[0].get<std::int32_t>(0), pid);
        EXPECT_EQ(db.stats().errors, 1u);
    });
}

TEST(pool, a_backend_terminated_while_idle_is_never_handed_to_a_caller_even_without_a_liveness_check)
{
    // Issue 7, scenario 4 (idle half): the liveness query is switched off; the non-blocking peek
    // on borrow sees the FATAL 57P01 + EOF the terminated backend left, and the pool checks and
    // replaces the connection instead of handing it out.
    run([]() -> asio::awaitable<void> {
        auto p = params_for("sleet_pool_idle_kill", 1);
        p.liveness_check_after = std::chrono::milliseconds::max();  // never query-check
        auto ex0 = co_await asio::this_coro::executor;
        pool db(ex0, p);
        auto admin = co_await connect_super();
        for (int round = 0; round < 3; ++round) {
            auto r1 = co_await db.async_execute("select pg_backend_pid()");
            const auto pid = r1[0].get<std::int32_t>(0);
            co_await admin.async_execute("select pg_terminate_backend($1)", make_params(pid));
            auto gone = co_await admin.async_execute("select count(*) from pg_stat_activity where pid = $1", make_params(pid));
            for (int i = 0; i < 200 && gone[0].get<std::int64_t>(0) != 0; ++i) {
                co_await sleep_for(5ms);
                gone = co_await admin.async_execute("select count(*) from pg_stat_activity where pid = $1", make_params(pid));
            }
            auto r2 = co_await db.async_execute("select pg_backend_pid()");  // must not fail
            EXPECT_NE(r2[0].get<std::int32_t>(0), pid);
        }
    });
}

TEST(pool, min_size_is_kept_and_extra_idle_connections_time_out)
{
    run([]() -> asio::awaitable<void> {
        auto p = params_for("sleet_pool_idle", 4);
        p.min_size = 2;
        p.idle_timeout = 150ms;
        auto ex0 = co_await asio::this_coro::executor;
        pool db(ex0, p);
        CO_ASSERT_TRUE(co_await eventually([&] { return db.stats().idle == 2; }));  // opened in the background
        {
            auto a = co_await db.async_acquire();
            auto b = co_await db.async_acquire();
            auto c = co_await db.async_acquire();
            auto d = co_await db.async_acquire();
            EXPECT_EQ(db.stats().size, 4u);
        }
        CO_ASSERT_TRUE(co_await eventually([&] { return db.stats().idle == 4; }));
        CO_ASSERT_TRUE(co_await eventually([&] { return db.stats().size == 2; }));  // back to min_size
        co_await sleep_for(300ms);
        EXPECT_EQ(db.stats().size, 2u);  // never below min_size
        EXPECT_EQ(db.stats().closed, 2u);
    });
}

TEST(pool, connections_retire_after_their_lifetime)
{
    run([]() -> asio::awaitable<void> {
        auto p = params_for("sleet_pool_lifetime", 1);
        p.max_lifetime = 150ms;
        p.lifetime_jitter = 0.0;
        auto ex0 = co_await asio::this_coro::executor;
        pool db(ex0, p);
        auto r1 = co_await db.async_execute("select pg_backend_pid()");
        co_await sleep_for(300ms);
        auto r2 = co_await db.async_execute("select pg_backend_pid()");
        EXPECT_NE(r1[0].get<std::int32_t>(0), r2[0].get<std::int32_t>(0));
        EXPECT_EQ(db.stats().errors, 0u);  // retirement is not an error
        EXPECT_GE(db.stats().closed, 1u);
    });
}

TEST(pool, unreachable_server_backs_off_and_reports_the_connect_error)
{
    run([]() -> asio::awaitable<void> {
        pool_params p;
        p.conninfo = "postgresql://nobody@127.0.0.1:1/db?sslmode=disable";
        p.max_size = 8;
        p.acquire_timeout = 700ms;
        p.reconnect_backoff_initial = 100ms;
        p.backoff_jitter = 0.0;
        auto ex0 = co_await asio::this_coro::executor;
        pool db(ex0, p);
        auto ex = co_await asio::this_coro::executor;
        // 8 waiters would open 8 connections at once; after the first failure, attempts are
        // one at a time at 100, 200, 400 ms.
        int timeouts = 0;
        std::string msg;
        for (int i = 0; i < 8; ++i) {
            asio::co_spawn(
                ex,
                [&]() -> asio::awaitable<void> {
                    diagnostics d;
                    auto tok = asio::as_tuple(asio::use_awaitable);
                    auto [ec, c] = co_await db.async_acquire(&d, tok);
                    if (ec == make_error_code(errc::pool_acquire_timeout)) ++timeouts;
                    msg = d.client_message();
                },
                asio::detached);
        }
        CO_ASSERT_TRUE(co_await eventually([&] { return timeouts == 8; }));
        // The user sees why: "...; the last connection attempt failed: <connect error>"
        EXPECT_NE(msg.find("; the last connection attempt failed: "), std::string::npos) << msg;
        const auto errors = db.stats().errors;
        EXPECT_GE(errors, 9u);   // the first burst of 8, then retries
        EXPECT_LE(errors, 12u);  // no reconnect storm
    });
}

TEST(pool, bad_configuration_is_rejected_at_construction)
{
    asio::io_context ioc;
    pool_params p;
    p.conninfo = "postgresql://[broken";
    EXPECT_THROW(pool(ioc.get_executor(), p), error_with_diagnostics);
    p.conninfo = url("");
    p.max_size = 0;
    EXPECT_THROW(pool(ioc.get_executor(), p), std::invalid_argument);
    p.max_size = 1;
    p.min_size = 2;
    EXPECT_THROW(pool(ioc.get_executor(), p), std::invalid_argument);
}
