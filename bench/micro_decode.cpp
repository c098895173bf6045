// Micro-benchmark: decoding binary DataRows into typed values with row_view::get<T>.
//
// Each benchmark iteration reads every field of one row (rows are cycled from a result of
// 1024 identical rows built with result::set_columns + append_row from bytes encoded here), so
// the reported time is nanoseconds per row. "allocs_per_row" counts calls of the global
// operator new during the timed loop, divided by the rows read.
#include "alloc_counter.hpp"

#include <sleet/result.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>
#include <vector>


namespace {

using namespace sleet;
constexpr std::size_t rows_in_result = 1024;

// Appends one field (4-byte big-endian length, then the binary value) to a DataRow body.
template <class T>
void put(std::string& body, const T& v)
{
    std::string bytes;
    pg_type<T>::encode(v, bytes, wire::format::binary);
    const auto n = static_cast<std::uint32_t>(bytes.size());
    body += static_cast<char>(n >> 24);
    body += static_cast<char>(n >> 16);
    body += static_cast<char>(n >> 8);
    body += static_cast<char>(n);
    body += bytes;
}

column col(std::string name, oid_t t)
{
    column c;
    c.name = std::move(name);
    c.type_oid = t;
    c.format = wire::format::binary;
    return c;
}

const timestamptz_t stamp = timestamptz_t{std::chrono::sys_days{std::chrono::year{2024} / 2 / 29}} + std::chrono::hours(12);
const std::string long_text = "a text value longer than the small-string buffer";

result ten_column_result()
{
    std::vector<column> cols;
    cols.push_back(col("id", oid::int4));
    cols.push_back(col("big", oid::int8));
    cols.push_back(col("small", oid::int2));
    cols.push_back(col("ratio", oid::float8));
    cols.push_back(col("flag", oid::bool_));
    cols.push_back(col("name", oid::text));
    cols.push_back(col("at", oid::timestamptz));
    cols.push_back(col("day", oid::date));
    cols.push_back(col("key", oid::uuid));
    cols.push_back(col("amount", oid::numeric));
    std::string body;
    put(body, std::int32_t{42});
    put(body, std::int64_t{1} << 40);
    put(body, std::int16_t{-7});
    put(body, 3.25);
    put(body, true);
    put(body, long_text);
    put(body, stamp);
    put(body, std::chrono::sys_days{std::chrono::year{2038} / 1 / 19});
    put(body, *uuid::parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
    put(body, *numeric::parse("12345.6789"));
    result r;
    r.set_columns(std::move(cols));
    for (std::size_t i = 0; i < rows_in_result; ++i)
        if (r.append_row(body, 10)) std::abort();
    return r;
}

result four_column_result()
{
    std::vector<column> cols;
    cols.push_back(col("id", oid::int4));
    cols.push_back(col("name", oid::text));
    cols.push_back(col("ratio", oid::float8));
    cols.push_back(col("at", oid::timestamptz));
    std::string body;
    put(body, std::int32_t{42});
    put(body, long_text);
    put(body, 3.25);
    put(body, stamp);
    result r;
    r.set_columns(std::move(cols));
    for (std::size_t i = 0; i < rows_in_result; ++i)
        if (r.append_row(body, 4)) std::abort();
    return r;
}

template <class Fn>
void run_rows(benchmark::State& state, const result& r, Fn read_row)
{
    std::size_t i = 0;
    const auto before = sleet_bench::allocations();
    for (auto _ : state) {
        read_row(r[i]);
        if (++i == r.size()) i = 0;
    }
    const auto allocs = sleet_bench::allocations() - before;
    state.counters["allocs_per_row"] = benchmark::Counter(static_cast<double>(allocs), benchmark::Counter::kAvgIterations);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void decode_10_columns(benchmark::State& state)
{
    const result r = ten_column_result();
    run_rows(state, r, [](row_view row) {
        benchmark::DoNotOptimize(row.get<std::int32_t>(0));
        benchmark::DoNotOptimize(row.get<std::int64_t>(1));
        benchmark::DoNotOptimize(row.get<std::int16_t>(2));
        benchmark::DoNotOptimize(row.get<double>(3));
        benchmark::DoNotOptimize(row.get<bool>(4));
        auto s = row.get<std::string>(5);
        benchmark::DoNotOptimize(s);
        benchmark::DoNotOptimize(row.get<timestamptz_t>(6));
        benchmark::DoNotOptimize(row.get<std::chrono::sys_days>(7));
        benchmark::DoNotOptimize(row.get<uuid>(8));
        auto n = row.get<numeric>(9);
        benchmark::DoNotOptimize(n);
    });
}
BENCHMARK(decode_10_columns);

// Same row, but the text as a view into the row and the numeric skipped: the no-allocation path.
void decode_10_columns_views(benchmark::State& state)
{
    const result r = ten_column_result();
    run_rows(state, r, [](row_view row) {
        benchmark::DoNotOptimize(row.get<std::int32_t>(0));
        benchmark::DoNotOptimize(row.get<std::int64_t>(1));
        benchmark::DoNotOptimize(row.get<std::int16_t>(2));
        benchmark::DoNotOptimize(row.get<double>(3));
        benchmark::DoNotOptimize(row.get<bool>(4));
        benchmark::DoNotOptimize(row.get<std::string_view>(5));
        benchmark::DoNotOptimize(row.get<timestamptz_t>(6));
        benchmark::DoNotOptimize(row.get<std::chrono::sys_days>(7));
        benchmark::DoNotOptimize(row.get<uuid>(8));
        benchmark::DoNotOptimize(row.raw(9));
    });
}
BENCHMARK(decode_10_columns_views);

// The 10 columns as a tuple in one call.
void decode_10_columns_tuple(benchmark::State& state)
{
    const result r = ten_column_result();
    run_rows(state, r, [](row_view row) {
        auto t = row.as<std::int32_t, std::int64_t, std::int16_t, double, bool, std::string, timestamptz_t,
                        std::chrono::sys_days, uuid, numeric>();
        benchmark::DoNotOptimize(t);
    });
}
BENCHMARK(decode_10_columns_tuple);

struct four {
    std::int32_t id;
    std::string name;
    double ratio;
    timestamptz_t at;
};

void decode_4_columns(benchmark::State& state)
{
    const result r = four_column_result();
    run_rows(state, r, [](row_view row) {
        benchmark::DoNotOptimize(row.get<std::int32_t>(0));
        auto s = row.get<std::string>(1);
        benchmark::DoNotOptimize(s);
        benchmark::DoNotOptimize(row.get<double>(2));
        benchmark::DoNotOptimize(row.get<timestamptz_t>(3));
    });
}
BENCHMARK(decode_4_columns);

void decode_4_columns_struct(benchmark::State& state)
{
    const result r = four_column_result();
    run_rows(state, r, [](row_view row) {
        auto f = row.as_struct<four>();
        benchmark::DoNotOptimize(f);
    });
}
BENCHMARK(decode_4_columns_struct);

// Column lookup by name (linear over the RowDescription) on top of the 4-column decode.
void decode_4_columns_by_name(benchmark::State& state)
{
    const result r = four_column_result();
    run_rows(state, r, [](row_view row) {
        benchmark::DoNotOptimize(row.get<std::int32_t>("id"));
        auto s = row.get<std::string>("name");
        benchmark::DoNotOptimize(s);
        benchmark::DoNotOptimize(row.get<double>("ratio"));
        benchmark::DoNotOptimize(row.get<timestamptz_t>("at"));
    });
}
BENCHMARK(decode_4_columns_by_name);

} // namespace

