// sleet::query — drizzle's filter, ordering and aggregate functions, rendering the same SQL:
// eq, ne, gt, gte, lt, lte, and_, or_, not_, is_null, is_not_null, in_array, not_in_array, between,
// not_between, like, ilike, not_like, not_ilike, array_contains, array_contained, array_overlaps,
// asc, desc, count, count_distinct, sum, sum_distinct, avg, avg_distinct, min, max, named.
// Values are always bound as `$n`. Asio-free.
#pragma once

#include <sleet/schema/table.hpp>
#include <sleet/sql/expression.hpp>

#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace sleet {

namespace detail {
template <class E> constexpr bool is_boolean_expr()
{
    using T = typename E::sql_type;
    return std::is_void_v<T> || std::is_same_v<T, bool> || std::is_same_v<T, std::optional<bool>>;
}
template <class T> struct strip_optional { using type = T; };
template <class T> struct strip_optional<std::optional<T>> { using type = T; };
template <class T> using strip_optional_t = typename strip_optional<T>::type;

template <fixed_string Op, sql_expression L, class R>
auto compare(const L& l, R&& r)
{
    using T = typename L::sql_type;
    static_assert(operand_compatible<T, R>(),
                  "sleet: comparing a column (or expression) with a value of the wrong C++ type: the value "
                  "must match the SQL type (no text/number, bool/int or float/integer mixing)");
    using O = decltype(operand<T>(std::forward<R>(r)));
    return fragment<Op, bool, L, O>{{l, operand<T>(std::forward<R>(r))}};
}

template <class E> constexpr bool is_text_expr() { return std::is_same_v<strip_optional_t<typename E::sql_type>, std::string> || std::is_void_v<typename E::sql_type>; }
template <class E> constexpr bool is_array_expr() { return is_vector<strip_optional_t<typename E::sql_type>>::value || std::is_void_v<typename E::sql_type>; }
} // namespace detail

/// `a = b` (drizzle eq). The right side is a value (bound) or an expression of a compatible type.
template <sql_expression L, class R> auto eq(const L& l, R&& r) { return detail::compare<"{} = {}">(l, std::forward<R>(r)); }
template <sql_expression L, class R> auto ne(const L& l, R&& r) { return detail::compare<"{} <> {}">(l, std::forward<R>(r)); }
template <sql_expression L, class R> auto gt(const L& l, R&& r) { return detail::compare<"{} > {}">(l, std::forward<R>(r)); }
template <sql_expression L, class R> auto gte(const L& l, R&& r) { return detail::compare<"{} >= {}">(l, std::forward<R>(r)); }
template <sql_expression L, class R> auto lt(const L& l, R&& r) { return detail::compare<"{} < {}">(l, std::forward<R>(r)); }
template <sql_expression L, class R> auto lte(const L& l, R&& r) { return detail::compare<"{} <= {}">(l, std::forward<R>(r)); }

/// `(a and b and c)`; with one condition, the condition alone (as drizzle renders it).
template <fixed_string Sep, class... Es>
struct junction {
    std::tuple<Es...> items;
    using sql_type = bool;
    using tables = detail::concat_t<type_list<>, typename Es::tables...>;
    static constexpr bool nullable = (Es::nullable || ...);
    static constexpr bool static_shape = (Es::static_shape && ...);

    void render(render_context& c) const
    {
        if constexpr (sizeof...(Es) == 1) {
            std::get<0>(items).render(c);
        } else {
            c.append('(');
            std::apply([&](const auto& first, const auto&... rest) {
                first.render(c);
                ((c.append(Sep.view()), rest.render(c)), ...);
            }, items);
            c.append(')');
        }
    }
    template <class Sink> void bind(Sink& s) const
    {
        std::apply([&](const auto&... e) { (e.bind(s), ...); }, items);
    }
};

template <sql_expression... Es>
    requires(sizeof...(Es) > 0)
auto and_(const Es&... es)
{
    static_assert((detail::is_boolean_expr<Es>() && ...), "sleet: and_() takes boolean conditions");
    return junction<" and ", Es...>{{es...}};
}
template <sql_expression... Es>
    requires(sizeof...(Es) > 0)
auto or_(const Es&... es)
{
    static_assert((detail::is_boolean_expr<Es>() && ...), "sleet: or_() takes boolean conditions");
    return junction<" or ", Es...>{{es...}};
}
/// `not <condition>`.
template <sql_expression E> auto not_(const E& e)
{
    static_assert(detail::is_boolean_expr<E>(), "sleet: not_() takes a boolean condition");
    return fragment<"not {}", bool, E>{{e}};
}
template <sql_expression E> auto is_null(const E& e) { return fragment<"{} is null", bool, E>{{e}}; }
template <sql_expression E> auto is_not_null(const E& e) { return fragment<"{} is not null", bool, E>{{e}}; }

