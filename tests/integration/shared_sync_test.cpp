// Read-only statements pipelined back to back share one Sync (connection.hpp, "Pipelining"):
// the server runs them in one implicit transaction and answers with one ReadyForQuery. These
// tests show that the sharing happens (one transaction_timestamp() for the whole run), that it
// is invisible to the caller otherwise: each statement still gets its own result or its own
// error, statements the server skipped after an error are sent again and succeed, a cancelled
// one ends alone, writes never share, and the builder's selects take part.
#include "fixture.hpp"

#include <sleet/orm.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

using namespace sleet;
using namespace sleet::test;
using namespace std::chrono_literals;

namespace {

asio::awaitable<connection> connect_with(connection_params p)
{
    connection c(co_await asio::this_coro::executor, p);
    const std::string u = url("", "", "sslmode=disable");
    co_await c.async_connect(u);
    co_return c;
}

template <class... Ts> param_list read_only(const Ts&... vs)
{
    auto p = make_params(vs...);
    p.set_read_only();
    return p;
}

/// What one pipelined statement ended with.
struct outcome {
    bool done = false;
    error_code ec;
    diagnostics diag;
    result res;
};

/// Starts `n` statements on `c` at once (all in the same turn of the event loop, so they are
/// written together), waits for all of them, and returns their outcomes in start order.
asio::awaitable<std::vector<outcome>> pipeline(connection& c, std::size_t n, const std::function<std::string(std::size_t)>& sql,
                                               const std::function<param_list(std::size_t)>& params)
{
    std::vector<outcome> out(n);
    std::size_t finished = 0;
    for (std::size_t i = 0; i < n; ++i) {
        c.async_execute(sql(i), params(i), &out[i].diag, [&out, &finished, i](error_code ec, result r) {
            out[i] = outcome{true, ec, std::move(out[i].diag), std::move(r)};
            ++finished;
        });
    }
    for (int i = 0; i < 10000 && finished < n; ++i) co_await sleep_for(1ms);
    EXPECT_EQ(finished, n) << "not every pipelined statement completed";
    co_return out;
}

constexpr const char* stamp_sql = "select transaction_timestamp()::text as ts, $1::int4 as v";

std::size_t distinct_stamps(const std::vector<outcome>& out)
{
    std::set<std::string> stamps;
    for (const auto& o : out)
        if (!o.ec && o.res.size() == 1) stamps.insert(o.res[0].get<std::string>(0));
    return stamps.size();
}

// A view that shows the transaction each row was read in (declared for the builder below).
template <template <class> class C>
struct stamp_columns {
    C<pg::integer<"k", pg::not_null>> k{};
    C<pg::text<"ts", pg::not_null>> ts{};
};
using stamps_t = sleet::table<"ss_stamps", stamp_columns>;
inline constexpr stamps_t stamps{};

} // namespace

// 40 read-only statements started together run under one (or very few) Sync: they share
// transaction_timestamp(). The same statements without the read-only hint, or on a connection
// with shared_sync = false, each run in their own transaction. Every caller gets its own row.
TEST(shared_sync, read_only_statements_pipelined_together_share_one_transaction)
{
    run([]() -> asio::awaitable<void> {
        constexpr std::size_t n = 40;
        auto c = co_await connect_with({});
        co_await c.async_execute(stamp_sql, read_only(0));  // prepared and described once: the run binds it

        auto shared = co_await pipeline(c, n, [](std::size_t) { return stamp_sql; }, [](std::size_t i) { return read_only(static_cast<std::int32_t>(i)); });
        for (std::size_t i = 0; i < n; ++i) {
            CO_ASSERT_TRUE(!shared[i].ec);
            EXPECT_EQ(shared[i].res[0].get<std::int32_t>(1), static_cast<std::int32_t>(i));
        }
        EXPECT_LT(distinct_stamps(shared), n / 4) << "read-only statements written together should share a transaction";

        auto plain = co_await pipeline(c, n, [](std::size_t) { return stamp_sql; }, [](std::size_t i) { return make_params(static_cast<std::int32_t>(i)); });
        for (std::size_t i = 0; i < n; ++i) CO_ASSERT_TRUE(!plain[i].ec);
        EXPECT_GT(distinct_stamps(plain), n / 2) << "statements without the hint keep one Sync (one transaction) each";

        connection_params off;
        off.shared_sync = false;
        auto c2 = co_await connect_with(off);
        co_await c2.async_execute(stamp_sql, read_only(0));
        auto unshared = co_await pipeline(c2, n, [](std::size_t) { return stamp_sql; }, [](std::size_t i) { return read_only(static_cast<std::int32_t>(i)); });
        for (std::size_t i = 0; i < n; ++i) CO_ASSERT_TRUE(!unshared[i].ec);
        EXPECT_GT(distinct_stamps(unshared), n / 2) << "shared_sync = false: one Sync per statement";
    });
}

