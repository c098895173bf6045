// The two tables of ../shared/peers/schema.sql in sleet's schema DSL, as drizzle-orm declares
// them in ../shared/peers/node/bench.mjs, and the W4 rows every peer inserts.
#pragma once

#include <sleet/query/builders.hpp>

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sleet_bench {
namespace pg = sleet::pg;

template <template <class> class C>
struct users_columns {
    C<pg::serial<"id", pg::primary_key>> id{};
    C<pg::varchar<"email", 255, pg::not_null, pg::unique>> email{};
    C<pg::text<"name">> name{};
    C<pg::timestamp<"created_at", pg::default_now>> created_at{};
};
using users_t = sleet::table<"users", users_columns>;
inline constexpr users_t users{};
using user = sleet::select_model<users_t>;

template <template <class> class C>
struct events_columns {
    C<pg::bigserial<"id", pg::primary_key>> id{};
    C<pg::integer<"user_id", pg::not_null>> user_id{};
    C<pg::text<"kind", pg::not_null>> kind{};
    C<pg::jsonb<"payload">> payload{};
    C<pg::timestamptz<"at", pg::default_now>> at{};
};
using events_t = sleet::table<"events", events_columns>;
inline constexpr events_t events{};
using new_event = sleet::insert_model<events_t>;

inline constexpr std::size_t users_count = 10000;  // rows of users (schema.sql)
inline constexpr std::size_t insert_batch = 1000;  // rows per W4 statement
inline constexpr std::string_view kinds[] = {"click", "view", "purchase"};

/// The W4 payload of row i, as the peers write it: {"n":i,"path":"/items/i","tags":["alpha","beta"],"ok":true}
inline std::string payload_json(std::size_t i)
{
    char num[24];
    const auto end = std::to_chars(num, num + sizeof num, i).ptr;
    const std::string_view n(num, static_cast<std::size_t>(end - num));
    std::string s;
    s.reserve(64);
    s.append(R"({"n":)").append(n).append(R"(,"path":"/items/)").append(n).append(R"(","tags":["alpha","beta"],"ok":true})");
    return s;
}

/// 1,000 fresh rows (user ids from `next_id`), like the peers' makeRows().
template <class NextId>
std::vector<new_event> make_rows(NextId&& next_id)
{
    std::vector<new_event> rows;
    rows.reserve(insert_batch);
    for (std::size_t i = 0; i < insert_batch; ++i)
        rows.push_back({.user_id = next_id(), .kind = std::string(kinds[i % 3]), .payload = sleet::json_text{payload_json(i)}});
    return rows;
}

} // namespace sleet_bench
