// numeric, arrays, enums, inet/cidr/macaddr, money. Expected bytes come from the server's
// *_send functions (numeric_send, array_send, inet_send, ...).
#include "test_util.hpp"

using namespace sleet;
using namespace sleet_test;
using wire::format;

namespace {
numeric num(std::string_view s)
{
    auto n = numeric::parse(s);
    EXPECT_TRUE(n) << s;
    return n.value_or(numeric{});
}
} // namespace

TEST(types_numeric, parse_and_canonical_text)
{
    EXPECT_EQ(num("123.4500").to_string(), "123.4500");
    EXPECT_EQ(num("+007.5").to_string(), "7.5");
    EXPECT_EQ(num("-.5").to_string(), "-0.5");
    EXPECT_EQ(num("-0.00").to_string(), "0.00");
    EXPECT_EQ(num("1.5e-3").to_string(), "0.0015");
    EXPECT_EQ(num("1.5E3").to_string(), "1500");
    EXPECT_EQ(num("-1e-20").to_string(), "-0.00000000000000000001");
    EXPECT_EQ(num("nan").to_string(), "NaN");
    EXPECT_EQ(num("-inf").to_string(), "-Infinity");
    EXPECT_TRUE(num("Infinity").is_infinite());
    EXPECT_FALSE(numeric::parse("1.2.3"));
    EXPECT_FALSE(numeric::parse("abc"));
    EXPECT_FALSE(numeric::parse(""));
    EXPECT_EQ(num("1.25").scale(), 2);
    EXPECT_EQ(num("1.25").to_double(), 1.25);
    EXPECT_NE(num("1.0"), num("1.00")); // scale is part of the value
    EXPECT_EQ(numeric(-42).to_string(), "-42");
}

TEST(types_numeric, binary_matches_numeric_send)
{
    EXPECT_EQ(hex(bin(num("123.45"))), "00 02 00 00 00 00 00 02 00 7b 11 94");
    EXPECT_EQ(hex(bin(num("-0.001"))), "00 01 ff ff 40 00 00 03 00 0a");
    EXPECT_EQ(hex(bin(num("NaN"))), "00 00 00 00 c0 00 00 00");
    EXPECT_EQ(hex(bin(num("Infinity"))), "00 00 00 00 d0 00 00 00");
    EXPECT_EQ(hex(bin(num("-Infinity"))), "00 00 00 00 f0 00 00 00");
    EXPECT_EQ(hex(bin(num("10000"))), "00 01 00 01 00 00 00 00 00 01");
    EXPECT_EQ(hex(bin(num("0.00"))), "00 00 00 00 00 00 00 02");
    EXPECT_EQ(hex(bin(num("12345678.9"))), "00 03 00 01 00 00 00 01 04 d2 16 2e 23 28");
    EXPECT_EQ(hex(bin(num("-1e-20"))), "00 01 ff fb 40 00 00 14 00 01");
    // The server sends dscale 32 with infinities; it is ignored.
    EXPECT_EQ(from_bin<numeric>(unhex("00000000d0000020"), oid::numeric).to_string(), "Infinity");
}

TEST(types_numeric, round_trips)
{
    for (auto s : {"0", "0.00", "123.45", "-0.001", "10000", "12345678.9", "-0.00000000000000000001",
                   "99999999999999999999999999999999999999.000000000000000000001", "NaN", "Infinity", "-Infinity",
                   "1.10", "-9999.9999"}) {
        EXPECT_EQ(from_bin<numeric>(bin(num(s)), oid::numeric).to_string(), s);
        EXPECT_EQ(from_txt<numeric>(txt(num(s)), oid::numeric).to_string(), s);
    }
    auto r = decode_err<numeric>(unhex("0001000000000000270f0000"), oid::numeric, format::binary, "price");
    EXPECT_EQ(r.ec, errc::invalid_value);
    EXPECT_EQ(r.message, "column \"price\" of type numeric holds an invalid binary value for sleet::numeric: "
                         "malformed binary numeric header");
    // numeric never reads into an integer or a double implicitly.
    EXPECT_EQ(decode_err<double>(std::string_view("1.5"), oid::numeric, format::text).ec, errc::type_mismatch);
}

