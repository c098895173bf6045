// Queries on one connection: simple and extended protocol, errors, pipelining, cancellation,
// completion tokens, close.
#include "fixture.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_future.hpp>

#include <thread>

using namespace sleet;
using namespace sleet::test;
using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;

TEST(query, simple_query_returns_one_result_per_statement)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        auto rs = co_await c.async_simple_query(
            "create temp table t(id int primary key, name text); insert into t values (1,'a'),(2,null); select id, name from t order by id");
        CO_ASSERT_EQ(rs.size(), 3u);
        EXPECT_EQ(rs[0].command_tag(), "CREATE TABLE");
        EXPECT_EQ(rs[1].command_tag(), "INSERT 0 2");
        EXPECT_EQ(rs[1].affected_rows(), 2u);
        CO_ASSERT_EQ(rs[2].size(), 2u);
        EXPECT_EQ(rs[2].columns()[0].name, "id");
        EXPECT_EQ(rs[2].columns()[0].type_oid, oid::int4);
        EXPECT_EQ(rs[2][0].get<std::int32_t>(0), 1);
        EXPECT_EQ(rs[2][0].get<std::string>("name"), "a");
        EXPECT_EQ(rs[2][1].get<std::optional<std::string>>("name"), std::nullopt);
    });
}

TEST(query, extended_query_binds_parameters_and_decodes_binary)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        std::vector<std::byte> bytes(2);
        bytes[1] = std::byte{255};
        auto params = make_params(41, std::string("hi"), std::int64_t{1} << 40, true, 2.5, bytes);
        const char* sql = "select $1::int4 + 1, $2::text || '!', $3::int8, $4::bool, $5::float8, $6::bytea";
        // The first execution describes the statement before binding it, so even it gets
        // binary results; later ones bind the cached statement directly.
        auto first = co_await c.async_execute(sql, params);
        for (const auto& col : first.columns()) EXPECT_EQ(col.format, wire::format::binary) << col.name;
        EXPECT_EQ(first[0].get<std::int32_t>(0), 42);
        auto r = co_await c.async_execute(sql, params);
        CO_ASSERT_EQ(r.size(), 1u);
        for (const auto& col : r.columns()) EXPECT_EQ(col.format, wire::format::binary) << col.name;
        const auto t = r[0].as<std::int32_t, std::string, std::int64_t, bool, double, std::vector<std::byte>>();
        EXPECT_EQ(std::get<0>(t), 42);
        EXPECT_EQ(std::get<1>(t), std::string("hi!"));
        EXPECT_EQ(std::get<2>(t), std::int64_t{1} << 40);
        EXPECT_TRUE(std::get<3>(t));
        EXPECT_EQ(std::get<4>(t), 2.5);
        EXPECT_EQ(std::get<5>(t), bytes);
    });
}

TEST(query, null_parameters_and_results)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        auto r = co_await c.async_execute("select $1::int4 is null, $1::int4", make_params(std::optional<std::int32_t>{}));
        EXPECT_TRUE(r[0].get<bool>(0));
        EXPECT_EQ(r[0].get<std::optional<std::int32_t>>(1), std::nullopt);
        // NULL into a non-optional: a clear error naming the column.
        try {
            (void)r[0].get<std::int32_t>(1);
            ADD_FAILURE() << "expected an error";
        } catch (const error_with_diagnostics& e) {
            EXPECT_EQ(e.code(), make_error_code(errc::null_value));
            EXPECT_NE(std::string(e.what()).find("int4"), std::string::npos) << e.what();
        }
    });
}

TEST(query, ten_thousand_queries_on_one_connection)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        std::int64_t sum = 0;
        for (int i = 0; i < 10000; ++i) {
            auto r = co_await c.async_execute("select $1::int8 * 2", make_params(std::int64_t{i}));
            sum += r[0].get<std::int64_t>(0);
        }
        EXPECT_EQ(sum, 2LL * (9999LL * 10000LL / 2));
        EXPECT_EQ(c.cached_statements(), 1u);  // parsed once
    });
}

