// sleet::query — clause pieces shared by the statement builders. Asio-free.
#pragma once

#include <sleet/query/operators.hpp>
#include <sleet/sql/expression.hpp>

#include <tuple>
#include <type_traits>
#include <utility>

namespace sleet::detail {

/// An absent clause.
struct no_clause {
    using tables = type_list<>;
    static constexpr bool static_shape = true;
    void render(render_context&) const {}
    template <class Sink> void bind(Sink&) const {}
};

/// `Prefix e1 Sep e2 ... Suffix`: " where c", " order by a, b", " distinct on (a, b)", " limit $1".
template <fixed_string Prefix, fixed_string Sep, fixed_string Suffix, class... Es>
struct clause {
    std::tuple<Es...> items;
    using tables = concat_t<type_list<>, typename Es::tables...>;
    static constexpr bool static_shape = (Es::static_shape && ...);

    void render(render_context& c) const
    {
        c.append(Prefix.view());
        std::apply([&](const auto&... e) {
            std::size_t i = 0;
            ((c.append(i++ ? Sep.view() : std::string_view()), e.render(c)), ...);
        }, items);
        c.append(Suffix.view());
    }
    template <class Sink> void bind(Sink& s) const
    {
        std::apply([&](const auto&... e) { (e.bind(s), ...); }, items);
    }
};

template <class T> struct is_no_clause : std::is_same<T, no_clause> {};

/// A copy of tuple `t` with element I replaced by `v` (whose type may differ).
template <std::size_t I, class New, class... Ts>
auto replace_at(const std::tuple<Ts...>& t, New v)
{
    return [&]<std::size_t... K>(std::index_sequence<K...>) {
        return std::tuple<std::conditional_t<K == I, New, Ts>...>{[&]() -> decltype(auto) {
            if constexpr (K == I) return (v);
            else return (std::get<K>(t));
        }()...};
    }(std::index_sequence_for<Ts...>{});
}

template <class Tuple> struct tuple_static_shape;
template <class... Ts> struct tuple_static_shape<std::tuple<Ts...>> : std::bool_constant<(Ts::static_shape && ...)> {};

template <class Tuple> struct tuple_tables;
template <class... Ts> struct tuple_tables<std::tuple<Ts...>> { using type = concat_t<type_list<>, typename Ts::tables...>; };

template <class E> constexpr bool is_expression_v = sql_expression<E>;

/// A set of column assignments (update set, on conflict do update set), rendered in the table's
/// column order as drizzle does (not in the order written), with `$onUpdate` columns that are not
/// set added: `"name" = $1, "updated_at" = now()`.
template <class Table, class... As>
struct set_list {
    std::tuple<As...> items;
    using tables = concat_t<type_list<>, typename decltype(std::declval<As>().value)::tables...>;
    static constexpr bool static_shape = (decltype(std::declval<As>().value)::static_shape && ...);

    template <std::size_t I> static constexpr std::size_t assignment_for()
    {
        using spec = typename table_traits<Table>::template spec_at<I>;
        constexpr bool match[] = {std::is_same_v<typename As::column::spec, spec>..., false};
        for (std::size_t k = 0; k < sizeof...(As); ++k)
            if (match[k]) return k;
        return sizeof...(As);
    }

    void render(render_context& c) const
    {
        bool first = true;
        for_each_column_index<Table>([&](auto i) {
            constexpr std::size_t I = decltype(i)::value;
            using spec = typename table_traits<Table>::template spec_at<I>;
            constexpr std::size_t a = assignment_for<I>();
            if constexpr (a < sizeof...(As)) {
                if (!first) c.append(", ");
                first = false;
                c.identifier(spec::name);
                c.append(" = ");
                std::get<a>(items).value.render(c);
            } else if constexpr (spec::has_on_update) {
                if (!first) c.append(", ");
                first = false;
                c.identifier(spec::name);
                c.append(" = ");
                c.append(spec::on_update_sql);
            }
        });
    }
    template <class Sink> void bind(Sink& s) const
    {
        for_each_column_index<Table>([&](auto i) {
            constexpr std::size_t a = assignment_for<decltype(i)::value>();
            if constexpr (a < sizeof...(As)) std::get<a>(items).value.bind(s);
        });
    }
};

template <class Table, class A> constexpr bool assigns_column_of()
{
    return std::is_same_v<typename A::column::table, typename table_traits<Table>::id>;
}

template <class S, class... As>
inline constexpr std::size_t count_spec = (std::size_t{0} + ... + std::size_t(std::is_same_v<S, typename As::column::spec>));
template <class... As> constexpr bool no_duplicate_assignments()
{
    return ((count_spec<typename As::column::spec, As...> == 1) && ...);
}

} // namespace sleet::detail
