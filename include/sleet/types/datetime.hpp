// sleet::types — dates and times ↔ date, timestamp, timestamptz, time, timetz, interval.
//
// PostgreSQL counts from 2000-01-01 (binary: int32 days, int64 microseconds); std::chrono
// counts from 1970-01-01; the codecs convert. Text is read in DateStyle ISO (which the
// connection sets), including years after 9999 and the " BC" suffix.
//
// ±infinity: PostgreSQL's 'infinity' and '-infinity' map to the max() and min() of the C++
// representation (constants below), and back: binary INT32_MAX/INT32_MIN for dates,
// INT64_MAX/INT64_MIN for timestamps.
#pragma once

#include <sleet/types/pg_type.hpp>

#include <chrono>
#include <compare>
#include <cstdint>
#include <string>

namespace sleet {

using timestamp_t = std::chrono::local_time<std::chrono::microseconds>;  ///< timestamp
using timestamptz_t = std::chrono::sys_time<std::chrono::microseconds>; ///< timestamptz

inline constexpr std::chrono::sys_days date_infinity = std::chrono::sys_days::max();
inline constexpr std::chrono::sys_days date_minus_infinity = std::chrono::sys_days::min();
inline constexpr timestamp_t timestamp_infinity = timestamp_t::max();
inline constexpr timestamp_t timestamp_minus_infinity = timestamp_t::min();
inline constexpr timestamptz_t timestamptz_infinity = timestamptz_t::max();
inline constexpr timestamptz_t timestamptz_minus_infinity = timestamptz_t::min();

/// timetz: a time of day with its UTC offset (east positive: +05:30 is 19800 s).
struct time_tz {
    std::chrono::microseconds time{0};    ///< since midnight, 0 .. 24:00:00
    std::chrono::seconds utc_offset{0};
    friend bool operator==(const time_tz&, const time_tz&) = default;
};

/// interval: the three fields PostgreSQL keeps apart (a month is not 30 days, a day is not
/// 24 hours across a DST change).
struct interval {
    std::int32_t months = 0;
    std::int32_t days = 0;
    std::int64_t microseconds = 0;
    friend bool operator==(const interval&, const interval&) = default;
};

namespace detail {
// Days and microseconds relative to 1970-01-01 (Unix), with the infinities as INT64 extremes.
void encode_date(std::int64_t unix_days, std::string& out, wire::format f);
error_code decode_date(std::string_view b, wire::format f, std::int64_t& unix_days, diagnostics& d);
void encode_timestamp(std::int64_t unix_us, bool tz, std::string& out, wire::format f);
error_code decode_timestamp(std::string_view b, wire::format f, bool tz, std::int64_t& unix_us, diagnostics& d);
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept;
} // namespace detail

/// std::chrono::sys_days ↔ date.
template <>
struct pg_type<std::chrono::sys_days> {
    static constexpr std::string_view sql_name = "date";
    static constexpr std::string_view cpp_name = "std::chrono::sys_days";
    static constexpr oid_t oid = oid::date;
    static constexpr oid_t array_oid = 1182;
    static constexpr bool binary = true;
    static bool accepts(oid_t t) noexcept { return t == oid::date; }
    static void encode(const std::chrono::sys_days& v, std::string& out, wire::format f);
    static error_code decode(std::string_view b, wire::format f, oid_t t, std::chrono::sys_days& out, diagnostics& d);
};

/// std::chrono::local_time<std::chrono::microseconds> (sleet::timestamp_t) ↔ timestamp
/// (without time zone).
template <>
struct pg_type<timestamp_t> {
    static constexpr std::string_view sql_name = "timestamp";
    static constexpr std::string_view cpp_name = "std::chrono::local_time<std::chrono::microseconds>";
    static constexpr oid_t oid = oid::timestamp;
    static constexpr oid_t array_oid = 1115;
    static constexpr bool binary = true;
    static bool accepts(oid_t t) noexcept { return t == oid::timestamp; }
    static void encode(const timestamp_t& v, std::string& out, wire::format f);
    static error_code decode(std::string_view b, wire::format f, oid_t t, timestamp_t& out, diagnostics& d);
};

/// std::chrono::sys_time<std::chrono::microseconds> (sleet::timestamptz_t) ↔ timestamptz.
/// Text output is expected in UTC offsets ("+00", "+05:30", "-03:30:15").
template <>
struct pg_type<timestamptz_t> {
    static constexpr std::string_view sql_name = "timestamptz";
    static constexpr std::string_view cpp_name = "std::chrono::sys_time<std::chrono::microseconds>";
    static constexpr oid_t oid = oid::timestamptz;
    static constexpr oid_t array_oid = 1185;
    static constexpr bool binary = true;
    static bool accepts(oid_t t) noexcept { return t == oid::timestamptz; }
    static void encode(const timestamptz_t& v, std::string& out, wire::format f);
    static error_code decode(std::string_view b, wire::format f, oid_t t, timestamptz_t& out, diagnostics& d);
};

/// std::chrono::system_clock::time_point (nanoseconds) → timestamptz, truncated toward the
/// past to microseconds. Reading gives exact microseconds.
template <>
struct pg_type<std::chrono::sys_time<std::chrono::nanoseconds>> {
    using value_type = std::chrono::sys_time<std::chrono::nanoseconds>;
    static constexpr std::string_view sql_name = "timestamptz";
    static constexpr std::string_view cpp_name = "std::chrono::system_clock::time_point";
    static constexpr oid_t oid = oid::timestamptz;
    static constexpr oid_t array_oid = 1185;
    static constexpr bool binary = true;
    static bool accepts(oid_t t) noexcept { return t == oid::timestamptz; }
    static void encode(const value_type& v, std::string& out, wire::format f);
    static error_code decode(std::string_view b, wire::format f, oid_t t, value_type& out, diagnostics& d);
};

/// std::chrono::microseconds ↔ time (time of day, without time zone): microseconds since
/// midnight, 0 .. 24:00:00. (A duration is not an interval: use sleet::interval for those.)
template <>
struct pg_type<std::chrono::microseconds> {
    static constexpr std::string_view sql_name = "time";
    static constexpr std::string_view cpp_name = "std::chrono::microseconds";
    static constexpr oid_t oid = oid::time;
    static constexpr oid_t array_oid = 1183;
    static constexpr bool binary = true;
    static bool accepts(oid_t t) noexcept { return t == oid::time; }
    static void encode(const std::chrono::microseconds& v, std::string& out, wire::format f);
    static error_code decode(std::string_view b, wire::format f, oid_t t, std::chrono::microseconds& out, diagnostics& d);
};

/// sleet::time_tz ↔ timetz. Binary: int64 microseconds + int32 zone in seconds WEST of UTC
/// (PostgreSQL's sign); the C++ struct uses the usual east-positive offset.
template <>
struct pg_type<time_tz> {
    static constexpr std::string_view sql_name = "timetz";
    static constexpr std::string_view cpp_name = "sleet::time_tz";
    static constexpr oid_t oid = oid::timetz;
    static constexpr oid_t array_oid = 1270;
    static constexpr bool binary = true;
    static bool accepts(oid_t t) noexcept { return t == oid::timetz; }
    static void encode(const time_tz& v, std::string& out, wire::format f);
    static error_code decode(std::string_view b, wire::format f, oid_t t, time_tz& out, diagnostics& d);
};

/// sleet::interval ↔ interval. Binary: int64 microseconds, int32 days, int32 months. Text:
/// reads IntervalStyle postgres ("1 year 2 mons -3 days +04:05:06.5", the server default) and
/// ISO 8601 ("P1Y2M3DT4H5M6S"); writes postgres style.
template <>
struct pg_type<interval> {
    static constexpr std::string_view sql_name = "interval";
    static constexpr std::string_view cpp_name = "sleet::interval";
    static constexpr oid_t oid = oid::interval;
    static constexpr oid_t array_oid = 1187;
    static constexpr bool binary = true;
    static bool accepts(oid_t t) noexcept { return t == oid::interval; }
    static void encode(const interval& v, std::string& out, wire::format f);
    static error_code decode(std::string_view b, wire::format f, oid_t t, interval& out, diagnostics& d);
};

} // namespace sleet
