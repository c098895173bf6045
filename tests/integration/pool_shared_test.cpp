// Read-only statements through pool::async_execute share borrowed connections ("shared leases",
// pool.hpp): many in flight per connection instead of one borrow each. These tests show the
// sharing (few borrows, every backend carrying many statements), that every caller still gets
// its own result, that a borrower waiting for a connection is served while such statements
// keep coming, that the builder's selects on a database over the pool take part, and that a
// connection killed under shared statements is replaced.
#include "fixture.hpp"

#include <sleet/orm.hpp>
#include <sleet/pool.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

using namespace sleet;
using namespace sleet::test;
using namespace std::chrono_literals;

namespace {

pool_params shared_params(std::string_view app, std::size_t max_size)
{
    pool_params p;
    p.conninfo = url("", "", "sslmode=disable&application_name=" + std::string(app));
    p.max_size = max_size;
    return p;
}

template <class... Ts> param_list read_only(const Ts&... vs)
{
    auto p = make_params(vs...);
    p.set_read_only();
    return p;
}

struct tally {
    std::size_t finished = 0, ok = 0;
    std::map<std::int32_t, std::size_t> per_backend;  // backend pid -> statements it ran
    std::vector<std::string> errors;
};

/// Starts `n` read-only statements on `p` at once and waits for all of them.
asio::awaitable<tally> burst(pool& p, std::size_t n)
{
    tally t;
    for (std::size_t i = 0; i < n; ++i) {
        const auto v = static_cast<std::int32_t>(i);
        p.async_execute("select $1::int4 as v, pg_backend_pid() as pid", read_only(v), [&t, v](error_code ec, result r) {
            ++t.finished;
            if (ec) {
                t.errors.push_back(ec.message());
                return;
            }
            if (r.size() == 1 && r[0].get<std::int32_t>(0) == v) {
                ++t.ok;
                ++t.per_backend[r[0].get<std::int32_t>(1)];
            }
        });
    }
    for (int i = 0; i < 20000 && t.finished < n; ++i) co_await sleep_for(1ms);
    co_return t;
}

} // namespace

// 400 read-only statements at once on a pool of 4: each gets its own value back; they ran on at
// most 4 backends, and the pool lent far fewer connections than there were statements (a
// borrow per statement would be 400 acquisitions).
TEST(pool_shared, read_only_statements_share_borrowed_connections)
{
    run([]() -> asio::awaitable<void> {
        pool p(co_await asio::this_coro::executor, shared_params("ps_share", 4));
        auto t = co_await burst(p, 400);
        CO_ASSERT_EQ(t.finished, 400u);
        EXPECT_TRUE(t.errors.empty()) << (t.errors.empty() ? "" : t.errors.front());
        EXPECT_EQ(t.ok, 400u);
        EXPECT_LE(t.per_backend.size(), 4u);
        EXPECT_LT(p.stats().acquisitions, 40u) << "read-only statements should share borrows";
        // Without the hint every statement borrows for itself (at most 4 in flight).
        const auto before = p.stats().acquisitions;
        std::size_t done = 0;
        for (std::int32_t i = 0; i < 40; ++i)
            p.async_execute("select $1::int4", make_params(i), [&done](error_code ec, result) { done += !ec; });
        for (int i = 0; i < 10000 && done < 40; ++i) co_await sleep_for(1ms);
        EXPECT_EQ(done, 40u);
        EXPECT_GE(p.stats().acquisitions - before, 40u);
        co_await p.async_close();
    });
}

namespace {
struct stream_state {
    bool stop = false;
    std::size_t streamed = 0, failed = 0, running = 0;
};

/// Runs read-only statements back to back until told to stop.
asio::awaitable<void> stream_reads(pool& p, stream_state& st)
{
    while (!st.stop) {
        auto [ec, r] = co_await p.async_execute("select pg_sleep(0.001)::text, $1::int4", read_only(std::int32_t{1}),
                                                asio::as_tuple(asio::use_awaitable));
        if (ec) ++st.failed;
        else ++st.streamed;
    }
    --st.running;
}
} // namespace

// A pool of 2 busy with a stream of read-only statements (16 coroutines, each running them back
// to back): a borrower calling async_acquire still gets a connection (the leases stop taking
// statements and drain for it), runs a transaction on it, and the stream goes on afterwards.
TEST(pool_shared, a_waiting_borrower_is_served_while_shared_statements_stream)
{
    run([]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        auto params = shared_params("ps_fair", 2);
        params.acquire_timeout = 10s;
        pool p(ex, params);
        stream_state st;
        auto& [stop, streamed, failed, running] = st;
        running = 16;
        for (int k = 0; k < 16; ++k) asio::co_spawn(ex, stream_reads(p, st), asio::detached);
        co_await sleep_for(100ms);
        const auto before = streamed;
        CO_ASSERT_TRUE(before > 0);
        {
            auto c = co_await p.async_acquire();  // would time out (pool_acquire_timeout) if starved
            co_await c->async_simple_query("begin; create temp table ps_t (x int); insert into ps_t values (1); commit");
            auto r = co_await c->async_simple_query("select count(*) from ps_t");
            EXPECT_EQ(r[0][0].get<std::string>(0), "1");
        }
        co_await sleep_for(100ms);
        EXPECT_GT(streamed, before) << "the read-only stream goes on after the borrower";
        stop = true;
        for (int i = 0; i < 5000 && running > 0; ++i) co_await sleep_for(1ms);
        EXPECT_EQ(running, 0u);
        EXPECT_EQ(failed, 0u);
        co_await p.async_close();
    });
}

