// sleet::schema — tables declared once, as a template over a column wrapper, and seen three ways:
//
//   template <template <class> class C>
//   struct users_columns {
//       C<pg::serial<"id", pg::primary_key>>                 id{};
//       C<pg::varchar<"email", 255, pg::not_null, pg::unique>> email{};
//       C<pg::text<"name">>                                  name{};
//   };
//   using users_t = sleet::table<"users", users_columns>;   // pg schema: third argument
//   inline constexpr users_t users{};                       // users.email: a typed SQL column
//   using user = sleet::select_model<users_t>;              // {int32_t id; string email; optional<string> name;}
//   using new_user = sleet::insert_model<users_t>;          // email required, id and name optional
//
// The table object has no members but its columns (metadata lives in sleet::table_traits), so a
// column may be called `name`, `id` or `as`. Asio-free.
#pragma once

#include <sleet/schema/column.hpp>
#include <sleet/sql/expression.hpp>
#include <sleet/sql/render.hpp>

#include <boost/pfr/core.hpp>
#include <boost/pfr/tuple_size.hpp>

#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

namespace sleet {

/// Identity of a table: its name and PostgreSQL schema ("" = the search path, i.e. public).
template <fixed_string Name, fixed_string Schema>
struct table_id {
    static constexpr std::string_view name = Name.view();
    static constexpr std::string_view schema = Schema.view();
    /// `"users"` or `"audit"."events"`.
    static void render(render_context& c)
    {
        if constexpr (!Schema.empty()) {
            c.identifier(schema);
            c.append('.');
        }
        c.identifier(name);
    }
};

template <class Column, class Value> struct assignment;

/// A column of a table, as the member of the table object: an SQL expression of the column's
/// type that renders `"table"."column"`. `users.name = "x"` makes an assignment for update().set().
template <class TableId, class Spec>
struct table_column {
    using table = TableId;
    using spec = Spec;
    using sql_type = typename Spec::value_type;
    using tables = type_list<TableId>;
    static constexpr bool nullable = !Spec::not_null;
    static constexpr bool static_shape = true;

    void render(render_context& c) const
    {
        if (c.qualify_columns()) {
            TableId::render(c);
            c.append('.');
        }
        c.identifier(Spec::name);
    }
    template <class Sink> void bind(Sink&) const {}

    template <class V>
    auto operator=(V&& v) const
    {
        static_assert(detail::operand_compatible<sql_type, V>(),
                      "sleet: the value assigned to this column has the wrong C++ type for the column's SQL type");
        static_assert(!(Spec::not_null && std::is_same_v<std::remove_cvref_t<V>, std::nullopt_t>),
                      "sleet: NULL assigned to a NOT NULL column");
        using E = decltype(detail::operand<sql_type>(std::forward<V>(v)));
        return assignment<table_column, E>{detail::operand<sql_type>(std::forward<V>(v))};
    }
};

/// `column = value` inside update().set(...) and on_conflict_do_update(...).
template <class Column, class Value>
struct assignment {
    Value value;
    using column = Column;
};

namespace detail {
template <class Id> struct bind_columns {
    template <class Spec> using type = table_column<Id, Spec>;
};
template <class Spec> using spec_view = Spec;
template <class Spec> using select_view = typename Spec::select_type;
template <class Spec> using insert_view = typename Spec::insert_type;
} // namespace detail

/// A table: derives from the column template instantiated with typed columns.
template <fixed_string Name, template <template <class> class> class Columns, fixed_string Schema = "">
struct table : Columns<detail::bind_columns<table_id<Name, Schema>>::template type> {};

/// Everything the library knows about a table type (kept out of the table's own members).
template <class T> struct table_traits;

template <fixed_string Name, template <template <class> class> class Columns, fixed_string Schema>
struct table_traits<table<Name, Columns, Schema>> {
    using id = table_id<Name, Schema>;
    using specs = Columns<detail::spec_view>;
    using select_model = Columns<detail::select_view>;
    using insert_model = Columns<detail::insert_view>;
    static constexpr std::size_t column_count = boost::pfr::tuple_size_v<specs>;
    template <std::size_t I> using spec_at = boost::pfr::tuple_element_t<I, specs>;
    template <std::size_t I> using column_at = table_column<id, spec_at<I>>;
};

template <class T>
concept table_type = requires { typename table_traits<std::remove_cvref_t<T>>::id; };

/// A row of the table as select() returns it.
template <table_type T> using select_model = typename table_traits<T>::select_model;
/// A row of the table as insert().values() takes it.
template <table_type T> using insert_model = typename table_traits<T>::insert_model;

namespace detail {
/// Calls f(std::integral_constant<std::size_t, I>{}) for each column index of the table.
template <class Table, class F>
void for_each_column_index(F&& f)
{
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (f(std::integral_constant<std::size_t, I>{}), ...);
    }(std::make_index_sequence<table_traits<Table>::column_count>{});
}

/// The members of a model object (select or insert model), as a tuple of references. Uses
/// Boost.PFR's tie with the count taken from the table (PFR's own field counting would
/// instantiate required<T>'s deleted-by-assertion default constructor).
template <std::size_t N, class Model>
auto tie_model(Model& m)
{
    return boost::pfr::detail::tie_as_tuple(m, boost::pfr::detail::size_t_<N>{});
}
template <std::size_t I, class Tuple>
decltype(auto) tie_get(Tuple& t)
{
    return boost::pfr::detail::sequence_tuple::get<I>(t);
}

template <class Spec, class Table> struct index_of_spec;
} // namespace detail

} // namespace sleet
