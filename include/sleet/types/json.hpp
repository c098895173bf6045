// sleet::types — JSON documents as raw text ↔ json / jsonb.
#pragma once

#include <sleet/types/pg_type.hpp>

#include <string>

namespace sleet {

/// A JSON document kept as its text, unparsed. For a parsed value see <sleet/types/tao_json.hpp>.
struct json_text {
    std::string text;
    friend bool operator==(const json_text&, const json_text&) = default;
};

namespace detail {
error_code decode_json_text(std::string_view b, wire::format f, oid_t t, std::string_view& out, diagnostics& d);
} // namespace detail

/// sleet::json_text ↔ json, jsonb. Reads json and jsonb in both formats (binary jsonb is a
/// version byte 1 and the text). Parameters go as text with OID 0: the server parses them as
/// json or jsonb, whichever the statement needs (the two have no implicit cast between them).
/// Write `$1::jsonb` where nothing else decides the type.
template <>
struct pg_type<json_text> {
    static constexpr std::string_view sql_name = "jsonb";
    static constexpr std::string_view cpp_name = "sleet::json_text";
    static constexpr oid_t oid = oid::unspecified;
    static constexpr bool binary = false;
    static bool accepts(oid_t t) noexcept { return t == oid::json || t == oid::jsonb; }
    static void encode(const json_text& v, std::string& out, wire::format f);
    static error_code decode(std::string_view b, wire::format f, oid_t t, json_text& out, diagnostics& d)
    {
        std::string_view v;
        auto ec = detail::decode_json_text(b, f, t, v, d);
        if (!ec) out.text.assign(v.data(), v.size());
        return ec;
    }
};

} // namespace sleet
