// sleet::types — binary strings ↔ bytea.
#pragma once

#include <sleet/types/pg_type.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace sleet {

namespace detail {
void encode_bytea(std::span<const std::byte> v, std::string& out, wire::format f);
error_code decode_bytea(std::string_view b, wire::format f, std::vector<std::byte>& out, diagnostics& d);
} // namespace detail

/// std::vector<std::byte> ↔ bytea. Binary: the raw bytes. Text: reads both the hex format
/// ("\x0a1b") and the old escape format ("a\000\\"); writes hex.
template <>
struct pg_type<std::vector<std::byte>> {
    static constexpr std::string_view sql_name = "bytea";
    static constexpr std::string_view cpp_name = "std::vector<std::byte>";
    static constexpr oid_t oid = oid::bytea;
    static constexpr oid_t array_oid = oid::bytea_array;
    static constexpr bool binary = true;
    static bool accepts(oid_t t) noexcept { return t == oid::bytea; }
    static void encode(const std::vector<std::byte>& v, std::string& out, wire::format f)
    {
        detail::encode_bytea(v, out, f);
    }
    static error_code decode(std::string_view b, wire::format f, oid_t, std::vector<std::byte>& out, diagnostics& d)
    {
        return detail::decode_bytea(b, f, out, d);
    }
};

/// std::span<const std::byte>: a bytea parameter without copying into a vector. Encode-only.
template <>
struct pg_type<std::span<const std::byte>> {
    static constexpr std::string_view sql_name = "bytea";
    static constexpr std::string_view cpp_name = "std::span<const std::byte>";
    static constexpr oid_t oid = oid::bytea;
    static constexpr bool binary = true;
    static void encode(const std::span<const std::byte>& v, std::string& out, wire::format f)
    {
        detail::encode_bytea(v, out, f);
    }
};

} // namespace sleet
