// sleet::types — bool ↔ PostgreSQL boolean.
#pragma once

#include <sleet/types/pg_type.hpp>

namespace sleet {

/// bool ↔ boolean. Binary: one byte 0/1. Text: "t"/"f" (reads "true"/"false" too).
template <>
struct pg_type<bool> {
    static constexpr std::string_view sql_name = "boolean";
    static constexpr std::string_view cpp_name = "bool";
    static constexpr oid_t oid = oid::bool_;
    static constexpr oid_t array_oid = oid::bool_array;
    static constexpr bool binary = true;
    static bool accepts(oid_t t) noexcept { return t == oid::bool_; }
    static void encode(const bool& v, std::string& out, wire::format f);
    static error_code decode(std::string_view b, wire::format f, oid_t t, bool& out, diagnostics& d);
};

} // namespace sleet
