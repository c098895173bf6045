// The worked example of docs/types.md, compiled and run: a user type mapped to PostgreSQL
// `point`. Keep the two in sync.
#include <sleet/types.hpp>

#include <gtest/gtest.h>

// --- begin docs/types.md example ---
#include <sleet/types.hpp>

#include <string>
#include <string_view>

struct point2d {
    double x = 0;
    double y = 0;
    bool operator==(const point2d&) const = default;
};

template <>
struct sleet::pg_type<point2d> {
    static constexpr std::string_view sql_name = "point";
    static constexpr std::string_view cpp_name = "point2d";      // optional: for error messages
    static constexpr sleet::oid_t oid = 600;                     // point's OID is fixed (built-in)
    static constexpr bool binary = false;                        // send parameters as text

    static bool accepts(sleet::oid_t t) noexcept { return t == 600; }

    // Text form "(x,y)"; reuse the double codec so NaN and Infinity are spelled right.
    static void encode(const point2d& p, std::string& out, sleet::wire::format f)
    {
        out += '(';
        pg_type<double>::encode(p.x, out, f);
        out += ',';
        pg_type<double>::encode(p.y, out, f);
        out += ')';
    }

    static sleet::error_code decode(std::string_view b, sleet::wire::format f, sleet::oid_t,
                                    point2d& out, sleet::diagnostics& diag)
    {
        using sleet::wire::format;
        if (f == format::binary) {            // two float8, as point_send writes them
            if (b.size() != 16) {
                diag.assign_client("a binary point has 16 bytes");
                return sleet::errc::invalid_value;
            }
            if (auto ec = pg_type<double>::decode(b.substr(0, 8), f, sleet::oid::float8, out.x, diag)) return ec;
            return pg_type<double>::decode(b.substr(8), f, sleet::oid::float8, out.y, diag);
        }
        auto comma = b.find(',');
        if (b.size() < 5 || b.front() != '(' || b.back() != ')' || comma == std::string_view::npos) {
            diag.assign_client("expected \"(x,y)\"");
            return sleet::errc::invalid_value;
        }
        if (auto ec = pg_type<double>::decode(b.substr(1, comma - 1), f, sleet::oid::float8, out.x, diag)) return ec;
        return pg_type<double>::decode(b.substr(comma + 1, b.size() - comma - 2), f, sleet::oid::float8, out.y, diag);
    }
};

static_assert(sleet::pg_mappable<point2d>);
// --- end docs/types.md example ---

using namespace sleet;

TEST(user_type, point2d_as_parameter)
{
    auto p = make_params(point2d{1.5, -2});
    EXPECT_EQ(p.oids()[0], 600u);
    EXPECT_EQ(p.formats()[0], wire::format::text);
    EXPECT_EQ(p.value(0), "(1.5,-2)");
}

TEST(user_type, point2d_from_text_and_binary)
{
    diagnostics diag;
    point2d pt;
    column_info col{"pos", 600, wire::format::text};
    EXPECT_FALSE(decode_field(col, std::optional<std::string_view>("(3,4.25)"), pt, diag));
    EXPECT_EQ(pt, (point2d{3, 4.25}));

    std::string bytes;
    pg_type<double>::encode(-1.0, bytes, wire::format::binary);
    pg_type<double>::encode(0.5, bytes, wire::format::binary);
    col.format = wire::format::binary;
    EXPECT_FALSE(decode_field(col, std::optional<std::string_view>(bytes), pt, diag));
    EXPECT_EQ(pt, (point2d{-1, 0.5}));

    std::optional<point2d> opt;
    EXPECT_FALSE(decode_field(col, std::nullopt, opt, diag));
    EXPECT_FALSE(opt);
}

TEST(user_type, point2d_errors_name_the_user_type)
{
    diagnostics diag;
    point2d pt;
    column_info col{"pos", oid::int4, wire::format::text};
    // The user sees: column "pos" of type int4 cannot be read as point2d
    EXPECT_EQ(decode_field(col, std::optional<std::string_view>("1"), pt, diag), errc::type_mismatch);
    EXPECT_EQ(diag.client_message(), "column \"pos\" of type int4 cannot be read as point2d");
    col.type_oid = 600;
    // The user sees: column "pos" of type oid 600 holds an invalid text value for point2d: expected "(x,y)"
    EXPECT_EQ(decode_field(col, std::optional<std::string_view>("1,2"), pt, diag), errc::invalid_value);
    EXPECT_EQ(diag.client_message(), "column \"pos\" of type oid 600 holds an invalid text value for point2d: expected \"(x,y)\"");
}

namespace user_test {
struct no_name_type {
    int v = 0;
};
} // namespace user_test
using user_test::no_name_type;
template <>
struct sleet::pg_type<no_name_type> {
    static constexpr std::string_view sql_name = "int4";
    static constexpr oid_t oid = 23;
    static constexpr bool binary = true;
    static bool accepts(oid_t t) noexcept { return t == 23; }
    static void encode(const no_name_type& v, std::string& out, wire::format f) { pg_type<int>::encode(v.v, out, f); }
    static error_code decode(std::string_view b, wire::format f, oid_t t, no_name_type& out, diagnostics& d)
    {
        return pg_type<int>::decode(b, f, t, out.v, d);
    }
};

TEST(user_type, without_cpp_name_the_compiler_spelling_is_used)
{
    auto name = cpp_type_name<no_name_type>();
    EXPECT_NE(name.find("no_name_type"), std::string::npos) << name;
    EXPECT_EQ(cpp_type_name<std::optional<std::int32_t>>(), "std::optional<std::int32_t>");
}
