// The pool on an io_context run by 4 threads: coroutines (each on its own strand, as they use
// awaitable operators) borrow, query, pipeline, cancel, run transactions and change session
// state while another thread reads stats(). Built and run under ThreadSanitizer by the
// "concurrency" CI job.
#include "fixture.hpp"

#include <sleet/pool.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>

#include <atomic>
#include <thread>
#include <vector>

using namespace sleet;
using namespace sleet::test;
using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

constexpr int threads = 4;

pool_params params_for(std::string_view app, std::size_t max_size)
{
    pool_params p;
    p.conninfo = url("", "", "sslmode=disable&application_name=" + std::string(app));
    p.max_size = max_size;
    p.acquire_timeout = 60s;
    return p;
}

/// Runs the io_context on `threads` threads until it runs out of work (or `limit` passes).
void run_threads(asio::io_context& ioc, std::chrono::seconds limit)
{
    std::vector<std::thread> ts;
    for (int i = 0; i < threads; ++i) ts.emplace_back([&] { ioc.run_for(limit); });
    for (auto& t : ts) t.join();
}

asio::awaitable<void> timer_wait(std::chrono::milliseconds d)
{
    asio::steady_timer t(co_await asio::this_coro::executor);
    t.expires_after(d);
    co_await t.async_wait(asio::use_awaitable);
}

} // namespace

TEST(pool_threads, four_threads_hammer_the_pool)
{
    asio::io_context ioc(threads);
    auto p = params_for("sleet_pool_threads", 6);
    p.liveness_check_after = 2ms;  // exercise the liveness checks too
    p.leak_threshold = 10s;
    auto db = std::make_unique<pool>(ioc.get_executor(), p);

    constexpr int n = 2000;
    std::atomic<int> ok{0}, failed{0}, cancelled{0}, done{0}, borrowers{0};
    std::atomic<bool> closed{false};
    std::atomic<bool> stop_reader{false};

    auto worker = [&](int i) -> asio::awaitable<void> {
        if (i % 7 < 5) ++borrowers;
        switch (i % 7) {
        case 0: {  // one query on the pool
            auto r = co_await db->async_execute("select $1::int4 + 1", make_params(i));
            if (r[0].get<std::int32_t>(0) == i + 1) ++ok;
            break;
        }
        case 1: {  // borrow, two queries, return
            auto c = co_await db->async_acquire();
            auto ra = co_await c->async_execute("select $1::int4", make_params(i));
            auto rb = co_await c->async_execute("select $1::int4 * 2", make_params(i));
            if (ra[0].get<std::int32_t>(0) == i && rb[0].get<std::int32_t>(0) == 2 * i) ++ok;
            break;
        }
        case 2: {  // a transaction with a savepoint
            const int v = co_await db->transaction([&](sleet::transaction& tx) -> asio::awaitable<int> {
                co_await tx.async_execute("select 1");
                co_return co_await tx.savepoint([&](sleet::transaction& sp) -> asio::awaitable<int> {
                    auto r = co_await sp.async_execute("select $1::int4", make_params(i));
                    co_return r[0].get<std::int32_t>(0);
                });
            });
            if (v == i) ++ok;
            break;
        }
        case 3: {  // session state that must be reset before the next borrower
            auto c = co_await db->async_acquire();
            auto r0 = co_await c->async_execute("select current_setting('application_name')");
            if (r0[0].get<std::string>(0) != "sleet_pool_threads") break;  // a previous SET leaked
            co_await c->async_simple_query("set application_name = 'dirty'");
            ++ok;
            break;
        }
        case 4: {  // a waiter that may be cancelled by a short timeout
            auto res = co_await (db->async_acquire() || timer_wait(1ms));
            if (res.index() == 1) ++cancelled;
            ++ok;
            break;
        }
        case 5: {  // read-only statements: pipelined on the pool's shared leases
            auto p1 = make_params(i);
            p1.set_read_only();
            auto p2 = p1;
            auto r1 = co_await db->async_execute("select $1::int4 + 2", std::move(p1));
            auto r2 = co_await db->async_execute("select $1::int4 + 3", std::move(p2));
            if (r1[0].get<std::int32_t>(0) == i + 2 && r2[0].get<std::int32_t>(0) == i + 3) ++ok;
            break;
        }
        case 6: {  // a read-only statement raced against a short timeout (cancelled while queued or running)
            auto p1 = make_params(i);
            p1.set_read_only();
            auto res = co_await (db->async_execute("select pg_sleep(0.001)::text, $1::int4", std::move(p1)) || timer_wait(1ms));
            if (res.index() == 0 && std::get<0>(res)[0].get<std::int32_t>(1) != i) break;
            ++ok;
            break;
        }
        }
    };

    for (int i = 0; i < n; ++i) {
        asio::co_spawn(asio::make_strand(ioc), worker(i), [&](std::exception_ptr e) {
            if (e) ++failed;
            if (++done == n) {
                stop_reader = true;
                db->async_close([&](error_code ec) {
                    EXPECT_FALSE(ec);
                    closed = true;
                });
            }
        });
    }
    std::thread reader([&] {
        while (!stop_reader) {
            auto s = db->stats();
            EXPECT_LE(s.size, 6u);
            EXPECT_LE(s.in_use, s.size + 1);  // counters are read one by one: allow a step between them
            std::this_thread::sleep_for(1ms);
        }
    });
    run_threads(ioc, std::chrono::seconds(120));
    stop_reader = true;
    reader.join();

    EXPECT_EQ(done.load(), n) << "not every coroutine finished: deadlock?";
    EXPECT_EQ(failed.load(), 0);
    EXPECT_EQ(ok.load(), n);
    EXPECT_TRUE(closed.load());
    const auto s = db->stats();
    EXPECT_EQ(s.size, 0u);
    EXPECT_EQ(s.in_use, 0u);
    EXPECT_EQ(s.waiters, 0u);
    // Every borrowing coroutine (cases 0-4) borrowed once, except timed-out waiters; a waiter
    // whose timeout raced with the hand-out got a connection that was returned at once (counted
    // in both). Read-only statements (cases 5, 6) ran on shared leases: a few borrows in all.
    EXPECT_LE(s.acquisitions, static_cast<std::uint64_t>(n));
    EXPECT_GE(s.acquisitions + static_cast<std::uint64_t>(cancelled.load()), static_cast<std::uint64_t>(borrowers.load()));
    EXPECT_EQ(s.created, s.closed);
    db.reset();
}

