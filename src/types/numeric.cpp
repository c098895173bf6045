// sleet::types — numeric: exact decimal text ↔ PostgreSQL's base-10000 binary form.
#include <sleet/types/detail/codec.hpp>
#include <sleet/types/numeric.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <vector>

namespace sleet {

namespace {

constexpr std::uint16_t sign_pos = 0x0000;
constexpr std::uint16_t sign_neg = 0x4000;
constexpr std::uint16_t sign_nan = 0xC000;
constexpr std::uint16_t sign_pinf = 0xD000;
constexpr std::uint16_t sign_ninf = 0xF000;
constexpr int max_dscale = 0x3FFF;

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

/// Canonical text from sign, integer digits and fraction digits (digits only).
std::string canonical(bool neg, std::string_view int_digits, std::string_view frac_digits)
{
    while (int_digits.size() > 1 && int_digits.front() == '0') int_digits.remove_prefix(1);
    if (int_digits.empty()) int_digits = "0";
    const bool zero = int_digits == "0" && frac_digits.find_first_not_of('0') == std::string_view::npos;
    std::string s;
    if (neg && !zero) s.push_back('-');
    s.append(int_digits);
    if (!frac_digits.empty()) {
        s.push_back('.');
        s.append(frac_digits);
    }
    return s;
}

} // namespace

numeric::numeric(std::int64_t v) : text_(std::to_string(v)) {}

std::optional<numeric> numeric::parse(std::string_view s)
{
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    numeric n;
    if (iequals(s, "nan")) {
        n.text_ = "NaN";
        return n;
    }
    bool neg = false;
    std::string_view body = s;
    if (!body.empty() && (body[0] == '-' || body[0] == '+')) {
        neg = body[0] == '-';
        body.remove_prefix(1);
    }
    if (iequals(body, "infinity") || iequals(body, "inf")) {
        n.text_ = neg ? "-Infinity" : "Infinity";
        return n;
    }
    std::string int_part, frac_part;
    std::size_t i = 0;
    while (i < body.size() && body[i] >= '0' && body[i] <= '9') int_part.push_back(body[i++]);
    if (i < body.size() && body[i] == '.') {
        ++i;
        while (i < body.size() && body[i] >= '0' && body[i] <= '9') frac_part.push_back(body[i++]);
    }
    if (int_part.empty() && frac_part.empty()) return std::nullopt;
    long exp = 0;
    if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
        ++i;
        std::string_view e = body.substr(i);
        if (!e.empty() && e[0] == '+') e.remove_prefix(1);
        auto res = std::from_chars(e.data(), e.data() + e.size(), exp);
        if (res.ec != std::errc{} || res.ptr != e.data() + e.size() || e.empty() || exp > 100000 || exp < -100000)
            return std::nullopt;
        i = body.size();
    }
    if (i != body.size()) return std::nullopt;
    // Shift the decimal point by the exponent.
    if (exp > 0) {
        const auto k = static_cast<std::size_t>(exp);
        if (frac_part.size() < k) frac_part.append(k - frac_part.size(), '0');
        int_part += frac_part.substr(0, k);
        frac_part.erase(0, k);
    } else if (exp < 0) {
        const auto k = static_cast<std::size_t>(-exp);
        if (int_part.size() < k) int_part.insert(0, k - int_part.size(), '0');
        frac_part.insert(0, int_part.substr(int_part.size() - k));
        int_part.erase(int_part.size() - k);
    }
    if (frac_part.size() > static_cast<std::size_t>(max_dscale)) return std::nullopt;
    n.text_ = canonical(neg, int_part, frac_part);
    return n;
}

int numeric::scale() const noexcept
{
    auto dot = text_.find('.');
    return dot == std::string::npos ? 0 : static_cast<int>(text_.size() - dot - 1);
}

double numeric::to_double() const
{
    if (is_nan()) return std::numeric_limits<double>::quiet_NaN();
    if (text_ == "Infinity") return std::numeric_limits<double>::infinity();
    if (text_ == "-Infinity") return -std::numeric_limits<double>::infinity();
    double v = 0;
    std::from_chars(text_.data(), text_.data() + text_.size(), v);
    return v;
}

