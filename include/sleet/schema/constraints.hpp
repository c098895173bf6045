// sleet::schema — table-level constraints and indexes (drizzle's third argument of pgTable).
//
// A table's extra constraints are returned by a free function `table_extras(const T&)` declared
// next to the table (found by argument-dependent lookup), so they name the table's own typed
// columns exactly as drizzle's `(t) => [...]` does:
//
//   using posts_t = sleet::table<"posts", posts_columns>;
//   inline auto table_extras(const posts_t& t)
//   {
//       return sleet::extras(
//           sleet::index("posts_author_idx").on(t.author_id),
//           sleet::index("posts_tags_gin_idx").using_("gin", t.tags),
//           sleet::index("posts_published_idx").on(sleet::nulls_last(desc(t.published_at)))
//               .where(sleet::sql<"{} = 'published'">(t.status)),
//           sleet::unique("posts_author_slug_unique").on(t.author_id, t.slug),
//           sleet::check("posts_title_check", sleet::sql<"length({}) > 0">(t.title)),
//           sleet::primary_key(t.a, t.b).name("x_pk"),
//           sleet::foreign_key(sleet::columns(t.parent_id), sleet::columns(t.id)).on_delete(sleet::pg::action::cascade));
//   }
//
// Declare `table_extras` in the same header as the table: where it is not visible, the table
// renders without its extras. Names are run-time strings (DDL is rendered rarely); the columns are types, so a constraint
// naming a column of another table, or a foreign key between columns of different types, does
// not compile. SQL fragments in checks, index expressions and `where` cannot bind values (DDL
// has no parameters): write literals in the fragment's text. Asio-free.
#pragma once

#include <sleet/schema/table.hpp>
#include <sleet/sql/expression.hpp>

#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace sleet {

namespace detail {
struct ordering; // the sql_type of asc(e) / desc(e) (query/operators.hpp)

template <class C> struct is_ddl_column : std::false_type {};
template <class Id, class Spec> struct is_ddl_column<table_column<Id, Spec>> : std::true_type {};

/// True when an expression renders without any `$n` (DDL cannot bind values).
template <class E> struct ddl_inlinable : std::true_type {};
template <class T> struct ddl_inlinable<bound<T>> : std::false_type {};
template <fixed_string Text, class T, class... Args>
struct ddl_inlinable<fragment<Text, T, Args...>> : std::bool_constant<(ddl_inlinable<Args>::value && ...)> {};
template <fixed_string Text, class T, class... Args>
struct ddl_inlinable<raw_fragment<Text, T, Args...>> : ddl_inlinable<fragment<Text, T, Args...>> {};

template <class E> constexpr void check_ddl_expression()
{
    static_assert(sql_expression<E>, "sleet: a check, index expression or index where must be an SQL expression (sleet::sql<...>)");
    static_assert(ddl_inlinable<E>::value,
                  "sleet: a check, index expression or index where cannot bind values (DDL has no parameters): write the literal in the sql<...> text");
}
} // namespace detail

/// Columns of one table, in order: `sleet::columns(t.a, t.b)` (foreign_key's two lists).
template <class... Cols> struct column_list {
    static_assert((detail::is_ddl_column<Cols>::value && ...), "sleet::columns(): every argument must be a table column");
};
template <class... Cols> column_list<Cols...> columns(const Cols&...) { return {}; }

// ------------------------------------------------------------------------------------------
/// PRIMARY KEY("a","b") — drizzle's `primaryKey({ columns: [t.a, t.b], name })`.
template <class... Cols>
struct primary_key_constraint {
    using column_types = type_list<Cols...>;
    std::string constraint_name; ///< empty: <table>_<columns>_pk
    primary_key_constraint name(std::string n) const
    {
        auto c = *this;
        c.constraint_name = std::move(n);
        return c;
    }
};
template <class... Cols>
primary_key_constraint<Cols...> primary_key(const Cols&...)
{
    static_assert(sizeof...(Cols) > 0, "sleet::primary_key(): name at least one column");
    static_assert((detail::is_ddl_column<Cols>::value && ...), "sleet::primary_key(): every argument must be a table column");
    return {};
}

/// UNIQUE("a","b") — drizzle's `unique('name').on(t.a, t.b)`.
template <class... Cols>
struct unique_constraint {
    using column_types = type_list<Cols...>;
    std::string constraint_name; ///< empty: <table>_<columns>_unique
    bool nulls_not_distinct_ = false;
    unique_constraint nulls_not_distinct() const
    {
        auto c = *this;
        c.nulls_not_distinct_ = true;
        return c;
    }
};
struct unique_builder {
    std::string constraint_name;
    template <class... Cols>
    unique_constraint<Cols...> on(const Cols&...) const
    {
        static_assert(sizeof...(Cols) > 0, "sleet::unique().on(): name at least one column");
        static_assert((detail::is_ddl_column<Cols>::value && ...), "sleet::unique().on(): every argument must be a table column");
        return {constraint_name, false};
    }
};
inline unique_builder unique(std::string name = {}) { return {std::move(name)}; }

