// bool, integers, oid, floating point, text, bytea, uuid: exact bytes and round trips.
#include "test_util.hpp"

#include <cmath>
#include <limits>

using namespace sleet;
using namespace sleet_test;
using wire::format;

static_assert(pg_mappable<bool> && pg_mappable<std::int16_t> && pg_mappable<std::int32_t> &&
              pg_mappable<std::int64_t> && pg_mappable<long long> && pg_mappable<std::uint32_t> &&
              pg_mappable<float> && pg_mappable<double> && pg_mappable<std::string> &&
              pg_mappable<std::string_view> && pg_mappable<std::vector<std::byte>> && pg_mappable<uuid>);
static_assert(pg_encodable<const char*> && !pg_decodable<const char*>);
static_assert(pg_encodable<std::span<const std::byte>>);
// No unsigned mapping except oid, and no char: PostgreSQL has neither.
static_assert(!pg_encodable<std::uint64_t> && !pg_encodable<std::uint16_t> && !pg_encodable<char>);

TEST(types_bool, bytes_and_text)
{
    EXPECT_EQ(bin(true), bytes({1}));
    EXPECT_EQ(bin(false), bytes({0}));
    EXPECT_EQ(txt(true), "t");
    EXPECT_TRUE(from_bin<bool>(bytes({1}), oid::bool_));
    EXPECT_FALSE(from_txt<bool>("f", oid::bool_));
    EXPECT_TRUE(from_txt<bool>("t", oid::bool_));
}

TEST(types_int, exact_binary_bytes)
{
    EXPECT_EQ(hex(bin(std::int32_t{42})), "00 00 00 2a");
    EXPECT_EQ(hex(bin(std::int16_t{-2})), "ff fe");             // int2send(-2)
    EXPECT_EQ(hex(bin(std::int64_t{-1})), "ff ff ff ff ff ff ff ff");
    EXPECT_EQ(txt(std::int64_t{-9223372036854775807LL - 1}), "-9223372036854775808");
}

TEST(types_int, round_trip_limits)
{
    for (auto v : {std::numeric_limits<std::int16_t>::min(), std::int16_t{0}, std::numeric_limits<std::int16_t>::max()}) {
        EXPECT_EQ(from_bin<std::int16_t>(bin(v), oid::int2), v);
        EXPECT_EQ(from_txt<std::int16_t>(txt(v), oid::int2), v);
    }
    for (auto v : {std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()}) {
        EXPECT_EQ(from_bin<std::int32_t>(bin(v), oid::int4), v);
        EXPECT_EQ(from_txt<std::int32_t>(txt(v), oid::int4), v);
    }
    for (auto v : {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}) {
        EXPECT_EQ(from_bin<std::int64_t>(bin(v), oid::int8), v);
        EXPECT_EQ(from_txt<std::int64_t>(txt(v), oid::int8), v);
    }
}

TEST(types_int, wider_cpp_reads_narrower_column)
{
    EXPECT_EQ(from_bin<std::int64_t>(bin(std::int16_t{-7}), oid::int2), -7);
    EXPECT_EQ(from_bin<std::int64_t>(bin(std::int32_t{-70000}), oid::int4), -70000);
    EXPECT_EQ(from_bin<std::int32_t>(bin(std::int16_t{300}), oid::int2), 300);
    // oid is unsigned 32-bit: int8 reads it without sign trouble.
    EXPECT_EQ(from_bin<std::int64_t>(bytes({0xff, 0xff, 0xff, 0xff}), oid::oid), 4294967295LL);
}

TEST(types_int, narrower_cpp_never_reads_wider_column)
{
    // The user sees: column "age" of type int8 cannot be read as std::int16_t
    auto r = decode_err<std::int16_t>(bin(std::int64_t{1}), oid::int8, format::binary, "age");
    EXPECT_EQ(r.ec, errc::type_mismatch);
    EXPECT_EQ(r.message, "column \"age\" of type int8 cannot be read as std::int16_t");
    r = decode_err<std::int32_t>(std::string_view("1"), oid::int8, format::text, "n");
    EXPECT_EQ(r.message, "column \"n\" of type int8 cannot be read as std::int32_t");
}