TEST(query, division_by_zero_reports_sqlstate_and_fields_and_the_connection_stays_usable)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        try {
            co_await c.async_execute("select 1 / $1::int4", make_params(0));
            ADD_FAILURE() << "expected an error";
        } catch (const error_with_diagnostics& e) {
            EXPECT_EQ(e.sqlstate(), "22012");
            CO_ASSERT_TRUE(e.get_diagnostics().server_error());
            const auto& f = *e.get_diagnostics().server_error();
            EXPECT_EQ(f.severity, "ERROR");
            EXPECT_EQ(f.severity_nonlocalized, "ERROR");
            EXPECT_EQ(f.message, "division by zero");
            EXPECT_FALSE(f.file.empty());
            EXPECT_FALSE(f.routine.empty());
            // The user sees: ERROR 22012: division by zero
            EXPECT_EQ(std::string(e.what()), "ERROR 22012: division by zero");
        }
        auto r = co_await c.async_execute("select 7");
        EXPECT_EQ(r[0].get<std::int32_t>(0), 7);
    });
}

TEST(query, unique_violation_carries_schema_table_constraint_and_detail)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        co_await c.async_simple_query("drop table if exists uv; create table uv(id int constraint uv_pk primary key)");
        co_await c.async_execute("insert into uv values ($1)", make_params(1));
        auto [ec, r] = co_await c.async_execute("insert into uv values ($1)", make_params(1), asio::as_tuple(asio::use_awaitable));
        EXPECT_EQ(sqlstate_of(ec), "23505");
        diagnostics diag;
        auto [ec2, r2] = co_await c.async_execute("insert into uv values ($1)", make_params(1), &diag, asio::as_tuple(asio::use_awaitable));
        EXPECT_EQ(sqlstate_of(ec2), "23505");
        CO_ASSERT_TRUE(diag.server_error());
        EXPECT_EQ(diag.server_error()->schema_name, "public");
        EXPECT_EQ(diag.server_error()->table_name, "uv");
        EXPECT_EQ(diag.server_error()->constraint_name, "uv_pk");
        EXPECT_EQ(diag.server_error()->detail, "Key (id)=(1) already exists.");
        auto ok = co_await c.async_execute("select count(*) from uv");
        EXPECT_EQ(ok[0].get<std::int64_t>(0), 1);
        co_await c.async_simple_query("drop table uv");
    });
}

TEST(query, syntax_error_carries_position)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        diagnostics diag;
        auto [ec, r] = co_await c.async_execute("select * frm nowhere", param_list{}, &diag, asio::as_tuple(asio::use_awaitable));
        EXPECT_EQ(sqlstate_of(ec), "42601");
        CO_ASSERT_TRUE(diag.server_error());
        EXPECT_EQ(diag.server_error()->position, "10");
        EXPECT_EQ(c.cached_statements(), 0u);  // a statement that failed to parse is not cached
        auto ok = co_await c.async_execute("select 1");
        EXPECT_EQ(ok.size(), 1u);
    });
}

TEST(query, pipelined_queries_complete_in_order_and_an_error_fails_only_its_own)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        constexpr int n = 100;
        for (int bad = 0; bad < n; bad += 33) {
            std::vector<int> got(n, -1);
            std::vector<std::string> errors(n);
            int done = 0;
            for (int i = 0; i < n; ++i) {
                auto params = make_params(i == bad ? 0 : i + 1);
                c.async_execute("select 100000 / $1::int4", std::move(params),
                    [&, i](error_code ec, result r) {
                        if (ec) errors[i] = sqlstate_of(ec);
                        else got[i] = r[0].get<std::int32_t>(0);
                        ++done;
                    });
            }
            while (done < n) co_await sleep_for(1ms);
            for (int i = 0; i < n; ++i) {
                if (i == bad) EXPECT_EQ(errors[i], "22012") << i;
                else EXPECT_EQ(got[i], 100000 / (i + 1)) << i;
            }
        }
    });
}

TEST(query, pg_sleep_cancelled_after_100ms_then_the_connection_works)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        const auto start = std::chrono::steady_clock::now();
        asio::steady_timer t(co_await asio::this_coro::executor);
        t.expires_after(100ms);
        auto res = co_await (c.async_execute("select pg_sleep(10)", asio::use_awaitable) || t.async_wait(asio::use_awaitable));
        const auto took = std::chrono::steady_clock::now() - start;
        EXPECT_EQ(res.index(), 1u);  // the timer won; the query was cancelled
        EXPECT_LT(took, 1s);
        // The next query sees its own result, not the late 57014.
        auto r = co_await c.async_execute("select $1::text", make_params(std::string("after cancel")));
        EXPECT_EQ(r[0].get<std::string>(0), "after cancel");
        EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
    });
}

