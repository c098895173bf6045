// Micro-benchmarks of the client work around one statement, without the network:
//   - render + bind through the typed builder (what sleet::database does before the connection):
//     the W1/W2 point select and the W4 1,000-row insert;
//   - encoding the Bind (+ Execute + Sync) of those statements, as the connection does for a
//     cached statement;
//   - decoding the W3 result (10,000 users rows, binary) into std::vector<select_model<users_t>>.
// "allocs_per_op" counts global operator new calls per iteration (bench/alloc_counter.cpp).
#include "alloc_counter.hpp"
#include "bench_schema.hpp"

#include <sleet/result.hpp>
#include <sleet/wire/frontend.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace sleet_bench;

/// Runs `op` once per iteration and reports allocations per iteration.
template <class Op>
void measure(benchmark::State& state, Op op, std::int64_t items_per_op = 1)
{
    const auto before = allocations();
    for (auto _ : state) op();
    const auto allocs = allocations() - before;
    state.counters["allocs_per_op"] = benchmark::Counter(static_cast<double>(allocs), benchmark::Counter::kAvgIterations);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * items_per_op);
}

struct id_source {
    std::mt19937 rng{42};
    std::uniform_int_distribution<std::int32_t> dist{1, static_cast<std::int32_t>(users_count)};
    std::int32_t operator()() { return dist(rng); }
};

// --- render + bind ----------------------------------------------------------------------------

/// The point select of W1/W2: build the query, render (cached per query type) and bind the id.
void point_select_render_bind(benchmark::State& state)
{
    id_source ids;
    measure(state, [&] {
        auto q = sleet::select().from(users).where(sleet::eq(users.id, ids()));
        auto st = q.statements(false);
        benchmark::DoNotOptimize(st);
    });
}
BENCHMARK(point_select_render_bind);

/// The W4 statement from ready rows: values() copies the 1,000 rows into the query, then the
/// 3,000-parameter SQL is rendered (inserts are rendered per execution) and the values bound.
void insert_1000_render_bind(benchmark::State& state)
{
    id_source ids;
    const std::vector<new_event> rows = make_rows(ids);
    measure(
        state,
        [&] {
            auto q = sleet::insert(events).values(rows);
            auto st = q.statements(false);
            benchmark::DoNotOptimize(st);
        },
        insert_batch);
}
BENCHMARK(insert_1000_render_bind)->Unit(benchmark::kMicrosecond);

/// Only the render of the 1,000-row insert (no binding, no row copy).
void insert_1000_render_only(benchmark::State& state)
{
    id_source ids;
    const auto q = sleet::insert(events).values(make_rows(ids));
    measure(
        state,
        [&] {
            auto sql = sleet::detail::render_sql(q).text;
            benchmark::DoNotOptimize(sql);
        },
        insert_batch);
}
BENCHMARK(insert_1000_render_only)->Unit(benchmark::kMicrosecond);

/// W4 as the benchmark does it: fresh rows (make_rows), then values() + render + bind.
void insert_1000_make_rows_render_bind(benchmark::State& state)
{
    id_source ids;
    measure(
        state,
        [&] {
            auto q = sleet::insert(events).values(make_rows(ids));
            auto st = q.statements(false);
            benchmark::DoNotOptimize(st);
        },
        insert_batch);
}
BENCHMARK(insert_1000_make_rows_render_bind)->Unit(benchmark::kMicrosecond);

// --- Bind encoding ----------------------------------------------------------------------------

/// Bind + Execute + Sync of a cached statement, as the connection writes it.
void encode_bind(benchmark::State& state, const sleet::param_list& p, std::int64_t items)
{
    static const sleet::wire::format binary[] = {sleet::wire::format::binary};
    std::string out;
    measure(
        state,
        [&] {
            out.clear();
            sleet::wire::bind_writer b(out, "", "sleet_s1", p.formats(), static_cast<std::int16_t>(p.size()));
            for (std::size_t i = 0; i < p.size(); ++i) {
                if (auto v = p.value(i)) b.value(*v);
                else b.null();
            }
            b.finish(binary);
            sleet::wire::encode_execute(out, "", 0);
            sleet::wire::encode_sync(out);
            benchmark::DoNotOptimize(out.data());
        },
        items);
    state.counters["bytes"] = static_cast<double>(out.size());
}

