// sleet::types — float ↔ float4, double ↔ float8.
#pragma once

#include <sleet/types/detail/codec.hpp>
#include <sleet/types/pg_type.hpp>

#include <bit>
#include <cstdint>

namespace sleet {

namespace detail {
void encode_float(double v, bool single, std::string& out, wire::format f);
error_code decode_float(std::string_view b, wire::format f, oid_t t, double& out, diagnostics& d);
} // namespace detail

/// float ↔ real (float4). Reads float4 only (float8 into float would round).
/// NaN, ±Infinity and -0.0 round-trip; in text they are "NaN", "Infinity", "-Infinity", "-0".
template <>
struct pg_type<float> {
    static constexpr std::string_view sql_name = "float4";
    static constexpr std::string_view cpp_name = "float";
    static constexpr oid_t oid = oid::float4;
    static constexpr oid_t array_oid = oid::float4_array;
    static constexpr bool binary = true;
    static bool accepts(oid_t t) noexcept { return t == oid::float4; }
    static void encode(const float& v, std::string& out, wire::format f) { detail::encode_float(v, true, out, f); }
    static error_code decode(std::string_view b, wire::format f, oid_t t, float& out, diagnostics& d);
};

/// double ↔ double precision (float8). Also reads float4 (exactly).
template <>
struct pg_type<double> {
    static constexpr std::string_view sql_name = "float8";
    static constexpr std::string_view cpp_name = "double";
    static constexpr oid_t oid = oid::float8;
    static constexpr oid_t array_oid = oid::float8_array;
    static constexpr bool binary = true;
    static bool accepts(oid_t t) noexcept { return t == oid::float8 || t == oid::float4; }
    static void encode(const double& v, std::string& out, wire::format f) { detail::encode_float(v, false, out, f); }
    static error_code decode(std::string_view b, wire::format f, oid_t t, double& out, diagnostics& d)
    {
        // The usual case inline (as decode_float reads it): binary float8.
        if (t == oid::float8 && f == wire::format::binary && b.size() == 8) {
            out = std::bit_cast<double>(detail::be_read<std::uint64_t>(b.data()));
            return {};
        }
        return detail::decode_float(b, f, t, out, d);
    }
};

} // namespace sleet
