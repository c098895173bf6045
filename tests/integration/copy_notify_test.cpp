// COPY in both directions and LISTEN/NOTIFY on one connection.
#include "fixture.hpp"

#include <sleet/listener.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

using namespace sleet;
using namespace sleet::test;
using namespace std::chrono_literals;

TEST(copy, hundred_thousand_rows_in_and_out_text_format_round_trip_equal)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        co_await c.async_simple_query("drop table if exists copy_t; create table copy_t(id int8, name text, note text)");
        constexpr int n = 100000;
        std::vector<std::string> lines;
        lines.reserve(n);
        for (int i = 0; i < n; ++i) {
            // Tabs, backslashes and NULLs must survive the text format's escaping.
            lines.push_back(std::to_string(i) + "\tname\\t" + std::to_string(i) + "\t" + (i % 7 == 0 ? "\\N" : "x\\\\y") + "\n");
        }
        auto rows_in = co_await c.async_copy_in_range("copy copy_t from stdin", lines);
        EXPECT_EQ(rows_in, static_cast<std::uint64_t>(n));
        std::vector<std::string> out;
        out.reserve(n);
        auto rows_out = co_await c.async_copy_out("copy (select * from copy_t order by id) to stdout",
                                                  [&](std::string_view row) { out.emplace_back(row); });
        EXPECT_EQ(rows_out, static_cast<std::uint64_t>(n));
        CO_ASSERT_EQ(out.size(), lines.size());
        int mismatches = 0;
        for (int i = 0; i < n; ++i) mismatches += out[i] != lines[i];
        EXPECT_EQ(mismatches, 0);
        // Spot-check the server's view of a value with an escaped tab and a NULL.
        auto r = co_await c.async_execute("select name, note from copy_t where id = 7");
        EXPECT_EQ(r[0].get<std::string>(0), std::string("name\t7"));
        EXPECT_EQ(r[0].get<std::optional<std::string>>(1), std::nullopt);
        co_await c.async_simple_query("drop table copy_t");
    });
}

TEST(copy, binary_format_round_trip)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        co_await c.async_simple_query("drop table if exists copy_b; create table copy_b(id int4, v float8, s text)");
        // Binary COPY stream: signature, flags, extension length, tuples, trailer.
        std::string data("PGCOPY\n\xff\r\n\0", 11);
        data.append(8, '\0');
        auto be32 = [&](std::uint32_t v) {
            for (int sh = 24; sh >= 0; sh -= 8) data.push_back(static_cast<char>((v >> sh) & 0xff));
        };
        auto be16 = [&](std::uint16_t v) {
            data.push_back(static_cast<char>(v >> 8));
            data.push_back(static_cast<char>(v & 0xff));
        };
        constexpr int n = 1000;
        for (int i = 0; i < n; ++i) {
            be16(3);
            be32(4);
            be32(static_cast<std::uint32_t>(i));
            double d = i * 0.5;
            std::uint64_t bits;
            std::memcpy(&bits, &d, 8);
            be32(8);
            be32(static_cast<std::uint32_t>(bits >> 32));
            be32(static_cast<std::uint32_t>(bits));
            std::string s = "row " + std::to_string(i);
            be32(static_cast<std::uint32_t>(s.size()));
            data += s;
        }
        be16(0xffff);
        std::vector<std::string> chunks{data};
        auto in = co_await c.async_copy_in_range("copy copy_b from stdin (format binary)", chunks);
        EXPECT_EQ(in, static_cast<std::uint64_t>(n));
        std::string back;
        co_await c.async_copy_out("copy (select * from copy_b order by id) to stdout (format binary)",
                                  [&](std::string_view chunk) { back.append(chunk); });
        EXPECT_EQ(back, data);
        auto r = co_await c.async_execute("select sum(v)::float8, count(*) from copy_b");
        EXPECT_EQ(r[0].get<double>(0), 0.5 * (n - 1) * n / 2);
        co_await c.async_simple_query("drop table copy_b");
    });
}

TEST(copy, a_source_that_throws_ends_the_copy_cleanly_and_the_connection_stays_usable)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        co_await c.async_simple_query("drop table if exists copy_f; create table copy_f(id int)");
        int produced = 0;
        copy_source src = [&](std::string& chunk) {
            if (produced == 500) throw std::runtime_error("disk on fire");
            chunk = std::to_string(produced++) + "\n";
            return true;
        };
        diagnostics diag;
        try {
            co_await c.async_copy_in("copy copy_f from stdin", src);
            ADD_FAILURE() << "expected an error";
        } catch (const error_with_diagnostics& e) {
            // The user sees the server's answer to our CopyFail, with our reason in it:
            // ERROR 57014: COPY from stdin failed: COPY source failed: disk on fire
            EXPECT_NE(std::string(e.what()).find("disk on fire"), std::string::npos) << e.what();
        }
        auto r = co_await c.async_execute("select count(*) from copy_f");
        EXPECT_EQ(r[0].get<std::int64_t>(0), 0);  // nothing half-written
        co_await c.async_simple_query("drop table copy_f");
    });
}

TEST(copy, bad_data_mid_copy_reports_the_server_error_and_the_connection_stays_usable)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        co_await c.async_simple_query("drop table if exists copy_e; create table copy_e(id int)");
        std::vector<std::string> lines;
        for (int i = 0; i < 20000; ++i) lines.push_back(i == 10000 ? std::string("not-a-number\n") : std::to_string(i) + "\n");
        auto [ec, rows] = co_await c.async_copy_in_range("copy copy_e from stdin", lines, asio::as_tuple(asio::use_awaitable));
        EXPECT_EQ(sqlstate_of(ec), "22P02");  // invalid input syntax for type integer
        // Queries queued behind the COPY run afterwards, in order.
        auto r = co_await c.async_execute("select count(*) from copy_e");
        EXPECT_EQ(r[0].get<std::int64_t>(0), 0);
        co_await c.async_simple_query("drop table copy_e");
    });
}