TEST(types_array, vector_binary_matches_array_send)
{
    std::vector<std::optional<std::int32_t>> v{1, std::nullopt, 3};
    EXPECT_EQ(bin(v), unhex("00000001000000010000001700000003000000010000000400000001ffffffff0000000400000003"));
    EXPECT_EQ(from_bin<std::vector<std::optional<std::int32_t>>>(bin(v), oid::int4_array), v);
    EXPECT_EQ(hex(bin(std::vector<std::int32_t>{})), "00 00 00 00 00 00 00 00 00 00 00 17");
    EXPECT_EQ(from_bin<std::vector<std::int32_t>>(unhex("000000000000000000000017"), oid::int4_array),
              std::vector<std::int32_t>{});
    // text[] {a}
    EXPECT_EQ(from_bin<std::vector<std::string>>(unhex("00000001000000000000001900000001000000010000000161"),
                                                 oid::text_array),
              std::vector<std::string>{"a"});
    // An int8 reads int4[] elements (wider reads narrower).
    EXPECT_EQ(from_bin<std::vector<std::int64_t>>(bin(std::vector<std::int32_t>{7, -7}), oid::int4_array),
              (std::vector<std::int64_t>{7, -7}));
    std::vector<bool> flags{true, false, true};
    EXPECT_EQ(from_bin<std::vector<bool>>(bin(flags), oid::bool_array), flags);
}

TEST(types_array, parameters)
{
    auto p = make_params(std::vector<std::int64_t>{1, 2}, std::vector<std::string>{"a", "b\"c", "d\\e", ""},
                         std::vector<std::optional<std::string>>{std::string("x"), std::nullopt});
    EXPECT_EQ(p.oids()[0], oid::int8_array);
    EXPECT_EQ(p.formats()[0], format::binary);
    // Strings go as a text literal with OID 0, so `= ANY($1)` works against any column type.
    EXPECT_EQ(p.oids()[1], 0u);
    EXPECT_EQ(p.formats()[1], format::text);
    EXPECT_EQ(p.value(1), R"({"a","b\"c","d\\e",""})");
    EXPECT_EQ(p.value(2), R"({"x",NULL})");
}

TEST(types_array, text_literals_as_the_server_prints_them)
{
    using opt_strings = std::vector<std::optional<std::string>>;
    EXPECT_EQ(from_txt<opt_strings>(R"({"a b",NULL,"","x\\y","NULL","q\"z",plain, spaced })", oid::text_array),
              (opt_strings{"a b", std::nullopt, "", "x\\y", "NULL", "q\"z", "plain", "spaced"}));
    EXPECT_EQ(from_txt<std::vector<std::int32_t>>("{1,2,3}", oid::int4_array), (std::vector<std::int32_t>{1, 2, 3}));
    EXPECT_EQ(from_txt<std::vector<std::int32_t>>("{}", oid::int4_array), std::vector<std::int32_t>{});
    auto m = from_txt<pg_array<std::int16_t>>("{{1,2},{3,4},{5,6}}", oid::int2_array);
    EXPECT_EQ(m.dims, (std::vector<std::int32_t>{3, 2}));
    EXPECT_EQ(m.lower_bounds, (std::vector<std::int32_t>{1, 1}));
    EXPECT_EQ(m.elements, (std::vector<std::int16_t>{1, 2, 3, 4, 5, 6}));
    auto lb = from_txt<pg_array<std::int32_t>>("[0:1]={1,2}", oid::int4_array);
    EXPECT_EQ(lb.lower_bounds, (std::vector<std::int32_t>{0}));
    EXPECT_EQ(txt(lb), R"([0:1]={"1","2"})");
    EXPECT_EQ(from_txt<pg_array<std::int32_t>>(txt(lb), oid::int4_array), lb);
    // std::vector would shift every index by one: refused, with where to read it instead.
    auto shifted = decode_err<std::vector<std::int32_t>>(std::string_view("[0:1]={1,2}"), oid::int4_array, format::text, "a");
    EXPECT_EQ(shifted.ec, make_error_code(errc::type_mismatch));
    EXPECT_EQ(shifted.message, "column \"a\" of type int4[] cannot be read as std::vector<std::int32_t>: the array starts "
                               "at index 0, not 1; read it as sleet::pg_array to keep its lower bound");
    // Dates inside an array are decoded by the date codec.
    auto days = from_txt<std::vector<std::chrono::sys_days>>("{2024-02-29,infinity}", 1182);
    ASSERT_EQ(days.size(), 2u);
    EXPECT_EQ(days[1], date_infinity);
}

