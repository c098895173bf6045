// sleet::types — inet, cidr, macaddr.
#pragma once

#include <sleet/types/pg_type.hpp>

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sleet {

/// An IPv4 or IPv6 host address with an optional netmask length (PostgreSQL inet).
struct inet {
    enum class family_t : std::uint8_t { v4 = 4, v6 = 6 };
    family_t family = family_t::v4;
    std::array<std::uint8_t, 16> address{}; ///< IPv4 uses the first 4 bytes
    std::uint8_t prefix_length = 32;        ///< 0..32 (v4) or 0..128 (v6)

    /// "192.168.0.1", "10.0.0.0/8", "::1", "2001:db8::/32". nullopt if invalid.
    static std::optional<inet> parse(std::string_view s);
    /// As the server prints inet: the "/n" only when it is not the full length.
    std::string to_string() const;
    std::uint8_t max_prefix() const noexcept { return family == family_t::v4 ? 32 : 128; }
    friend bool operator==(const inet&, const inet&) = default;
};

/// A network (PostgreSQL cidr): same fields as inet, no host bits set right of the mask;
/// printed always with "/n".
struct cidr : inet {
    static std::optional<cidr> parse(std::string_view s);
    std::string to_string() const;
    friend bool operator==(const cidr&, const cidr&) = default;
};

/// A 6-byte MAC address (PostgreSQL macaddr), printed "08:00:2b:01:02:03".
struct macaddr {
    std::array<std::uint8_t, 6> bytes{};
    /// Accepts the separators PostgreSQL accepts for the common forms: "08:00:2b:01:02:03",
    /// "08-00-2b-01-02-03", "08002b:010203", "0800.2b01.0203", "08002b010203".
    static std::optional<macaddr> parse(std::string_view s);
    std::string to_string() const;
    friend bool operator==(const macaddr&, const macaddr&) = default;
    friend auto operator<=>(const macaddr&, const macaddr&) = default;
};

/// sleet::inet ↔ inet (also reads cidr). Binary: family, bits, is_cidr, length, address.
template <>
struct pg_type<inet> {
    static constexpr std::string_view sql_name = "inet";
    static constexpr std::string_view cpp_name = "sleet::inet";
    static constexpr oid_t oid = oid::inet;
    static constexpr oid_t array_oid = 1041;
    static constexpr bool binary = true;
    static bool accepts(oid_t t) noexcept { return t == oid::inet || t == oid::cidr; }
    static void encode(const inet& v, std::string& out, wire::format f);
    static error_code decode(std::string_view b, wire::format f, oid_t t, inet& out, diagnostics& d);
};

/// sleet::cidr ↔ cidr. Encoding a value with host bits set throws errc::invalid_value.
template <>
struct pg_type<cidr> {
    static constexpr std::string_view sql_name = "cidr";
    static constexpr std::string_view cpp_name = "sleet::cidr";
    static constexpr oid_t oid = oid::cidr;
    static constexpr oid_t array_oid = 651;
    static constexpr bool binary = true;
    static bool accepts(oid_t t) noexcept { return t == oid::cidr; }
    static void encode(const cidr& v, std::string& out, wire::format f);
    static error_code decode(std::string_view b, wire::format f, oid_t t, cidr& out, diagnostics& d);
};

/// sleet::macaddr ↔ macaddr.
template <>
struct pg_type<macaddr> {
    static constexpr std::string_view sql_name = "macaddr";
    static constexpr std::string_view cpp_name = "sleet::macaddr";
    static constexpr oid_t oid = oid::macaddr;
    static constexpr oid_t array_oid = 1040;
    static constexpr bool binary = true;
    static bool accepts(oid_t t) noexcept { return t == oid::macaddr; }
    static void encode(const macaddr& v, std::string& out, wire::format f);
    static error_code decode(std::string_view b, wire::format f, oid_t t, macaddr& out, diagnostics& d);
};

} // namespace sleet