// Statement 7, 17 and 27 of 30 divide by zero. Under a shared Sync the server skips everything
// after a failure until the Sync; sleet sends the skipped ones again. What the user sees: the
// three failing calls get 22012 "division by zero" in their own diagnostics, all 27 others get
// their correct value, and the connection is idle and usable afterwards.
TEST(shared_sync, an_error_fails_only_its_own_statement_and_skipped_ones_run_again)
{
    run([]() -> asio::awaitable<void> {
        constexpr std::size_t n = 30;
        auto c = co_await connect_with({});
        const std::string sql = "select 1000 / $1::int4 as q, $2::int4 as i";
        co_await c.async_execute(sql, read_only(1, 0));
        auto out = co_await pipeline(c, n, [&](std::size_t) { return sql; }, [](std::size_t i) {
            return read_only(i % 10 == 7 ? 0 : 10, static_cast<std::int32_t>(i));
        });
        for (std::size_t i = 0; i < n; ++i) {
            if (i % 10 == 7) {
                EXPECT_EQ(sqlstate_of(out[i].ec), "22012") << i;
                CO_ASSERT_TRUE(out[i].diag.server_error().has_value());
                EXPECT_EQ(out[i].diag.server_error()->message, "division by zero") << i;
            } else {
                CO_ASSERT_TRUE(!out[i].ec);
                EXPECT_EQ(out[i].res[0].get<std::int32_t>(0), 100) << i;
                EXPECT_EQ(out[i].res[0].get<std::int32_t>(1), static_cast<std::int32_t>(i));
            }
        }
        EXPECT_EQ(c.transaction_status(), 'I');
        auto after = co_await c.async_execute(sql, read_only(4, 1));
        EXPECT_EQ(after[0].get<std::int32_t>(0), 250);
    });
}

// A write pipelined behind read-only statements keeps its own Sync (it never shares an implicit
// transaction with them) and waits until their shared Sync is answered. When one of them fails,
// the one the server skipped is sent again before the write, so it reads what it would have
// read in order (no row yet); the write commits; the statement after the write sees the row.
TEST(shared_sync, writes_keep_their_own_sync_and_commit_despite_a_failing_read)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_with({});
        co_await c.async_simple_query("drop table if exists ss_w; create table ss_w (v int)");
        const std::string div = "select 10 / $1::int4";
        const std::string cnt = "select count(*)::int4 from ss_w where v >= $1";
        co_await c.async_execute(div, read_only(1));
        co_await c.async_execute(cnt, read_only(0));
        // [count, 10/0 (fails), count (skipped, sent again)] then the insert, then a count.
        std::vector<std::string> sqls = {cnt, div, cnt, "insert into ss_w values ($1)", cnt};
        auto out = co_await pipeline(c, sqls.size(), [&](std::size_t i) { return sqls[i]; }, [](std::size_t i) {
            if (i == 1) return read_only(0);
            if (i == 3) return make_params(5);  // a write: no hint
            return read_only(0);
        });
        CO_ASSERT_TRUE(!out[0].ec);
        EXPECT_EQ(out[0].res[0].get<std::int32_t>(0), 0);
        EXPECT_EQ(sqlstate_of(out[1].ec), "22012");
        CO_ASSERT_TRUE(!out[2].ec);
        // Skipped by the server, sent again, still ahead of the insert.
        EXPECT_EQ(out[2].res[0].get<std::int32_t>(0), 0);
        CO_ASSERT_TRUE(!out[3].ec);
        EXPECT_EQ(out[3].res.affected_rows(), 1u);
        CO_ASSERT_TRUE(!out[4].ec);
        EXPECT_EQ(out[4].res[0].get<std::int32_t>(0), 1);
        auto rows = co_await c.async_simple_query("select count(*) from ss_w");
        EXPECT_EQ(rows[0][0].get<std::string>(0), "1") << "the insert committed";
    });
}

