// Helpers for the wire tests: expected bytes are written by hand as hex plus text, independent
// of the encoders under test.
#pragma once

#include <sleet/error.hpp>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace wire_test {

/// "51 00 00 00 0d" -> bytes. Spaces are ignored.
inline std::string hex(std::string_view h)
{
    auto nib = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        throw std::invalid_argument("bad hex digit");
    };
    std::string out;
    int hi = -1;
    for (char c : h) {
        if (c == ' ' || c == '\n') continue;
        if (hi < 0) {
            hi = nib(c);
        } else {
            out += static_cast<char>(hi * 16 + nib(c));
            hi = -1;
        }
    }
    if (hi >= 0) throw std::invalid_argument("odd number of hex digits");
    return out;
}

/// Bytes -> lowercase hex, for readable failure output.
inline std::string to_hex(std::string_view b)
{
    static constexpr char d[] = "0123456789abcdef";
    std::string s;
    for (unsigned char c : b) {
        s += d[c >> 4];
        s += d[c & 15];
    }
    return s;
}

/// A text field with its NUL terminator.
inline std::string z(std::string_view s) { return std::string(s) + '\0'; }

/// Big-endian integers written by hand (not via sleet::wire::put_*).
inline std::string be16(std::uint16_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)}; }
inline std::string be32(std::uint32_t v)
{
    return {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xff), static_cast<char>((v >> 8) & 0xff),
            static_cast<char>(v & 0xff)};
}

/// A typed message frame: type byte, int32 length (counting itself), body.
inline std::string framed(char type, std::string_view body)
{
    return std::string(1, type) + be32(static_cast<std::uint32_t>(body.size() + 4)) + std::string(body);
}

inline sleet::error_code ec_of(sleet::errc e) { return sleet::make_error_code(e); }

} // namespace wire_test