/// `e in ($1, $2, ...)`, or `false` for an empty list (`true` for not in), as drizzle renders it.
template <sql_expression E, class T, bool Not>
struct in_list {
    E expr;
    std::vector<T> values;
    using sql_type = bool;
    using tables = typename E::tables;
    static constexpr bool nullable = E::nullable;
    static constexpr bool static_shape = false; // the number of placeholders depends on the list

    void render(render_context& c) const
    {
        if (values.empty()) {
            c.append(Not ? "true" : "false");
            return;
        }
        expr.render(c);
        c.append(Not ? " not in (" : " in (");
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (i) c.append(", ");
            c.param();
        }
        c.append(')');
    }
    template <class Sink> void bind(Sink& s) const
    {
        if (values.empty()) return;
        for (const auto& v : values) s(v);
    }
};

template <bool Not, sql_expression E, class Range>
auto make_in_list(const E& e, const Range& values)
{
    using T = typename E::sql_type;
    using V = std::remove_cvref_t<decltype(*std::begin(values))>;
    static_assert(detail::value_compatible<T, V>(),
                  "sleet: in_array(): the list's values have the wrong C++ type for the column");
    in_list<E, decltype(detail::to_column_value<T>(std::declval<const V&>())), Not> out{e, {}};
    for (const auto& v : values) out.values.push_back(detail::to_column_value<T>(v));
    return out;
}
/// `e in ($1, ...)`. An empty list renders `false` (drizzle 0.44 does the same).
template <sql_expression E, class Range> auto in_array(const E& e, const Range& values) { return make_in_list<false>(e, values); }
template <sql_expression E, class V> auto in_array(const E& e, std::initializer_list<V> values) { return make_in_list<false>(e, values); }
/// `e not in ($1, ...)`; an empty list renders `true`.
template <sql_expression E, class Range> auto not_in_array(const E& e, const Range& values) { return make_in_list<true>(e, values); }
template <sql_expression E, class V> auto not_in_array(const E& e, std::initializer_list<V> values) { return make_in_list<true>(e, values); }

namespace detail {
template <fixed_string Op, sql_expression E, class A, class B>
auto range_test(const E& e, A&& a, B&& b)
{
    using T = typename E::sql_type;
    static_assert(operand_compatible<T, A>() && operand_compatible<T, B>(),
                  "sleet: between(): the bounds have the wrong C++ type for the expression");
    using OA = decltype(operand<T>(std::forward<A>(a)));
    using OB = decltype(operand<T>(std::forward<B>(b)));
    return fragment<Op, bool, E, OA, OB>{{e, operand<T>(std::forward<A>(a)), operand<T>(std::forward<B>(b))}};
}
template <fixed_string Op, sql_expression E, class P>
auto pattern_test(const E& e, P&& p)
{
    static_assert(is_text_expr<E>(), "sleet: like()/ilike() apply to text columns");
    static_assert(operand_compatible<std::string, P>(), "sleet: like()/ilike(): the pattern must be text");
    using O = decltype(operand<std::string>(std::forward<P>(p)));
    return fragment<Op, bool, E, O>{{e, operand<std::string>(std::forward<P>(p))}};
}
template <fixed_string Op, sql_expression E, class V>
auto array_test(const E& e, V&& v)
{
    static_assert(is_array_expr<E>(), "sleet: array_contains()/array_contained()/array_overlaps() apply to array columns");
    using T = strip_optional_t<typename E::sql_type>;
    static_assert(operand_compatible<T, V>(), "sleet: array operator: the value must be an array (std::vector) of the column's element type");
    using O = decltype(operand<T>(std::forward<V>(v)));
    return fragment<Op, bool, E, O>{{e, operand<T>(std::forward<V>(v))}};
}
} // namespace detail

template <sql_expression E, class A, class B> auto between(const E& e, A&& a, B&& b) { return detail::range_test<"{} between {} and {}">(e, std::forward<A>(a), std::forward<B>(b)); }
template <sql_expression E, class A, class B> auto not_between(const E& e, A&& a, B&& b) { return detail::range_test<"{} not between {} and {}">(e, std::forward<A>(a), std::forward<B>(b)); }
template <sql_expression E, class P> auto like(const E& e, P&& p) { return detail::pattern_test<"{} like {}">(e, std::forward<P>(p)); }
template <sql_expression E, class P> auto not_like(const E& e, P&& p) { return detail::pattern_test<"{} not like {}">(e, std::forward<P>(p)); }
template <sql_expression E, class P> auto ilike(const E& e, P&& p) { return detail::pattern_test<"{} ilike {}">(e, std::forward<P>(p)); }
template <sql_expression E, class P> auto not_ilike(const E& e, P&& p) { return detail::pattern_test<"{} not ilike {}">(e, std::forward<P>(p)); }
/// `col @> $1`: the array column contains every element of the value.
template <sql_expression E, class V> auto array_contains(const E& e, V&& v) { return detail::array_test<"{} @> {}">(e, std::forward<V>(v)); }
/// `col <@ $1`: every element of the column is in the value.
template <sql_expression E, class V> auto array_contained(const E& e, V&& v) { return detail::array_test<"{} <@ {}">(e, std::forward<V>(v)); }
/// `col && $1`: the two arrays share an element.
template <sql_expression E, class V> auto array_overlaps(const E& e, V&& v) { return detail::array_test<"{} && {}">(e, std::forward<V>(v)); }

