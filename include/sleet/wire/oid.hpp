// sleet::wire — PostgreSQL type OIDs of the built-in types (pg_type.dat, PostgreSQL 15).
#pragma once

#include <cstdint>

namespace sleet {

using oid_t = std::uint32_t;

namespace oid {
inline constexpr oid_t unspecified = 0;
inline constexpr oid_t bool_ = 16;
inline constexpr oid_t bytea = 17;
inline constexpr oid_t char_ = 18;
inline constexpr oid_t name = 19;
inline constexpr oid_t int8 = 20;
inline constexpr oid_t int2 = 21;
inline constexpr oid_t int4 = 23;
inline constexpr oid_t text = 25;
inline constexpr oid_t oid = 26;
inline constexpr oid_t json = 114;
inline constexpr oid_t xml = 142;
inline constexpr oid_t cidr = 650;
inline constexpr oid_t float4 = 700;
inline constexpr oid_t float8 = 701;
inline constexpr oid_t unknown = 705;
inline constexpr oid_t macaddr = 829;
inline constexpr oid_t inet = 869;
inline constexpr oid_t money = 790;
inline constexpr oid_t bpchar = 1042;
inline constexpr oid_t varchar = 1043;
inline constexpr oid_t date = 1082;
inline constexpr oid_t time = 1083;
inline constexpr oid_t timestamp = 1114;
inline constexpr oid_t timestamptz = 1184;
inline constexpr oid_t interval = 1186;
inline constexpr oid_t timetz = 1266;
inline constexpr oid_t numeric = 1700;
inline constexpr oid_t uuid = 2950;
inline constexpr oid_t jsonb = 3802;
// arrays
inline constexpr oid_t bool_array = 1000;
inline constexpr oid_t bytea_array = 1001;
inline constexpr oid_t int2_array = 1005;
inline constexpr oid_t int4_array = 1007;
inline constexpr oid_t text_array = 1009;
inline constexpr oid_t varchar_array = 1015;
inline constexpr oid_t int8_array = 1016;
inline constexpr oid_t float4_array = 1021;
inline constexpr oid_t float8_array = 1022;
inline constexpr oid_t uuid_array = 2951;
inline constexpr oid_t jsonb_array = 3807;
} // namespace oid

} // namespace sleet

namespace sleet::wire {
using sleet::oid_t;
}
