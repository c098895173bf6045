// sleet::types — tao::json::value ↔ json / jsonb. Kept out of <sleet/types.hpp> so only the
// users who want parsed JSON pay for taoJSON's headers: include this header explicitly.
#pragma once

#include <sleet/types/detail/codec.hpp>
#include <sleet/types/json.hpp>

#include <tao/json.hpp>

#include <exception>

namespace sleet {

/// tao::json::value ↔ json, jsonb. Reads either type in either format; parameters go as JSON
/// text with OID 0, like sleet::json_text. Text that is not valid JSON reads as
/// errc::invalid_value with taoJSON's parse error as the reason.
template <>
struct pg_type<tao::json::value> {
    static constexpr std::string_view sql_name = "jsonb";
    static constexpr std::string_view cpp_name = "tao::json::value";
    static constexpr oid_t oid = oid::unspecified;
    static constexpr bool binary = false;
    static bool accepts(oid_t t) noexcept { return t == oid::json || t == oid::jsonb; }
    static void encode(const tao::json::value& v, std::string& out, wire::format f)
    {
        pg_type<json_text>::encode(json_text{tao::json::to_string(v)}, out, f);
    }
    static error_code decode(std::string_view b, wire::format f, oid_t t, tao::json::value& out, diagnostics& d)
    {
        std::string_view text;
        if (auto ec = detail::decode_json_text(b, f, t, text, d)) return ec;
        try {
            out = tao::json::from_string(text);
        } catch (const std::exception& e) {
            return detail::decode_fail(d, errc::invalid_value, std::string("invalid JSON: ") + e.what());
        }
        return {};
    }
};

} // namespace sleet
