// A new cached statement is prepared in steps (type-name lookup -> Parse + Describe -> result-type
// lookup -> Bind + Execute + Sync), with nothing else written in between. These tests pipeline
// many first uses, cancel them at random points, put COPY, errors and transactions between the
// steps, and check after each that the connection still answers correctly and that the server
// holds exactly the statements the cache knows (pg_prepared_statements == cached_statements()).
#include "fixture.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>

#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace sleet;
using namespace sleet::test;
using namespace std::chrono_literals;

namespace ss {
enum class mood { sad, ok, happy };
} // namespace ss

template <>
struct sleet::pg_enum<ss::mood> {
    static constexpr std::string_view type_name = "ss_mood";
    static constexpr std::pair<ss::mood, std::string_view> labels[] = {
        {ss::mood::sad, "sad"}, {ss::mood::ok, "ok"}, {ss::mood::happy, "happy"}};
};

namespace {

asio::awaitable<connection> connect_cache(std::size_t cache_size)
{
    connection_params p;
    p.statement_cache_size = cache_size;
    connection c(co_await asio::this_coro::executor, p);
    const std::string u = url("", "", "sslmode=disable");
    co_await c.async_connect(u);
    co_return c;
}

/// Statements the server holds for this session (asked with the simple protocol, which prepares
/// nothing itself). Evicted or abandoned statements are closed lazily, with the next execute, so
/// two executes go first: when the first has finished, every earlier request has finished too,
/// and the second carries the Closes they left.
struct statement_counts {
    std::string server;  // count(*) from pg_prepared_statements
    std::string cached;  // connection::cached_statements()
};

asio::awaitable<statement_counts> server_statements(connection& c)
{
    for (int i = 0; i < 2; ++i) {
        auto settle = co_await c.async_execute("select 'settle' as ss_settle");
        EXPECT_EQ(settle[0].get<std::string>(0), "settle");
    }
    auto rs = co_await c.async_simple_query("select count(*) from pg_prepared_statements");
    co_return statement_counts{rs[0][0].get<std::string>(0), std::to_string(c.cached_statements())};
}

/// Polls until `done` or ~5 s passed.
asio::awaitable<void> wait_for(const std::function<bool()>& done)
{
    for (int i = 0; i < 5000 && !done(); ++i) co_await sleep_for(1ms);
}

/// Waits until backend `pid` waits for a lock on table `table` (seen from `admin`).
asio::awaitable<bool> waits_on_lock(connection& admin, std::int32_t pid, std::string table)
{
    for (int i = 0; i < 500; ++i) {
        auto r = co_await admin.async_execute(
            "select count(*) from pg_locks l join pg_class c on c.oid = l.relation where l.pid = $1 and not l.granted and c.relname = $2",
            make_params(pid, table));
        if (r[0].get<std::int64_t>(0) == 1) co_return true;
        co_await sleep_for(10ms);
    }
    co_return false;
}

struct outcome {
    bool done = false;
    error_code ec;
    std::optional<std::int32_t> value;
};

} // namespace