namespace {
template <template <class> class C>
struct item_columns {
    C<pg::integer<"id", pg::primary_key>> id{};
    C<pg::text<"label", pg::not_null>> label{};
};
using items_t = sleet::table<"ps_items", item_columns>;
inline constexpr items_t items{};
} // namespace

// The query builder's selects on a database over the pool are read-only statements: 200
// concurrent point selects each get their row, with a handful of borrows.
TEST(pool_shared, builder_selects_on_a_pool_share_connections)
{
    run([]() -> asio::awaitable<void> {
        pool p(co_await asio::this_coro::executor, shared_params("ps_orm", 4));
        {
            auto c = co_await p.async_acquire();
            co_await c->async_simple_query(
                "drop table if exists ps_items; create table ps_items (id int primary key, label text not null);"
                "insert into ps_items select g, 'item ' || g from generate_series(1, 200) g");
        }
        database db(p);
        std::size_t finished = 0, right = 0;
        for (std::int32_t id = 1; id <= 200; ++id) {
            db.select().from(items).where(eq(items.id, id))([&finished, &right, id](error_code ec, auto rows) {
                ++finished;
                if (!ec && rows.size() == 1 && rows[0].id == id && rows[0].label == "item " + std::to_string(id)) ++right;
            });
        }
        for (int i = 0; i < 20000 && finished < 200; ++i) co_await sleep_for(1ms);
        CO_ASSERT_EQ(finished, 200u);
        EXPECT_EQ(right, 200u);
        EXPECT_LT(p.stats().acquisitions, 30u);
        co_await p.async_close();
    });
}

// The backend of a shared connection is terminated while statements run on it: those get the
// server's FATAL 57P01 (or "the server closed the connection"), which the pool treats as fatal
// and retires the connection; the next burst runs on fresh connections and fully succeeds.
TEST(pool_shared, a_killed_shared_connection_is_replaced)
{
    run([]() -> asio::awaitable<void> {
        pool p(co_await asio::this_coro::executor, shared_params("ps_kill", 2));
        auto first = co_await burst(p, 50);
        CO_ASSERT_EQ(first.ok, 50u);
        auto admin = co_await connect_super();
        std::size_t finished = 0, failed = 0;
        for (int i = 0; i < 40; ++i) {
            p.async_execute("select pg_sleep(0.2)::text, $1::int4", read_only(std::int32_t{i}), [&](error_code ec, result) {
                ++finished;
                if (ec) {
                    ++failed;
                    EXPECT_TRUE(is_fatal(ec)) << ec.message();
                }
            });
        }
        co_await sleep_for(50ms);
        co_await admin.async_simple_query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'ps_kill'");
        for (int i = 0; i < 20000 && finished < 40; ++i) co_await sleep_for(1ms);
        CO_ASSERT_EQ(finished, 40u);
        EXPECT_GT(failed, 0u) << "statements on the killed backends fail";
        auto after = co_await burst(p, 50);
        EXPECT_EQ(after.ok, 50u) << (after.errors.empty() ? "" : after.errors.front());
        co_await p.async_close();
    });
}

// A read-only statement that finds no room (pool of 1, shared_depth 1, the one lease busy with
// a 1.5 s statement) fails after acquire_timeout with pool_acquire_timeout and says why; the
// busy statement completes normally.
TEST(pool_shared, a_statement_without_room_times_out)
{
    run([]() -> asio::awaitable<void> {
        auto params = shared_params("ps_timeout", 1);
        params.shared_depth = 1;
        params.acquire_timeout = 300ms;
        pool p(co_await asio::this_coro::executor, params);
        bool slow_done = false;
        error_code slow_ec;
        p.async_execute("select pg_sleep(1.5)::text", read_only(), [&](error_code ec, result) {
            slow_ec = ec;
            slow_done = true;
        });
        co_await sleep_for(100ms);
        diagnostics d;
        auto [ec, r] = co_await p.async_execute("select 1", read_only(), &d, asio::as_tuple(asio::use_awaitable));
        EXPECT_EQ(ec, make_error_code(errc::pool_acquire_timeout));
        EXPECT_NE(d.client_message().find("within acquire_timeout (300 ms)"), std::string::npos) << d.client_message();
        for (int i = 0; i < 5000 && !slow_done; ++i) co_await sleep_for(1ms);
        EXPECT_TRUE(slow_done);
        EXPECT_FALSE(slow_ec) << slow_ec.message();
        co_await p.async_close();
    });
}

// The pool's own shared leases are not borrower leaks: with leak_threshold at 50 ms and a
// stream of read-only statements running for 400 ms, the leak handler is never called.
TEST(pool_shared, shared_leases_are_not_reported_as_leaks)
{
    run([]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        auto params = shared_params("ps_leak", 2);
        params.leak_threshold = 50ms;
        int leaks = 0;
        params.leak_handler = [&leaks](const leak_info&) { ++leaks; };
        pool p(ex, params);
        stream_state st;
        st.running = 8;
        for (int k = 0; k < 8; ++k) asio::co_spawn(ex, stream_reads(p, st), asio::detached);
        co_await sleep_for(400ms);
        st.stop = true;
        for (int i = 0; i < 5000 && st.running > 0; ++i) co_await sleep_for(1ms);
        EXPECT_GT(st.streamed, 0u);
        EXPECT_EQ(st.failed, 0u);
        EXPECT_EQ(leaks, 0);
        co_await p.async_close();
    });
}
