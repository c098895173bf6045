// sleet::types — bool, integers, oid, floating point, text, bytea, uuid, json text.
#include <sleet/types/bool.hpp>
#include <sleet/types/bytea.hpp>
#include <sleet/types/detail/codec.hpp>
#include <sleet/types/float.hpp>
#include <sleet/types/integer.hpp>
#include <sleet/types/json.hpp>
#include <sleet/types/text.hpp>
#include <sleet/types/uuid.hpp>

#include <bit>
#include <charconv>
#include <cmath>
#include <limits>

namespace sleet {

namespace {

bool is_binary(wire::format f) noexcept { return f == wire::format::binary; }

std::string quoted(std::string_view s)
{
    constexpr std::size_t max = 40;
    std::string r = "\"";
    r.append(s.substr(0, max));
    if (s.size() > max) r += "...";
    r += '"';
    return r;
}

template <class T>
void append_chars(std::string& out, T v)
{
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, res.ptr);
}

int hex_value(char c) noexcept
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

constexpr char hex_digits[] = "0123456789abcdef";

} // namespace

// --- bool --------------------------------------------------------------------------------------

void pg_type<bool>::encode(const bool& v, std::string& out, wire::format f)
{
    if (is_binary(f)) out.push_back(v ? '\1' : '\0');
    else out.push_back(v ? 't' : 'f');
}

error_code pg_type<bool>::decode(std::string_view b, wire::format f, oid_t, bool& out, diagnostics& d)
{
    if (is_binary(f)) {
        if (auto ec = detail::expect_size(b, 1, d)) return ec;
        out = b[0] != 0;
        return {};
    }
    if (b == "t" || b == "true") out = true;
    else if (b == "f" || b == "false") out = false;
    else return detail::decode_fail(d, errc::invalid_value, "not a boolean: " + quoted(b));
    return {};
}

// --- integers ----------------------------------------------------------------------------------

namespace detail {

void encode_int(std::int64_t v, std::size_t size, std::string& out, wire::format f)
{
    if (!is_binary(f)) {
        append_chars(out, v);
        return;
    }
    switch (size) {
    case 2: be_append(out, static_cast<std::int16_t>(v)); break;
    case 4: be_append(out, static_cast<std::int32_t>(v)); break;
    default: be_append(out, v); break;
    }
}

error_code decode_int(std::string_view b, wire::format f, oid_t t, std::int64_t min, std::int64_t max,
                      std::int64_t& out, diagnostics& d)
{
    std::int64_t v = 0;
    if (is_binary(f)) {
        switch (t) {
        case oid::int2:
            if (auto ec = expect_size(b, 2, d)) return ec;
            v = be_read<std::int16_t>(b.data());
            break;
        case oid::int4:
            if (auto ec = expect_size(b, 4, d)) return ec;
            v = be_read<std::int32_t>(b.data());
            break;
        case oid::oid:
            if (auto ec = expect_size(b, 4, d)) return ec;
            v = be_read<std::uint32_t>(b.data());
            break;
        default:
            if (auto ec = expect_size(b, 8, d)) return ec;
            v = be_read<std::int64_t>(b.data());
            break;
        }
    } else {
        auto res = std::from_chars(b.data(), b.data() + b.size(), v);
        if (res.ec == std::errc::result_out_of_range)
            return decode_fail(d, errc::value_out_of_range, quoted(b));
        if (res.ec != std::errc{} || res.ptr != b.data() + b.size() || b.empty())
            return decode_fail(d, errc::invalid_value, "not an integer: " + quoted(b));
    }
    if (v < min || v > max) return decode_fail(d, errc::value_out_of_range, std::to_string(v));
    out = v;
    return {};
}

} // namespace detail

bool pg_type<std::uint32_t>::accepts(oid_t t) noexcept
{
    return t == oid::oid || t == 24 || t == 2205 || t == 2206;
}

void pg_type<std::uint32_t>::encode(const std::uint32_t& v, std::string& out, wire::format f)
{
    if (is_binary(f)) detail::be_append(out, v);
    else append_chars(out, v);
}