TEST(copy, queries_issued_during_a_copy_wait_for_it)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        co_await c.async_simple_query("drop table if exists copy_w; create table copy_w(id int)");
        std::vector<std::string> lines;
        for (int i = 0; i < 50000; ++i) lines.push_back(std::to_string(i) + "\n");
        std::uint64_t copied = 0;
        std::int64_t counted = -1;
        int done = 0;
        c.async_copy_in_range("copy copy_w from stdin", lines, [&](error_code ec, std::uint64_t n) {
            EXPECT_FALSE(ec) << ec.message();
            copied = n;
            ++done;
        });
        c.async_execute("select count(*) from copy_w", [&](error_code ec, result r) {
            EXPECT_FALSE(ec) << ec.message();
            if (!ec) counted = r[0].get<std::int64_t>(0);
            ++done;
        });
        while (done < 2) co_await sleep_for(1ms);
        EXPECT_EQ(copied, 50000u);
        EXPECT_EQ(counted, 50000);  // ran after the COPY, saw all its rows
        co_await c.async_simple_query("drop table copy_w");
    });
}

TEST(notify, ten_thousand_notifications_arrive_in_order_while_queries_run)
{
    run([]() -> asio::awaitable<void> {
        auto listener = co_await connect_super();
        auto sender = co_await connect_super();
        co_await listener.async_listen("sleet events");  // a name that needs quoting
        EXPECT_EQ(listener.listening_channels(), std::vector<std::string>{"sleet events"});
        constexpr int n = 10000;
        // The sender fires all notifications in batches of 100 per statement.
        asio::co_spawn(
            co_await asio::this_coro::executor,
            [&]() -> asio::awaitable<void> {
                for (int i = 0; i < n; i += 100) {
                    co_await sender.async_execute("select pg_notify('sleet events', g::text) from generate_series($1::int4, $2::int4) g",
                                                  make_params(i, i + 99));
                }
            },
            asio::detached);
        // Meanwhile the listener keeps running queries; notifications arrive between their results.
        int next = 0;
        int queries = 0;
        while (next < n) {
            if (listener.queued_notifications() == 0 && queries < 200) {
                auto r = co_await listener.async_execute("select $1::int4", make_params(queries));
                EXPECT_EQ(r[0].get<std::int32_t>(0), queries);
                ++queries;
                continue;
            }
            auto note = co_await listener.async_wait_notification();
            EXPECT_EQ(note.channel, "sleet events");
            EXPECT_EQ(note.payload, std::to_string(next));
            EXPECT_EQ(note.process_id, sender.backend_pid());
            if (note.payload != std::to_string(next)) co_return;
            ++next;
        }
        EXPECT_GT(queries, 0);
        co_await listener.async_unlisten("*");
        EXPECT_TRUE(listener.listening_channels().empty());
    });
}

TEST(notify, waiting_can_be_cancelled_and_leaves_no_pending_io)
{
    asio::io_context ioc;
    bool finished = false;
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        co_await c.async_listen("quiet");
        asio::cancellation_signal sig;
        error_code got;
        bool done = false;
        c.async_wait_notification(asio::bind_cancellation_slot(sig.slot(), [&](error_code ec, notification) {
            got = ec;
            done = true;
        }));
        co_await sleep_for(50ms);
        sig.emit(asio::cancellation_type::terminal);
        while (!done) co_await sleep_for(1ms);
        EXPECT_EQ(got, asio::error::operation_aborted);
        auto r = co_await c.async_execute("select 1");  // still usable
        EXPECT_EQ(r[0].get<std::int32_t>(0), 1);
        finished = true;
        c.close();
    }, asio::detached);
    ioc.run();  // returns: the cancelled wait left no read outstanding
    EXPECT_TRUE(finished);
}

TEST(notify, a_listener_restores_its_subscriptions_after_the_connection_is_lost)
{
    run([]() -> asio::awaitable<void> {
        auto opts = parse_connect_options(url("", "", "sslmode=disable"));
        listener l(co_await asio::this_coro::executor, opts);
        co_await l.async_listen("jobs");
        co_await l.async_listen("other channel");
        auto sender = co_await connect_super();
        co_await sender.async_execute("select pg_notify('jobs', 'first')");
        auto n1 = co_await l.async_next();
        EXPECT_EQ(n1.payload, "first");

        // The listener's backend is terminated: the next wait reconnects and LISTENs again.
        const auto old_pid = l.backend_pid();
        co_await sender.async_execute("select pg_terminate_backend($1)", make_params(old_pid));
        // Keep notifying until the new subscription catches one (notifications sent while nobody
        // listened are lost: PostgreSQL keeps none).
        bool stop = false;
        asio::co_spawn(
            co_await asio::this_coro::executor,
            [&]() -> asio::awaitable<void> {
                for (int i = 0; i < 500 && !stop; ++i) {
                    co_await sender.async_execute("select pg_notify('other channel', 'after')");
                    co_await sleep_for(10ms);
                }
            },
            asio::detached);
        auto n2 = co_await l.async_next();
        stop = true;
        EXPECT_EQ(n2.channel, "other channel");
        EXPECT_EQ(n2.payload, "after");
        EXPECT_EQ(l.reconnects(), 1u);
        EXPECT_NE(l.backend_pid(), old_pid);
        EXPECT_EQ(l.channels(), (std::vector<std::string>{"jobs", "other channel"}));
        co_await sleep_for(30ms);
        l.close();
    });
}
