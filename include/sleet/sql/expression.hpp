// sleet::sql — the building blocks of every SQL expression: bound values (always `$n`, never
// inlined), compile-time text fragments with `{}` holes, and the type rules that decide which
// C++ values may stand for a column's type. Asio-free.
//
// An expression type E provides:
//   using sql_type  = the C++ type of its value (void: an untyped raw fragment);
//   using tables    = type_list<table ids it references>;
//   static constexpr bool nullable, static_shape;   // static_shape: its text never varies
//   void render(render_context&) const;              // text, `$n` for values
//   template <class Sink> void bind(Sink&) const;    // the values, in the order of their `$n`
#pragma once

#include <sleet/schema/column.hpp>
#include <sleet/sql/fixed_string.hpp>
#include <sleet/sql/render.hpp>

#include <limits>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace sleet {

template <class E>
concept sql_expression = requires(const E& e, render_context& c) {
    typename E::sql_type;
    typename E::tables;
    { E::static_shape } -> std::convertible_to<bool>;
    { E::nullable } -> std::convertible_to<bool>;
    e.render(c);
};

/// A value sent as a parameter: renders `$n`.
template <class T>
struct bound {
    T value;
    using sql_type = T;
    using tables = type_list<>;
    static constexpr bool nullable = detail::is_optional_v<T>;
    static constexpr bool static_shape = true;
    void render(render_context& c) const
    {
        if (c.inline_params()) c.append(sql_literal(to_param_value(value)));
        else c.param();
    }
    template <class Sink> void bind(Sink& s) const { s(value); }
};

/// A fragment of SQL text known at compile time with `{}` holes filled by the arguments
/// (expressions render in place, values become `$n`). `T` is the C++ type of its value.
template <fixed_string Text, class T, class... Args>
struct fragment {
    std::tuple<Args...> args;

    using sql_type = T;
    using tables = detail::concat_t<type_list<>, typename Args::tables...>;
    static constexpr bool nullable = false; // write std::optional<X> as T when it may be NULL
    static constexpr bool static_shape = (Args::static_shape && ...);
    static_assert(detail::count_placeholders(Text.view()) == sizeof...(Args),
                  "sleet::sql: the number of {} placeholders differs from the number of arguments");

    void render(render_context& c) const
    {
        render_from<0>(c, Text.view());
    }
    template <class Sink> void bind(Sink& s) const
    {
        std::apply([&](const auto&... a) { (a.bind(s), ...); }, args);
    }

private:
    template <std::size_t I> void render_from(render_context& c, std::string_view rest) const
    {
        auto pos = rest.find("{}");
        if constexpr (I < sizeof...(Args)) {
            c.append(rest.substr(0, pos));
            std::get<I>(args).render(c);
            render_from<I + 1>(c, rest.substr(pos + 2));
        } else {
            c.append(rest);
        }
    }
};

