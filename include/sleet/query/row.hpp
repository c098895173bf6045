// sleet::query — typed result rows: row<field<"name", T>...> for partial selections and
// returning(cols...), the table's select model for whole-table selections. Asio-free.
#pragma once

#include <sleet/query/operators.hpp>
#include <sleet/result.hpp>
#include <sleet/schema/table.hpp>

#include <cstddef>
#include <limits>
#include <optional>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

namespace sleet {

/// One named, typed field of a row type.
template <fixed_string Name, class T>
struct field {
    static constexpr auto name = Name;
    using type = T;
};

namespace detail {
inline constexpr std::size_t field_not_found = std::numeric_limits<std::size_t>::max();
inline constexpr std::size_t field_ambiguous = field_not_found - 1;

template <fixed_string N, class... Fs>
consteval std::size_t field_index()
{
    constexpr std::string_view names[] = {std::string_view(Fs::name.view())..., std::string_view()};
    std::size_t found = field_not_found;
    for (std::size_t i = 0; i < sizeof...(Fs); ++i) {
        if (names[i] == N.view()) {
            if (found != field_not_found) return field_ambiguous;
            found = i;
        }
    }
    return found;
}
} // namespace detail

/// A result row of a partial selection: `r.get<"email">()`. A name that is not a field of the row
/// does not compile. Also `r.get<0>()` by position and structured bindings.
template <class... Fs>
class row {
public:
    using values_type = std::tuple<typename Fs::type...>;

    row() = default;
    explicit row(values_type v) : values_(std::move(v)) {}

    template <fixed_string N>
    const auto& get() const
    {
        constexpr std::size_t i = detail::field_index<N, Fs...>();
        static_assert(i != detail::field_not_found,
                      "sleet::row::get<\"name\">(): the row has no field with this name (check the spelling against "
                      "the selected columns; the name is in the template arguments of this error)");
        static_assert(i != detail::field_ambiguous,
                      "sleet::row::get<\"name\">(): two selected fields have this name; name one with sleet::named<\"...\">(...)");
        if constexpr (i < sizeof...(Fs)) return std::get<i>(values_);
        else return std::get<0>(values_);
    }
    template <fixed_string N> auto& get()
    {
        return const_cast<std::remove_cvref_t<decltype(std::as_const(*this).template get<N>())>&>(std::as_const(*this).template get<N>());
    }
    template <std::size_t I> const auto& get() const { return std::get<I>(values_); }
    template <std::size_t I> auto& get() { return std::get<I>(values_); }

    static constexpr std::size_t size() noexcept { return sizeof...(Fs); }
    const values_type& values() const noexcept { return values_; }
    bool operator==(const row&) const = default;

    /// Decodes a result row by position (throws error_with_diagnostics on a type mismatch).
    static row from(const row_view& r)
    {
        return row(decode(r, std::index_sequence_for<Fs...>{}));
    }

private:
    template <std::size_t... I> static values_type decode(const row_view& r, std::index_sequence<I...>)
    {
        return values_type{r.get<typename Fs::type>(I)...};
    }
    values_type values_;
};

namespace detail {
/// The C++ type an expression's value arrives as: optional when it may be NULL.
template <class E>
using field_value_t = std::conditional_t<is_optional_v<typename E::sql_type> || !E::nullable,
                                         typename E::sql_type, std::optional<typename E::sql_type>>;

template <class E> struct field_of {
    static_assert(always_false<E>,
                  "sleet: a selected expression needs a field name: wrap it as sleet::named<\"name\">(expr)");
    using type = field<"", int>;
};
template <class Id, class Spec> struct field_of<table_column<Id, Spec>> {
    using type = field<Spec::name_string, field_value_t<table_column<Id, Spec>>>;
};
template <fixed_string N, class E> struct field_of<named_field<N, E>> {
    static_assert(!std::is_void_v<typename E::sql_type>,
                  "sleet: a raw sql<> fragment selected as a field needs a C++ type: sql<\"...\", T>(...)");
    using type = field<N, field_value_t<E>>;
};

/// Decodes a select model (whole-table row) by position.
template <class Table>
select_model<Table> decode_model(const row_view& r)
{
    constexpr std::size_t n = table_traits<Table>::column_count;
    select_model<Table> m{};
    auto t = tie_model<n>(m);
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((tie_get<I>(t) = r.get<std::remove_cvref_t<decltype(tie_get<I>(t))>>(I)), ...);
    }(std::make_index_sequence<n>{});
    return m;
}

/// Renders an expression in a select list / returning list: a column of the single table of the
/// statement as its bare name (drizzle: `select "id", "email" from "users"`), anything else whole.
template <class E>
void render_selected(render_context& c, const E& e)
{
    if constexpr (requires { typename E::spec; typename E::table; }) {
        c.identifier(E::spec::name);
    } else {
        e.render(c);
    }
}

/// Renders the column list of a table: `"id", "email", ...`.
template <class Table>
void render_all_columns(render_context& c)
{
    for_each_column_index<Table>([&](auto i) {
        if (i.value) c.append(", ");
        c.identifier(table_traits<Table>::template spec_at<decltype(i)::value>::name);
    });
}

/// The decoded result of a statement that returns rows of `Row`.
template <class Row> struct row_decoder;
template <class... Fs> struct row_decoder<row<Fs...>> {
    static row<Fs...> decode(const row_view& r) { return row<Fs...>::from(r); }
};

/// The fields of a decoded row type, by position: a row<field...> or the table's select model.
/// for_each_type calls f(integral_constant<I>, type_identity<T_I>); for_each calls
/// f(integral_constant<I>, T_I&) on an object.
template <class Row, class Table> struct row_fields {
    static_assert(std::is_same_v<Row, select_model<Table>>);
    static constexpr std::size_t count = table_traits<Table>::column_count;
    template <class F> static void for_each_type(F&& f)
    {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (f(std::integral_constant<std::size_t, I>{},
               std::type_identity<typename table_traits<Table>::template spec_at<I>::select_type>{}), ...);
        }(std::make_index_sequence<count>{});
    }
    template <class F> static void for_each(Row& m, F&& f)
    {
        auto t = tie_model<count>(m);
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (f(std::integral_constant<std::size_t, I>{}, tie_get<I>(t)), ...);
        }(std::make_index_sequence<count>{});
    }
};
template <class... Fs, class Table> struct row_fields<row<Fs...>, Table> {
    static constexpr std::size_t count = sizeof...(Fs);
    template <class F> static void for_each_type(F&& f)
    {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (f(std::integral_constant<std::size_t, I>{}, std::type_identity<typename Fs::type>{}), ...);
        }(std::index_sequence_for<Fs...>{});
    }
    template <class F> static void for_each(row<Fs...>& r, F&& f)
    {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (f(std::integral_constant<std::size_t, I>{}, r.template get<I>()), ...);
        }(std::index_sequence_for<Fs...>{});
    }
};

template <class E, class Allowed>
inline constexpr bool tables_in = list_subset<typename E::tables, Allowed>::value;
} // namespace detail

/// The row type of a selection of expressions.
template <class... Es> using row_of = row<typename detail::field_of<Es>::type...>;

} // namespace sleet