TEST(query, cancellation_error_is_operation_aborted)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        asio::cancellation_signal sig;
        bool finished = false;
        error_code got;
        c.async_execute("select pg_sleep(10)", param_list{}, asio::bind_cancellation_slot(sig.slot(), [&](error_code ec, result) {
                            got = ec;
                            finished = true;
                        }));
        co_await sleep_for(100ms);
        sig.emit(asio::cancellation_type::terminal);
        for (int i = 0; i < 1000 && !finished; ++i) co_await sleep_for(1ms);
        EXPECT_TRUE(finished);
        EXPECT_EQ(got, asio::error::operation_aborted);
        auto r = co_await c.async_simple_query("select 'ok'");
        EXPECT_EQ(r[0][0].get<std::string>(0), "ok");
    });
}

TEST(query, cancellation_at_each_point_of_a_query_never_leaks_57014)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        // Cancel after 0..N polls of the executor, so the cancel lands before the write, during it,
        // while the server runs the query and after it finished.
        for (int delay = 0; delay < 40; ++delay) {
            asio::cancellation_signal sig;
            bool finished = false;
            c.async_execute("select pg_sleep(0.002)", param_list{}, asio::bind_cancellation_slot(sig.slot(), [&](error_code, result) {
                                finished = true;
                            }));
            for (int i = 0; i < delay; ++i) co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
            sig.emit(asio::cancellation_type::terminal);
            while (!finished) co_await sleep_for(1ms);
            auto r = co_await c.async_execute("select $1::int4", make_params(delay));
            EXPECT_EQ(r[0].get<std::int32_t>(0), delay);
        }
    });
}

TEST(query, any_completion_token_works)
{
    asio::io_context ioc;
    connection c(ioc.get_executor());
    // callback
    bool connected = false;
    c.async_connect(url("", "", "sslmode=disable"), [&](error_code ec) {
        EXPECT_FALSE(ec) << ec.message();
        connected = true;
    });
    ioc.run();
    ASSERT_TRUE(connected);
    // use_future, with the io_context on another thread
    ioc.restart();
    auto guard = asio::make_work_guard(ioc);
    std::thread th([&] { ioc.run(); });
    std::future<result> f = c.async_execute("select 40 + $1::int4", make_params(2), asio::use_future);
    EXPECT_EQ(f.get()[0].get<std::int32_t>(0), 42);
    std::future<result> bad = c.async_execute("select 1/0", asio::use_future);
    try {
        bad.get();
        ADD_FAILURE() << "expected an error";
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(sqlstate_of(e.code()), "22012");
    }
    guard.reset();
    asio::post(ioc, [&] { c.close(); });
    th.join();
}

TEST(query, io_context_run_returns_when_the_work_is_done)
{
    asio::io_context ioc;
    int value = 0;
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        auto r = co_await c.async_execute("select 5");
        value = r[0].get<std::int32_t>(0);
        // c stays open while it goes out of scope at the end: no pending I/O may keep run() alive.
    }, asio::detached);
    ioc.run();  // returns: an idle connection holds no pending operation
    EXPECT_EQ(value, 5);
}

TEST(query, close_sends_terminate_and_the_backend_goes_away)
{
    run([]() -> asio::awaitable<void> {
        auto watcher = co_await connect_super();
        std::int32_t pid = 0;
        {
            auto c = co_await connect_super();
            pid = c.backend_pid();
            co_await c.async_close();
            EXPECT_FALSE(c.is_open());
            auto [ec, r] = co_await c.async_execute("select 1", asio::as_tuple(asio::use_awaitable));
            EXPECT_EQ(ec, make_error_code(errc::connection_closed));
        }
        int alive = 1;
        for (int i = 0; i < 200 && alive; ++i) {
            auto r = co_await watcher.async_execute("select count(*)::int4 from pg_stat_activity where pid = $1", make_params(pid));
            alive = r[0].get<std::int32_t>(0);
            if (alive) co_await sleep_for(10ms);
        }
        EXPECT_EQ(alive, 0);
    });
}