void pg_type<numeric>::encode(const numeric& v, std::string& out, wire::format f)
{
    const std::string& t = v.to_string();
    if (f == wire::format::text) {
        out += t;
        return;
    }
    auto header = [&](std::int16_t ndigits, std::int16_t weight, std::uint16_t sign, std::int16_t dscale) {
        detail::be_append(out, ndigits);
        detail::be_append(out, weight);
        detail::be_append(out, sign);
        detail::be_append(out, dscale);
    };
    if (v.is_nan()) return header(0, 0, sign_nan, 0);
    if (t == "Infinity") return header(0, 0, sign_pinf, 0);
    if (t == "-Infinity") return header(0, 0, sign_ninf, 0);

    std::string_view s = t;
    const bool neg = !s.empty() && s[0] == '-';
    if (neg) s.remove_prefix(1);
    auto dot = s.find('.');
    std::string_view ip = s.substr(0, dot);
    std::string_view fp = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
    if (ip == "0") ip = {};
    // Align to groups of four decimal digits around the point.
    std::string digits(((4 - ip.size() % 4) % 4), '0');
    digits.append(ip);
    const auto int_groups = static_cast<std::int64_t>(digits.size() / 4);
    digits.append(fp);
    digits.append((4 - fp.size() % 4) % 4, '0');
    std::vector<std::int16_t> groups;
    groups.reserve(digits.size() / 4);
    for (std::size_t i = 0; i < digits.size(); i += 4)
        groups.push_back(static_cast<std::int16_t>((digits[i] - '0') * 1000 + (digits[i + 1] - '0') * 100 +
                                                   (digits[i + 2] - '0') * 10 + (digits[i + 3] - '0')));
    std::int64_t weight = int_groups - 1;
    std::size_t first = 0;
    while (first < groups.size() && groups[first] == 0) {
        ++first;
        --weight;
    }
    std::size_t last = groups.size();
    while (last > first && groups[last - 1] == 0) --last;
    if (first == last) weight = 0; // zero
    if (last - first > 0x7FFF || weight > 0x7FFF || weight < -0x8000)
        detail::throw_encode_error(errc::value_out_of_range, "numeric value has too many digits for PostgreSQL");
    header(static_cast<std::int16_t>(last - first), static_cast<std::int16_t>(weight), neg ? sign_neg : sign_pos,
           static_cast<std::int16_t>(fp.size()));
    for (std::size_t i = first; i < last; ++i) detail::be_append(out, groups[i]);
}

error_code pg_type<numeric>::decode(std::string_view b, wire::format f, oid_t, numeric& out, diagnostics& d)
{
    if (f == wire::format::text) {
        auto n = numeric::parse(b);
        if (!n) return detail::decode_fail(d, errc::invalid_value, "not a number: \"" + std::string(b.substr(0, 40)) + "\"");
        out = std::move(*n);
        return {};
    }
    detail::byte_reader r(b);
    std::int16_t ndigits = 0, weight = 0, dscale = 0;
    std::uint16_t sign = 0;
    if (!r.read(ndigits) || !r.read(weight) || !r.read(sign) || !r.read(dscale) || ndigits < 0 ||
        r.remaining() != static_cast<std::size_t>(ndigits) * 2)
        return detail::decode_fail(d, errc::invalid_value, "malformed binary numeric header");
    switch (sign) {
    case sign_nan: out = *numeric::parse("NaN"); return {};
    case sign_pinf: out = *numeric::parse("Infinity"); return {};
    case sign_ninf: out = *numeric::parse("-Infinity"); return {};
    case sign_pos:
    case sign_neg: break;
    default: return detail::decode_fail(d, errc::invalid_value, "invalid numeric sign " + std::to_string(sign));
    }
    if (dscale < 0 || dscale > max_dscale) return detail::decode_fail(d, errc::invalid_value, "invalid numeric scale");
    const char* const digits = b.data() + 8;
    for (std::int16_t i = 0; i < ndigits; ++i) {
        const auto g = detail::be_read<std::int16_t>(digits + 2 * i);
        if (g < 0 || g > 9999) return detail::decode_fail(d, errc::invalid_value, "invalid numeric digit");
    }
    auto group = [&](std::int64_t i) -> int {
        return i >= 0 && i < ndigits ? detail::be_read<std::int16_t>(digits + 2 * i) : 0;
    };
    auto four_digits = [](int g, char (&buf)[4]) {
        for (int k = 3; k >= 0; --k) {
            buf[k] = static_cast<char>('0' + g % 10);
            g /= 10;
        }
    };
    // The canonical text (what canonical() would make), written straight into `out` without
    // the intermediate strings: "-" (dropped below unless the value shows as non-zero), the
    // integer digits without leading zeros, then exactly dscale fraction digits.
    std::string& s = out.text_;
    s.assign(1, '-');
    for (std::int64_t i = 0; i <= weight; ++i) {
        char buf[4];
        four_digits(group(i), buf);
        for (char c : buf)
            if (s.size() > 1 || c != '0') s.push_back(c);
    }
    if (s.size() == 1) s.push_back('0');
    if (dscale > 0) {
        s.push_back('.');
        auto left = static_cast<std::size_t>(dscale);
        for (std::int64_t i = weight + 1; left > 0; ++i) {
            char buf[4];
            four_digits(group(i), buf);
            const std::size_t n = std::min<std::size_t>(left, 4);
            s.append(buf, n);
            left -= n;
        }
    }
    const bool zero = s.find_first_not_of("0.", 1) == std::string::npos;
    if (sign != sign_neg || zero) s.erase(0, 1);
    return {};
}

} // namespace sleet