// 20 distinct statements, each launched twice at once (a first use and a second use queued
// while it is being described), on caches of 1 and 2 entries: the LRU must not evict a statement
// being prepared, every caller gets its own value, and every evicted statement is closed.
TEST(statement_steps, small_cache_twenty_distinct_statements_pipelined)
{
    run([]() -> asio::awaitable<void> {
        for (std::size_t size : {std::size_t{1}, std::size_t{2}}) {
            auto c = co_await connect_cache(size);
            for (int round = 0; round < 3; ++round) {
                constexpr int n = 20;
                std::vector<outcome> out(2 * n);
                for (int i = 0; i < 2 * n; ++i) {
                    const int s = i % n;
                    // Round 1 adds errors: one Parse error (first step fails), one division by
                    // zero (the execute step fails).
                    std::string sql = "select $1::int4 + " + std::to_string(s * 1000);
                    if (round == 1 && s == 7) sql = "selec $1::int4 + " + std::to_string(s);
                    if (round == 1 && s == 11) sql = "select $1::int4 / 0 + " + std::to_string(s * 1000);
                    c.async_execute(sql, make_params(i), [&out, i](error_code ec, result r) {
                        out[i].done = true;
                        out[i].ec = ec;
                        if (!ec) out[i].value = r[0].get<std::int32_t>(0);
                    });
                }
                co_await wait_for([&] { return std::all_of(out.begin(), out.end(), [](const outcome& o) { return o.done; }); });
                for (int i = 0; i < 2 * n; ++i) {
                    const int s = i % n;
                    CO_ASSERT_TRUE(out[i].done);
                    if (round == 1 && s == 7) EXPECT_EQ(sqlstate_of(out[i].ec), "42601") << i;  // syntax error
                    else if (round == 1 && s == 11) EXPECT_EQ(sqlstate_of(out[i].ec), "22012") << i;  // division by zero
                    else {
                        EXPECT_FALSE(out[i].ec) << i << ": " << out[i].ec.message();
                        EXPECT_EQ(out[i].value, i + s * 1000) << i;
                    }
                }
                auto r = co_await c.async_execute("select $1::text", make_params(std::string("still in step")));
                EXPECT_EQ(r[0].get<std::string>(0), "still in step");
                const auto counts = co_await server_statements(c);
                EXPECT_EQ(counts.server, counts.cached) << "cache size " << size << " round " << round;
            }
        }
    });
}

// A Parse error in the middle of 100 pipelined distinct first uses fails only its own request:
// the caller sees `syntax error at or near "selec"`, the 99 others their values.
TEST(statement_steps, parse_error_in_the_middle_of_100_pipelined_first_uses)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_cache(256);
        constexpr int n = 100;
        std::vector<outcome> out(n);
        std::vector<diagnostics> diags(n);
        for (int i = 0; i < n; ++i) {
            std::string sql = i == 50 ? "selec $1::int4 + 1" : "select $1::int4 * 3, " + std::to_string(i) + " as k";
            c.async_execute(sql, make_params(i), &diags[i], [&out, i](error_code ec, result r) {
                out[i].done = true;
                out[i].ec = ec;
                if (!ec) out[i].value = r[0].get<std::int32_t>(0);
            });
        }
        co_await wait_for([&] { return std::all_of(out.begin(), out.end(), [](const outcome& o) { return o.done; }); });
        for (int i = 0; i < n; ++i) {
            CO_ASSERT_TRUE(out[i].done);
            if (i == 50) {
                EXPECT_EQ(sqlstate_of(out[i].ec), "42601");
                CO_ASSERT_TRUE(diags[i].server_error().has_value());
                EXPECT_EQ(diags[i].server_error()->message, "syntax error at or near \"selec\"");
            } else {
                EXPECT_FALSE(out[i].ec) << i;
                EXPECT_EQ(out[i].value, 3 * i) << i;
            }
        }
        EXPECT_EQ(c.cached_statements(), 99u);
        const auto counts = co_await server_statements(c);
        EXPECT_EQ(counts.server, "100");  // with ss_settle
        EXPECT_EQ(counts.server, counts.cached);
    });
}

