// Reliability scenarios 1, 5, 6 and 8 of issue 7: a real server behind the chaos proxy.
//
// Every scenario runs the client on its own io_context (run_until_quiet) and checks, besides the
// errors the caller sees, that the io_context runs out of work by itself: a coroutine of the
// connection that would wait forever shows up as quiet == false.
#include "reliability.hpp"

#include <boost/asio/detached.hpp>

#include <map>

namespace sleet::test {
namespace {

using namespace asio::experimental::awaitable_operators;

// Scenario 1: the network silently drops everything mid-query (the proxy stalls 200 ms into a
// 600 ms query: the server's answer never arrives, nothing is refused or reset).
// Expected: the caller's deadline (1 s, a timer raced with awaitable_operators ||) cancels the
// query, which completes with operation_aborted at the deadline; a CancelRequest is tried (it
// goes through the same dead network, so it hangs too) and gives up on its own; the connection
// is closed within deadline + 1 s (cancel_drain_timeout = 500 ms); the next query fails at once
// with errc::connection_closed; and no coroutine is left waiting: the client io_context runs
// out of work within deadline + 1 s although the network stays dead.
TEST(reliability, s01_silent_network_drop_mid_query_closes_within_deadline_plus_1s_and_nothing_waits_forever)
{
    chaos_proxy proxy(server().host(), server().port());
    connection_params cp;
    cp.cancel_drain_timeout = 500ms;
    const auto deadline = 1000ms;
    clock_type::time_point start{};
    std::chrono::milliseconds failed_at{-1}, closed_at{-1};
    std::size_t winner = 99;
    error_code next_ec;
    std::string next_msg;
    auto r = run_until_quiet(
        [&]() -> asio::awaitable<void> {
            auto ex = co_await asio::this_coro::executor;
            connection c(ex, cp);
            co_await c.async_connect(proxy_url(proxy));
            co_await c.async_simple_query("SELECT 1");
            asio::steady_timer stall_at(ex);
            stall_at.expires_after(200ms);
            stall_at.async_wait([&](boost::system::error_code ec) {
                if (!ec) proxy.stall(true);
            });
            start = clock_type::now();
            asio::steady_timer t(ex);
            t.expires_after(deadline);
            param_list none;
            auto v = co_await (c.async_execute("SELECT pg_sleep(0.6)", std::move(none), nullptr, tuple_awaitable) ||
                               t.async_wait(asio::use_awaitable));
            winner = v.index();
            failed_at = ms_since(start);
            while (c.is_open() && ms_since(start) < deadline + 4s) co_await sleep_for(10ms);
            closed_at = ms_since(start);
            diagnostics d;
            auto [ec, res] = co_await c.async_execute("SELECT 1", param_list(), &d, tuple_awaitable);
            next_ec = ec;
            next_msg = d.client_message();
        },
        deadline + 6s);
    ASSERT_TRUE(r.finished) << describe(r);
    EXPECT_FALSE(r.error) << describe(r);
    EXPECT_EQ(winner, 1u) << "the query must not complete: the network is dead";
    EXPECT_GE(failed_at, deadline - 5ms);
    EXPECT_LE(failed_at, deadline + 100ms);
    EXPECT_LE(closed_at, deadline + 1s) << "connection still open " << closed_at.count() << " ms after the query started";
    EXPECT_EQ(next_ec, make_error_code(errc::connection_closed));
    // What the user sees on the next query.
    EXPECT_EQ(next_msg, "the connection is closed");
    // No coroutine may wait forever (e.g. the CancelRequest side connection reading from a dead
    // peer with no deadline of its own).
    const auto quiet_since_start = std::chrono::duration_cast<std::chrono::milliseconds>(r.quiet_at - start);
    EXPECT_TRUE(r.quiet) << "something still waits on the dead network: " << describe(r);
    EXPECT_LE(quiet_since_start, deadline + 1s) << describe(r);
    RecordProperty("failed_at_ms", static_cast<int>(failed_at.count()));
    RecordProperty("closed_at_ms", static_cast<int>(closed_at.count()));
    RecordProperty("quiet_at_ms", static_cast<int>(quiet_since_start.count()));
    std::printf("[s01] failed at %lld ms, closed at %lld ms, io_context quiet %s at %lld ms (deadline %lld ms)\n",
                static_cast<long long>(failed_at.count()), static_cast<long long>(closed_at.count()),
                r.quiet ? "yes" : "NO", static_cast<long long>(quiet_since_start.count()),
                static_cast<long long>(deadline.count()));
}

// Scenario 5a: the server stops reading during a large COPY FROM STDIN (the proxy stops
// reading from the client: the client's writes block once the socket buffers are full).
// Expected: no deadlock. The caller's deadline (1 s) cancels the COPY (operation_aborted at the
// deadline); the connection cannot drain (the CancelRequest cannot get through either), so it
// is closed within deadline + 1 s (cancel_drain_timeout = 500 ms), which also ends the blocked
// write; the client io_context runs out of work within deadline + 1 s.
TEST(reliability, s05_server_stops_reading_during_copy_in_no_deadlock_connection_closed_at_deadline)
{
    chaos_proxy proxy(server().host(), server().port());
    connection_params cp;
    cp.cancel_drain_timeout = 500ms;
    const auto deadline = 1000ms;
    clock_type::time_point start{};
    std::chrono::milliseconds failed_at{-1}, closed_at{-1};
    std::size_t winner = 99;
    std::uint64_t produced = 0;
    auto r = run_until_quiet(
        [&]() -> asio::awaitable<void> {
            auto ex = co_await asio::this_coro::executor;
            connection c(ex, cp);
            co_await c.async_connect(proxy_url(proxy));
            co_await c.async_simple_query("CREATE TEMP TABLE copy_sink (x int)");
            std::string rows;
            for (int i = 0; i < 8192; ++i) rows += "12345678\n";  // 72 KiB per chunk
            // The server stops reading once the COPY is under way (8 MiB in).
            copy_source src = [&produced, &proxy, rows](std::string& chunk) {
                if (produced > (std::uint64_t{1} << 30)) return false;  // 1 GiB: far more than the buffers hold
                if (produced < (8u << 20) && produced + rows.size() >= (8u << 20)) proxy.stop_reading_from_client(true);
                chunk += rows;
                produced += rows.size();
                return true;
            };
            start = clock_type::now();
            asio::steady_timer t(ex);
            t.expires_after(deadline);
            auto v = co_await (c.async_copy_in("COPY copy_sink FROM STDIN", std::move(src), tuple_awaitable) ||
                               t.async_wait(asio::use_awaitable));
            winner = v.index();
            failed_at = ms_since(start);
            while (c.is_open() && ms_since(start) < deadline + 4s) co_await sleep_for(10ms);
            closed_at = ms_since(start);
        },
        deadline + 6s);
    ASSERT_TRUE(r.finished) << describe(r);
    EXPECT_FALSE(r.error) << describe(r);
    EXPECT_EQ(winner, 1u);
    EXPECT_LE(failed_at, deadline + 100ms);
    EXPECT_LE(closed_at, deadline + 1s);
    EXPECT_GT(produced, std::uint64_t{8} << 20) << "the COPY must have started";
    EXPECT_LT(produced, std::uint64_t{1} << 30) << "the COPY must have been blocked by the full socket buffers";
    const auto quiet_since_start = std::chrono::duration_cast<std::chrono::milliseconds>(r.quiet_at - start);
    EXPECT_TRUE(r.quiet) << "something still waits on the server that stopped reading: " << describe(r);
    EXPECT_LE(quiet_since_start, deadline + 1s) << describe(r);
    std::printf("[s05 copy] failed at %lld ms, closed at %lld ms, %llu bytes produced, io_context quiet %s at %lld ms\n",
                static_cast<long long>(failed_at.count()), static_cast<long long>(closed_at.count()),
                static_cast<unsigned long long>(produced), r.quiet ? "yes" : "NO",
                static_cast<long long>(quiet_since_start.count()));
}

// Scenario 5b: the server stops reading during a large pipeline (32 queries with a 1 MiB
// parameter each, started together, so they share one gathered write that blocks).
// Expected: no deadlock. Every caller's deadline (1 s) fires and completes its query with
// operation_aborted; since nothing can be drained, the connection is closed within deadline + 1 s
// (this is the "write deadline": a connection whose writes cannot progress must not stay open
// with abandoned requests); the client io_context runs out of work within deadline + 1 s.
TEST(reliability, s05_server_stops_reading_during_large_pipeline_no_deadlock_connection_closed_at_deadline)
{
    chaos_proxy proxy(server().host(), server().port());
    connection_params cp;
    cp.cancel_drain_timeout = 500ms;
    const auto deadline = 1000ms;
    constexpr int queries = 32;
    clock_type::time_point start{};
    std::chrono::milliseconds closed_at{-1};
    int timed_out = 0, completed = 0, done = 0;
    auto r = run_until_quiet(
        [&]() -> asio::awaitable<void> {
            auto ex = co_await asio::this_coro::executor;
            connection c(ex, cp);
            co_await c.async_connect(proxy_url(proxy));
            co_await c.async_simple_query("SELECT 1");
            proxy.stop_reading_from_client(true);
            const std::string big(1u << 20, 'p');
            start = clock_type::now();
            for (int i = 0; i < queries; ++i) {
                asio::co_spawn(
                    ex,
                    [&]() -> asio::awaitable<void> {
                        asio::steady_timer t(co_await asio::this_coro::executor);
                        t.expires_after(deadline);
                        auto v = co_await (c.async_execute("SELECT length($1)", make_params(big), nullptr, tuple_awaitable) ||
                                           t.async_wait(asio::use_awaitable));
                        (v.index() == 1 ? timed_out : completed)++;
                        ++done;
                    },
                    asio::detached);
            }
            while (done < queries && ms_since(start) < deadline + 4s) co_await sleep_for(10ms);
            while (c.is_open() && ms_since(start) < deadline + 4s) co_await sleep_for(10ms);
            closed_at = ms_since(start);
        },
        deadline + 6s);
    ASSERT_TRUE(r.finished) << describe(r);
    EXPECT_FALSE(r.error) << describe(r);
    EXPECT_EQ(done, queries);
    EXPECT_EQ(timed_out, queries);
    EXPECT_LE(closed_at, deadline + 1s) << "the connection stayed open with a write that cannot progress";
    const auto quiet_since_start = std::chrono::duration_cast<std::chrono::milliseconds>(r.quiet_at - start);
    EXPECT_TRUE(r.quiet) << "something still waits on the server that stopped reading: " << describe(r);
    EXPECT_LE(quiet_since_start, deadline + 1s) << describe(r);
    std::printf("[s05 pipeline] %d/%d timed out, connection %s at %lld ms, io_context quiet %s at %lld ms\n", timed_out,
                queries, closed_at <= deadline + 4s - 20ms ? "closed" : "STILL OPEN", static_cast<long long>(closed_at.count()),
                r.quiet ? "yes" : "NO", static_cast<long long>(quiet_since_start.count()));
}

// Scenario 6: corrupted bytes from the server. Every byte of the response to a small query is
// flipped (XOR 0xFF) in turn, one connection per offset, for the simple and the extended
// protocol.
// Expected: no crash and nothing read out of bounds (run under ASan for the latter); each
// query either succeeds (a flipped byte inside a value is undetectable), or fails with a
// client-side protocol error (errc::protocol_error ... unexpected_message) after which the
// connection is closed (discarded), or — when the flip enlarges a length so the client waits
// for bytes that never come — the caller's deadline fires and the connection is closed
// within cancel_drain_timeout. The connection is never left open after a protocol error.
TEST(reliability, s06_corrupted_bytes_from_server_give_protocol_errors_and_discard_the_connection)
{
    chaos_proxy proxy(server().host(), server().port());
    connection_params cp;
    cp.cancel_drain_timeout = 200ms;
    const auto deadline = 300ms;
    struct tally {
        int ok = 0, protocol = 0, server = 0, deadline = 0, other = 0, left_open = 0;
        std::map<std::string, int> messages;
    };
    std::map<bool, tally> tallies;  // false = simple query, true = extended
    for (bool extended : {false, true}) {
        // Measure the response length once, uncorrupted.
        std::uint64_t response_len = 0;
        run([&]() -> asio::awaitable<void> {
            connection c(co_await asio::this_coro::executor, cp);
            co_await c.async_connect(proxy_url(proxy));
            const auto before = proxy.stats().bytes_to_client;
            if (extended) co_await c.async_execute("SELECT 1::int4 AS a, 'x'::text AS b");
            else co_await c.async_simple_query("SELECT 1::int4 AS a, 'x'::text AS b");
            response_len = proxy.stats().bytes_to_client - before;
        });
        ASSERT_GT(response_len, 20u);
        auto& t = tallies[extended];
        std::uint64_t first = 0, last = response_len;
        if (const char* only = std::getenv("SLEET_S06_OFFSET")) first = std::strtoull(only, nullptr, 10), last = first + 1;
        for (std::uint64_t k = first; k < last; ++k) {
            auto r = run_until_quiet(
                [&]() -> asio::awaitable<void> {
                    auto ex = co_await asio::this_coro::executor;
                    connection c(ex, cp);
                    co_await c.async_connect(proxy_url(proxy));
                    // Flip byte k of the response: the offset counts from this connection's first
                    // byte, and the connection has already received its startup messages.
                    const auto conns = proxy.connections();
                    CO_ASSERT_TRUE(!conns.empty());
                    proxy.corrupt_to_client(conns.back().bytes_to_client + k);
                    asio::steady_timer tm(ex);
                    tm.expires_after(deadline);
                    diagnostics d;
                    error_code ec;
                    if (extended) {
                        param_list none;
                        auto v = co_await (c.async_execute("SELECT 1::int4 AS a, 'x'::text AS b", std::move(none), &d,
                                                           tuple_awaitable) ||
                                           tm.async_wait(asio::use_awaitable));
                        if (v.index() == 1) ec = asio::error::timed_out;
                        else ec = std::get<0>(std::get<0>(v));
                    } else {
                        auto v = co_await (c.async_simple_query("SELECT 1::int4 AS a, 'x'::text AS b", &d, tuple_awaitable) ||
                                           tm.async_wait(asio::use_awaitable));
                        if (v.index() == 1) ec = asio::error::timed_out;
                        else ec = std::get<0>(std::get<0>(v));
                    }
                    if (!ec) {
                        ++t.ok;
                    } else if (ec == asio::error::timed_out) {
                        ++t.deadline;
                        const auto t0 = clock_type::now();
                        while (c.is_open() && ms_since(t0) < 2s) co_await sleep_for(5ms);
                        if (c.is_open()) ++t.left_open;
                    } else if (ec.category() == client_category() && ec.value() >= 1 && ec.value() <= 7) {
                        ++t.protocol;
                        ++t.messages[d.client_message()];
                        if (c.is_open()) ++t.left_open;
                    } else if (ec.category() == sqlstate_category()) {
                        ++t.server;  // e.g. a flipped byte in the query's echo? (never expected)
                    } else {
                        ++t.other;
                        ++t.messages[ec.message() + " / " + d.client_message()];
                        if (c.is_open()) ++t.left_open;
                    }
                },
                5s);
            EXPECT_TRUE(r.finished) << "offset " << k;
            EXPECT_FALSE(r.error) << "offset " << k << ": " << describe(r);
            EXPECT_TRUE(r.quiet) << "offset " << k << ": " << describe(r);
            proxy.corrupt_to_client(std::nullopt);  // later connections start clean
        }
        EXPECT_EQ(t.left_open, 0) << (extended ? "extended" : "simple");
        EXPECT_EQ(t.server, 0);
        EXPECT_EQ(t.other, 0);
        if (last - first > 1) {
            EXPECT_GT(t.protocol, 0);
        }
        std::printf("[s06 %s] %llu offsets: %d ok, %d protocol errors, %d deadline, %d other, %d left open\n",
                    extended ? "extended" : "simple", static_cast<unsigned long long>(response_len), t.ok, t.protocol,
                    t.deadline, t.other, t.left_open);
        for (const auto& [m, n] : t.messages) std::printf("    %3d x %s\n", n, m.c_str());
    }
}

/// A DataRow header declaring `length` (the int32 length field, which counts itself).
std::string data_row_header(std::uint32_t length)
{
    std::string h(1, 'D');
    for (int shift = 24; shift >= 0; shift -= 8) h.push_back(static_cast<char>((length >> shift) & 0xff));
    return h;
}

// Scenario 8: a server message declaring a length of 2 GiB (int32 max, 0x7fffffff; and
// 0x80000000, which is negative as the protocol's signed int32), injected into an idle
// connection ahead of the next query's answer.
// Expected: the next query fails at once with errc::message_too_large ("protocol error: a
// server message declared a length over the configured maximum; the connection was closed")
// or errc::invalid_message_length for the negative one; the connection is closed; the process
// allocates nothing near the declared size (peak RSS grows by less than 64 MiB).
TEST(reliability, s08_declared_length_2gib_fails_with_message_too_large_without_allocating)
{
    struct variant_case {
        std::uint32_t length;
        errc expected;
        const char* user_sees;
    };
    const variant_case cases[] = {
        {0x7fffffffu, errc::message_too_large,
         "protocol error: a server message declared a length over the configured maximum; the connection was closed"},
        {0x80000000u, errc::invalid_message_length,
         "protocol error: a server message declared a length under 4; the connection was closed"},
    };
    for (const auto& vc : cases) {
        chaos_proxy proxy(server().host(), server().port());
        const auto rss_before = peak_rss();
        std::chrono::milliseconds failed_after{-1};
        auto r = run_until_quiet(
            [&]() -> asio::awaitable<void> {
                connection c(co_await asio::this_coro::executor);
                co_await c.async_connect(proxy_url(proxy));
                proxy.inject_to_client(data_row_header(vc.length));
                diagnostics d;
                const auto t0 = clock_type::now();
                auto [ec, res] = co_await c.async_simple_query("SELECT 1", &d, tuple_awaitable);
                failed_after = ms_since(t0);
                EXPECT_EQ(ec, make_error_code(vc.expected)) << ec.message();
                EXPECT_EQ(d.client_message(), vc.user_sees);
                EXPECT_FALSE(c.is_open());
            },
            5s);
        EXPECT_TRUE(r.finished && r.quiet && !r.error) << describe(r);
        const auto grown = peak_rss() - rss_before;
        EXPECT_LT(grown, std::size_t{64} << 20) << "peak RSS grew by " << (grown >> 20) << " MiB";
        EXPECT_LT(failed_after, 1s);
        std::printf("[s08 0x%08x] failed after %lld ms, peak RSS +%zu KiB\n", vc.length,
                    static_cast<long long>(failed_after.count()), grown >> 10);
    }
}

// Scenario 8b: a declared length UNDER the cap (connection_params::max_message_size = 256 MiB,
// a DataRow header declaring 200 MiB, then silence).
// Expected: memory follows the bytes that actually arrive, not the declared length: while the
// client waits for the body (until the caller's 1 s deadline), resident memory grows by less
// than 64 MiB. Afterwards the connection is closed (it cannot be drained).
TEST(reliability, s08_declared_length_under_cap_allocates_only_what_arrives)
{
    chaos_proxy proxy(server().host(), server().port());
    connection_params cp;
    cp.max_message_size = std::size_t{256} << 20;
    cp.cancel_drain_timeout = 300ms;
    std::size_t grown = 0;
    std::size_t winner = 99;
    auto r = run_until_quiet(
        [&]() -> asio::awaitable<void> {
            auto ex = co_await asio::this_coro::executor;
            connection c(ex, cp);
            co_await c.async_connect(proxy_url(proxy));
            const auto before = current_rss();
            proxy.inject_to_client(data_row_header(200u << 20));
            asio::steady_timer t(ex);
            t.expires_after(1s);
            asio::steady_timer probe(ex);
            probe.expires_after(500ms);
            probe.async_wait([&](boost::system::error_code) {
                const auto now = current_rss();
                grown = now > before ? now - before : 0;
            });
            auto v = co_await (c.async_simple_query("SELECT 1", nullptr, tuple_awaitable) || t.async_wait(asio::use_awaitable));
            winner = v.index();
            const auto t0 = clock_type::now();
            while (c.is_open() && ms_since(t0) < 2s) co_await sleep_for(10ms);
            EXPECT_FALSE(c.is_open());
        },
        6s);
    EXPECT_TRUE(r.finished && !r.error) << describe(r);
    EXPECT_EQ(winner, 1u);
    EXPECT_LT(grown, std::size_t{64} << 20) << "resident memory grew by " << (grown >> 20)
                                            << " MiB for a 5-byte header declaring 200 MiB";
    std::printf("[s08b] RSS +%zu MiB while waiting for a declared 200 MiB body\n", grown >> 20);
}

} // namespace
} // namespace sleet::test