error_code pg_type<std::uint32_t>::decode(std::string_view b, wire::format f, oid_t, std::uint32_t& out,
                                          diagnostics& d)
{
    if (is_binary(f)) {
        if (auto ec = detail::expect_size(b, 4, d)) return ec;
        out = detail::be_read<std::uint32_t>(b.data());
        return {};
    }
    std::uint32_t v = 0;
    auto res = std::from_chars(b.data(), b.data() + b.size(), v);
    if (res.ec == std::errc::result_out_of_range) return detail::decode_fail(d, errc::value_out_of_range, quoted(b));
    if (res.ec != std::errc{} || res.ptr != b.data() + b.size())
        return detail::decode_fail(d, errc::invalid_value, "not an oid: " + quoted(b));
    out = v;
    return {};
}

// --- floating point ----------------------------------------------------------------------------

namespace {

template <class F>
error_code parse_float_text(std::string_view b, F& out, diagnostics& d)
{
    if (b == "NaN") out = std::numeric_limits<F>::quiet_NaN();
    else if (b == "Infinity") out = std::numeric_limits<F>::infinity();
    else if (b == "-Infinity") out = -std::numeric_limits<F>::infinity();
    else {
        F v{};
        auto res = std::from_chars(b.data(), b.data() + b.size(), v);
        if (res.ec == std::errc::result_out_of_range)
            return detail::decode_fail(d, errc::value_out_of_range, quoted(b));
        if (res.ec != std::errc{} || res.ptr != b.data() + b.size() || b.empty())
            return detail::decode_fail(d, errc::invalid_value, "not a number: " + quoted(b));
        out = v;
    }
    return {};
}

template <class F>
void format_float_text(F v, std::string& out)
{
    if (std::isnan(v)) out += "NaN";
    else if (std::isinf(v)) out += v > 0 ? "Infinity" : "-Infinity";
    else append_chars(out, v); // shortest form that reads back exactly; "-0" keeps the sign
}

} // namespace

namespace detail {

void encode_float(double v, bool single, std::string& out, wire::format f)
{
    if (single) {
        auto x = static_cast<float>(v);
        if (is_binary(f)) be_append(out, std::bit_cast<std::uint32_t>(x));
        else format_float_text(x, out);
    } else {
        if (is_binary(f)) be_append(out, std::bit_cast<std::uint64_t>(v));
        else format_float_text(v, out);
    }
}

error_code decode_float(std::string_view b, wire::format f, oid_t t, double& out, diagnostics& d)
{
    if (!is_binary(f)) {
        if (t == oid::float4) {
            // Parse as float first, so text and binary give the same double for a float4
            // ("0.1" is 0.100000001490116..., the float the server stores).
            float narrow = 0;
            if (auto ec = parse_float_text(b, narrow, d)) return ec;
            out = narrow;
            return {};
        }
        return parse_float_text(b, out, d);
    }
    if (t == oid::float4) {
        if (auto ec = expect_size(b, 4, d)) return ec;
        out = std::bit_cast<float>(be_read<std::uint32_t>(b.data()));
    } else {
        if (auto ec = expect_size(b, 8, d)) return ec;
        out = std::bit_cast<double>(be_read<std::uint64_t>(b.data()));
    }
    return {};
}

} // namespace detail

error_code pg_type<float>::decode(std::string_view b, wire::format f, oid_t, float& out, diagnostics& d)
{
    if (!is_binary(f)) return parse_float_text(b, out, d);
    if (auto ec = detail::expect_size(b, 4, d)) return ec;
    out = std::bit_cast<float>(detail::be_read<std::uint32_t>(b.data()));
    return {};
}

// --- text --------------------------------------------------------------------------------------

namespace detail {

void encode_text(std::string_view v, std::string& out)
{
    check_no_nul(v);
    out.append(v);
}

error_code decode_json_text(std::string_view b, wire::format f, oid_t t, std::string_view& out, diagnostics& d)
{
    if (is_binary(f) && t == oid::jsonb) {
        if (b.empty() || b[0] != '\1')
            return decode_fail(d, errc::invalid_value, "binary jsonb must start with version byte 1");
        b.remove_prefix(1);
    }
    out = b;
    return {};
}

} // namespace detail

void pg_type<json_text>::encode(const json_text& v, std::string& out, wire::format f)
{
    detail::check_no_nul(v.text);
    if (is_binary(f)) out.push_back('\1');
    out.append(v.text);
}

// --- bytea -------------------------------------------------------------------------------------

