// sleet::types — sleet::numeric ↔ numeric (arbitrary precision, exact).
#pragma once

#include <sleet/types/pg_type.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sleet {

/// An exact decimal number as PostgreSQL's numeric holds it: any number of digits, a display
/// scale (digits after the point, kept: "1.50" stays "1.50"), NaN, +Infinity and -Infinity.
/// Stored as its canonical text; conversion to double is explicit and may round.
class numeric {
public:
    /// Zero.
    numeric() = default;
    explicit numeric(std::int64_t v);

    /// Parses "123.4500", "-.5", "1.5e-3" (exponent shifts the point: "0.0015"), "NaN",
    /// "Infinity", "-Infinity" (also "inf", any case). nullopt if `s` is not a number.
    static std::optional<numeric> parse(std::string_view s);

    /// Canonical text, as the server prints it: no leading zeros, no "+", no "-0", the
    /// scale kept, no exponent ("123.4500", "-0.001", "NaN", "Infinity").
    const std::string& to_string() const noexcept { return text_; }
    bool is_nan() const noexcept { return text_ == "NaN"; }
    bool is_infinite() const noexcept { return text_ == "Infinity" || text_ == "-Infinity"; }
    /// Digits after the decimal point (0 for the special values).
    int scale() const noexcept;
    /// The nearest double (may round; NaN and ±Infinity map to themselves).
    double to_double() const;

    /// Same value *and* same scale: numeric("1.0") != numeric("1.00"), unlike SQL's `=`.
    friend bool operator==(const numeric&, const numeric&) = default;

private:
    friend struct pg_type<numeric>; // the binary decoder writes the canonical text directly
    std::string text_ = "0";
};

/// sleet::numeric ↔ numeric. Binary: base-10000 digits (ndigits, weight, sign, dscale).
template <>
struct pg_type<numeric> {
    static constexpr std::string_view sql_name = "numeric";
    static constexpr std::string_view cpp_name = "sleet::numeric";
    static constexpr oid_t oid = oid::numeric;
    static constexpr oid_t array_oid = 1231;
    static constexpr bool binary = true;
    static bool accepts(oid_t t) noexcept { return t == oid::numeric; }
    static void encode(const numeric& v, std::string& out, wire::format f);
    static error_code decode(std::string_view b, wire::format f, oid_t t, numeric& out, diagnostics& d);
};

} // namespace sleet
