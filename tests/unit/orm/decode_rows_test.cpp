// Decoding results into typed rows (select_query::decode, as the database calls it), on results
// built by hand the way the connection builds them (set_columns + append_row with binary fields).
// decode_rows checks each column's type once per result and then decodes the fields without
// per-field checks; these tests pin that the values and every error message stay those of
// row_view::get<T>, field by field.
#include <sleet/query/builders.hpp>
#include <sleet/result.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace {

namespace pg = sleet::pg;
using sleet::errc;
using sleet::oid_t;

template <template <class> class C>
struct people_columns {
    C<pg::integer<"id", pg::not_null>> id{};
    C<pg::text<"email", pg::not_null>> email{};
    C<pg::text<"name">> name{};
    C<pg::numeric<"balance", 12, 4>> balance{};
};
using people_t = sleet::table<"people", people_columns>;
constexpr people_t people{};

using whole_query = decltype(sleet::select().from(people));
using partial_query = decltype(sleet::select(people.id, people.name).from(people));

sleet::column col(std::string name, oid_t t)
{
    sleet::column c;
    c.name = std::move(name);
    c.type_oid = t;
    c.format = sleet::wire::format::binary;
    return c;
}

std::vector<sleet::column> people_cols()
{
    std::vector<sleet::column> cols;
    cols.push_back(col("id", sleet::oid::int4));
    cols.push_back(col("email", sleet::oid::text));
    cols.push_back(col("name", sleet::oid::text));
    cols.push_back(col("balance", sleet::oid::numeric));
    return cols;
}

/// One DataRow field: 4-byte length (-1 for NULL), then the bytes.
void put_raw(std::string& body, std::optional<std::string> bytes)
{
    const auto n = bytes ? static_cast<std::uint32_t>(bytes->size()) : 0xFFFFFFFFu;
    for (int shift = 24; shift >= 0; shift -= 8) body += static_cast<char>((n >> shift) & 0xFF);
    if (bytes) body += *bytes;
}

template <class T>
void put(std::string& body, const T& v)
{
    std::string bytes;
    sleet::pg_type<T>::encode(v, bytes, sleet::wire::format::binary);
    put_raw(body, bytes);
}

void put_null(std::string& body) { put_raw(body, std::nullopt); }

void append(sleet::result& r, const std::string& body)
{
    ASSERT_FALSE(r.append_row(body, static_cast<std::int16_t>(r.columns().size())));
}

/// The client message of the error_with_diagnostics that `f` throws, checking its code.
template <class F>
std::string error_of(F&& f, errc expected)
{
    try {
        f();
    } catch (const sleet::error_with_diagnostics& e) {
        EXPECT_EQ(e.code(), sleet::make_error_code(expected));
        return e.get_diagnostics().client_message();
    }
    ADD_FAILURE() << "no error_with_diagnostics thrown";
    return {};
}

sleet::numeric num(std::string_view s) { return *sleet::numeric::parse(s); }

TEST(decode_rows, whole_table_rows_with_nulls)
{
    sleet::result r;
    r.set_columns(people_cols());
    std::string row1, row2;
    put(row1, std::int32_t{1});
    put(row1, std::string("ann@example.com"));
    put_null(row1);
    put(row1, num("-0.0010"));
    put(row2, std::int32_t{2});
    put(row2, std::string("a longer address than the small-string buffer@example.com"));
    put(row2, std::string("Bee"));
    put_null(row2);
    append(r, row1);
    append(r, row2);

    const std::vector<sleet::result> rs{r};
    const auto rows = whole_query::decode(rs);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].id, 1);
    EXPECT_EQ(rows[0].email, "ann@example.com");
    EXPECT_EQ(rows[0].name, std::nullopt);
    ASSERT_TRUE(rows[0].balance.has_value());
    EXPECT_EQ(rows[0].balance->to_string(), "-0.0010");
    EXPECT_EQ(rows[1].id, 2);
    EXPECT_EQ(rows[1].email, "a longer address than the small-string buffer@example.com");
    EXPECT_EQ(rows[1].name, std::optional<std::string>("Bee"));
    EXPECT_EQ(rows[1].balance, std::nullopt);
}

/// "n1", "n2", ... (appended, not `"n" + s`: GCC 12 warns falsely (-Wrestrict) on that at -O2).
std::string name_of(std::int32_t id)
{
    std::string s = "n";
    s += std::to_string(id);
    return s;
}

TEST(decode_rows, partial_selection_and_several_results)
{
    std::vector<sleet::column> cols;
    cols.push_back(col("id", sleet::oid::int4));
    cols.push_back(col("name", sleet::oid::varchar));
    std::vector<sleet::result> rs(3);
    std::int32_t id = 0;
    for (auto& r : rs) {
        r.set_columns(cols);
        if (&r == &rs[1]) continue; // an empty result in between adds no rows
        for (int i = 0; i < 2; ++i) {
            std::string body;
            put(body, ++id);
            put(body, name_of(id));
            append(r, body);
        }
    }
    const auto rows = partial_query::decode(rs);
    ASSERT_EQ(rows.size(), 4u);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        EXPECT_EQ(rows[i].get<"id">(), static_cast<std::int32_t>(i + 1));
        EXPECT_EQ(rows[i].get<"name">(), name_of(static_cast<std::int32_t>(i + 1)));
    }
}