TEST(query, a_terminated_backend_fails_the_query_with_the_servers_error)
{
    run([]() -> asio::awaitable<void> {
        auto killer = co_await connect_super();
        auto victim = co_await connect_super();
        const auto pid = victim.backend_pid();
        asio::co_spawn(
            co_await asio::this_coro::executor,
            [&]() -> asio::awaitable<void> {
                co_await sleep_for(100ms);
                co_await killer.async_execute("select pg_terminate_backend($1)", make_params(pid));
            },
            asio::detached);
        auto [ec, r] = co_await victim.async_execute("select pg_sleep(5)", asio::as_tuple(asio::use_awaitable));
        // The user sees: FATAL 57P01: terminating connection due to administrator command
        EXPECT_EQ(sqlstate_of(ec), "57P01");
        EXPECT_TRUE(is_fatal(ec));
        EXPECT_FALSE(victim.is_open());
        auto [ec2, r2] = co_await victim.async_execute("select 1", asio::as_tuple(asio::use_awaitable));
        EXPECT_EQ(ec2, make_error_code(errc::connection_closed));
    });
}

TEST(query, notices_reach_the_handler)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        std::vector<server_error_fields> notices;
        c.set_notice_handler([&](const server_error_fields& f) { notices.push_back(f); });
        co_await c.async_simple_query("do $$ begin raise notice 'hello %', 42; end $$");
        CO_ASSERT_EQ(notices.size(), 1u);
        EXPECT_EQ(notices[0].severity, "NOTICE");
        EXPECT_EQ(notices[0].message, "hello 42");
    });
}

TEST(query, ddl_changing_a_cached_statements_result_is_transparent_outside_a_transaction)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        co_await c.async_simple_query("drop table if exists alt; create table alt(v int4); insert into alt values (1)");
        auto r1 = co_await c.async_execute("select * from alt");
        EXPECT_EQ(r1[0].get<std::int32_t>(0), 1);
        auto r1b = co_await c.async_execute("select * from alt");  // now from the cache
        EXPECT_EQ(r1b[0].get<std::int32_t>(0), 1);
        co_await c.async_simple_query("alter table alt alter column v type text");
        auto r2 = co_await c.async_execute("select * from alt");
        EXPECT_EQ(r2[0].get<std::string>(0), "1");
        co_await c.async_simple_query("drop table alt");
    });
}

TEST(query, empty_query_and_statements_without_rows)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        auto rs = co_await c.async_simple_query("");
        CO_ASSERT_EQ(rs.size(), 1u);
        EXPECT_EQ(rs[0].command_tag(), "");
        auto r = co_await c.async_execute("set application_name = 'x'");
        EXPECT_EQ(r.command_tag(), "SET");
        EXPECT_TRUE(r.columns().empty());
        EXPECT_EQ(c.server_parameter("application_name"), "x");
    });
}

TEST(query, nul_in_a_text_parameter_is_a_client_error_and_nothing_is_sent)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        try {
            auto p = make_params(std::string("a\0b", 3));
            co_await c.async_execute("select $1::text", std::move(p));
            ADD_FAILURE() << "expected an error";
        } catch (const error_with_diagnostics& e) {
            EXPECT_EQ(e.code(), make_error_code(errc::nul_in_text_parameter));
        }
        auto r = co_await c.async_execute("select 1");
        EXPECT_EQ(r.size(), 1u);
    });
}

TEST(query, cancelling_a_query_with_others_behind_it_drains_without_a_cancel_request)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        asio::cancellation_signal sig;
        error_code first_ec, second_ec;
        std::int32_t second_value = 0;
        int done = 0;
        c.async_execute("select pg_sleep(0.3)", param_list{}, asio::bind_cancellation_slot(sig.slot(), [&](error_code ec, result) {
                            first_ec = ec;
                            ++done;
                        }));
        c.async_execute("select 41 + 1", [&](error_code ec, result r) {
            second_ec = ec;
            if (!ec) second_value = r[0].get<std::int32_t>(0);
            ++done;
        });
        co_await sleep_for(50ms);
        sig.emit(asio::cancellation_type::terminal);
        while (done < 2) co_await sleep_for(1ms);
        EXPECT_EQ(first_ec, asio::error::operation_aborted);
        // A CancelRequest could have hit the second query; none was sent, so it ran normally.
        EXPECT_FALSE(second_ec) << second_ec.message();
        EXPECT_EQ(second_value, 42);
        EXPECT_TRUE(c.is_open());
    });
}