/// CHECK (<sql>) — drizzle's `check('name', sql\`...\`)`.
template <class E>
struct check_constraint {
    using expression_type = E;
    std::string constraint_name;
    E expression;
};
template <class E>
check_constraint<E> check(std::string name, E expression)
{
    detail::check_ddl_expression<E>();
    return {std::move(name), std::move(expression)};
}

/// FOREIGN KEY (...) REFERENCES ... — drizzle's `foreignKey({ columns, foreignColumns, name })`.
template <class From, class To> struct foreign_key_constraint;
template <class... F, class... T>
struct foreign_key_constraint<column_list<F...>, column_list<T...>> {
    using column_types = type_list<F...>;
    using foreign_column_types = type_list<T...>;
    std::string constraint_name; ///< empty: <table>_<columns>_<foreign table>_<foreign columns>_fk
    pg::action delete_action = pg::action::no_action;
    pg::action update_action = pg::action::no_action;

    foreign_key_constraint name(std::string n) const
    {
        auto c = *this;
        c.constraint_name = std::move(n);
        return c;
    }
    foreign_key_constraint on_delete(pg::action a) const
    {
        auto c = *this;
        c.delete_action = a;
        return c;
    }
    foreign_key_constraint on_update(pg::action a) const
    {
        auto c = *this;
        c.update_action = a;
        return c;
    }
};
template <class... F, class... T>
foreign_key_constraint<column_list<F...>, column_list<T...>> foreign_key(column_list<F...>, column_list<T...>)
{
    static_assert(sizeof...(F) > 0, "sleet: foreign_key(): name at least one column");
    static_assert(sizeof...(F) == sizeof...(T), "sleet: foreign_key(): the two column lists have different lengths");
    if constexpr (sizeof...(F) == sizeof...(T) && sizeof...(T) > 0) {
        static_assert((std::is_same_v<typename F::spec::value_type, typename T::spec::value_type> && ...),
                      "sleet: foreign_key(): a column and the column it references have different types");
        using first = std::tuple_element_t<0, std::tuple<T...>>;
        static_assert((std::is_same_v<typename T::table, typename first::table> && ...),
                      "sleet: foreign_key(): the referenced columns must belong to one table");
    }
    return {};
}

// ------------------------------------------------------------------------------------------
// Indexes
enum class nulls_order { unspecified, first, last };

/// One key of an index: a column or an expression, with its order (drizzle: `t.c.desc().nullsLast()`).
template <class E>
struct index_key {
    E expression;
    bool ascending = true;
    nulls_order nulls = nulls_order::unspecified;
};

namespace detail {
template <class E> index_key<E> to_index_key(const E& e) { return {e}; }
template <class E> index_key<E> to_index_key(const index_key<E>& k) { return k; }
template <class E> index_key<E> to_index_key(const fragment<"{} asc", ordering, E>& f) { return {std::get<0>(f.args), true}; }
template <class E> index_key<E> to_index_key(const fragment<"{} desc", ordering, E>& f) { return {std::get<0>(f.args), false}; }
template <class K> using index_key_t = decltype(to_index_key(std::declval<const K&>()));
} // namespace detail

/// `nulls_first(desc(t.c))`, `nulls_last(t.c)`: NULLS FIRST/LAST on an index key.
template <class K> auto nulls_first(const K& k)
{
    auto key = detail::to_index_key(k);
    key.nulls = nulls_order::first;
    return key;
}
template <class K> auto nulls_last(const K& k)
{
    auto key = detail::to_index_key(k);
    key.nulls = nulls_order::last;
    return key;
}

struct no_where {};

/// CREATE [UNIQUE] INDEX — drizzle's `index('name').on(...)`, `uniqueIndex`, `.using('gin', ...)`, `.where(sql)`.
template <class Where, class... Keys>
struct index_spec {
    std::string index_name;
    bool is_unique = false;
    bool is_concurrent = false;
    std::string method = "btree";
    std::tuple<Keys...> keys;
    Where where_condition;

    template <class W>
    index_spec<W, Keys...> where(W condition) const
    {
        static_assert(std::is_same_v<Where, no_where>, "sleet: index where() given twice");
        detail::check_ddl_expression<W>();
        return {index_name, is_unique, is_concurrent, method, keys, std::move(condition)};
    }
    index_spec concurrently() const
    {
        auto c = *this;
        c.is_concurrent = true;
        return c;
    }
};

struct index_builder {
    std::string index_name;
    bool is_unique = false;

    template <class... K>
    index_spec<no_where, detail::index_key_t<K>...> on(const K&... keys) const
    {
        return using_("btree", keys...);
    }
    template <class... K>
    index_spec<no_where, detail::index_key_t<K>...> using_(std::string method, const K&... keys) const
    {
        static_assert(sizeof...(K) > 0, "sleet::index(): name at least one column or expression");
        (detail::check_ddl_expression<decltype(detail::to_index_key(keys).expression)>(), ...);
        return {index_name, is_unique, false, std::move(method), {detail::to_index_key(keys)...}, {}};
    }
};
inline index_builder index(std::string name) { return {std::move(name), false}; }
inline index_builder unique_index(std::string name) { return {std::move(name), true}; }

/// The constraints and indexes a `table_extras` function returns.
template <class... Items>
std::tuple<Items...> extras(Items... items)
{
    return {std::move(items)...};
}

} // namespace sleet