TEST(types_int, bad_bytes)
{
    // The user sees: column "c" of type int4 holds an invalid binary value for std::int32_t: expected 4 bytes, got 3
    auto r = decode_err<std::int32_t>(bytes({0, 0, 1}), oid::int4, format::binary);
    EXPECT_EQ(r.ec, errc::invalid_value);
    EXPECT_EQ(r.message, "column \"c\" of type int4 holds an invalid binary value for std::int32_t: expected 4 bytes, got 3");
    r = decode_err<std::int32_t>(std::string_view("12x"), oid::int4, format::text);
    EXPECT_EQ(r.ec, errc::invalid_value);
    EXPECT_EQ(r.message, "column \"c\" of type int4 holds an invalid text value for std::int32_t: not an integer: \"12x\"");
    r = decode_err<std::int16_t>(std::string_view("40000"), oid::int2, format::text);
    EXPECT_EQ(r.ec, errc::value_out_of_range);
    EXPECT_EQ(r.message, "column \"c\" of type int2 holds a value out of range for std::int16_t: 40000");
}

TEST(types_oid, uint32)
{
    EXPECT_EQ(hex(bin(std::uint32_t{4000000000u})), "ee 6b 28 00");
    EXPECT_EQ(from_bin<std::uint32_t>(bin(std::uint32_t{4000000000u}), oid::oid), 4000000000u);
    EXPECT_EQ(from_txt<std::uint32_t>("4000000000", oid::oid), 4000000000u);
    EXPECT_EQ(decode_err<std::uint32_t>(bin(std::int32_t{1}), oid::int4, format::binary).ec, errc::type_mismatch);
}

TEST(types_float, exact_bytes)
{
    EXPECT_EQ(hex(bin(1.5f)), "3f c0 00 00");              // float4send(1.5)
    EXPECT_EQ(hex(bin(-0.0)), "80 00 00 00 00 00 00 00");  // float8send('-0')
}

TEST(types_float, special_values_text)
{
    EXPECT_EQ(txt(std::numeric_limits<double>::quiet_NaN()), "NaN");
    EXPECT_EQ(txt(std::numeric_limits<double>::infinity()), "Infinity");
    EXPECT_EQ(txt(-std::numeric_limits<float>::infinity()), "-Infinity");
    EXPECT_EQ(txt(-0.0), "-0");
    EXPECT_EQ(txt(0.1f), "0.1");
    EXPECT_TRUE(std::isnan(from_txt<double>("NaN", oid::float8)));
    EXPECT_EQ(from_txt<double>("Infinity", oid::float8), std::numeric_limits<double>::infinity());
    EXPECT_EQ(from_txt<float>("-Infinity", oid::float4), -std::numeric_limits<float>::infinity());
    EXPECT_TRUE(std::signbit(from_txt<double>("-0", oid::float8)));
    EXPECT_EQ(from_txt<double>("1e-310", oid::float8), 1e-310); // subnormal, as the server prints it
    EXPECT_EQ(from_txt<float>("0.1", oid::float4), 0.1f);
}

TEST(types_float, round_trips)
{
    for (double v : {0.0, -0.0, 1.0 / 3, std::numeric_limits<double>::max(), std::numeric_limits<double>::denorm_min(),
                     -std::numeric_limits<double>::infinity()}) {
        auto b = from_bin<double>(bin(v), oid::float8);
        auto t = from_txt<double>(txt(v), oid::float8);
        EXPECT_EQ(b, v);
        EXPECT_EQ(t, v);
        EXPECT_EQ(std::signbit(b), std::signbit(v));
        EXPECT_EQ(std::signbit(t), std::signbit(v));
    }
    EXPECT_TRUE(std::isnan(from_bin<double>(bin(std::numeric_limits<double>::quiet_NaN()), oid::float8)));
    EXPECT_TRUE(std::isnan(from_bin<float>(bin(std::numeric_limits<float>::quiet_NaN()), oid::float4)));
    // double reads float4 exactly.
    EXPECT_EQ(from_bin<double>(bin(0.1f), oid::float4), static_cast<double>(0.1f));
    // float does not read float8.
    auto r = decode_err<float>(bin(1.0), oid::float8, format::binary);
    EXPECT_EQ(r.message, "column \"c\" of type float8 cannot be read as float");
}

TEST(types_text, reads_text_like_columns_and_any_text_format)
{
    EXPECT_EQ(from_bin<std::string>("abc", oid::varchar), "abc");
    EXPECT_EQ(from_bin<std::string>("abc  ", oid::bpchar), "abc  ");
    EXPECT_EQ(from_bin<std::string>("pg_class", oid::name), "pg_class");
    EXPECT_EQ(from_bin<std::string>("", oid::text), "");
    // Any column in text format reads as its text, for generic tools.
    EXPECT_EQ(from_txt<std::string>("2024-02-29", oid::date), "2024-02-29");
    EXPECT_EQ(from_txt<std::string>("42", oid::int4), "42");
    // Binary jsonb: the version byte is removed.
    EXPECT_EQ(from_bin<std::string>(unhex("017b2261223a20317d"), oid::jsonb), "{\"a\": 1}");
    // But not a binary int4.
    auto r = decode_err<std::string>(bin(std::int32_t{42}), oid::int4, format::binary, "id");
    EXPECT_EQ(r.ec, errc::type_mismatch);
    EXPECT_EQ(r.message, "column \"id\" of type int4 cannot be read as std::string");
}

