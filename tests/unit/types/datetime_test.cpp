// date, timestamp, timestamptz, time, timetz, interval: bytes from the server's *_send
// functions, ISO text as the server prints it (DateStyle ISO, TimeZone UTC).
#include "test_util.hpp"

using namespace sleet;
using namespace sleet_test;
using namespace std::chrono;
using wire::format;

namespace {
sys_days ymd(int y, unsigned m, unsigned d) { return sys_days(year{y} / month{m} / day{d}); }
timestamptz_t utc(int y, unsigned m, unsigned d, std::int64_t us_of_day = 0)
{
    return timestamptz_t(ymd(y, m, d).time_since_epoch() + microseconds(us_of_day));
}
timestamp_t local(int y, unsigned m, unsigned d, std::int64_t us_of_day = 0)
{
    return timestamp_t(ymd(y, m, d).time_since_epoch() + microseconds(us_of_day));
}
constexpr std::int64_t h = 3'600'000'000;
} // namespace

TEST(types_date, binary_epoch_and_infinity)
{
    EXPECT_EQ(hex(bin(ymd(2000, 1, 1))), "00 00 00 00");   // date_send('2000-01-01')
    EXPECT_EQ(hex(bin(date_infinity)), "7f ff ff ff");
    EXPECT_EQ(hex(bin(date_minus_infinity)), "80 00 00 00");
    EXPECT_EQ(from_bin<sys_days>(bytes({0x7f, 0xff, 0xff, 0xff}), oid::date), date_infinity);
    EXPECT_EQ(from_bin<sys_days>(bytes({0x80, 0, 0, 0}), oid::date), date_minus_infinity);
    EXPECT_EQ(from_bin<sys_days>(bytes({0xff, 0xff, 0xff, 0xff}), oid::date), ymd(1999, 12, 31));
}

TEST(types_date, text)
{
    EXPECT_EQ(from_txt<sys_days>("2024-02-29", oid::date), ymd(2024, 2, 29));
    EXPECT_EQ(from_txt<sys_days>("0044-03-15 BC", oid::date), ymd(-43, 3, 15)); // 44 BC is year -43
    EXPECT_EQ(from_txt<sys_days>("10000-01-01", oid::date), ymd(10000, 1, 1));
    EXPECT_EQ(from_txt<sys_days>("infinity", oid::date), date_infinity);
    EXPECT_EQ(from_txt<sys_days>("-infinity", oid::date), date_minus_infinity);
    EXPECT_EQ(txt(ymd(2024, 2, 29)), "2024-02-29");
    EXPECT_EQ(txt(ymd(-43, 3, 15)), "0044-03-15 BC");
    EXPECT_EQ(txt(ymd(10000, 1, 1)), "10000-01-01");
    EXPECT_EQ(txt(date_infinity), "infinity");
    auto r = decode_err<sys_days>(std::string_view("2023-02-29"), oid::date, format::text, "born");
    EXPECT_EQ(r.ec, errc::invalid_value);
    EXPECT_EQ(r.message, "column \"born\" of type date holds an invalid text value for std::chrono::sys_days: "
                         "not an ISO date: \"2023-02-29\"");
}

TEST(types_date, round_trips)
{
    for (auto d : {ymd(2000, 1, 1), ymd(1970, 1, 1), ymd(-4712, 1, 1), sys_days(days(detail::days_from_civil(5874897, 12, 31))), ymd(1582, 10, 15),
                   date_infinity, date_minus_infinity}) {
        EXPECT_EQ(from_bin<sys_days>(bin(d), oid::date), d);
        EXPECT_EQ(from_txt<sys_days>(txt(d), oid::date), d);
    }
}

TEST(types_timestamp, binary)
{
    // timestamp_send('1970-01-01') = -946684800000000 µs
    EXPECT_EQ(hex(bin(local(1970, 1, 1))), "ff fc a2 fe c4 c8 20 00");
    EXPECT_EQ(hex(bin(timestamp_infinity)), "7f ff ff ff ff ff ff ff");
    EXPECT_EQ(hex(bin(timestamptz_minus_infinity)), "80 00 00 00 00 00 00 00");
    // timestamptz_send('2024-02-29 12:34:56.123456+00')
    auto t = utc(2024, 2, 29, 12 * h + 34 * 60'000'000LL + 56'123'456);
    EXPECT_EQ(bin(t), unhex("0002b58341685e40"));
    EXPECT_EQ(from_bin<timestamptz_t>(unhex("0002b58341685e40"), oid::timestamptz), t);
    EXPECT_EQ(from_bin<timestamptz_t>(unhex("7fffffffffffffff"), oid::timestamptz), timestamptz_infinity);
}