TEST(types_array, multi_dimensional_binary)
{
    // array_send('{{1,2},{3,4}}'::int2[])
    const auto b = unhex("00000002000000000000001500000002000000010000000200000001000000020001000000020002000000020003000000020004");
    auto m = from_bin<pg_array<std::int16_t>>(b, oid::int2_array);
    EXPECT_EQ(m.dims, (std::vector<std::int32_t>{2, 2}));
    EXPECT_EQ(m.elements, (std::vector<std::int16_t>{1, 2, 3, 4}));
    EXPECT_EQ(bin(m), b);
    EXPECT_EQ(txt(m), R"({{"1","2"},{"3","4"}})");
    EXPECT_EQ(from_txt<pg_array<std::int16_t>>(txt(m), oid::int2_array), m);
    // A vector cannot hold two dimensions.
    auto r = decode_err<std::vector<std::int16_t>>(b, oid::int2_array, format::binary, "grid");
    EXPECT_EQ(r.ec, errc::type_mismatch);
    EXPECT_EQ(r.message, "column \"grid\" of type int2[] cannot be read as std::vector<std::int16_t>: "
                         "the array has 2 dimensions; read it as sleet::pg_array");
    pg_array<std::int32_t> bad{{2, 2}, {}, {1, 2, 3}};
    EXPECT_THROW(bin(bad), error_with_diagnostics);
}

TEST(types_array, errors)
{
    // The user sees: column "ids" of type int4[] holds a NULL that the C++ type
    // std::vector<std::int32_t> cannot take: element 2 is NULL; read it as std::optional
    auto r = decode_err<std::vector<std::int32_t>>(std::string_view("{1,NULL}"), oid::int4_array, format::text, "ids");
    EXPECT_EQ(r.ec, errc::null_value);
    EXPECT_EQ(r.message, "column \"ids\" of type int4[] holds a NULL that the C++ type std::vector<std::int32_t> "
                         "cannot take: element 2 is NULL; read it as std::optional");
    r = decode_err<std::vector<std::int16_t>>(std::string_view("{1}"), oid::int8_array, format::text, "ids");
    EXPECT_EQ(r.ec, errc::type_mismatch);
    EXPECT_EQ(r.message, "column \"ids\" of type int8[] cannot be read as std::vector<std::int16_t>");
    r = decode_err<std::vector<std::int32_t>>(std::string_view("{1,x}"), oid::int4_array, format::text, "ids");
    EXPECT_EQ(r.ec, errc::invalid_value);
    EXPECT_EQ(r.message, "column \"ids\" of type int4[] holds an invalid text value for std::vector<std::int32_t>: "
                         "element 2: not an integer: \"x\"");
    r = decode_err<std::vector<std::int32_t>>(std::string_view("{{1},{2,3}}"), oid::int4_array, format::text);
    EXPECT_EQ(r.ec, errc::invalid_value);
    EXPECT_EQ(r.message, "column \"c\" of type int4[] holds an invalid text value for std::vector<std::int32_t>: "
                         "not an array literal: \"{{1},{2,3}}\"");
    // Binary array whose element type the C++ type cannot read.
    r = decode_err<std::vector<std::int16_t>>(bin(std::vector<std::int64_t>{1}), 16500, format::binary, "x");
    EXPECT_EQ(r.ec, errc::type_mismatch);
    EXPECT_EQ(r.message, "column \"x\" of type oid 16500 cannot be read as std::vector<std::int16_t>: "
                         "its elements are of type int8");
}