// Random cancellation of pipelined first uses (and second uses queued behind them), landing
// before the write, between the steps, or after execution. After each round the connection
// answers its own query and the server holds exactly the cached statements.
// BUG (see report): fails today in round 0 (server "6", cache "4"): the Closes of evicted or
// abandoned statements are lost with a request cancelled before it is written or re-encoded at
// write time (the same cause as the two tests below).
TEST(statement_steps, random_cancellation_of_pipelined_first_uses)
{
    run([]() -> asio::awaitable<void> {
        std::mt19937 rng(20261126);
        auto c = co_await connect_cache(4);
        for (int round = 0; round < 40; ++round) {
            constexpr int n = 8;
            std::vector<outcome> out(n);
            std::vector<std::unique_ptr<asio::cancellation_signal>> sigs;
            std::vector<int> cancel_after(n, -1);
            for (int i = 0; i < n; ++i) {
                sigs.push_back(std::make_unique<asio::cancellation_signal>());
                // Half new statements, half from a pool of 6 reused ones.
                const bool fresh = rng() % 2 == 0;
                std::string sql = fresh ? "select $1::int4 + 0 * " + std::to_string(round * 100 + i) : "select $1::int4 + 0 * -" + std::to_string(rng() % 6);
                if (rng() % 3 == 0) cancel_after[i] = static_cast<int>(rng() % 8);
                c.async_execute(sql, make_params(i), asio::bind_cancellation_slot(sigs[i]->slot(), [&out, i](error_code ec, result r) {
                                    out[i].done = true;
                                    out[i].ec = ec;
                                    if (!ec) out[i].value = r[0].get<std::int32_t>(0);
                                }));
                if (cancel_after[i] == 0) sigs[i]->emit(asio::cancellation_type::terminal);
            }
            for (int poll = 1; poll < 8; ++poll) {
                co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
                for (int i = 0; i < n; ++i)
                    if (cancel_after[i] == poll && !out[i].done) sigs[i]->emit(asio::cancellation_type::terminal);
            }
            co_await wait_for([&] { return std::all_of(out.begin(), out.end(), [](const outcome& o) { return o.done; }); });
            for (int i = 0; i < n; ++i) {
                CO_ASSERT_TRUE(out[i].done);
                if (out[i].ec) EXPECT_EQ(out[i].ec, asio::error::operation_aborted) << "round " << round << " request " << i;
                else EXPECT_EQ(out[i].value, i) << "round " << round << " request " << i;
            }
            auto r = co_await c.async_execute("select $1::int4 + 1000", make_params(round));
            EXPECT_EQ(r[0].get<std::int32_t>(0), round + 1000);
            const auto counts = co_await server_statements(c);
            CO_ASSERT_EQ(counts.server, counts.cached);
        }
    });
}

// BUG (see report): a first use that evicts a cached statement carries its Close; queued behind
// a statement being described and cancelled before it is written, it is dropped with its Close,
// so the server keeps a statement the cache has forgotten (a leak per cancelled first use).
TEST(statement_steps, cancel_before_write_keeps_the_close_of_an_evicted_statement)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_cache(2);
        co_await c.async_execute("select 1 as one");
        EXPECT_EQ(c.cached_statements(), 1u);
        outcome a, b;
        // A: a first use, written at once; nothing is written behind it until it is described.
        c.async_execute("select 10 as ten", [&a](error_code ec, result r) {
            a.done = true;
            a.ec = ec;
            if (!ec) a.value = r[0].get<std::int32_t>(0);
        });
        // B: a first use that evicts "select 1" (the cache is full), queued behind A.
        asio::cancellation_signal sig;
        c.async_execute("select 2 as two", param_list{}, asio::bind_cancellation_slot(sig.slot(), [&b](error_code ec, result) {
                            b.done = true;
                            b.ec = ec;
                        }));
        sig.emit(asio::cancellation_type::terminal);  // B never reached the server
        co_await wait_for([&] { return a.done && b.done; });
        EXPECT_EQ(a.value, 10);
        EXPECT_EQ(b.ec, asio::error::operation_aborted);
        {
            const auto counts = co_await server_statements(c);
            EXPECT_EQ(counts.server, counts.cached);
        }
    });
}