namespace detail {

template <class T> struct is_vector : std::false_type {};
template <class T, class A> struct is_vector<std::vector<T, A>> : std::true_type { using elem = T; };

/// May a C++ value of type V stand where the SQL type maps to T? (No silent text↔number, bool↔int
/// or float→integer conversions.)
template <class T, class V>
constexpr bool value_compatible()
{
    using U = std::remove_cvref_t<V>;
    if constexpr (std::is_void_v<T> || std::is_void_v<U>) return true; // untyped raw SQL
    else if constexpr (std::is_same_v<U, std::nullopt_t>) return true;
    else if constexpr (is_optional_v<U>) return value_compatible<T, typename U::value_type>();
    else if constexpr (is_optional_v<T>) return value_compatible<typename T::value_type, U>();
    else if constexpr (std::is_same_v<T, bool>) return std::is_same_v<U, bool>;
    else if constexpr (std::is_integral_v<T>) return std::is_integral_v<U> && !std::is_same_v<U, bool>;
    else if constexpr (std::is_floating_point_v<T>) return std::is_arithmetic_v<U> && !std::is_same_v<U, bool>;
    else if constexpr (std::is_enum_v<T>) return std::is_same_v<T, U>;
    else if constexpr (std::is_same_v<T, std::string>)
        return std::is_convertible_v<const U&, std::string_view> && !std::is_same_v<U, std::nullptr_t>;
    else if constexpr (is_vector<T>::value && is_vector<U>::value)
        return value_compatible<typename is_vector<T>::elem, typename is_vector<U>::elem>();
    else return std::is_same_v<T, U> || std::is_constructible_v<T, const U&>;
}

/// Converts a value to the column's C++ type; an integer out of the column type's range throws
/// error_with_diagnostics(errc::value_out_of_range).
[[noreturn]] void throw_out_of_range_param();

template <class T, class V>
auto to_column_value(V&& v)
{
    using U = std::remove_cvref_t<V>;
    if constexpr (std::is_void_v<T>) {
        if constexpr (std::is_array_v<U> || std::is_pointer_v<U>) return std::string(std::string_view(v));
        else return U(std::forward<V>(v));
    } else if constexpr (std::is_same_v<U, std::nullopt_t>) {
        return std::optional<T>{};
    } else if constexpr (is_optional_v<U>) {
        std::optional<T> out;
        if (v) out = to_column_value<T>(*v);
        return out;
    } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
        if (!std::in_range<T>(v)) throw_out_of_range_param();
        return static_cast<T>(v);
    } else if constexpr (std::is_same_v<T, U>) {
        return U(std::forward<V>(v));
    } else if constexpr (std::is_same_v<T, std::string>) {
        return std::string(std::string_view(v));
    } else if constexpr (is_vector<T>::value && is_vector<U>::value) {
        T out;
        out.reserve(v.size());
        for (const auto& e : v) out.push_back(to_column_value<typename is_vector<T>::elem>(e));
        return out;
    } else {
        return T(std::forward<V>(v));
    }
}

/// The operand for a comparison with something of C++ type T: an expression as is, a value bound.
template <class T, class V>
auto operand(V&& v)
{
    using U = std::remove_cvref_t<V>;
    if constexpr (sql_expression<U>) {
        return U(std::forward<V>(v));
    } else {
        using C = decltype(to_column_value<T>(std::forward<V>(v)));
        return bound<C>{to_column_value<T>(std::forward<V>(v))};
    }
}

template <class T, class V>
constexpr bool operand_compatible()
{
    using U = std::remove_cvref_t<V>;
    if constexpr (sql_expression<U>) return value_compatible<T, typename U::sql_type>();
    else return value_compatible<T, U>();
}

} // namespace detail

/// Raw SQL with compile-time text: `sql<"lower({})", std::string>(users.name)`,
/// `sql<"excluded.name">()`. Values among the arguments are bound as `$n`, never spliced into
/// the text; columns render as `"table"."column"`. `T` is the C++ type of the fragment's value
/// (void = untyped: usable in where/set/order by, not as a selected field).
template <fixed_string Text, class T, class... Args>
struct raw_fragment : fragment<Text, T, Args...> {
    /// Renders as the fragment does, and marks the statement as holding raw SQL: it may call
    /// functions with side effects, so it is never taken to be read-only.
    void render(render_context& c) const
    {
        c.note_raw_sql();
        fragment<Text, T, Args...>::render(c);
    }
};

template <fixed_string Text, class T = void, class... Args>
auto sql(Args&&... args)
{
    return raw_fragment<Text, T, decltype(detail::operand<void>(std::forward<Args>(args)))...>{
        {{detail::operand<void>(std::forward<Args>(args))...}}};
}

/// SQL text known only at run time. It is spliced into the statement as is: never build it
/// from user input. The name says it loudly on purpose (drizzle's `sql.raw`).
struct unsafe_raw_sql {
    std::string text;
    using sql_type = void;
    using tables = type_list<>;
    static constexpr bool nullable = true;
    static constexpr bool static_shape = false;
    void render(render_context& c) const
    {
        c.note_raw_sql();
        c.append(text);
    }
    template <class Sink> void bind(Sink&) const {}
};
inline unsafe_raw_sql unsafe_raw(std::string text) { return {std::move(text)}; }

} // namespace sleet