TEST(pool_threads, concurrent_transactions_do_not_lose_updates)
{
    {
        asio::io_context ioc;
        asio::co_spawn(ioc, []() -> asio::awaitable<void> {
            auto c = co_await connect_super();
            co_await c.async_simple_query("drop table if exists threads_counter; create table threads_counter(n int);"
                                          "insert into threads_counter values (0)");
        }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
        ioc.run();
    }
    asio::io_context ioc(threads);
    auto db = std::make_unique<pool>(ioc.get_executor(), params_for("sleet_pool_threads_tx", 8));
    constexpr int n = 400;
    std::atomic<int> done{0}, failed{0};
    std::atomic<std::int32_t> final_value{-1};
    for (int i = 0; i < n; ++i) {
        asio::co_spawn(
            asio::make_strand(ioc),
            [&]() -> asio::awaitable<void> {
                co_await db->transaction([&](sleet::transaction& tx) -> asio::awaitable<void> {
                    auto r = co_await tx.async_execute("select n from threads_counter for update");
                    co_await tx.async_execute("update threads_counter set n = $1", make_params(r[0].get<std::int32_t>(0) + 1));
                });
            },
            [&](std::exception_ptr e) {
                if (e) ++failed;
                if (++done == n) {
                    asio::co_spawn(
                        ioc,
                        [&]() -> asio::awaitable<void> {
                            auto r = co_await db->async_execute("select n from threads_counter");
                            final_value = r[0].get<std::int32_t>(0);
                            co_await db->async_close();
                        },
                        [&](std::exception_ptr e2) { if (e2) ++failed; });
                }
            });
    }
    run_threads(ioc, std::chrono::seconds(120));
    EXPECT_EQ(done.load(), n);
    EXPECT_EQ(failed.load(), 0);
    EXPECT_EQ(final_value.load(), n);  // every increment committed exactly once
    EXPECT_EQ(db->stats().size, 0u);
}