TEST(types_text, unicode_round_trip)
{
    const std::string s = "h\xC3\xA9llo \xF0\x9F\x98\x80 \xE4\xB8\xAD"; // é, U+1F600 (non-BMP), 中
    EXPECT_EQ(txt(s), s);
    EXPECT_EQ(from_bin<std::string>(txt(s), oid::text), s);
    EXPECT_EQ(from_bin<std::string_view>(s, oid::text), s);
}

TEST(types_text, nul_byte_is_refused_when_added)
{
    param_list p;
    // The user sees an exception: a text parameter contains a NUL byte at offset 1; ...
    try {
        p.add(std::string("a\0b", 3));
        FAIL() << "no exception";
    } catch (const error_with_diagnostics& e) {
        EXPECT_EQ(e.code(), errc::nul_in_text_parameter);
        EXPECT_EQ(e.get_diagnostics().client_message(),
                  "a text parameter contains a NUL byte at offset 1; PostgreSQL text cannot hold NUL (send it as bytea)");
    }
    EXPECT_EQ(p.size(), 0u);
    EXPECT_EQ(p.byte_size(), 0u);
}

TEST(types_bytea, binary_and_hex)
{
    std::vector<std::byte> v{std::byte{0x00}, std::byte{0xff}, std::byte{0x5c}};
    EXPECT_EQ(hex(bin(v)), "00 ff 5c");
    EXPECT_EQ(txt(v), "\\x00ff5c");
    EXPECT_EQ(from_bin<std::vector<std::byte>>(bin(v), oid::bytea), v);
    EXPECT_EQ(from_txt<std::vector<std::byte>>("\\x00FF5c", oid::bytea), v);
    EXPECT_EQ(from_txt<std::vector<std::byte>>("\\x", oid::bytea), std::vector<std::byte>{});
    // The escape format (bytea_output = escape): "\000" octal, "\\" a backslash.
    std::vector<std::byte> esc{std::byte{'a'}, std::byte{0}, std::byte{'\\'}, std::byte{0xff}};
    EXPECT_EQ(from_txt<std::vector<std::byte>>("a\\000\\\\\\377", oid::bytea), esc);
    auto r = decode_err<std::vector<std::byte>>(std::string_view("\\x0g"), oid::bytea, format::text);
    EXPECT_EQ(r.ec, errc::invalid_value);
    EXPECT_EQ(r.message, "column \"c\" of type bytea holds an invalid text value for std::vector<std::byte>: "
                         "invalid hex digits in bytea at offset 2");
}

TEST(types_bytea, one_mebibyte_round_trip)
{
    std::vector<std::byte> big(1 << 20);
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::byte>(i * 131 % 251);
    EXPECT_EQ(from_bin<std::vector<std::byte>>(bin(big), oid::bytea), big);
    EXPECT_EQ(from_txt<std::vector<std::byte>>(txt(big), oid::bytea), big);
    std::span<const std::byte> view(big);
    EXPECT_EQ(bin(view).size(), big.size());
}

TEST(types_uuid, parse_format_compare)
{
    auto u = uuid::parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->to_string(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    EXPECT_EQ(uuid::parse("{A0EEBC999C0B4EF8BB6D6BB9BD380A11}"), u);
    EXPECT_EQ(uuid::parse("a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11"), u);
    EXPECT_FALSE(uuid::parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1"));   // 31 digits
    EXPECT_FALSE(uuid::parse("a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11")); // double hyphen
    EXPECT_FALSE(uuid::parse("-a0eebc999c0b4ef8bb6d6bb9bd380a11"));
    EXPECT_FALSE(uuid::parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g"));
    EXPECT_EQ(uuid{}.to_string(), "00000000-0000-0000-0000-000000000000");
    EXPECT_LT(uuid{}, *u);
    EXPECT_EQ(hex(bin(*u)), "a0 ee bc 99 9c 0b 4e f8 bb 6d 6b b9 bd 38 0a 11"); // uuid_send
    EXPECT_EQ(from_bin<uuid>(bin(*u), oid::uuid), *u);
    EXPECT_EQ(from_txt<uuid>("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", oid::uuid), *u);
    auto r = decode_err<uuid>(std::string_view("nope"), oid::uuid, format::text);
    EXPECT_EQ(r.message, "column \"c\" of type uuid holds an invalid text value for sleet::uuid: not a uuid: \"nope\"");
}
