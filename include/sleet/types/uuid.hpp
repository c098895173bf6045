// sleet::types — sleet::uuid ↔ uuid.
#pragma once

#include <sleet/types/pg_type.hpp>

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sleet {

/// A 16-byte UUID value, ordered like PostgreSQL orders uuids (bytewise).
class uuid {
public:
    /// The nil UUID 00000000-0000-0000-0000-000000000000.
    constexpr uuid() noexcept = default;
    constexpr explicit uuid(const std::array<std::uint8_t, 16>& bytes) noexcept : bytes_(bytes) {}

    /// Parses the forms PostgreSQL accepts: 32 hex digits, upper or lower case, optionally in
    /// braces, with a hyphen allowed after any group of four digits
    /// ("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "{A0EEBC999C0B4EF8BB6D6BB9BD380A11}").
    /// nullopt if `s` is not a UUID.
    static std::optional<uuid> parse(std::string_view s) noexcept;

    /// Canonical lowercase form with hyphens.
    std::string to_string() const;
    const std::array<std::uint8_t, 16>& bytes() const noexcept { return bytes_; }

    friend constexpr bool operator==(const uuid&, const uuid&) noexcept = default;
    friend constexpr std::strong_ordering operator<=>(const uuid&, const uuid&) noexcept = default;

private:
    std::array<std::uint8_t, 16> bytes_{};
};

/// sleet::uuid ↔ uuid. Binary: the 16 bytes. Text: canonical form.
template <>
struct pg_type<uuid> {
    static constexpr std::string_view sql_name = "uuid";
    static constexpr std::string_view cpp_name = "sleet::uuid";
    static constexpr oid_t oid = oid::uuid;
    static constexpr oid_t array_oid = oid::uuid_array;
    static constexpr bool binary = true;
    static bool accepts(oid_t t) noexcept { return t == oid::uuid; }
    static void encode(const uuid& v, std::string& out, wire::format f);
    static error_code decode(std::string_view b, wire::format f, oid_t t, uuid& out, diagnostics& d);
};

} // namespace sleet