// BUG (see report): a second use queued while its statement is being described is encoded
// unnamed and takes the pending Closes; when it is re-encoded at write time (reencode_if_ready)
// its Closes are dropped, and the server keeps a statement the cache has forgotten.
TEST(statement_steps, reencoded_second_use_keeps_pending_closes)
{
    run([]() -> asio::awaitable<void> {
        auto admin = co_await connect_super();
        co_await admin.async_simple_query("drop table if exists ss_l1, ss_l2; create table ss_l1(x int); create table ss_l2(x int)");
        auto lock1 = co_await connect_super();
        auto lock2 = co_await connect_super();
        co_await lock1.async_simple_query("begin; lock table ss_l1 in access exclusive mode");
        co_await lock2.async_simple_query("begin; lock table ss_l2 in access exclusive mode");
        auto c = co_await connect_cache(256);
        // P's Parse waits for ss_l1: cancelled between its steps, it ends with Sync, and its
        // statement (parsed, never described) is to be closed with the next request.
        asio::cancellation_signal sig;
        outcome p, y, z;
        c.async_execute("select x from ss_l1", param_list{}, asio::bind_cancellation_slot(sig.slot(), [&p](error_code ec, result) {
                            p.done = true;
                            p.ec = ec;
                        }));
        c.async_execute("select x from ss_l2", [&y](error_code ec, result) {
            y.done = true;
            y.ec = ec;
        });
        CO_ASSERT_TRUE(co_await waits_on_lock(admin, c.backend_pid(), "ss_l1"));
        sig.emit(asio::cancellation_type::terminal);
        co_await wait_for([&] { return p.done; });
        EXPECT_EQ(p.ec, asio::error::operation_aborted);
        co_await lock1.async_simple_query("commit");
        // Now Y (first use) is being described, waiting for ss_l2; P has finished.
        CO_ASSERT_TRUE(co_await waits_on_lock(admin, c.backend_pid(), "ss_l2"));
        c.async_execute("select x from ss_l2", [&z](error_code ec, result) {
            z.done = true;
            z.ec = ec;
        });
        co_await lock2.async_simple_query("commit");
        co_await wait_for([&] { return y.done && z.done; });
        EXPECT_FALSE(y.ec) << y.ec.message();
        EXPECT_FALSE(z.ec) << z.ec.message();
        EXPECT_EQ(c.cached_statements(), 1u);
        {
            const auto counts = co_await server_statements(c);
            EXPECT_EQ(counts.server, counts.cached);
        }
        co_await admin.async_simple_query("drop table ss_l1, ss_l2");
    });
}

// A COPY FROM STDIN queued behind a statement being described waits for its Bind, then owns the
// wire; a first use queued behind the COPY waits for it. All complete, in order.
TEST(statement_steps, copy_queued_behind_a_describing_request)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_cache(2);
        co_await c.async_simple_query("create temp table ss_copy(id int)");
        std::vector<std::string> lines;
        for (int i = 0; i < 1000; ++i) lines.push_back(std::to_string(i) + "\n");
        for (int round = 0; round < 3; ++round) {
            std::vector<int> order;
            outcome a, b, a2, bad;
            std::uint64_t copied = 0;
            bool copy_done = false;
            error_code copy_ec;
            const std::string tag = std::to_string(round);
            c.async_execute("select count(*)::int4 from ss_copy where id >= 0 and " + tag + " = " + tag, [&](error_code ec, result r) {
                a.done = true;
                a.ec = ec;
                if (!ec) a.value = r[0].get<std::int32_t>(0);
                order.push_back(1);
            });
            c.async_execute("select count(*)::int4 +* from ss_copy", [&](error_code ec, result) {  // Parse fails
                bad.done = true;
                bad.ec = ec;
                order.push_back(2);
            });
            c.async_copy_in_range("copy ss_copy from stdin", lines, [&](error_code ec, std::uint64_t rows) {
                copy_done = true;
                copy_ec = ec;
                copied = rows;
                order.push_back(3);
            });
            c.async_execute("select count(*)::int4 from ss_copy where id < 500 and " + tag + " = " + tag, [&](error_code ec, result r) {
                b.done = true;
                b.ec = ec;
                if (!ec) b.value = r[0].get<std::int32_t>(0);
                order.push_back(4);
            });
            c.async_execute("select count(*)::int4 from ss_copy where id >= 0 and " + tag + " = " + tag, [&](error_code ec, result r) {
                a2.done = true;
                a2.ec = ec;
                if (!ec) a2.value = r[0].get<std::int32_t>(0);
                order.push_back(5);
            });
            co_await wait_for([&] { return order.size() == 5; });
            CO_ASSERT_EQ(order.size(), 5u);
            EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4, 5}));
            EXPECT_FALSE(a.ec);
            EXPECT_EQ(a.value, 1000 * round);
            EXPECT_EQ(sqlstate_of(bad.ec), "42601");
            EXPECT_FALSE(copy_ec) << copy_ec.message();
            EXPECT_EQ(copied, 1000u);
            EXPECT_EQ(b.value, 500 * (round + 1));
            EXPECT_EQ(a2.value, 1000 * (round + 1));
            const auto counts = co_await server_statements(c);
            EXPECT_EQ(counts.server, counts.cached);
        }
    });
}