// ------------------------------------------------------------------------------------------
// Ordering
namespace detail { struct ordering {}; }
/// `e asc` / `e desc` for order_by().
template <sql_expression E> auto asc(const E& e) { return fragment<"{} asc", detail::ordering, E>{{e}}; }
template <sql_expression E> auto desc(const E& e) { return fragment<"{} desc", detail::ordering, E>{{e}}; }

// ------------------------------------------------------------------------------------------
// Aggregates (drizzle: count, countDistinct, sum, sumDistinct, avg, avgDistinct, min, max)
namespace detail {
template <class T> struct sum_type {
    using type = std::conditional_t<std::is_integral_v<T> && sizeof(T) <= 4, std::int64_t,
                                    std::conditional_t<std::is_floating_point_v<T>, T, sleet::numeric>>;
};
template <class T> struct avg_type {
    using type = std::conditional_t<std::is_floating_point_v<T>, double, sleet::numeric>;
};
template <class E> constexpr void check_numeric()
{
    using T = strip_optional_t<typename E::sql_type>;
    static_assert(std::is_arithmetic_v<T> || std::is_same_v<T, sleet::numeric> || std::is_void_v<T>,
                  "sleet: sum()/avg() apply to numeric expressions");
}
} // namespace detail

/// `count(*)`: std::int64_t.
inline auto count() { return fragment<"count(*)", std::int64_t>{}; }
/// `count(e)`: std::int64_t.
template <sql_expression E> auto count(const E& e) { return fragment<"count({})", std::int64_t, E>{{e}}; }
template <sql_expression E> auto count_distinct(const E& e) { return fragment<"count(distinct {})", std::int64_t, E>{{e}}; }
/// `sum(e)`: NULL over no rows; int64 for smallint/integer, numeric for bigint/numeric.
template <sql_expression E> auto sum(const E& e)
{
    detail::check_numeric<E>();
    return fragment<"sum({})", std::optional<typename detail::sum_type<detail::strip_optional_t<typename E::sql_type>>::type>, E>{{e}};
}
template <sql_expression E> auto sum_distinct(const E& e)
{
    detail::check_numeric<E>();
    return fragment<"sum(distinct {})", std::optional<typename detail::sum_type<detail::strip_optional_t<typename E::sql_type>>::type>, E>{{e}};
}
/// `avg(e)`: numeric for integers and numeric, double for floating point; NULL over no rows.
template <sql_expression E> auto avg(const E& e)
{
    detail::check_numeric<E>();
    return fragment<"avg({})", std::optional<typename detail::avg_type<detail::strip_optional_t<typename E::sql_type>>::type>, E>{{e}};
}
template <sql_expression E> auto avg_distinct(const E& e)
{
    detail::check_numeric<E>();
    return fragment<"avg(distinct {})", std::optional<typename detail::avg_type<detail::strip_optional_t<typename E::sql_type>>::type>, E>{{e}};
}
template <sql_expression E> auto min(const E& e) { return fragment<"min({})", std::optional<detail::strip_optional_t<typename E::sql_type>>, E>{{e}}; }
template <sql_expression E> auto max(const E& e) { return fragment<"max({})", std::optional<detail::strip_optional_t<typename E::sql_type>>, E>{{e}}; }

/// `excluded."col"` inside on_conflict_do_update: the value the insert proposed.
template <class Column>
struct excluded_column {
    using sql_type = typename Column::sql_type;
    using tables = type_list<>;
    static constexpr bool nullable = Column::nullable;
    static constexpr bool static_shape = true;
    void render(render_context& c) const
    {
        c.append("excluded.");
        c.identifier(Column::spec::name);
    }
    template <class Sink> void bind(Sink&) const {}
};
template <class Id, class Spec> auto excluded(const table_column<Id, Spec>&) { return excluded_column<table_column<Id, Spec>>{}; }

/// A selected expression with a field name for the result row: `named<"n">(count())`. Renders
/// the expression alone (drizzle's `{ n: count() }`).
template <fixed_string Name, class E>
struct named_field : E {
    static constexpr auto field_name = Name;
};
template <fixed_string Name, sql_expression E> auto named(const E& e) { return named_field<Name, E>{e}; }

} // namespace sleet
