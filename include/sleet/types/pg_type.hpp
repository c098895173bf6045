// sleet::types — the extension point that maps C++ types to PostgreSQL values.
//
// Every built-in mapping in <sleet/types/*.hpp> is a specialisation of `pg_type`, exactly like
// a user's would be; nothing here knows about any particular type. This layer is Asio-free.
//
// Assumptions of the codecs: client_encoding UTF8, DateStyle ISO, TimeZone UTC and
// IntervalStyle postgres (the connection sets the first three at startup; the last is the
// server default). Binary format is used for parameters wherever a binary codec exists.
#pragma once

#include <sleet/error.hpp>
#include <sleet/wire/frontend.hpp>
#include <sleet/wire/oid.hpp>

#include <concepts>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace sleet {

/// Maps the C++ type `T` to a PostgreSQL type. Specialise it (fully, or partially through
/// `Enable`) for your own types. A specialisation provides:
///
/// \code
/// static constexpr std::string_view sql_name;   // "int4", "text", "point": for DDL and casts
/// static constexpr oid_t oid;                   // OID sent with parameters; 0 = the server
///                                               // infers the type from the statement
/// static constexpr bool binary;                 // parameters go in binary format (else text)
/// static void encode(const T&, std::string& out, wire::format f);
///     // append the value's bytes in format f (no length prefix); may throw
///     // error_with_diagnostics for values that cannot be sent
/// static bool accepts(oid_t server_type);       // may T read a column of this server type?
/// static error_code decode(std::string_view bytes, wire::format f, oid_t server_type,
///                          T& out, diagnostics& diag);
///     // parse one non-NULL value; on failure return errc::invalid_value (or
///     // value_out_of_range, type_mismatch) and optionally put the reason, without the column
///     // name, in diag.assign_client(...): decode_field() adds the column and the types.
/// \endcode
///
/// Optional members:
///   - `static constexpr std::string_view cpp_name` — how error messages spell T
///     (e.g. "std::int16_t"), or `static std::string cpp_name_of()` when it must be built
///     (templates); by default the compiler's spelling is used.
///   - `static constexpr oid_t array_oid` — the OID of the array type `T[]`; lets
///     `std::vector<T>` travel in binary format.
///   - `static constexpr bool reads_any_text_format = true` — T can read any column the
///     server sends in text format (std::string does this); accepts() then only governs binary.
///   - `static constexpr std::string_view type_name` — for extension and user types whose OID
///     differs between databases (citext, hstore, your enums): set `oid = 0`, give the type's
///     name here and make accepts() return true for `is_user_oid(t)`. The connection may resolve
///     the name to the OID per connection; until it does, parameters are sent with OID 0 (the
///     server infers the type) and reading relies on accepts().
///
/// A type may be encode-only (const char*) or decode-only; see pg_encodable / pg_decodable.
template <class T, class Enable = void>
struct pg_type;

/// First OID of user-created objects (FirstNormalObjectId): extension types, enums, domains.
inline constexpr oid_t first_user_oid = 16384;
constexpr bool is_user_oid(oid_t t) noexcept { return t >= first_user_oid; }

/// T can be sent as a parameter.
template <class T>
concept pg_encodable = requires(const T& v, std::string& out, wire::format f) {
    { pg_type<T>::sql_name } -> std::convertible_to<std::string_view>;
    { pg_type<T>::oid } -> std::convertible_to<oid_t>;
    { pg_type<T>::binary } -> std::convertible_to<bool>;
    pg_type<T>::encode(v, out, f);
};

/// A column can be read into T.
template <class T>
concept pg_decodable = requires(std::string_view b, wire::format f, oid_t t, T& out, diagnostics& d) {
    { pg_type<T>::accepts(t) } -> std::same_as<bool>;
    { pg_type<T>::decode(b, f, t, out, d) } -> std::same_as<error_code>;
};

/// T maps both ways: it can be sent as a parameter and read from a column.
template <class T>
concept pg_mappable = pg_encodable<T> && pg_decodable<T>;

/// Name of a server type for messages: "int4", "text", "int4[]", or "oid 16390" for a type
/// this library does not know. Known names are static; the "oid N" text lives in a small
/// thread-local ring and stays valid for the next 7 calls on the same thread.
std::string_view type_name_of(oid_t t);

/// True for the types whose value, in both formats, is plain text: text, varchar, bpchar,
/// name, unknown, "char", json, xml (jsonb is text after a version byte in binary).
constexpr bool is_text_like(oid_t t) noexcept
{
    switch (t) {
    case oid::text:
    case oid::varchar:
    case oid::bpchar:
    case oid::name:
    case oid::unknown:
    case oid::char_:
    case oid::json:
    case oid::xml: return true;
    default: return false;
    }
}

/// For arrays of built-in element types: the element type of an array type, else 0.
oid_t array_element_oid(oid_t array_type) noexcept;

/// True for the server types whose BINARY result format the built-in decoders read: bool,
/// int2/4/8, oid (and regproc, regclass, regtype), float4/8, numeric, the text-like types
/// (text, varchar, bpchar, name, "char", json, jsonb, xml), bytea, uuid, date, time, timetz,
/// timestamp, timestamptz, interval, inet, cidr, macaddr, money, and arrays of any of these.
/// The connection requests binary results for exactly these columns and text for the rest
/// (enums, extension and user types such as citext, types this library does not map).
bool binary_result_supported(oid_t t) noexcept;

namespace detail {
template <class T>
std::string compiler_type_name()
{
    // "... [with T = point2d; ...]" (GCC) or "... [T = point2d]" (Clang).
    std::string_view f = __PRETTY_FUNCTION__;
    auto pos = f.find("T = ");
    if (pos == std::string_view::npos) return "<unknown type>";
    f.remove_prefix(pos + 4);
    auto end = f.find_first_of(";]");
    return std::string(f.substr(0, end));
}

template <class T> struct is_optional : std::false_type {};
template <class U> struct is_optional<std::optional<U>> : std::true_type {};
template <class T> inline constexpr bool is_optional_v = is_optional<T>::value;
} // namespace detail

/// How messages spell the C++ type T: pg_type<T>::cpp_name if present, else the compiler's name.
template <class T>
std::string cpp_type_name()
{
    if constexpr (detail::is_optional_v<T>) {
        return "std::optional<" + cpp_type_name<typename T::value_type>() + ">";
    } else if constexpr (requires { pg_type<T>::cpp_name; }) {
        return std::string(pg_type<T>::cpp_name);
    } else if constexpr (requires { pg_type<T>::cpp_name_of(); }) {
        return pg_type<T>::cpp_name_of();
    } else {
        return detail::compiler_type_name<T>();
    }
}

/// The OID of T[] if the mapping declares one, else 0.
template <class T>
constexpr oid_t array_oid_of() noexcept
{
    if constexpr (requires { pg_type<T>::array_oid; }) return pg_type<T>::array_oid;
    else return 0;
}

/// May a T read a column of server type `t` sent in format `f`?
template <class T>
bool can_read(oid_t t, wire::format f)
{
    if constexpr (requires { pg_type<T>::reads_any_text_format; }) {
        if (pg_type<T>::reads_any_text_format && f == wire::format::text) return true;
    }
    return pg_type<T>::accepts(t);
}

} // namespace sleet