namespace detail {

void encode_bytea(std::span<const std::byte> v, std::string& out, wire::format f)
{
    if (is_binary(f)) {
        out.append(reinterpret_cast<const char*>(v.data()), v.size());
        return;
    }
    out.reserve(out.size() + 2 + 2 * v.size());
    out += "\\x";
    for (auto byte : v) {
        auto u = static_cast<unsigned>(byte);
        out.push_back(hex_digits[u >> 4]);
        out.push_back(hex_digits[u & 0xFu]);
    }
}

error_code decode_bytea(std::string_view b, wire::format f, std::vector<std::byte>& out, diagnostics& d)
{
    out.clear();
    if (is_binary(f)) {
        out.resize(b.size());
        if (!b.empty()) std::memcpy(out.data(), b.data(), b.size());
        return {};
    }
    if (b.starts_with("\\x")) {
        b.remove_prefix(2);
        out.reserve(b.size() / 2);
        for (std::size_t i = 0; i < b.size();) {
            // The server's own output has no spaces, but bytea input allows them between pairs.
            if (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
                ++i;
                continue;
            }
            int hi = hex_value(b[i]);
            int lo = i + 1 < b.size() ? hex_value(b[i + 1]) : -1;
            if (hi < 0 || lo < 0)
                return decode_fail(d, errc::invalid_value, "invalid hex digits in bytea at offset " + std::to_string(i + 2));
            out.push_back(static_cast<std::byte>(hi * 16 + lo));
            i += 2;
        }
        return {};
    }
    // Escape format: "\\" is a backslash, "\nnn" an octal byte, anything else is itself.
    out.reserve(b.size());
    for (std::size_t i = 0; i < b.size(); ++i) {
        char c = b[i];
        if (c != '\\') {
            out.push_back(static_cast<std::byte>(c));
            continue;
        }
        if (i + 1 < b.size() && b[i + 1] == '\\') {
            out.push_back(std::byte{'\\'});
            ++i;
            continue;
        }
        auto oct = [](char x) { return x >= '0' && x <= '7' ? x - '0' : -1; };
        if (i + 3 < b.size()) {
            int a = oct(b[i + 1]), m = oct(b[i + 2]), z = oct(b[i + 3]);
            if (a >= 0 && a <= 3 && m >= 0 && z >= 0) {
                out.push_back(static_cast<std::byte>(a * 64 + m * 8 + z));
                i += 3;
                continue;
            }
        }
        return decode_fail(d, errc::invalid_value, "invalid escape in bytea at offset " + std::to_string(i));
    }
    return {};
}

} // namespace detail

// --- uuid --------------------------------------------------------------------------------------

std::optional<uuid> uuid::parse(std::string_view s) noexcept
{
    if (s.size() >= 2 && s.front() == '{' && s.back() == '}') s = s.substr(1, s.size() - 2);
    std::array<std::uint8_t, 16> bytes{};
    std::size_t n = 0; // hex digits read
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '-') {
            // PostgreSQL allows a hyphen after any group of four digits, never two in a row.
            if (n == 0 || n % 4 != 0 || n == 32 || s[i - 1] == '-') return std::nullopt;
            continue;
        }
        int v = hex_value(c);
        if (v < 0 || n == 32) return std::nullopt;
        if (n % 2 == 0) bytes[n / 2] = static_cast<std::uint8_t>(v << 4);
        else bytes[n / 2] = static_cast<std::uint8_t>(bytes[n / 2] | v);
        ++n;
    }
    if (n != 32) return std::nullopt;
    return uuid(bytes);
}

std::string uuid::to_string() const
{
    std::string s;
    s.reserve(36);
    for (std::size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
        s.push_back(hex_digits[bytes_[i] >> 4]);
        s.push_back(hex_digits[bytes_[i] & 0xF]);
    }
    return s;
}

void pg_type<uuid>::encode(const uuid& v, std::string& out, wire::format f)
{
    if (is_binary(f)) out.append(reinterpret_cast<const char*>(v.bytes().data()), 16);
    else out += v.to_string();
}

error_code pg_type<uuid>::decode(std::string_view b, wire::format f, oid_t, uuid& out, diagnostics& d)
{
    if (is_binary(f)) {
        if (auto ec = detail::expect_size(b, 16, d)) return ec;
        std::array<std::uint8_t, 16> bytes{};
        std::memcpy(bytes.data(), b.data(), 16);
        out = uuid(bytes);
        return {};
    }
    auto u = uuid::parse(b);
    if (!u) return detail::decode_fail(d, errc::invalid_value, "not a uuid: " + quoted(b));
    out = *u;
    return {};
}

} // namespace sleet