namespace {
enum class mood { sad, ok, happy, unnamed };
} // namespace
template <>
struct sleet::pg_enum<mood> {
    static constexpr std::string_view type_name = "mood";
    static constexpr std::pair<mood, std::string_view> labels[] = {
        {mood::sad, "sad"}, {mood::ok, "ok"}, {mood::happy, "happy"}};
};

TEST(types_enum, labels)
{
    static_assert(pg_mappable<mood>);
    auto p = make_params(mood::happy, std::vector<mood>{mood::sad, mood::ok});
    EXPECT_EQ(p.value(0), "happy");
    EXPECT_EQ(p.oids()[0], 0u);
    EXPECT_EQ(p.formats()[0], format::text);
    EXPECT_EQ(p.value(1), R"({"sad","ok"})");
    EXPECT_EQ(from_txt<mood>("ok", 16400), mood::ok);
    EXPECT_EQ(from_bin<mood>("sad", 16400), mood::sad); // enum_send is the label
    EXPECT_EQ(from_txt<std::vector<mood>>("{happy,sad}", 16401), (std::vector<mood>{mood::happy, mood::sad}));
    auto r = decode_err<mood>(std::string_view("angry"), 16400, format::text, "m");
    EXPECT_EQ(r.ec, errc::invalid_value);
    EXPECT_EQ(r.message.find("column \"m\" of type oid 16400 holds an invalid text value for enum "), 0u) << r.message;
    EXPECT_NE(r.message.find(": unknown label \"angry\" for enum mood"), std::string::npos) << r.message;
    EXPECT_EQ(decode_err<mood>(std::string_view("1"), oid::int4, format::text).ec, errc::type_mismatch);
    EXPECT_THROW(p.add(mood::unnamed), error_with_diagnostics);
}

TEST(types_enum, declared_type_names_travel_with_parameters_and_are_checked_when_known)
{
    // Parameters record the mapping's type_name (for the connection to resolve once); others
    // record nothing, and a list with no named parameter has no names at all.
    auto p = make_params(std::int32_t{1}, mood::ok, std::optional<mood>{}, std::string("x"));
    ASSERT_EQ(p.type_names().size(), 3u);
    EXPECT_EQ(p.type_names()[0], "");
    EXPECT_EQ(p.type_names()[1], "mood");
    EXPECT_EQ(p.type_names()[2], "mood");
    EXPECT_TRUE(make_params(1, std::string("y")).type_names().empty());
    // Names match unqualified in any schema, qualified exactly.
    EXPECT_TRUE(type_name_matches("mood", "public.mood"));
    EXPECT_TRUE(type_name_matches("app.mood", "app.mood"));
    EXPECT_FALSE(type_name_matches("app.mood", "public.mood"));
    EXPECT_FALSE(type_name_matches("mood", "public.mood2"));
    EXPECT_FALSE(type_name_matches("mood", "public.mood[]"));
    // A column whose type the connection has named: another type is a mismatch before any
    // label is looked at; the right one decodes; an unnamed user type is still accepted.
    mood out{};
    diagnostics diag;
    column_info other{"m", 16500, format::text, "public.color"};
    EXPECT_EQ(decode_field(other, std::optional<std::string_view>("ok"), out, diag), errc::type_mismatch);
    EXPECT_EQ(diag.client_message().find("column \"m\" of type public.color cannot be read as enum "), 0u) << diag.client_message();
    column_info right{"m", 16400, format::text, "public.mood"};
    EXPECT_FALSE(decode_field(right, std::optional<std::string_view>("ok"), out, diag));
    EXPECT_EQ(out, mood::ok);
    column_info unnamed{"m", 16400, format::text};
    EXPECT_FALSE(decode_field(unnamed, std::optional<std::string_view>("happy"), out, diag));
    EXPECT_EQ(out, mood::happy);
}

