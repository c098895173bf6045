// sleet::types — C++ enums ↔ PostgreSQL enum types (CREATE TYPE ... AS ENUM).
#pragma once

#include <sleet/types/detail/codec.hpp>
#include <sleet/types/pg_type.hpp>

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace sleet {

/// Specialise for a C++ enum to map it to a PostgreSQL enum type by label:
///
/// \code
/// enum class mood { sad, ok, happy };
/// template <> struct sleet::pg_enum<mood> {
///     static constexpr std::string_view type_name = "mood";   // CREATE TYPE mood AS ENUM (...)
///     static constexpr std::pair<mood, std::string_view> labels[] = {
///         {mood::sad, "sad"}, {mood::ok, "ok"}, {mood::happy, "happy"}};
/// };
/// \endcode
///
/// pg_type<mood> then exists: parameters go as the label in text with OID 0 (the server
/// resolves the enum type from the statement; enum OIDs differ per database). Reading accepts
/// user-defined types (OID >= 16384) and text-like columns; an unknown label is
/// errc::invalid_value. Binary enum values are their label too, so both formats read.
template <class E>
struct pg_enum;

namespace detail {
template <class E>
concept has_pg_enum = std::is_enum_v<E> && requires {
    { pg_enum<E>::type_name } -> std::convertible_to<std::string_view>;
    pg_enum<E>::labels;
};
} // namespace detail

template <class E>
struct pg_type<E, std::enable_if_t<detail::has_pg_enum<E>>> {
    static constexpr std::string_view sql_name = pg_enum<E>::type_name;
    static constexpr std::string_view type_name = pg_enum<E>::type_name;
    static constexpr oid_t oid = 0;
    static constexpr bool binary = false;
    static std::string cpp_name_of() { return "enum " + detail::compiler_type_name<E>(); }
    static bool accepts(oid_t t) noexcept { return is_user_oid(t) || is_text_like(t); }
    /// Throws errc::invalid_value for a value without a label.
    static void encode(const E& v, std::string& out, wire::format)
    {
        for (const auto& [value, label] : pg_enum<E>::labels) {
            if (value == v) {
                out.append(label);
                return;
            }
        }
        detail::throw_encode_error(errc::invalid_value,
                                   "enum value " + std::to_string(static_cast<long long>(v)) + " has no label in sleet::pg_enum<" +
                                       detail::compiler_type_name<E>() + ">");
    }
    static error_code decode(std::string_view b, wire::format, oid_t, E& out, diagnostics& d)
    {
        for (const auto& [value, label] : pg_enum<E>::labels) {
            if (label == b) {
                out = value;
                return {};
            }
        }
        return detail::decode_fail(d, errc::invalid_value,
                                   "unknown label \"" + std::string(b.substr(0, 60)) + "\" for enum " +
                                       std::string(pg_enum<E>::type_name));
    }
};

} // namespace sleet