TEST(query, a_cancelled_query_that_does_not_finish_within_the_drain_timeout_closes_the_connection)
{
    run([]() -> asio::awaitable<void> {
        connection c(co_await asio::this_coro::executor, connection_params{.cancel_drain_timeout = std::chrono::milliseconds(300)});
        co_await c.async_connect(url("", "", "sslmode=disable"));
        asio::cancellation_signal sig;
        error_code first_ec, second_ec;
        int done = 0;
        // The second query keeps the first from being cancelled on the server (see above), so
        // the first keeps running past the drain deadline.
        c.async_execute("select pg_sleep(5)", param_list{}, asio::bind_cancellation_slot(sig.slot(), [&](error_code ec, result) {
                            first_ec = ec;
                            ++done;
                        }));
        c.async_execute("select 1", [&](error_code ec, result) {
            second_ec = ec;
            ++done;
        });
        co_await sleep_for(50ms);
        const auto start = std::chrono::steady_clock::now();
        sig.emit(asio::cancellation_type::terminal);
        while (done < 2) co_await sleep_for(1ms);
        const auto took = std::chrono::steady_clock::now() - start;
        EXPECT_EQ(first_ec, asio::error::operation_aborted);
        // The user sees: the server did not answer a cancelled query within cancel_drain_timeout; the connection was closed
        EXPECT_EQ(second_ec, make_error_code(errc::connection_closed));
        EXPECT_FALSE(c.is_open());
        EXPECT_LT(took, 2s);
    });
}

TEST(query, a_deferred_operation_runs_only_when_launched)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        co_await c.async_simple_query("drop table if exists deferred_t; create table deferred_t(v int)");
        // Building the deferred operation sends nothing; it owns its SQL and parameters.
        auto op = c.async_execute("insert into deferred_t values ($1) returning v", make_params(9), asio::deferred);
        auto before = co_await c.async_execute("select count(*) from deferred_t");
        EXPECT_EQ(before[0].get<std::int64_t>(0), 0);
        bool launched = false;
        std::move(op)([&](error_code ec, result r) {
            EXPECT_FALSE(ec);
            EXPECT_EQ(r[0].get<std::int32_t>(0), 9);
            launched = true;
        });
        while (!launched) co_await sleep_for(1ms);
        auto after = co_await c.async_execute("select count(*) from deferred_t");
        EXPECT_EQ(after[0].get<std::int64_t>(0), 1);
        co_await c.async_simple_query("drop table deferred_t");
    });
}

TEST(query, a_thousand_concurrent_queries_on_one_connection_and_only_number_500_fails)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        co_await c.async_simple_query("drop table if exists thousand; create table thousand(k int primary key); insert into thousand values (500)");
        constexpr int n = 1000;
        std::vector<int> got(n, -1);
        std::vector<std::string> state(n);
        int done = 0;
        for (int i = 0; i < n; ++i) {
            // Query #500 inserts a duplicate key; every other one inserts its own key.
            c.async_execute("insert into thousand values ($1) returning k", make_params(i == 500 ? 500 : 100000 + i),
                            [&, i](error_code ec, result r) {
                                if (ec) state[i] = sqlstate_of(ec);
                                else got[i] = r[0].get<std::int32_t>(0);
                                ++done;
                            });
        }
        while (done < n) co_await sleep_for(1ms);
        int failures = 0;
        for (int i = 0; i < n; ++i) {
            if (i == 500) {
                EXPECT_EQ(state[i], "23505");
            } else {
                EXPECT_EQ(got[i], 100000 + i) << i;
            }
            failures += !state[i].empty();
        }
        EXPECT_EQ(failures, 1);
        co_await c.async_simple_query("drop table thousand");
    });
}

TEST(query, failure_at_every_position_of_a_100_query_pipeline)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        constexpr int n = 100;
        for (int bad = 0; bad < n; ++bad) {
            int done = 0, errors = 0, right = 0;
            for (int i = 0; i < n; ++i) {
                c.async_execute("select 1000 / $1::int4", make_params(i == bad ? 0 : 1),
                                [&, i](error_code ec, result r) {
                                    if (ec) errors += (i == bad && sqlstate_of(ec) == "22012") ? 1 : 1000;
                                    else right += r[0].get<std::int32_t>(0) == 1000;
                                    ++done;
                                });
            }
            while (done < n) co_await sleep_for(std::chrono::microseconds(200));
            EXPECT_EQ(errors, 1) << "failing position " << bad;
            EXPECT_EQ(right, n - 1) << "failing position " << bad;
        }
    });
}