TEST(types_network, inet_cidr_macaddr)
{
    auto a = inet::parse("192.168.1.5/24");
    ASSERT_TRUE(a);
    EXPECT_EQ(bin(*a), unhex("02180004c0a80105"));
    EXPECT_EQ(a->to_string(), "192.168.1.5/24");
    EXPECT_EQ(inet::parse("192.168.1.5/32")->to_string(), "192.168.1.5");
    auto v6 = inet::parse("::1");
    ASSERT_TRUE(v6);
    EXPECT_EQ(bin(*v6), unhex("0380001000000000000000000000000000000001"));
    EXPECT_EQ(from_bin<inet>(bin(*v6), oid::inet), *v6);
    EXPECT_EQ(from_txt<inet>("2001:db8::1/64", oid::inet).to_string(), "2001:db8::1/64");
    EXPECT_FALSE(inet::parse("300.1.1.1"));
    EXPECT_FALSE(inet::parse("10.0.0.1/33"));

    auto net = cidr::parse("10.0.0.0/8");
    ASSERT_TRUE(net);
    EXPECT_EQ(bin(*net), unhex("020801040a000000"));
    EXPECT_EQ(net->to_string(), "10.0.0.0/8");
    EXPECT_EQ(cidr::parse("10.1.2.3/32")->to_string(), "10.1.2.3/32");
    EXPECT_FALSE(cidr::parse("10.0.0.1/8")); // host bits set
    EXPECT_EQ(from_txt<cidr>("2001:db8::/32", oid::cidr).to_string(), "2001:db8::/32");
    // inet reads cidr, cidr does not read inet.
    EXPECT_EQ(from_bin<inet>(bin(*net), oid::cidr).prefix_length, 8);
    EXPECT_EQ(decode_err<cidr>(bin(*a), oid::inet, format::binary).ec, errc::type_mismatch);
    cidr bad;
    static_cast<inet&>(bad) = *a;
    EXPECT_THROW(bin(bad), error_with_diagnostics);

    auto mac = macaddr::parse("08:00:2b:01:02:03");
    ASSERT_TRUE(mac);
    EXPECT_EQ(bin(*mac), unhex("08002b010203"));
    EXPECT_EQ(mac->to_string(), "08:00:2b:01:02:03");
    EXPECT_EQ(macaddr::parse("08-00-2B-01-02-03"), mac);
    EXPECT_EQ(macaddr::parse("0800.2b01.0203"), mac);
    EXPECT_EQ(macaddr::parse("08002b010203"), mac);
    EXPECT_FALSE(macaddr::parse("08:00:2b:01:02"));
    EXPECT_EQ(from_txt<macaddr>("08:00:2b:01:02:03", oid::macaddr), *mac);
}

TEST(types_money, binary_and_text)
{
    EXPECT_EQ(hex(bin(money{1234})), "00 00 00 00 00 00 04 d2"); // cash_send('12.34')
    EXPECT_EQ(txt(money{-123456}), "-1234.56");
    EXPECT_EQ(txt(money{5}), "0.05");
    EXPECT_EQ(from_txt<money>("-$1,234.56", oid::money), money{-123456});
    EXPECT_EQ(from_txt<money>("($1.00)", oid::money), money{-100});
    EXPECT_EQ(from_txt<money>("$0.05", oid::money), money{5});
    EXPECT_EQ(from_bin<money>(bin(money{INT64_MIN}), oid::money), money{INT64_MIN});
    EXPECT_EQ(from_txt<money>("-$92,233,720,368,547,758.08", oid::money), money{INT64_MIN});
    EXPECT_EQ(decode_err<money>(std::string_view("$92,233,720,368,547,758.08"), oid::money, format::text).ec,
              errc::value_out_of_range);
}