void encode_bind_point_select(benchmark::State& state)
{
    auto st = sleet::select().from(users).where(sleet::eq(users.id, 4242)).statements(false);
    encode_bind(state, st.front().params, 1);
}
BENCHMARK(encode_bind_point_select);

void encode_bind_insert_1000(benchmark::State& state)
{
    id_source ids;
    auto st = sleet::insert(events).values(make_rows(ids)).statements(false);
    encode_bind(state, st.front().params, insert_batch);
}
BENCHMARK(encode_bind_insert_1000)->Unit(benchmark::kMicrosecond);

// --- decoding the W3 result -------------------------------------------------------------------

template <class T>
void put(std::string& body, const T& v)
{
    std::string bytes;
    sleet::pg_type<T>::encode(v, bytes, sleet::wire::format::binary);
    const auto n = static_cast<std::uint32_t>(bytes.size());
    body += static_cast<char>(n >> 24);
    body += static_cast<char>(n >> 16);
    body += static_cast<char>(n >> 8);
    body += static_cast<char>(n);
    body += bytes;
}

sleet::column col(std::string name, sleet::oid_t t)
{
    sleet::column c;
    c.name = std::move(name);
    c.type_oid = t;
    c.format = sleet::wire::format::binary;
    return c;
}

/// The W3 result as the server sends it: 10,000 rows of (id, email, name, created_at), binary.
std::vector<sleet::result> users_result()
{
    std::vector<sleet::column> cols;
    cols.push_back(col("id", sleet::oid::int4));
    cols.push_back(col("email", sleet::oid::varchar));
    cols.push_back(col("name", sleet::oid::text));
    cols.push_back(col("created_at", sleet::oid::timestamp));
    sleet::result r;
    r.set_columns(std::move(cols));
    const sleet::timestamp_t at{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26}.time_since_epoch() + std::chrono::microseconds(123456)};
    for (std::int32_t i = 1; i <= static_cast<std::int32_t>(users_count); ++i) {
        std::string body;
        put(body, i);
        put(body, "user" + std::to_string(i) + "@example.com");
        put(body, "User Number " + std::to_string(i));
        put(body, at);
        if (r.append_row(body, 4)) std::abort();
    }
    r.set_command_tag("SELECT 10000");
    std::vector<sleet::result> rs;
    rs.push_back(std::move(r));
    return rs;
}

/// select_query::decode: the whole W3 result into std::vector<select_model<users_t>>; per op = 10,000 rows.
void decode_w3_result(benchmark::State& state)
{
    using query = decltype(sleet::select().from(users));
    const auto rs = users_result();
    measure(
        state,
        [&] {
            auto rows = query::decode(rs);
            if (rows.size() != users_count) std::abort();
            benchmark::DoNotOptimize(rows.data());
        },
        users_count);
}
BENCHMARK(decode_w3_result)->Unit(benchmark::kMicrosecond);

/// Building the W3 result from its DataRows (what the connection does as they arrive), per 10,000 rows.
void append_w3_rows(benchmark::State& state)
{
    const auto rs = users_result();
    std::vector<std::string> bodies;
    for (std::size_t i = 0; i < users_count; ++i) {
        std::string body;
        for (std::size_t c = 0; c < 4; ++c) {
            auto v = rs.front()[i].raw(c);
            const auto n = static_cast<std::uint32_t>(v->size());
            body += static_cast<char>(n >> 24);
            body += static_cast<char>(n >> 16);
            body += static_cast<char>(n >> 8);
            body += static_cast<char>(n);
            body += *v;
        }
        bodies.push_back(std::move(body));
    }
    measure(
        state,
        [&] {
            sleet::result r;
            r.set_columns(rs.front().columns());
            for (const auto& b : bodies)
                if (r.append_row(b, 4)) std::abort();
            benchmark::DoNotOptimize(r.size());
        },
        users_count);
}
BENCHMARK(append_w3_rows)->Unit(benchmark::kMicrosecond);

} // namespace
