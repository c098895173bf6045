// sleet::types — decoding one field of a result row into a C++ value.
#pragma once

#include <sleet/types/pg_type.hpp>

#include <optional>
#include <string_view>

namespace sleet {

/// What the decoder needs to know about a result column (from RowDescription).
struct column_info {
    std::string_view name;
    oid_t type_oid = 0;
    wire::format format = wire::format::text;
    /// The server's name of a type outside the built-in table ("public.mood", "public.mood[]"),
    /// when the connection has looked it up (once per connection); empty otherwise.
    std::string_view type_name = {};
};

/// Does a mapping's declared `type_name` ("mood" or "public.mood") name the server type
/// `server` ("public.mood")? An unqualified name matches in any schema.
bool type_name_matches(std::string_view declared, std::string_view server) noexcept;

namespace detail {
error_code null_into_non_optional(const column_info& col, const std::string& cpp, diagnostics& diag);
error_code column_type_mismatch(const column_info& col, const std::string& cpp, diagnostics& diag);
/// Turns a codec failure (with an optional reason in diag) into the full column message.
error_code column_decode_failed(const column_info& col, const std::string& cpp, error_code ec,
                                diagnostics& diag);

/// T without its std::optional layers: the type that is actually decoded.
template <class T> struct non_optional { using type = T; };
template <class U> struct non_optional<std::optional<U>> : non_optional<U> {};
template <class T> using non_optional_t = typename non_optional<T>::type;

/// The checks of decode_field that depend on the column alone, not on the value: may a T (not
/// optional) read this column? A result can run them once per column instead of once per field.
template <class T>
bool column_readable(const column_info& col)
{
    static_assert(pg_decodable<T>,
                  "sleet: this C++ type cannot be read from a column: no usable "
                  "sleet::pg_type<T> specialisation (include <sleet/types.hpp>, or specialise "
                  "sleet::pg_type for it; see docs/types.md)");
    if constexpr (pg_decodable<T>) {
        if (!can_read<T>(col.type_oid, col.format)) return false;
        if constexpr (requires { pg_type<T>::type_name; }) {
            // A user or extension type: once the connection knows the column's type by name,
            // it must be the one T maps (not merely "some user type").
            if (!col.type_name.empty() && !type_name_matches(pg_type<T>::type_name, col.type_name)) return false;
        }
        return true;
    } else {
        return false;
    }
}
} // namespace detail

/// Decodes one field into `out`. `value` is nullopt for SQL NULL.
///
/// T may be std::optional<U>: NULL gives nullopt. Errors (the message in diag names the column,
/// the server type and the C++ type):
///   - errc::null_value: NULL into a non-optional T —
///     `column "name" is NULL but the C++ type std::string is not optional`
///   - errc::type_mismatch: T cannot hold the server type —
///     `column "age" of type int8 cannot be read as std::int16_t`
///   - errc::value_out_of_range: the value does not fit T
///   - errc::invalid_value: the bytes are not a valid encoding of the server type
/// On failure `out` may have been partly assigned.
template <class T>
error_code decode_field(const column_info& col, std::optional<std::string_view> value, T& out,
                        diagnostics& diag)
{
    if constexpr (detail::is_optional_v<T>) {
        if (!value) {
            out.reset();
            return {};
        }
        if (!out) out.emplace();
        auto ec = decode_field(col, value, *out, diag);
        if (ec) out.reset();
        return ec;
    } else {
        if (!value) return detail::null_into_non_optional(col, cpp_type_name<T>(), diag);
        if (!detail::column_readable<T>(col)) return detail::column_type_mismatch(col, cpp_type_name<T>(), diag);
        diag.clear();
        auto ec = pg_type<T>::decode(*value, col.format, col.type_oid, out, diag);
        if (ec) return detail::column_decode_failed(col, cpp_type_name<T>(), ec, diag);
        return {};
    }
}

} // namespace sleet