// 50 concurrent first uses of one statement with a user enum parameter on a fresh connection:
// one statement, one catalog lookup, 50 right answers.
TEST(statement_steps, enum_parameter_in_50_concurrent_uses_of_one_statement_looks_up_once)
{
    run([]() -> asio::awaitable<void> {
        auto admin = co_await connect_super();
        co_await admin.async_simple_query("drop type if exists ss_mood cascade; create type ss_mood as enum ('sad', 'ok', 'happy')");
        auto c = co_await connect_cache(256);
        constexpr int n = 50;
        std::vector<outcome> out(n);
        std::vector<std::string> types(n);
        for (int i = 0; i < n; ++i) {
            const ss::mood m = i % 2 ? ss::mood::happy : ss::mood::sad;
            c.async_execute("select $1 as m, pg_typeof($1)::text as t", make_params(m), [&out, &types, i](error_code ec, result r) {
                out[i].done = true;
                out[i].ec = ec;
                if (!ec) {
                    out[i].value = static_cast<std::int32_t>(r[0].get<ss::mood>("m"));
                    types[i] = r[0].get<std::string>("t");
                }
            });
        }
        co_await wait_for([&] { return std::all_of(out.begin(), out.end(), [](const outcome& o) { return o.done; }); });
        for (int i = 0; i < n; ++i) {
            EXPECT_FALSE(out[i].ec) << i << ": " << out[i].ec.message();
            EXPECT_EQ(out[i].value, static_cast<std::int32_t>(i % 2 ? ss::mood::happy : ss::mood::sad)) << i;
            EXPECT_EQ(types[i], "ss_mood") << i;
        }
        EXPECT_EQ(c.type_lookups(), 1u);
        EXPECT_EQ(c.cached_statements(), 1u);
        const auto counts = co_await server_statements(c);
        EXPECT_EQ(counts.server, "2");  // with ss_settle
        EXPECT_EQ(counts.server, counts.cached);
    });
}

// BUG (see report): 50 concurrent first uses of 50 *different* statements with the same enum
// parameter type each encode their own catalog lookup at enqueue time (the name is unresolved
// then), although the design says each type is looked up once per connection.
TEST(statement_steps, enum_parameter_in_50_distinct_concurrent_statements_looks_up_once)
{
    run([]() -> asio::awaitable<void> {
        auto admin = co_await connect_super();
        co_await admin.async_simple_query("drop type if exists ss_mood cascade; create type ss_mood as enum ('sad', 'ok', 'happy')");
        auto c = co_await connect_cache(256);
        constexpr int n = 50;
        std::vector<outcome> out(n);
        for (int i = 0; i < n; ++i) {
            std::string sql = "select $1 as m, " + std::to_string(i) + " as k";
            c.async_execute(sql, make_params(ss::mood::ok), [&out, i](error_code ec, result r) {
                out[i].done = true;
                out[i].ec = ec;
                if (!ec) out[i].value = static_cast<std::int32_t>(r[0].get<ss::mood>("m"));
            });
        }
        co_await wait_for([&] { return std::all_of(out.begin(), out.end(), [](const outcome& o) { return o.done; }); });
        for (int i = 0; i < n; ++i) {
            EXPECT_FALSE(out[i].ec) << i << ": " << out[i].ec.message();
            EXPECT_EQ(out[i].value, static_cast<std::int32_t>(ss::mood::ok)) << i;
        }
        EXPECT_EQ(c.type_lookups(), 1u);
        {
            const auto counts = co_await server_statements(c);
            EXPECT_EQ(counts.server, counts.cached);
        }
    });
}

