// sleet::types — sleet::money ↔ money.
#pragma once

#include <sleet/types/pg_type.hpp>

#include <compare>
#include <cstdint>

namespace sleet {

/// PostgreSQL money: a 64-bit count of the currency's smallest unit (cents with the usual
/// lc_monetary). Binary is exact and locale-free; the text form is locale-formatted
/// ("$1,234.56", "-$0.01"), so reading text assumes two fraction digits, and parameters go in
/// binary. Prefer numeric for new schemas.
struct money {
    std::int64_t cents = 0;
    friend bool operator==(const money&, const money&) = default;
    friend auto operator<=>(const money&, const money&) = default;
};

template <>
struct pg_type<money> {
    static constexpr std::string_view sql_name = "money";
    static constexpr std::string_view cpp_name = "sleet::money";
    static constexpr oid_t oid = oid::money;
    static constexpr oid_t array_oid = 791;
    static constexpr bool binary = true;
    static bool accepts(oid_t t) noexcept { return t == oid::money; }
    static void encode(const money& v, std::string& out, wire::format f);
    static error_code decode(std::string_view b, wire::format f, oid_t t, money& out, diagnostics& d);
};

} // namespace sleet