TEST(decode_rows, null_in_a_not_null_field)
{
    sleet::result r;
    r.set_columns(people_cols());
    std::string ok, bad;
    put(ok, std::int32_t{1});
    put(ok, std::string("a@b"));
    put_null(ok);
    put_null(ok);
    put(bad, std::int32_t{2});
    put_null(bad);
    put_null(bad);
    put_null(bad);
    append(r, ok);
    append(r, bad);
    const std::vector<sleet::result> rs{r};
    // The user sees: column "email" is NULL but the C++ type std::string is not optional
    const std::string expected = "column \"email\" is NULL but the C++ type std::string is not optional";
    EXPECT_EQ(error_of([&] { (void)whole_query::decode(rs); }, errc::null_value), expected);
    EXPECT_EQ(error_of([&] { (void)r[1].get<std::string>(1); }, errc::null_value), expected);
}

TEST(decode_rows, column_type_mismatch)
{
    auto cols = people_cols();
    cols[0].type_oid = sleet::oid::int8;
    sleet::result r;
    r.set_columns(cols);
    std::string body;
    put(body, std::int64_t{1});
    put(body, std::string("a@b"));
    put_null(body);
    put_null(body);
    append(r, body);
    const std::vector<sleet::result> rs{r};
    // The user sees: column "id" of type int8 cannot be read as std::int32_t
    EXPECT_EQ(error_of([&] { (void)whole_query::decode(rs); }, errc::type_mismatch),
              "column \"id\" of type int8 cannot be read as std::int32_t");
}

TEST(decode_rows, optional_field_over_an_unreadable_column_fails_only_on_a_value)
{
    auto cols = people_cols();
    cols[2].type_oid = sleet::oid::int4; // "name" arrives as binary int4: std::string cannot read it
    sleet::result r;
    r.set_columns(cols);
    std::string body;
    put(body, std::int32_t{1});
    put(body, std::string("a@b"));
    put_null(body);
    put_null(body);
    append(r, body);
    // Every "name" is NULL: the rows decode, as they did field by field.
    const auto rows = whole_query::decode(std::vector<sleet::result>{r});
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].name, std::nullopt);

    std::string valued;
    put(valued, std::int32_t{2});
    put(valued, std::string("c@d"));
    put(valued, std::int32_t{7});
    put_null(valued);
    append(r, valued);
    const std::vector<sleet::result> rs{r};
    // The user sees: column "name" of type int4 cannot be read as std::string
    EXPECT_EQ(error_of([&] { (void)whole_query::decode(rs); }, errc::type_mismatch),
              "column \"name\" of type int4 cannot be read as std::string");
}

TEST(decode_rows, invalid_bytes_name_the_column)
{
    sleet::result r;
    r.set_columns(people_cols());
    std::string body;
    put_raw(body, std::string("\x00\x01\x02", 3)); // an int4 of 3 bytes
    put(body, std::string("a@b"));
    put_null(body);
    put_null(body);
    append(r, body);
    const std::vector<sleet::result> rs{r};
    // The user sees: column "id" of type int4 holds an invalid binary value for std::int32_t: expected 4 bytes, got 3
    const std::string expected = "column \"id\" of type int4 holds an invalid binary value for std::int32_t: expected 4 bytes, got 3";
    EXPECT_EQ(error_of([&] { (void)whole_query::decode(rs); }, errc::invalid_value), expected);
    EXPECT_EQ(error_of([&] { (void)r[0].get<std::int32_t>(0); }, errc::invalid_value), expected);
}

TEST(decode_rows, fewer_columns_than_fields)
{
    auto cols = people_cols();
    cols.pop_back();
    sleet::result r;
    r.set_columns(cols);
    // No rows: nothing to read, no error.
    EXPECT_TRUE(whole_query::decode(std::vector<sleet::result>{r}).empty());
    std::string body;
    put(body, std::int32_t{1});
    put(body, std::string("a@b"));
    put_null(body);
    append(r, body);
    const std::vector<sleet::result> rs{r};
    // The user sees: column index 3 is out of range: the result has 3 column(s)
    EXPECT_EQ(error_of([&] { (void)whole_query::decode(rs); }, errc::column_not_found),
              "column index 3 is out of range: the result has 3 column(s)");
}

/// A binary numeric from its header and base-10000 digits.
std::string numeric_bytes(std::int16_t weight, std::uint16_t sign, std::int16_t dscale, std::vector<std::int16_t> digits)
{
    std::string b;
    auto be16 = [&](std::uint16_t v) {
        b += static_cast<char>(v >> 8);
        b += static_cast<char>(v & 0xFF);
    };
    be16(static_cast<std::uint16_t>(digits.size()));
    be16(static_cast<std::uint16_t>(weight));
    be16(sign);
    be16(static_cast<std::uint16_t>(dscale));
    for (auto d : digits) be16(static_cast<std::uint16_t>(d));
    return b;
}

TEST(decode_rows, binary_numeric_reads_as_canonical_text)
{
    sleet::result r;
    r.set_columns({col("n", sleet::oid::numeric)});
    const std::string values[] = {"0", "0.000", "-0.001", "123.4500", "10000", "0.0001", "99990000.5",
                                  "-12345678901234567890.123456789", "1.5e-3", "NaN", "-Infinity"};
    for (const auto& v : values) {
        std::string body;
        put(body, num(v));
        append(r, body);
    }
    // A negative value that shows as zero at its scale is written without the sign, as the text form is.
    std::string body;
    put_raw(body, numeric_bytes(0, 0x4000, 2, {}));
    append(r, body);
    body.clear();
    put_raw(body, numeric_bytes(-2, 0x4000, 2, {5}));
    append(r, body);
    ASSERT_EQ(r.size(), std::size(values) + 2);
    for (std::size_t i = 0; i < std::size(values); ++i)
        EXPECT_EQ(r[i].get<sleet::numeric>(0).to_string(), num(values[i]).to_string()) << values[i];
    EXPECT_EQ(r[std::size(values)].get<sleet::numeric>(0).to_string(), "0.00");
    EXPECT_EQ(r[std::size(values) + 1].get<sleet::numeric>(0).to_string(), "0.00");
}

} // namespace