// First use inside a failed transaction block: the caller sees 25P02 "current transaction is
// aborted, commands ignored until end of transaction block"; after ROLLBACK the same statement
// prepares and runs, and no half-prepared statement is left on the server.
TEST(statement_steps, first_use_in_a_failed_transaction_then_rollback_and_reuse)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_cache(256);
        co_await c.async_simple_query("begin");
        auto [ec0, r0] = co_await c.async_execute("select 1 / $1::int4", make_params(0), asio::as_tuple(asio::use_awaitable));
        EXPECT_EQ(sqlstate_of(ec0), "22012");
        EXPECT_EQ(c.transaction_status(), 'E');
        diagnostics diag;
        auto [ec, r] = co_await c.async_execute("select $1::int4 * 7 as ss_tx", make_params(6), &diag, asio::as_tuple(asio::use_awaitable));
        EXPECT_EQ(sqlstate_of(ec), "25P02");
        CO_ASSERT_TRUE(diag.server_error().has_value());
        EXPECT_EQ(diag.server_error()->message, "current transaction is aborted, commands ignored until end of transaction block");
        co_await c.async_simple_query("rollback");
        EXPECT_EQ(c.transaction_status(), 'I');
        auto ok = co_await c.async_execute("select $1::int4 * 7 as ss_tx", make_params(6));
        EXPECT_EQ(ok[0].get<std::int32_t>(0), 42);
        auto again = co_await c.async_execute("select $1::int4 * 7 as ss_tx", make_params(7));
        EXPECT_EQ(again[0].get<std::int32_t>(0), 49);
        {
            const auto counts = co_await server_statements(c);
            EXPECT_EQ(counts.server, counts.cached);
        }
    });
}

// BUG (see report): 42704 is taken for a stale type OID, but it is "undefined_object" in general
// (here: unrecognized configuration parameter, raised while executing). A failing cached
// statement is then executed a second time behind the caller's back: nextval() runs twice.
TEST(statement_steps, a_failing_statement_is_executed_once)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_cache(256);
        co_await c.async_simple_query("drop sequence if exists ss_seq; create sequence ss_seq");
        auto first = co_await c.async_execute("select nextval('ss_seq'), current_setting($1)", make_params(std::string("server_version_num")));
        EXPECT_EQ(first[0].get<std::int64_t>(0), 1);
        diagnostics diag;
        auto [ec, r] = co_await c.async_execute("select nextval('ss_seq'), current_setting($1)", make_params(std::string("ss_no_such_setting")), &diag,
                                                asio::as_tuple(asio::use_awaitable));
        EXPECT_EQ(sqlstate_of(ec), "42704");
        CO_ASSERT_TRUE(diag.server_error().has_value());
        EXPECT_EQ(diag.server_error()->message, "unrecognized configuration parameter \"ss_no_such_setting\"");
        // The failing call consumed one value (nextval is not rolled back): the next one is 3.
        auto next = co_await c.async_simple_query("select nextval('ss_seq')");
        EXPECT_EQ(next[0][0].get<std::string>(0), "3");
        co_await c.async_simple_query("drop sequence ss_seq");
    });
}

// BUG (see report): a query naming a type that does not exist fails at Parse with 42704; that is
// also taken for a stale type: the connection's type cache is dropped (and the query retried),
// so the next use of a known user type costs another catalog lookup.
TEST(statement_steps, an_unknown_type_in_sql_keeps_the_type_cache)
{
    run([]() -> asio::awaitable<void> {
        auto admin = co_await connect_super();
        co_await admin.async_simple_query("drop type if exists ss_mood cascade; create type ss_mood as enum ('sad', 'ok', 'happy')");
        auto c = co_await connect_cache(256);
        auto r = co_await c.async_execute("select $1 as m", make_params(ss::mood::happy));
        EXPECT_EQ(r[0].get<ss::mood>(0), ss::mood::happy);
        EXPECT_EQ(c.type_lookups(), 1u);
        diagnostics diag;
        auto [ec, bad] = co_await c.async_execute("select 'x'::ss_no_such_type", param_list{}, &diag, asio::as_tuple(asio::use_awaitable));
        EXPECT_EQ(sqlstate_of(ec), "42704");
        CO_ASSERT_TRUE(diag.server_error().has_value());
        EXPECT_EQ(diag.server_error()->message, "type \"ss_no_such_type\" does not exist");
        auto r2 = co_await c.async_execute("select $1 as m, 2 as k", make_params(ss::mood::sad));
        EXPECT_EQ(r2[0].get<ss::mood>(0), ss::mood::sad);
        EXPECT_EQ(c.type_lookups(), 1u);
    });
}