// One statement of a shared run is cancelled while the run executes: the caller gets
// operation_aborted at once; the statements around it get their results; nothing leaks into the
// next query.
TEST(shared_sync, a_cancelled_statement_in_a_shared_run_ends_alone)
{
    run([]() -> asio::awaitable<void> {
        constexpr std::size_t n = 10;
        auto c = co_await connect_with({});
        const std::string sql = "select pg_sleep($1::float8)::text as s, $2::int4 as i";
        co_await c.async_execute(sql, read_only(0.0, 0));
        std::vector<outcome> out(n);
        std::size_t finished = 0;
        asio::cancellation_signal cancel;
        for (std::size_t i = 0; i < n; ++i) {
            auto h = [&out, &finished, i](error_code ec, result r) {
                out[i] = outcome{true, ec, std::move(out[i].diag), std::move(r)};
                ++finished;
            };
            auto p = read_only(i == 3 ? 0.3 : 0.0, static_cast<std::int32_t>(i));
            if (i == 3) c.async_execute(sql, std::move(p), &out[i].diag, asio::bind_cancellation_slot(cancel.slot(), h));
            else c.async_execute(sql, std::move(p), &out[i].diag, h);
        }
        co_await sleep_for(100ms);  // the run is on the server, statement 3 sleeping
        cancel.emit(asio::cancellation_type::terminal);
        for (int i = 0; i < 10000 && finished < n; ++i) co_await sleep_for(1ms);
        CO_ASSERT_EQ(finished, n);
        EXPECT_EQ(out[3].ec, asio::error::operation_aborted);
        for (std::size_t i = 0; i < n; ++i) {
            if (i == 3) continue;
            CO_ASSERT_TRUE(!out[i].ec);
            EXPECT_EQ(out[i].res[0].get<std::int32_t>(1), static_cast<std::int32_t>(i));
        }
        auto after = co_await c.async_execute(sql, read_only(0.0, 42));
        EXPECT_EQ(after[0].get<std::int32_t>(1), 42);
        EXPECT_EQ(c.transaction_status(), 'I');
    });
}

// The query builder's selects carry the read-only hint: 30 concurrent
// `db.select().from(stamps).where(eq(stamps.k, i))` share transactions, and each gets its row.
// (Which builder statements carry the hint — not `for update`, not raw SQL, not writes — is
// checked in tests/unit/orm/render_test.cpp.)
TEST(shared_sync, builder_selects_share_transactions)
{
    run([]() -> asio::awaitable<void> {
        constexpr std::int32_t n = 30;
        auto c = co_await connect_with({});
        co_await c.async_simple_query(
            "drop view if exists ss_stamps; create view ss_stamps as select g as k, transaction_timestamp()::text as ts "
            "from generate_series(1, 100) g");
        database db(c);
        auto warm = db.select().from(stamps).where(eq(stamps.k, 1));
        co_await std::move(warm)();

        std::vector<std::optional<std::string>> ts(n + 1);
        std::int32_t finished = 0;
        for (std::int32_t k = 1; k <= n; ++k) {
            db.select().from(stamps).where(eq(stamps.k, k))([&ts, &finished, k](error_code ec, auto rows) {
                if (!ec && rows.size() == 1 && rows[0].k == k) ts[static_cast<std::size_t>(k)] = rows[0].ts;
                ++finished;
            });
        }
        for (int i = 0; i < 10000 && finished < n; ++i) co_await sleep_for(1ms);
        CO_ASSERT_EQ(finished, n);
        std::set<std::string> distinct;
        for (std::int32_t k = 1; k <= n; ++k) {
            CO_ASSERT_TRUE(ts[static_cast<std::size_t>(k)].has_value());
            distinct.insert(*ts[static_cast<std::size_t>(k)]);
        }
        EXPECT_LT(distinct.size(), static_cast<std::size_t>(n / 4));
    });
}

// 64 read-only statements fill one shared Sync, the first failing; a 65th with a 16 MiB
// parameter opens the next run in the same write. The server answers the first run (error,
// skips, ReadyForQuery) while the 16 MiB are still being written, so the 63 skipped statements
// are encoded again before that write completes; they must not lose their new bytes. What the
// user sees: 22012 for the first, 1000 for the 63 others, the length for the big one.
TEST(shared_sync, statements_skipped_while_a_long_write_is_in_flight_are_sent_again_intact)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_with({});
        const std::string div = "select 1000 / $1::int4";
        const std::string len = "select length($1::text)";
        co_await c.async_execute(div, read_only(1));
        co_await c.async_execute(len, read_only(std::string("warm")));
        const std::string big(16 * 1024 * 1024, 'x');
        constexpr std::size_t n = 65;
        auto out = co_await pipeline(c, n, [&](std::size_t i) { return i + 1 == n ? len : div; }, [&](std::size_t i) {
            if (i + 1 == n) return read_only(big);
            return read_only(i == 0 ? 0 : 1);
        });
        EXPECT_EQ(sqlstate_of(out[0].ec), "22012");
        for (std::size_t i = 1; i + 1 < n; ++i) {
            CO_ASSERT_TRUE(!out[i].ec);
            EXPECT_EQ(out[i].res[0].get<std::int32_t>(0), 1000) << i;
        }
        CO_ASSERT_TRUE(!out[n - 1].ec);
        EXPECT_EQ(out[n - 1].res[0].get<std::int32_t>(0), static_cast<std::int32_t>(big.size()));
        auto after = co_await c.async_execute(div, read_only(10));
        EXPECT_EQ(after[0].get<std::int32_t>(0), 100);
    });
}
