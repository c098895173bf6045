// sleet::sql — a string usable as a template argument ("users", "{} = {}").
//
// Names of tables and columns and the text of raw SQL fragments are template arguments, so the
// compiler knows them: they cost nothing at run time and a query's SQL text can be rendered once
// per query type. This layer is Asio-free.
#pragma once

#include <cstddef>
#include <string_view>

namespace sleet {

/// A NUL-terminated character array of static size, usable as a non-type template argument:
/// `template <fixed_string Name> struct x;  x<"users">`.
template <std::size_t N>
struct fixed_string {
    char data[N]{};

    constexpr fixed_string(const char (&s)[N]) noexcept
    {
        for (std::size_t i = 0; i < N; ++i) data[i] = s[i];
    }
    static constexpr std::size_t size() noexcept { return N - 1; }
    static constexpr bool empty() noexcept { return N <= 1; }
    constexpr std::string_view view() const noexcept { return {data, N - 1}; }
    constexpr operator std::string_view() const noexcept { return view(); }
};

namespace detail {
/// Number of "{}" placeholders in a fragment's text.
constexpr std::size_t count_placeholders(std::string_view s) noexcept
{
    std::size_t n = 0;
    for (std::size_t i = 0; i + 1 < s.size(); ++i)
        if (s[i] == '{' && s[i + 1] == '}') ++n, ++i;
    return n;
}
template <class... Ts> inline constexpr bool always_false = false;
} // namespace detail

} // namespace sleet
