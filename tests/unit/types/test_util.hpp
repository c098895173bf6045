// Helpers shared by the sleet::types unit tests.
#pragma once

#include <sleet/types.hpp>

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

namespace sleet_test {

/// Bytes from a list of small integers: bytes({0x00, 0x2a}).
inline std::string bytes(std::initializer_list<int> b)
{
    std::string s;
    for (int v : b) s.push_back(static_cast<char>(v));
    return s;
}

/// Hex dump "00 00 00 2a" for readable failures.
inline std::string hex(std::string_view s)
{
    static constexpr char d[] = "0123456789abcdef";
    std::string r;
    for (unsigned char c : s) {
        if (!r.empty()) r.push_back(' ');
        r.push_back(d[c >> 4]);
        r.push_back(d[c & 15]);
    }
    return r;
}

inline std::string unhex(std::string_view h)
{
    std::string r;
    auto v = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    for (std::size_t i = 0; i + 1 < h.size(); i += 2) r.push_back(static_cast<char>(v(h[i]) * 16 + v(h[i + 1])));
    return r;
}

template <class T>
std::string encode(const T& v, sleet::wire::format f)
{
    std::string out;
    sleet::pg_type<T>::encode(v, out, f);
    return out;
}
template <class T>
std::string bin(const T& v) { return encode(v, sleet::wire::format::binary); }
template <class T>
std::string txt(const T& v) { return encode(v, sleet::wire::format::text); }

/// Decodes through decode_field (so the accepts() check runs too); fails the test on error.
template <class T>
T decode_ok(std::string_view b, sleet::oid_t t, sleet::wire::format f)
{
    T out{};
    sleet::diagnostics diag;
    sleet::column_info col{"c", t, f};
    auto ec = sleet::decode_field(col, std::optional<std::string_view>(b), out, diag);
    EXPECT_FALSE(ec) << ec.message() << ": " << diag.client_message();
    return out;
}
template <class T>
T from_bin(std::string_view b, sleet::oid_t t) { return decode_ok<T>(b, t, sleet::wire::format::binary); }
template <class T>
T from_txt(std::string_view b, sleet::oid_t t) { return decode_ok<T>(b, t, sleet::wire::format::text); }

struct decode_result {
    sleet::error_code ec;
    std::string message;
};

/// Decodes a column named `name` expecting failure; returns the code and the client message.
template <class T>
decode_result decode_err(std::optional<std::string_view> b, sleet::oid_t t, sleet::wire::format f,
                         std::string_view name = "c")
{
    T out{};
    sleet::diagnostics diag;
    sleet::column_info col{name, t, f};
    auto ec = sleet::decode_field(col, b, out, diag);
    return {ec, diag.client_message()};
}

} // namespace sleet_test