TEST(query, ddl_changing_a_cached_statement_inside_a_transaction_is_a_clear_error)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        co_await c.async_simple_query("drop table if exists alt_tx; create table alt_tx(v int4); insert into alt_tx values (1)");
        co_await c.async_execute("select * from alt_tx");
        co_await c.async_execute("select * from alt_tx");  // cached, binary
        co_await c.async_simple_query("begin; alter table alt_tx alter column v type text");
        diagnostics diag;
        auto [ec, r] = co_await c.async_execute("select * from alt_tx", param_list{}, &diag, asio::as_tuple(asio::use_awaitable));
        // The user sees: ERROR 0A000: cached plan must not change result type (no silent retry
        // inside a transaction block: the transaction is now aborted, as the server says).
        EXPECT_EQ(sqlstate_of(ec), "0A000");
        CO_ASSERT_TRUE(diag.server_error().has_value());
        EXPECT_EQ(diag.server_error()->message, "cached plan must not change result type");
        co_await c.async_simple_query("rollback");
        auto again = co_await c.async_execute("select * from alt_tx");  // re-prepared after the error
        EXPECT_EQ(again[0].get<std::int32_t>(0), 1);
        co_await c.async_simple_query("drop table alt_tx");
    });
}

TEST(query, statement_cache_is_lru_bounded_and_cleared_by_discard_all)
{
    run([]() -> asio::awaitable<void> {
        connection c(co_await asio::this_coro::executor, connection_params{.statement_cache_size = 2});
        co_await c.async_connect(url("", "", "sslmode=disable"));
        for (int round = 0; round < 3; ++round) {
            for (int q = 0; q < 4; ++q) {
                auto r = co_await c.async_execute("select " + std::to_string(q) + " + $1::int4", make_params(round));
                EXPECT_EQ(r[0].get<std::int32_t>(0), q + round);
            }
            EXPECT_EQ(c.cached_statements(), 2u);
        }
        // Evicted statements were closed on the server: only the cached ones remain prepared.
        auto ps = co_await c.async_execute("select count(*) from pg_prepared_statements");
        EXPECT_EQ(ps[0].get<std::int64_t>(0), 2);
        co_await c.async_simple_query("discard all");
        EXPECT_EQ(c.cached_statements(), 0u);
        auto r = co_await c.async_execute("select 3 + $1::int4", make_params(1));  // prepared again, works
        EXPECT_EQ(r[0].get<std::int32_t>(0), 4);
    });
}

TEST(query, unnamed_statements_only_mode_for_transaction_poolers)
{
    run([]() -> asio::awaitable<void> {
        connection c(co_await asio::this_coro::executor, connection_params{.statement_cache = false});
        co_await c.async_connect(url("", "", "sslmode=disable"));
        for (int i = 0; i < 5; ++i) {
            auto r = co_await c.async_execute("select $1::int4 * 2", make_params(i));
            EXPECT_EQ(r[0].get<std::int32_t>(0), 2 * i);
        }
        EXPECT_EQ(c.cached_statements(), 0u);
        auto ps = co_await c.async_execute("select count(*) from pg_prepared_statements");
        EXPECT_EQ(ps[0].get<std::int64_t>(0), 0);  // nothing named survives on the server
    });
}

// ---------------------------------------------------------------------------------------------
// The first execution of a cached statement: Parse + Describe(statement) + Flush, then Bind with
// binary result formats + Execute + Sync (nothing else is written in between).

