// decode_field (optional, NULL, messages) and param_list (formats, OIDs, NULLs, storage).
#include "test_util.hpp"

using namespace sleet;
using namespace sleet_test;
using wire::format;

TEST(decode_field, optional_reads_null_and_values)
{
    diagnostics diag;
    std::optional<std::int32_t> v = 5;
    column_info col{"n", oid::int4, format::binary};
    EXPECT_FALSE(decode_field(col, std::nullopt, v, diag));
    EXPECT_FALSE(v.has_value());
    auto b = bin(std::int32_t{42});
    EXPECT_FALSE(decode_field(col, std::optional<std::string_view>(b), v, diag));
    EXPECT_EQ(v, 42);
    // A type mismatch inside an optional still fails, and leaves it empty.
    std::optional<std::int16_t> small = 1;
    EXPECT_EQ(decode_field(col, std::optional<std::string_view>(b), small, diag), errc::type_mismatch);
    EXPECT_FALSE(small.has_value());
    EXPECT_EQ(diag.client_message(), "column \"n\" of type int4 cannot be read as std::int16_t");
}

TEST(decode_field, null_into_non_optional)
{
    // The user sees: column "name" is NULL but the C++ type std::string is not optional
    auto r = decode_err<std::string>(std::nullopt, oid::text, format::text, "name");
    EXPECT_EQ(r.ec, errc::null_value);
    EXPECT_EQ(r.message, "column \"name\" is NULL but the C++ type std::string is not optional");
    r = decode_err<std::int64_t>(std::nullopt, oid::int8, format::binary, "id");
    EXPECT_EQ(r.message, "column \"id\" is NULL but the C++ type std::int64_t is not optional");
}

TEST(decode_field, unknown_server_type_is_named_by_oid)
{
    // The user sees: column "tags" of type oid 16390 cannot be read as std::int32_t
    auto r = decode_err<std::int32_t>(std::string_view("x"), 16390, format::binary, "tags");
    EXPECT_EQ(r.ec, errc::type_mismatch);
    EXPECT_EQ(r.message, "column \"tags\" of type oid 16390 cannot be read as std::int32_t");
    EXPECT_EQ(type_name_of(oid::int4), "int4");
    EXPECT_EQ(type_name_of(oid::int4_array), "int4[]");
    EXPECT_EQ(type_name_of(99999), "oid 99999");
}

TEST(decode_field, success_leaves_diagnostics_clean)
{
    diagnostics diag;
    diag.assign_client("stale");
    std::string s;
    column_info col{"t", oid::text, format::text};
    EXPECT_FALSE(decode_field(col, std::optional<std::string_view>("x"), s, diag));
    EXPECT_TRUE(diag.empty());
}

TEST(param_list, formats_oids_and_values)
{
    auto p = make_params(std::int32_t{42}, std::string("abc"), std::optional<std::int64_t>{}, std::nullopt, true,
                         "lit", static_cast<const char*>(nullptr), std::string_view("view"), 1.5);
    ASSERT_EQ(p.size(), 9u);
    const oid_t oids[] = {oid::int4, 0, oid::int8, 0, oid::bool_, 0, 0, 0, oid::float8};
    EXPECT_TRUE(std::equal(p.oids().begin(), p.oids().end(), std::begin(oids)));
    const format fmts[] = {format::binary, format::text, format::binary, format::text, format::binary,
                           format::text,   format::text, format::text,   format::binary};
    EXPECT_TRUE(std::equal(p.formats().begin(), p.formats().end(), std::begin(fmts)));
    EXPECT_EQ(hex(*p.value(0)), "00 00 00 2a");
    EXPECT_EQ(p.value(1), "abc");
    EXPECT_FALSE(p.value(2));
    EXPECT_FALSE(p.value(3));
    EXPECT_EQ(hex(*p.value(4)), "01");
    EXPECT_EQ(p.value(5), "lit");
    EXPECT_FALSE(p.value(6));
    EXPECT_EQ(p.value(7), "view");
    EXPECT_EQ(p.value(8)->size(), 8u);
    // Empty strings are values, not NULL.
    p.add(std::string());
    EXPECT_EQ(p.value(9), std::string_view());
}

TEST(param_list, one_buffer_and_clear_keeps_capacity)
{
    param_list p;
    p.reserve(4, 64);
    p.add(std::int64_t{1});
    p.add(std::string(10, 'x'));
    EXPECT_EQ(p.byte_size(), 18u);
    // Values are views into one contiguous buffer, back to back.
    EXPECT_EQ(p.value(0)->data() + 8, p.value(1)->data());
    p.clear();
    EXPECT_EQ(p.size(), 0u);
    EXPECT_TRUE(p.oids().empty());
    p.add(std::int16_t{7});
    EXPECT_EQ(hex(*p.value(0)), "00 07");
}

TEST(param_list, failed_add_leaves_list_unchanged)
{
    param_list p;
    p.add(std::int32_t{1});
    EXPECT_THROW(p.add(std::chrono::microseconds(-5)), error_with_diagnostics); // not a time of day
    EXPECT_THROW(p.add(std::optional<std::string>(std::string("\0", 1))), error_with_diagnostics);
    EXPECT_EQ(p.size(), 1u);
    EXPECT_EQ(p.byte_size(), 4u);
}
