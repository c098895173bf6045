// sleet::types — date, timestamp, timestamptz, time, timetz, interval.
#include <sleet/types/datetime.hpp>
#include <sleet/types/detail/codec.hpp>

#include <charconv>
#include <cstdio>
#include <limits>

namespace sleet {

namespace {

constexpr std::int64_t pg_epoch_unix_days = 10957;                 // 2000-01-01 - 1970-01-01
constexpr std::int64_t us_per_second = 1'000'000;
constexpr std::int64_t us_per_day = 86'400 * us_per_second;
constexpr std::int64_t pg_epoch_unix_us = pg_epoch_unix_days * us_per_day;
constexpr std::int64_t i64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t i64_min = std::numeric_limits<std::int64_t>::min();
constexpr std::int32_t i32_max = std::numeric_limits<std::int32_t>::max();
constexpr std::int32_t i32_min = std::numeric_limits<std::int32_t>::min();

bool is_binary(wire::format f) noexcept { return f == wire::format::binary; }

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept
{
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

struct civil {
    std::int64_t year; // astronomical: 0 is 1 BC
    unsigned month;
    unsigned day;
};

civil civil_from_days(std::int64_t z) noexcept
{
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<std::int64_t>(z - era * 146097);
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const auto d = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
    const auto m = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
    return {yoe + era * 400 + (m <= 2), m, d};
}

bool is_leap(std::int64_t y) noexcept { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

unsigned days_in_month(std::int64_t y, unsigned m) noexcept
{
    constexpr unsigned len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

void append_padded(std::string& out, std::int64_t v, int width)
{
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    for (auto n = res.ptr - buf; n < width; ++n) out.push_back('0');
    out.append(buf, res.ptr);
}

/// "YYYY-MM-DD" (year without sign; the caller appends " BC" when year <= 0).
void append_date(std::string& out, const civil& c)
{
    append_padded(out, c.year > 0 ? c.year : 1 - c.year, 4);
    out.push_back('-');
    append_padded(out, c.month, 2);
    out.push_back('-');
    append_padded(out, c.day, 2);
}

/// "HH:MM:SS[.ffffff]" with trailing zeros of the fraction removed, like the server. Hours
/// take as many digits as needed (intervals).
void append_time(std::string& out, std::uint64_t us)
{
    constexpr auto sec = static_cast<std::uint64_t>(us_per_second);
    append_padded(out, static_cast<std::int64_t>(us / (3600 * sec)), 2);
    out.push_back(':');
    append_padded(out, static_cast<std::int64_t>(us / (60 * sec) % 60), 2);
    out.push_back(':');
    append_padded(out, static_cast<std::int64_t>(us / sec % 60), 2);
    const auto frac = static_cast<std::int64_t>(us % sec);
    if (frac != 0) {
        std::string f;
        append_padded(f, frac, 6);
        while (f.back() == '0') f.pop_back();
        out.push_back('.');
        out += f;
    }
}

/// "+05:30", "-03:30:15", "+00" from an east-positive offset in seconds.
void append_offset(std::string& out, std::int64_t seconds)
{
    out.push_back(seconds < 0 ? '-' : '+');
    if (seconds < 0) seconds = -seconds;
    append_padded(out, seconds / 3600, 2);
    if (seconds % 3600 != 0) {
        out.push_back(':');
        append_padded(out, seconds / 60 % 60, 2);
        if (seconds % 60 != 0) {
            out.push_back(':');
            append_padded(out, seconds % 60, 2);
        }
    }
}

// --- text parsing --------------------------------------------------------------------------

class cursor {
public:
    explicit cursor(std::string_view s) noexcept : s_(s) {}
    bool eof() const noexcept { return i_ == s_.size(); }
    char peek() const noexcept { return eof() ? '\0' : s_[i_]; }
    bool lit(char c) noexcept
    {
        if (peek() != c || eof()) return false;
        ++i_;
        return true;
    }
    bool lit(std::string_view w) noexcept
    {
        if (s_.substr(i_, w.size()) != w) return false;
        i_ += w.size();
        return true;
    }
    /// Reads between min and max decimal digits.
    bool digits(std::size_t min, std::size_t max, std::int64_t& v, std::size_t* count = nullptr) noexcept
    {
        std::size_t n = 0;
        v = 0;
        while (!eof() && n < max && s_[i_] >= '0' && s_[i_] <= '9') {
            v = v * 10 + (s_[i_] - '0');
            ++i_;
            ++n;
        }
        if (count) *count = n;
        return n >= min;
    }
    bool at_digit() const noexcept { return !eof() && s_[i_] >= '0' && s_[i_] <= '9'; }

private:
    std::string_view s_;
    std::size_t i_ = 0;
};

bool parse_date_part(cursor& c, std::int64_t& y, unsigned& m, unsigned& d)
{
    std::int64_t mm = 0, dd = 0;
    if (!c.digits(1, 9, y) || !c.lit('-') || !c.digits(2, 2, mm) || !c.lit('-') || !c.digits(2, 2, dd))
        return false;
    m = static_cast<unsigned>(mm);
    d = static_cast<unsigned>(dd);
    return true;
}

/// HH:MM:SS[.f{1,6}] → microseconds since midnight (24:00:00 allowed).
bool parse_time_part(cursor& c, std::int64_t& us)
{
    std::int64_t h = 0, mi = 0, s = 0, frac = 0;
    if (!c.digits(2, 2, h) || !c.lit(':') || !c.digits(2, 2, mi) || !c.lit(':') || !c.digits(2, 2, s))
        return false;
    if (c.lit('.')) {
        std::size_t n = 0;
        if (!c.digits(1, 6, frac, &n)) return false;
        for (; n < 6; ++n) frac *= 10;
    }
    if (mi > 59 || s > 59 || h > 24) return false;
    us = ((h * 60 + mi) * 60 + s) * us_per_second + frac;
    return us <= us_per_day;
}

/// [+-]HH[:MM[:SS]] → east-positive seconds.
bool parse_offset(cursor& c, std::int64_t& seconds)
{
    bool neg = false;
    if (c.lit('-')) neg = true;
    else if (!c.lit('+')) return false;
    std::int64_t h = 0, m = 0, s = 0;
    if (!c.digits(2, 2, h)) return false;
    if (c.lit(':')) {
        if (!c.digits(2, 2, m)) return false;
        if (c.lit(':') && !c.digits(2, 2, s)) return false;
    }
    if (m > 59 || s > 59) return false;
    seconds = h * 3600 + m * 60 + s;
    if (neg) seconds = -seconds;
    return true;
}

bool make_days(std::int64_t year, bool bc, unsigned m, unsigned d, std::int64_t& days)
{
    if (year == 0 || m < 1 || m > 12) return false;
    const std::int64_t astro = bc ? 1 - year : year;
    if (d < 1 || d > days_in_month(astro, m)) return false;
    days = detail::days_from_civil(astro, m, d);
    return true;
}

std::string shown(std::string_view b)
{
    // Appends instead of operator+ chains: GCC 12 -O2/-O3 reports a false -Wrestrict on those.
    std::string out;
    out.reserve(66);
    out += '"';
    out.append(b.substr(0, 60));
    out += b.size() > 60 ? "...\"" : "\"";
    return out;
}

/// Parses the ISO text of a date or timestamp[tz]. unix_us for timestamps, unix days for dates.
error_code parse_datetime_text(std::string_view b, bool with_time, bool with_tz, std::int64_t& out,
                               diagnostics& d)
{
    if (b == "infinity") {
        out = i64_max;
        return {};
    }
    if (b == "-infinity") {
        out = i64_min;
        return {};
    }
    cursor c(b);
    std::int64_t y = 0, tod = 0, offset = 0;
    unsigned m = 0, day = 0;
    bool ok = parse_date_part(c, y, m, day);
    if (ok && with_time) ok = c.lit(' ') && parse_time_part(c, tod);
    if (ok && with_tz) ok = parse_offset(c, offset);
    bool bc = ok && c.lit(" BC");
    std::int64_t days = 0;
    if (!ok || !c.eof() || !make_days(y, bc, m, day, days)) {
        const char* what = with_tz ? "timestamptz" : with_time ? "timestamp" : "date";
        return detail::decode_fail(d, errc::invalid_value, std::string("not an ISO ") + what + ": " + shown(b));
    }
    if (!with_time) {
        out = days;
        return {};
    }
    std::int64_t us = 0;
    if (__builtin_mul_overflow(days, us_per_day, &us) || __builtin_add_overflow(us, tod, &us) ||
        __builtin_sub_overflow(us, offset * us_per_second, &us) || us == i64_max || us == i64_min)
        return detail::decode_fail(d, errc::value_out_of_range, shown(b));
    out = us;
    return {};
}

} // namespace

namespace detail {

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept
{
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const std::int64_t yoe = y - era * 400;
    const std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void encode_date(std::int64_t unix_days, std::string& out, wire::format f)
{
    std::int32_t pg = 0;
    if (unix_days == i64_max) pg = i32_max;
    else if (unix_days == i64_min) pg = i32_min;
    else {
        const std::int64_t v = unix_days - pg_epoch_unix_days; // cannot overflow: |unix_days| < 2^63 - 10957
        if (unix_days < i64_min + pg_epoch_unix_days || v <= i32_min || v >= i32_max)
            throw_encode_error(errc::value_out_of_range, "date out of range for PostgreSQL");
        pg = static_cast<std::int32_t>(v);
    }
    if (is_binary(f)) {
        be_append(out, pg);
        return;
    }
    if (pg == i32_max) out += "infinity";
    else if (pg == i32_min) out += "-infinity";
    else {
        auto c = civil_from_days(unix_days);
        append_date(out, c);
        if (c.year <= 0) out += " BC";
    }
}

error_code decode_date(std::string_view b, wire::format f, std::int64_t& unix_days, diagnostics& d)
{
    if (!is_binary(f)) return parse_datetime_text(b, false, false, unix_days, d);
    if (auto ec = expect_size(b, 4, d)) return ec;
    const auto pg = be_read<std::int32_t>(b.data());
    unix_days = pg == i32_max ? i64_max : pg == i32_min ? i64_min : pg + pg_epoch_unix_days;
    return {};
}

void encode_timestamp(std::int64_t unix_us, bool tz, std::string& out, wire::format f)
{
    std::int64_t pg = 0;
    if (unix_us == i64_max || unix_us == i64_min) pg = unix_us;
    else if (__builtin_sub_overflow(unix_us, pg_epoch_unix_us, &pg) || pg == i64_min)
        throw_encode_error(errc::value_out_of_range, "timestamp out of range for PostgreSQL");
    if (is_binary(f)) {
        be_append(out, pg);
        return;
    }
    if (pg == i64_max) out += "infinity";
    else if (pg == i64_min) out += "-infinity";
    else {
        const std::int64_t days = floor_div(unix_us, us_per_day);
        auto c = civil_from_days(days);
        append_date(out, c);
        out.push_back(' ');
        append_time(out, static_cast<std::uint64_t>(unix_us - days * us_per_day));
        if (tz) out += "+00";
        if (c.year <= 0) out += " BC";
    }
}

error_code decode_timestamp(std::string_view b, wire::format f, bool tz, std::int64_t& unix_us, diagnostics& d)
{
    if (!is_binary(f)) return parse_datetime_text(b, true, tz, unix_us, d);
    if (auto ec = expect_size(b, 8, d)) return ec;
    const auto pg = be_read<std::int64_t>(b.data());
    if (pg == i64_max || pg == i64_min) unix_us = pg;
    else if (__builtin_add_overflow(pg, pg_epoch_unix_us, &unix_us) || unix_us == i64_max)
        return decode_fail(d, errc::value_out_of_range, "timestamp " + std::to_string(pg) + " µs after 2000-01-01");
    return {};
}

} // namespace detail

// --- date and timestamps -----------------------------------------------------------------------

void pg_type<std::chrono::sys_days>::encode(const std::chrono::sys_days& v, std::string& out, wire::format f)
{
    std::int64_t days = v == date_infinity ? i64_max : v == date_minus_infinity ? i64_min
                                                      : static_cast<std::int64_t>(v.time_since_epoch().count());
    detail::encode_date(days, out, f);
}

error_code pg_type<std::chrono::sys_days>::decode(std::string_view b, wire::format f, oid_t,
                                                  std::chrono::sys_days& out, diagnostics& d)
{
    std::int64_t days = 0;
    if (auto ec = detail::decode_date(b, f, days, d)) return ec;
    if (days == i64_max) out = date_infinity;
    else if (days == i64_min) out = date_minus_infinity;
    else out = std::chrono::sys_days(std::chrono::days(days));
    return {};
}

void pg_type<timestamp_t>::encode(const timestamp_t& v, std::string& out, wire::format f)
{
    detail::encode_timestamp(v.time_since_epoch().count(), false, out, f);
}

error_code pg_type<timestamp_t>::decode(std::string_view b, wire::format f, oid_t, timestamp_t& out, diagnostics& d)
{
    std::int64_t us = 0;
    if (auto ec = detail::decode_timestamp(b, f, false, us, d)) return ec;
    out = timestamp_t(std::chrono::microseconds(us));
    return {};
}

void pg_type<timestamptz_t>::encode(const timestamptz_t& v, std::string& out, wire::format f)
{
    detail::encode_timestamp(v.time_since_epoch().count(), true, out, f);
}

error_code pg_type<timestamptz_t>::decode(std::string_view b, wire::format f, oid_t, timestamptz_t& out,
                                          diagnostics& d)
{
    std::int64_t us = 0;
    if (auto ec = detail::decode_timestamp(b, f, true, us, d)) return ec;
    out = timestamptz_t(std::chrono::microseconds(us));
    return {};
}

void pg_type<std::chrono::sys_time<std::chrono::nanoseconds>>::encode(const value_type& v, std::string& out,
                                                                      wire::format f)
{
    std::int64_t us = 0;
    if (v == value_type::max()) us = i64_max;
    else if (v == value_type::min()) us = i64_min;
    else us = std::chrono::floor<std::chrono::microseconds>(v).time_since_epoch().count();
    detail::encode_timestamp(us, true, out, f);
}

error_code pg_type<std::chrono::sys_time<std::chrono::nanoseconds>>::decode(std::string_view b, wire::format f,
                                                                            oid_t, value_type& out, diagnostics& d)
{
    std::int64_t us = 0;
    if (auto ec = detail::decode_timestamp(b, f, true, us, d)) return ec;
    if (us == i64_max) out = value_type::max();
    else if (us == i64_min) out = value_type::min();
    else if (us > i64_max / 1000 || us < i64_min / 1000)
        return detail::decode_fail(d, errc::value_out_of_range, "nanoseconds since 1970 overflow 64 bits");
    else out = value_type(std::chrono::nanoseconds(us * 1000));
    return {};
}

// --- time, timetz --------------------------------------------------------------------------

void pg_type<std::chrono::microseconds>::encode(const std::chrono::microseconds& v, std::string& out, wire::format f)
{
    const std::int64_t us = v.count();
    if (us < 0 || us > us_per_day)
        detail::throw_encode_error(errc::value_out_of_range,
                                   "a time of day must be between 00:00:00 and 24:00:00, got " +
                                       std::to_string(us) + " microseconds");
    if (is_binary(f)) detail::be_append(out, us);
    else append_time(out, static_cast<std::uint64_t>(us));
}

error_code pg_type<std::chrono::microseconds>::decode(std::string_view b, wire::format f, oid_t,
                                                      std::chrono::microseconds& out, diagnostics& d)
{
    std::int64_t us = 0;
    if (is_binary(f)) {
        if (auto ec = detail::expect_size(b, 8, d)) return ec;
        us = detail::be_read<std::int64_t>(b.data());
    } else {
        cursor c(b);
        if (!parse_time_part(c, us) || !c.eof())
            return detail::decode_fail(d, errc::invalid_value, "not a time: " + shown(b));
    }
    out = std::chrono::microseconds(us);
    return {};
}

void pg_type<time_tz>::encode(const time_tz& v, std::string& out, wire::format f)
{
    const std::int64_t us = v.time.count();
    const std::int64_t off = v.utc_offset.count();
    if (us < 0 || us > us_per_day)
        detail::throw_encode_error(errc::value_out_of_range, "a time of day must be between 00:00:00 and 24:00:00");
    if (off < -15 * 3600 - 59 * 60 - 59 || off > 15 * 3600 + 59 * 60 + 59)
        detail::throw_encode_error(errc::value_out_of_range, "a time zone offset must be within ±15:59:59");
    if (is_binary(f)) {
        detail::be_append(out, us);
        detail::be_append(out, static_cast<std::int32_t>(-off)); // PostgreSQL stores seconds west of UTC
    } else {
        append_time(out, static_cast<std::uint64_t>(us));
        append_offset(out, off);
    }
}

error_code pg_type<time_tz>::decode(std::string_view b, wire::format f, oid_t, time_tz& out, diagnostics& d)
{
    if (is_binary(f)) {
        if (auto ec = detail::expect_size(b, 12, d)) return ec;
        out.time = std::chrono::microseconds(detail::be_read<std::int64_t>(b.data()));
        out.utc_offset = std::chrono::seconds(-static_cast<std::int64_t>(detail::be_read<std::int32_t>(b.data() + 8)));
        return {};
    }
    cursor c(b);
    std::int64_t us = 0, off = 0;
    if (!parse_time_part(c, us) || !parse_offset(c, off) || !c.eof())
        return detail::decode_fail(d, errc::invalid_value, "not a timetz: " + shown(b));
    out.time = std::chrono::microseconds(us);
    out.utc_offset = std::chrono::seconds(off);
    return {};
}

// --- interval ------------------------------------------------------------------------------

namespace {

bool checked_months(std::int64_t v, std::int32_t& months)
{
    std::int64_t m = months;
    m += v;
    if (m < i32_min || m > i32_max) return false;
    months = static_cast<std::int32_t>(m);
    return true;
}

/// "[+-]H:MM:SS[.f]" (any number of hour digits) into signed microseconds.
bool parse_interval_time(std::string_view tok, std::int64_t& us)
{
    bool neg = false;
    if (!tok.empty() && (tok[0] == '-' || tok[0] == '+')) {
        neg = tok[0] == '-';
        tok.remove_prefix(1);
    }
    cursor c(tok);
    std::int64_t h = 0, m = 0, s = 0, frac = 0;
    std::size_t n = 0;
    if (!c.digits(1, 12, h) || !c.lit(':') || !c.digits(2, 2, m) || !c.lit(':') || !c.digits(2, 2, s)) return false;
    if (c.lit('.')) {
        if (!c.digits(1, 6, frac, &n)) return false;
        for (; n < 6; ++n) frac *= 10;
    }
    if (!c.eof() || m > 59 || s > 59) return false;
    us = ((h * 60 + m) * 60 + s) * us_per_second + frac;
    if (neg) us = -us;
    return true;
}

/// A signed decimal number with an optional fraction, as microsecond-scaled value.
bool parse_scaled(std::string_view t, std::int64_t scale, std::int64_t& out)
{
    bool neg = false;
    if (!t.empty() && (t[0] == '-' || t[0] == '+')) {
        neg = t[0] == '-';
        t.remove_prefix(1);
    }
    cursor c(t);
    std::int64_t whole = 0, frac = 0;
    std::size_t n = 0;
    if (!c.digits(1, 15, whole)) return false;
    if (c.lit('.')) {
        if (!c.digits(1, 6, frac, &n)) return false;
        for (; n < 6; ++n) frac *= 10;
    }
    if (!c.eof()) return false;
    // frac is in millionths of the unit.
    std::int64_t v = 0;
    if (__builtin_mul_overflow(whole, scale, &v)) return false;
    v += frac * (scale / us_per_second);
    out = neg ? -v : v;
    return true;
}

bool parse_iso_interval(std::string_view s, interval& iv)
{
    // P[nY][nM][nW][nD][T[nH][nM][nS]]; numbers may be signed, seconds may have a fraction.
    s.remove_prefix(1);
    bool in_time = false;
    bool any = false;
    while (!s.empty()) {
        if (s[0] == 'T') {
            if (in_time) return false;
            in_time = true;
            s.remove_prefix(1);
            continue;
        }
        auto pos = s.find_first_of("YMWDHS");
        if (pos == std::string_view::npos || pos == 0) return false;
        std::string_view num = s.substr(0, pos);
        const char unit = s[pos];
        s.remove_prefix(pos + 1);
        any = true;
        std::int64_t v = 0;
        if (!in_time) {
            if (!parse_scaled(num, us_per_second, v) || v % us_per_second != 0) return false;
            v /= us_per_second;
            switch (unit) {
            case 'Y':
                if (!checked_months(v * 12, iv.months)) return false;
                break;
            case 'M':
                if (!checked_months(v, iv.months)) return false;
                break;
            case 'W': v *= 7; [[fallthrough]];
            case 'D': {
                std::int64_t days = iv.days + v;
                if (days < i32_min || days > i32_max) return false;
                iv.days = static_cast<std::int32_t>(days);
                break;
            }
            default: return false;
            }
        } else {
            std::int64_t scale = unit == 'H' ? 3600 * us_per_second : unit == 'M' ? 60 * us_per_second
                                 : unit == 'S' ? us_per_second : 0;
            if (scale == 0 || !parse_scaled(num, scale, v)) return false;
            iv.microseconds += v;
        }
    }
    return any;
}

} // namespace

void pg_type<interval>::encode(const interval& v, std::string& out, wire::format f)
{
    if (is_binary(f)) {
        detail::be_append(out, v.microseconds);
        detail::be_append(out, v.days);
        detail::be_append(out, v.months);
        return;
    }
    // "14 mons -3 days -01:02:03.5": the server accepts any mix of signs in this form.
    append_padded(out, v.months, 1);
    out += " mons ";
    append_padded(out, v.days, 1);
    out += " days ";
    const std::int64_t us = v.microseconds;
    if (us < 0) out.push_back('-');
    // Magnitude via unsigned arithmetic: INT64_MIN has no positive counterpart.
    append_time(out, us < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(us) : static_cast<std::uint64_t>(us));
}

error_code pg_type<interval>::decode(std::string_view b, wire::format f, oid_t, interval& out, diagnostics& d)
{
    if (is_binary(f)) {
        if (auto ec = detail::expect_size(b, 16, d)) return ec;
        out.microseconds = detail::be_read<std::int64_t>(b.data());
        out.days = detail::be_read<std::int32_t>(b.data() + 8);
        out.months = detail::be_read<std::int32_t>(b.data() + 12);
        return {};
    }
    interval iv;
    auto bad = [&] { return detail::decode_fail(d, errc::invalid_value, "not an interval: " + shown(b)); };
    if (!b.empty() && b[0] == 'P') {
        if (!parse_iso_interval(b, iv)) return bad();
        out = iv;
        return {};
    }
    // IntervalStyle postgres: "<n> year(s) <n> mon(s) <n> day(s) [+-]HH:MM:SS[.f]", parts optional.
    std::string_view s = b;
    bool any = false;
    while (!s.empty()) {
        auto sp = s.find(' ');
        std::string_view tok = s.substr(0, sp);
        s = sp == std::string_view::npos ? std::string_view{} : s.substr(sp + 1);
        if (tok.empty()) continue;
        any = true;
        if (tok.find(':') != std::string_view::npos) {
            std::int64_t us = 0;
            if (!parse_interval_time(tok, us)) return bad();
            iv.microseconds += us;
            continue;
        }
        std::int64_t n = 0;
        auto res = std::from_chars(tok.data() + (tok[0] == '+'), tok.data() + tok.size(), n);
        if (res.ec != std::errc{} || res.ptr != tok.data() + tok.size()) return bad();
        sp = s.find(' ');
        std::string_view unit = s.substr(0, sp);
        s = sp == std::string_view::npos ? std::string_view{} : s.substr(sp + 1);
        if (unit == "year" || unit == "years") {
            if (n > i32_max / 12 || n < i32_min / 12 || !checked_months(n * 12, iv.months)) return bad();
        } else if (unit == "mon" || unit == "mons") {
            if (!checked_months(n, iv.months)) return bad();
        } else if (unit == "day" || unit == "days") {
            std::int64_t days = iv.days + n;
            if (days < i32_min || days > i32_max) return bad();
            iv.days = static_cast<std::int32_t>(days);
        } else {
            return bad();
        }
    }
    if (!any) return bad();
    out = iv;
    return {};
}

} // namespace sleet
