// sleet::types — strings ↔ text, varchar, bpchar, name, unknown (and any type in text format).
#pragma once

#include <sleet/types/pg_type.hpp>

#include <cstring>
#include <string>
#include <string_view>

namespace sleet {

namespace detail {
error_code decode_json_text(std::string_view b, wire::format f, oid_t t, std::string_view& out, diagnostics& d);
/// Inline: only binary jsonb has a prefix to check; any other text value is its bytes.
inline error_code decode_text(std::string_view b, wire::format f, oid_t t, std::string_view& out, diagnostics& d)
{
    if (t == oid::jsonb && f == wire::format::binary) return decode_json_text(b, f, t, out, d);
    out = b;
    return {};
}
void encode_text(std::string_view v, std::string& out);
} // namespace detail

/// std::string ↔ text.
///
/// Reading: any text-like column (text, varchar, bpchar, name, "char", unknown, json, jsonb,
/// xml) in either format, and any column at all when the server sends it in text format
/// (generic tools can print every value).
/// Writing: text format with OID 0, so the server infers the parameter's type from the
/// statement (see param_list). A value containing a NUL byte cannot be sent:
/// errc::nul_in_text_parameter is thrown when the parameter is added.
template <>
struct pg_type<std::string> {
    static constexpr std::string_view sql_name = "text";
    static constexpr std::string_view cpp_name = "std::string";
    static constexpr oid_t oid = oid::unspecified;
    static constexpr bool binary = false;
    static constexpr bool reads_any_text_format = true;
    static bool accepts(oid_t t) noexcept { return is_text_like(t) || t == oid::jsonb; }
    static void encode(const std::string& v, std::string& out, wire::format) { detail::encode_text(v, out); }
    static error_code decode(std::string_view b, wire::format f, oid_t t, std::string& out, diagnostics& d)
    {
        std::string_view v;
        auto ec = detail::decode_text(b, f, t, v, d);
        if (!ec) out.assign(v.data(), v.size());
        return ec;
    }
};

/// std::string_view: as std::string. Reading gives a view into the row's buffer (no copy):
/// it is valid only as long as that row is.
template <>
struct pg_type<std::string_view> {
    static constexpr std::string_view sql_name = "text";
    static constexpr std::string_view cpp_name = "std::string_view";
    static constexpr oid_t oid = oid::unspecified;
    static constexpr bool binary = false;
    static constexpr bool reads_any_text_format = true;
    static bool accepts(oid_t t) noexcept { return is_text_like(t) || t == oid::jsonb; }
    static void encode(const std::string_view& v, std::string& out, wire::format) { detail::encode_text(v, out); }
    static error_code decode(std::string_view b, wire::format f, oid_t t, std::string_view& out, diagnostics& d)
    {
        return detail::decode_text(b, f, t, out, d);
    }
};

/// const char* (and char*): a NUL-terminated string parameter; a null pointer is sent as NULL.
/// Encode-only.
template <>
struct pg_type<const char*> {
    static constexpr std::string_view sql_name = "text";
    static constexpr std::string_view cpp_name = "const char*";
    static constexpr oid_t oid = oid::unspecified;
    static constexpr bool binary = false;
    static void encode(const char* const& v, std::string& out, wire::format) { out.append(v); }
};
template <>
struct pg_type<char*> : pg_type<const char*> {
    static void encode(char* const& v, std::string& out, wire::format) { out.append(v); }
};

/// String literals and char buffers: the text up to the first NUL (or the whole buffer).
template <std::size_t N>
struct pg_type<char[N]> {
    static constexpr std::string_view sql_name = "text";
    static constexpr std::string_view cpp_name = "char[]";
    static constexpr oid_t oid = oid::unspecified;
    static constexpr bool binary = false;
    static void encode(const char (&v)[N], std::string& out, wire::format)
    {
        const void* nul = std::memchr(v, 0, N);
        out.append(v, nul ? static_cast<std::size_t>(static_cast<const char*>(nul) - v) : N);
    }
};

} // namespace sleet