// BUG (see report, older than the steps): DISCARD ALL pipelined ahead of a first use clears the
// cache when its own ReadyForQuery arrives, after the first use's Parse already went out: the
// server keeps that statement, the cache has forgotten it.
TEST(statement_steps, discard_all_pipelined_ahead_of_a_first_use)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_cache(256);
        co_await c.async_execute("select 1 as before_discard");
        bool discarded = false;
        outcome o;
        c.async_simple_query("discard all", [&](error_code ec, std::vector<result>) {
            EXPECT_FALSE(ec);
            discarded = true;
        });
        c.async_execute("select 2 as after_discard", [&o](error_code ec, result r) {
            o.done = true;
            o.ec = ec;
            if (!ec) o.value = r[0].get<std::int32_t>(0);
        });
        co_await wait_for([&] { return discarded && o.done; });
        EXPECT_FALSE(o.ec);
        EXPECT_EQ(o.value, 2);
        {
            const auto counts = co_await server_statements(c);
            EXPECT_EQ(counts.server, counts.cached);
        }
    });
}

// A first use cancelled while its Bind + Execute step runs (pg_sleep) gets a CancelRequest like
// any executing query: the caller gets operation_aborted at once, and the next query on the
// connection sees its own result, not the late 57014 "canceling statement due to user request".
TEST(statement_steps, cancel_during_the_execute_step_of_a_first_use)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_cache(256);
        asio::cancellation_signal sig;
        outcome o;
        c.async_execute("select pg_sleep(5) as ss_sleep", param_list{}, asio::bind_cancellation_slot(sig.slot(), [&o](error_code ec, result) {
                            o.done = true;
                            o.ec = ec;
                        }));
        co_await sleep_for(200ms);
        sig.emit(asio::cancellation_type::terminal);
        co_await wait_for([&] { return o.done; });
        EXPECT_EQ(o.ec, asio::error::operation_aborted);
        auto r = co_await c.async_execute("select $1::text", make_params(std::string("after cancel")));
        EXPECT_EQ(r[0].get<std::string>(0), "after cancel");
        EXPECT_TRUE(c.is_open());
        // The statement was described before it ran: it stays cached, and the server has it.
        {
            const auto counts = co_await server_statements(c);
            EXPECT_EQ(counts.server, counts.cached);
        }
    });
}

// The backend is terminated while a first use waits (its Parse blocked on a lock) with more
// requests queued behind it: all fail, the first with the server's FATAL 57P01 "terminating
// connection due to administrator command", and the connection is closed.
TEST(statement_steps, backend_terminated_between_steps_fails_everything)
{
    run([]() -> asio::awaitable<void> {
        auto admin = co_await connect_super();
        co_await admin.async_simple_query("drop table if exists ss_l3; create table ss_l3(x int)");
        auto locker = co_await connect_super();
        co_await locker.async_simple_query("begin; lock table ss_l3 in access exclusive mode");
        auto c = co_await connect_cache(256);
        std::vector<outcome> out(3);
        c.async_execute("select x from ss_l3", [&out](error_code ec, result) {
            out[0].done = true;
            out[0].ec = ec;
        });
        c.async_execute("select 1 as ss_behind", [&out](error_code ec, result) {
            out[1].done = true;
            out[1].ec = ec;
        });
        c.async_execute("select x from ss_l3", [&out](error_code ec, result) {
            out[2].done = true;
            out[2].ec = ec;
        });
        CO_ASSERT_TRUE(co_await waits_on_lock(admin, c.backend_pid(), "ss_l3"));
        co_await admin.async_execute("select pg_terminate_backend($1)", make_params(c.backend_pid()));
        co_await wait_for([&] { return out[0].done && out[1].done && out[2].done; });
        EXPECT_EQ(sqlstate_of(out[0].ec), "57P01");
        EXPECT_TRUE(out[1].ec);
        EXPECT_TRUE(out[2].ec);
        EXPECT_FALSE(c.is_open());
        co_await locker.async_simple_query("rollback");
        co_await admin.async_simple_query("drop table ss_l3");
    });
}

