// sleet::types — integers ↔ int2 / int4 / int8, std::uint32_t ↔ oid.
#pragma once

#include <sleet/types/detail/codec.hpp>
#include <sleet/types/pg_type.hpp>

#include <cstdint>
#include <limits>
#include <type_traits>

namespace sleet {

namespace detail {
/// Signed integer types of 2, 4 or 8 bytes (not char, not bool).
template <class T>
inline constexpr bool is_pg_int_v = std::is_integral_v<T> && std::is_signed_v<T> &&
                                    !std::is_same_v<T, char> && !std::is_same_v<T, signed char> &&
                                    (sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8);

/// May a signed integer of `size` bytes read server type `t`? (Inline: checked for every field read with get<T>.)
constexpr bool int_accepts(oid_t t, std::size_t size) noexcept
{
    switch (t) {
    case oid::int2: return true;
    case oid::int4: return size >= 4;
    case oid::int8:
    case oid::oid: return size >= 8;
    default: return false;
    }
}
void encode_int(std::int64_t v, std::size_t size, std::string& out, wire::format f);
error_code decode_int(std::string_view b, wire::format f, oid_t t, std::int64_t min, std::int64_t max,
                      std::int64_t& out, diagnostics& d);
} // namespace detail

/// std::int16_t ↔ int2, std::int32_t ↔ int4, std::int64_t (and long long) ↔ int8.
///
/// A wider C++ integer reads a narrower server integer (int8 reads int2, int4 and oid); a
/// narrower one never reads a wider column (errc::type_mismatch, even if today's value would
/// fit): there is no silent truncation.
template <class T>
struct pg_type<T, std::enable_if_t<detail::is_pg_int_v<T>>> {
    static constexpr std::string_view sql_name = sizeof(T) == 2 ? "int2" : sizeof(T) == 4 ? "int4" : "int8";
    static constexpr std::string_view cpp_name =
        sizeof(T) == 2 ? "std::int16_t" : sizeof(T) == 4 ? "std::int32_t" : "std::int64_t";
    static constexpr oid_t oid = sizeof(T) == 2 ? oid::int2 : sizeof(T) == 4 ? oid::int4 : oid::int8;
    static constexpr oid_t array_oid =
        sizeof(T) == 2 ? oid::int2_array : sizeof(T) == 4 ? oid::int4_array : oid::int8_array;
    static constexpr bool binary = true;
    static bool accepts(oid_t t) noexcept { return detail::int_accepts(t, sizeof(T)); }
    static void encode(const T& v, std::string& out, wire::format f)
    {
        detail::encode_int(static_cast<std::int64_t>(v), sizeof(T), out, f);
    }
    static error_code decode(std::string_view b, wire::format f, oid_t t, T& out, diagnostics& d)
    {
        // The usual case inline: binary, the column's type is exactly T's; the same result as
        // decode_int, which handles everything else (other widths, text, errors).
        if (t == oid && f == wire::format::binary && b.size() == sizeof(T)) {
            out = detail::be_read<T>(b.data());
            return {};
        }
        std::int64_t v = 0;
        auto ec = detail::decode_int(b, f, t, std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), v, d);
        if (!ec) out = static_cast<T>(v);
        return ec;
    }
};

/// std::uint32_t ↔ oid (also reads regproc, regclass, regtype). Other unsigned types have no
/// mapping: PostgreSQL has no unsigned integers.
template <>
struct pg_type<std::uint32_t> {
    static constexpr std::string_view sql_name = "oid";
    static constexpr std::string_view cpp_name = "std::uint32_t";
    static constexpr oid_t oid = oid::oid;
    static constexpr oid_t array_oid = 1028;
    static constexpr bool binary = true;
    static bool accepts(oid_t t) noexcept;
    static void encode(const std::uint32_t& v, std::string& out, wire::format f);
    static error_code decode(std::string_view b, wire::format f, oid_t t, std::uint32_t& out, diagnostics& d);
};

} // namespace sleet