TEST(types_timestamp, text_as_the_server_prints_it)
{
    EXPECT_EQ(from_txt<timestamptz_t>("2024-02-29 12:34:56.123456+00", oid::timestamptz),
              utc(2024, 2, 29, 12 * h + 34 * 60'000'000LL + 56'123'456));
    // Fractions of any length up to 6 digits.
    EXPECT_EQ(from_txt<timestamptz_t>("2024-02-29 07:04:56.1+00", oid::timestamptz),
              utc(2024, 2, 29, 7 * h + 4 * 60'000'000LL + 56'100'000));
    EXPECT_EQ(from_txt<timestamp_t>("2024-01-01 00:00:00.000001", oid::timestamp), local(2024, 1, 1, 1));
    EXPECT_EQ(from_txt<timestamp_t>("2024-01-01 00:00:00.12", oid::timestamp), local(2024, 1, 1, 120'000));
    // Offsets: hours, hours:minutes, and the historical hours:minutes:seconds.
    EXPECT_EQ(from_txt<timestamptz_t>("2024-02-29 12:34:56+05:30", oid::timestamptz),
              utc(2024, 2, 29, 7 * h + 4 * 60'000'000LL + 56'000'000));
    EXPECT_EQ(from_txt<timestamptz_t>("1900-01-01 00:00:00-00:01:15", oid::timestamptz),
              utc(1900, 1, 1, 75'000'000));
    // BC goes after the offset.
    EXPECT_EQ(from_txt<timestamptz_t>("0044-03-15 12:00:00+00 BC", oid::timestamptz), utc(-43, 3, 15, 12 * h));
    EXPECT_EQ(from_txt<timestamp_t>("0044-03-15 12:00:00 BC", oid::timestamp), local(-43, 3, 15, 12 * h));
    EXPECT_EQ(from_txt<timestamptz_t>("infinity", oid::timestamptz), timestamptz_infinity);
    EXPECT_EQ(from_txt<timestamp_t>("-infinity", oid::timestamp), timestamp_minus_infinity);

    EXPECT_EQ(txt(utc(2024, 2, 29, 12 * h + 56'100'000)), "2024-02-29 12:00:56.1+00");
    EXPECT_EQ(txt(local(-43, 3, 15, 12 * h)), "0044-03-15 12:00:00 BC");
    EXPECT_EQ(txt(utc(-43, 3, 15, 12 * h)), "0044-03-15 12:00:00+00 BC");

    auto r = decode_err<timestamp_t>(std::string_view("2024-01-01 10:00:00+00"), oid::timestamp, format::text);
    EXPECT_EQ(r.ec, errc::invalid_value);
    EXPECT_EQ(r.message, "column \"c\" of type timestamp holds an invalid text value for "
                         "std::chrono::local_time<std::chrono::microseconds>: not an ISO timestamp: \"2024-01-01 10:00:00+00\"");
}

TEST(types_timestamp, round_trips)
{
    for (auto t : {utc(2000, 1, 1), utc(1969, 12, 31, 24 * h - 1), utc(-4713, 11, 24), timestamptz_t(sys_days(days(detail::days_from_civil(294246, 12, 31))).time_since_epoch() + microseconds(24 * h - 1)),
                   timestamptz_infinity, timestamptz_minus_infinity}) {
        EXPECT_EQ(from_bin<timestamptz_t>(bin(t), oid::timestamptz), t);
        EXPECT_EQ(from_txt<timestamptz_t>(txt(t), oid::timestamptz), t);
    }
    auto l = local(1, 1, 1, 1);
    EXPECT_EQ(from_txt<timestamp_t>(txt(l), oid::timestamp), l);
    // system_clock::time_point is truncated to microseconds.
    sys_time<nanoseconds> ns = utc(2024, 1, 1) + nanoseconds(1'999);
    EXPECT_EQ(from_bin<sys_time<nanoseconds>>(bin(ns), oid::timestamptz), utc(2024, 1, 1) + microseconds(1));
}

TEST(types_timestamp, values_past_the_range_are_refused)
{
    // A timestamp more than 2^63 µs before 2000 cannot be sent.
    EXPECT_THROW(bin(timestamptz_t(microseconds(std::numeric_limits<std::int64_t>::min() + 1))), error_with_diagnostics);
    decode_result r0;
    EXPECT_THROW(bin(sys_days(days(std::int64_t{1} << 40))), error_with_diagnostics);
    // PostgreSQL's last timestamps (up to 294276 AD) lie past what 1970-based 64-bit
    // microseconds hold (about 294247 AD): they read as value_out_of_range, never wrapped.
    r0 = decode_err<timestamptz_t>(std::string_view("294276-12-31 23:59:59.999999+00"), oid::timestamptz, format::text);
    EXPECT_EQ(r0.ec, errc::value_out_of_range);
    auto r = decode_err<timestamptz_t>(unhex("7ffffffffffffffe"), oid::timestamptz, format::binary);
    EXPECT_EQ(r.ec, errc::value_out_of_range);
}

TEST(types_time, time_and_timetz)
{
    auto t = microseconds(12 * h + 34 * 60'000'000LL + 56'500'000);
    EXPECT_EQ(bin(t), unhex("0000000a8be1bd20")); // time_send('12:34:56.5')
    EXPECT_EQ(txt(t), "12:34:56.5");
    EXPECT_EQ(from_txt<microseconds>("12:34:56.5", oid::time), t);
    EXPECT_EQ(from_txt<microseconds>("24:00:00", oid::time), microseconds(24 * h));
    EXPECT_EQ(from_bin<microseconds>(bin(t), oid::time), t);
    EXPECT_THROW(bin(microseconds(-1)), error_with_diagnostics);

    time_tz tz{microseconds(12 * h + 34 * 60'000'000LL + 56'000'000), seconds(19800)};
    EXPECT_EQ(bin(tz), unhex("0000000a8bda1c00ffffb2a8")); // timetz_send('12:34:56+05:30'): zone is seconds west
    EXPECT_EQ(txt(tz), "12:34:56+05:30");
    EXPECT_EQ(from_bin<time_tz>(bin(tz), oid::timetz), tz);
    EXPECT_EQ(from_txt<time_tz>("12:34:56+05:30", oid::timetz), tz);
    time_tz west{microseconds(1), seconds(-3 * 3600)};
    EXPECT_EQ(from_txt<time_tz>(txt(west), oid::timetz), west);
}

TEST(types_interval, binary_and_text)
{
    interval iv{14, 3, 4 * h + 5 * 60'000'000LL + 6'789'000};
    EXPECT_EQ(bin(iv), unhex("000000036c97ca88000000030000000e")); // interval_send('1 year 2 mons 3 days 04:05:06.789')
    EXPECT_EQ(from_bin<interval>(bin(iv), oid::interval), iv);
    EXPECT_EQ(from_txt<interval>("1 year 2 mons 3 days 04:05:06.789", oid::interval), iv);
    EXPECT_EQ(from_txt<interval>("-1 years -2 mons +3 days -04:05:06.5", oid::interval),
              (interval{-14, 3, -(4 * h + 5 * 60'000'000LL + 6'500'000)}));
    EXPECT_EQ(from_txt<interval>("1 day", oid::interval), (interval{0, 1, 0}));
    EXPECT_EQ(from_txt<interval>("-00:00:01", oid::interval), (interval{0, 0, -1'000'000}));
    EXPECT_EQ(from_txt<interval>("00:00:00", oid::interval), interval{});
    EXPECT_EQ(from_txt<interval>("P1Y2M3DT4H5M6.789S", oid::interval), iv);
    EXPECT_EQ(from_txt<interval>("PT-1.5S", oid::interval), (interval{0, 0, -1'500'000}));
    EXPECT_EQ(txt(iv), "14 mons 3 days 04:05:06.789");
    interval neg{-1, -2, -90'000'000};
    EXPECT_EQ(txt(neg), "-1 mons -2 days -00:01:30");
    EXPECT_EQ(from_txt<interval>(txt(neg), oid::interval), neg);
    interval extreme{std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max(),
                     std::numeric_limits<std::int64_t>::min()};
    EXPECT_EQ(from_bin<interval>(bin(extreme), oid::interval), extreme);
    auto r = decode_err<interval>(std::string_view("3 fortnights"), oid::interval, format::text);
    EXPECT_EQ(r.message, "column \"c\" of type interval holds an invalid text value for sleet::interval: "
                         "not an interval: \"3 fortnights\"");
}