// BUG (see report): a cancelled first use whose Parse waits for a lock gets no CancelRequest
// (describe steps are assumed not to run anything), so nothing ends the wait: after
// cancel_drain_timeout the connection is closed ("the server did not answer a cancelled query
// within cancel_drain_timeout; the connection was closed") although a plain cancel would do.
TEST(statement_steps, cancelled_first_use_blocked_in_parse_keeps_the_connection)
{
    run([]() -> asio::awaitable<void> {
        auto admin = co_await connect_super();
        co_await admin.async_simple_query("drop table if exists ss_l4; create table ss_l4(x int)");
        auto locker = co_await connect_super();
        co_await locker.async_simple_query("begin; lock table ss_l4 in access exclusive mode");
        connection_params p;
        p.cancel_drain_timeout = 500ms;
        connection c(co_await asio::this_coro::executor, p);
        const std::string u = url("", "", "sslmode=disable");
        co_await c.async_connect(u);
        asio::cancellation_signal sig;
        outcome o;
        c.async_execute("select x from ss_l4", param_list{}, asio::bind_cancellation_slot(sig.slot(), [&o](error_code ec, result) {
                            o.done = true;
                            o.ec = ec;
                        }));
        CO_ASSERT_TRUE(co_await waits_on_lock(admin, c.backend_pid(), "ss_l4"));
        sig.emit(asio::cancellation_type::terminal);
        co_await wait_for([&] { return o.done; });
        EXPECT_EQ(o.ec, asio::error::operation_aborted);
        co_await sleep_for(1s);  // the lock is still held: longer than cancel_drain_timeout
        EXPECT_TRUE(c.is_open());
        co_await locker.async_simple_query("rollback");
        if (c.is_open()) {
            auto r = co_await c.async_execute("select $1::int4", make_params(5));
            EXPECT_EQ(r[0].get<std::int32_t>(0), 5);
        }
        co_await admin.async_simple_query("drop table ss_l4");
    });
}

// The enum is dropped and created again (new OID) behind the connection's back: a cached
// statement and a first use that reuse the looked-up OID fail with a stale type; outside a
// transaction both are retried once transparently, and the caller sees its values.
TEST(statement_steps, stale_enum_oid_is_retried_once_outside_a_transaction)
{
    run([]() -> asio::awaitable<void> {
        auto admin = co_await connect_super();
        co_await admin.async_simple_query("drop type if exists ss_mood cascade; create type ss_mood as enum ('sad', 'ok', 'happy')");
        auto c = co_await connect_cache(256);
        auto r = co_await c.async_execute("select $1 as m", make_params(ss::mood::ok));
        EXPECT_EQ(r[0].get<ss::mood>(0), ss::mood::ok);
        EXPECT_EQ(c.type_lookups(), 1u);
        co_await admin.async_simple_query("drop type ss_mood; create type ss_mood as enum ('sad', 'ok', 'happy')");
        auto fresh = co_await c.async_execute("select $1 as m, 'fresh' as k", make_params(ss::mood::happy));
        EXPECT_EQ(fresh[0].get<ss::mood>(0), ss::mood::happy);
        auto cached = co_await c.async_execute("select $1 as m", make_params(ss::mood::sad));
        EXPECT_EQ(cached[0].get<ss::mood>(0), ss::mood::sad);
        {
            const auto counts = co_await server_statements(c);
            EXPECT_EQ(counts.server, counts.cached);
        }
    });
}
