// libFuzzer target: the type decoders (decode_field for many C++ types x server types x formats).
//
// Input: byte 0 picks the C++ type, byte 1 the server type OID, byte 2 the format (bit 0) and
// NULL (bit 1); the rest is the field value. Property: no crash, no out-of-bounds read; a
// failure returns an error code with a message.
#include <sleet/types.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

void check(bool ok)
{
    if (!ok) __builtin_trap();
}

constexpr sleet::oid_t oids[] = {
    sleet::oid::bool_, sleet::oid::bytea, sleet::oid::char_, sleet::oid::name, sleet::oid::int8, sleet::oid::int2,
    sleet::oid::int4, sleet::oid::text, sleet::oid::oid, sleet::oid::json, sleet::oid::xml, sleet::oid::cidr,
    sleet::oid::float4, sleet::oid::float8, sleet::oid::unknown, sleet::oid::macaddr, sleet::oid::inet,
    sleet::oid::money, sleet::oid::bpchar, sleet::oid::varchar, sleet::oid::date, sleet::oid::time,
    sleet::oid::timestamp, sleet::oid::timestamptz, sleet::oid::interval, sleet::oid::timetz, sleet::oid::numeric,
    sleet::oid::uuid, sleet::oid::jsonb, sleet::oid::bool_array, sleet::oid::bytea_array, sleet::oid::int2_array,
    sleet::oid::int4_array, sleet::oid::text_array, sleet::oid::varchar_array, sleet::oid::int8_array,
    sleet::oid::float4_array, sleet::oid::float8_array, sleet::oid::uuid_array, sleet::oid::jsonb_array,
    16384 /* a user type */};

template <class T>
void decode_as(const sleet::column_info& col, std::optional<std::string_view> value)
{
    T out{};
    sleet::diagnostics diag;
    auto ec = sleet::decode_field(col, value, out, diag);
    if (ec) check(!diag.client_message().empty());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 3) return 0;
    sleet::column_info col;
    col.name = "c";
    col.type_oid = oids[data[1] % std::size(oids)];
    col.format = (data[2] & 1) ? sleet::wire::format::binary : sleet::wire::format::text;
    std::optional<std::string_view> value;
    if (!(data[2] & 2)) value = std::string_view(reinterpret_cast<const char*>(data) + 3, size - 3);
    switch (data[0] % 32) {
    case 0: decode_as<bool>(col, value); break;
    case 1: decode_as<std::int16_t>(col, value); break;
    case 2: decode_as<std::int32_t>(col, value); break;
    case 3: decode_as<std::int64_t>(col, value); break;
    case 4: decode_as<std::uint32_t>(col, value); break;
    case 5: decode_as<float>(col, value); break;
    case 6: decode_as<double>(col, value); break;
    case 7: decode_as<std::string>(col, value); break;
    case 8: decode_as<std::vector<std::byte>>(col, value); break;
    case 9: decode_as<sleet::numeric>(col, value); break;
    case 10: decode_as<sleet::uuid>(col, value); break;
    case 11: decode_as<std::chrono::sys_days>(col, value); break;
    case 12: decode_as<sleet::timestamp_t>(col, value); break;
    case 13: decode_as<sleet::timestamptz_t>(col, value); break;
    case 14: decode_as<std::chrono::microseconds>(col, value); break;
    case 15: decode_as<sleet::time_tz>(col, value); break;
    case 16: decode_as<sleet::interval>(col, value); break;
    case 17: decode_as<sleet::inet>(col, value); break;
    case 18: decode_as<sleet::cidr>(col, value); break;
    case 19: decode_as<sleet::macaddr>(col, value); break;
    case 20: decode_as<sleet::money>(col, value); break;
    case 21: decode_as<sleet::json_text>(col, value); break;
    case 22: decode_as<std::vector<std::int32_t>>(col, value); break;
    case 23: decode_as<std::vector<std::string>>(col, value); break;
    case 24: decode_as<std::vector<std::optional<std::int64_t>>>(col, value); break;
    case 25: decode_as<sleet::pg_array<std::optional<std::string>>>(col, value); break;
    case 26: decode_as<std::vector<double>>(col, value); break;
    case 27: decode_as<std::vector<sleet::uuid>>(col, value); break;
    case 28: decode_as<std::optional<std::int32_t>>(col, value); break;
    case 29: decode_as<std::vector<bool>>(col, value); break;
    case 30: decode_as<sleet::pg_array<std::int16_t>>(col, value); break;
    case 31: decode_as<std::vector<std::vector<std::byte>>>(col, value); break;
    }
    return 0;
}