TEST(query, first_execution_is_binary_and_concurrent_first_uses_share_one_prepared_statement)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        constexpr int n = 50;
        std::vector<int> got(n, -1);
        std::vector<bool> binary(n, false);
        int done = 0, errors = 0;
        // 50 executions of a statement the connection has never seen, all in flight at once: the
        // first prepares it; the others are bound to it once it is described (binary results).
        for (int i = 0; i < n; ++i) {
            c.async_execute("select $1::int4 * 3 as v, 'x'::text as t", make_params(i), [&, i](error_code ec, result r) {
                if (ec) ++errors;
                else {
                    got[i] = r[0].get<std::int32_t>(0);
                    binary[i] = r.columns()[0].format == wire::format::binary && r.columns()[1].format == wire::format::binary;
                }
                ++done;
            });
        }
        while (done < n) co_await sleep_for(1ms);
        EXPECT_EQ(errors, 0);
        for (int i = 0; i < n; ++i) {
            EXPECT_EQ(got[i], 3 * i) << i;
            EXPECT_TRUE(binary[i]) << "execution " << i << " did not get binary results";
        }
        EXPECT_EQ(c.cached_statements(), 1u);
        auto ps = co_await c.async_execute("select count(*) from pg_prepared_statements");
        EXPECT_EQ(ps[0].get<std::int64_t>(0), 2);  // ours, and this count(*) query itself
    });
}

TEST(query, a_parse_error_on_first_use_fails_only_its_own_queries_and_is_not_cached)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        // Three executions of a misspelt statement pipelined with good ones: each bad one gets
        // the server's syntax error (42601), the good ones their rows, in order.
        std::vector<std::string> outcome(6);
        int done = 0;
        for (int i = 0; i < 6; ++i) {
            const bool bad = i % 2 == 0;
            std::string sql = bad ? "selec $1::int4" : "select $1::int4 + 1";
            c.async_execute(std::move(sql), make_params(i), [&, i](error_code ec, result r) {
                outcome[i] = ec ? sqlstate_of(ec) : std::to_string(r[0].get<std::int32_t>(0));
                ++done;
            });
        }
        while (done < 6) co_await sleep_for(1ms);
        EXPECT_EQ(outcome, (std::vector<std::string>{"42601", "2", "42601", "4", "42601", "6"}));
        EXPECT_EQ(c.cached_statements(), 1u);  // only the good statement
        diagnostics diag;
        auto [ec, r] = co_await c.async_execute("selec 1", param_list{}, &diag, asio::as_tuple(asio::use_awaitable));
        EXPECT_EQ(sqlstate_of(ec), "42601");
        CO_ASSERT_TRUE(diag.server_error().has_value());
        EXPECT_EQ(diag.server_error()->message, "syntax error at or near \"selec\"");
        auto ok = co_await c.async_execute("select 41 + 1");
        EXPECT_EQ(ok[0].get<std::int32_t>(0), 42);
    });
}

TEST(query, an_execution_error_on_first_use_keeps_the_prepared_statement)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        const char* sql = "select 10 / $1::int4";
        auto [ec, r] = co_await c.async_execute(sql, make_params(0), asio::as_tuple(asio::use_awaitable));
        EXPECT_EQ(sqlstate_of(ec), "22012");  // division_by_zero, raised while executing
        EXPECT_EQ(c.cached_statements(), 1u);  // the statement parsed and was described: kept
        auto ok = co_await c.async_execute(sql, make_params(5));
        EXPECT_EQ(ok.columns()[0].format, wire::format::binary);
        EXPECT_EQ(ok[0].get<std::int32_t>(0), 2);
        auto ps = co_await c.async_execute("select count(*) from pg_prepared_statements where statement like 'select 10 /%'");
        EXPECT_EQ(ps[0].get<std::int64_t>(0), 1);
    });
}

TEST(query, cancelling_first_executions_at_each_point_never_leaks_57014_or_a_stale_statement)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        // Every iteration is a new statement, so the cancel lands before the describe step is
        // written, while it is answered, between the two steps, or while the query runs.
        for (int delay = 0; delay < 30; ++delay) {
            asio::cancellation_signal sig;
            bool finished = false;
            const std::string sql = "select pg_sleep(0.002), " + std::to_string(delay) + " as k";
            c.async_execute(sql, param_list{}, asio::bind_cancellation_slot(sig.slot(), [&](error_code, result) { finished = true; }));
            for (int i = 0; i < delay; ++i) co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
            sig.emit(asio::cancellation_type::terminal);
            while (!finished) co_await sleep_for(1ms);
            auto r = co_await c.async_execute("select $1::int4", make_params(delay));
            EXPECT_EQ(r[0].get<std::int32_t>(0), delay);
            // The cancelled statement, run again, works whether or not it was prepared.
            auto again = co_await c.async_execute(sql);
            EXPECT_EQ(again[0].get<std::int32_t>(1), delay);
        }
    });
}
