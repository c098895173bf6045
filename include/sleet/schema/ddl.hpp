// sleet::ddl — the DDL of a schema declared in sleet's DSL, as drizzle-kit 0.31.6 writes it.
//
//   auto model = sleet::ddl::describe(users, posts, comments, invoice_number_seq);
//   std::vector<std::string> statements = sleet::ddl::create_statements(model);
//   std::string file = sleet::ddl::join_statements(statements);   // = drizzle-kit's 0000_*.sql
//
// Two steps: describe() turns table types (and sequences) into a plain run-time model (names,
// column lines, constraints, indexes: what drizzle-kit's snapshot holds), and create_statements()
// renders the model: CREATE SCHEMA, CREATE TYPE ... AS ENUM, CREATE SEQUENCE, CREATE TABLE
// (sorted by "schema.name"), ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY, CREATE INDEX, in
// drizzle-kit's order, then CREATE [MATERIALIZED] VIEW. Asio-free.
#pragma once

#include <sleet/schema/column.hpp>
#include <sleet/schema/constraints.hpp>
#include <sleet/schema/table.hpp>
#include <sleet/sql/render.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

namespace sleet::ddl {

// ------------------------------------------------------------------------------------------
// The run-time model (what drizzle-kit's snapshot records). Schema "" means public.

struct identity_def {
    bool always = true;            ///< GENERATED ALWAYS (else BY DEFAULT)
    std::string sequence_name;     ///< default: <table>_<column>_seq
    std::optional<std::int64_t> increment, min_value, max_value, start_with, cache;
    bool cycle = false;
};

struct column_def {
    std::string name;
    std::string type; ///< as written in DDL: `varchar(255)`, `"user_role"`, `text[]`, `timestamp (3) with time zone`
    bool primary_key = false;
    bool not_null = false;
    std::optional<std::string> default_sql;   ///< the text after DEFAULT
    std::optional<std::string> generated_sql; ///< GENERATED ALWAYS AS (<this>) STORED
    std::optional<identity_def> identity;
};

struct primary_key_def {
    std::string name;
    std::vector<std::string> columns;
};

struct unique_def {
    std::string name;
    std::vector<std::string> columns;
    bool nulls_not_distinct = false;
};

struct check_def {
    std::string name;
    std::string expression;
};

struct foreign_key_def {
    std::string name;
    std::vector<std::string> columns;
    std::string foreign_table;
    std::optional<std::string> foreign_schema; ///< unset: resolved by describe() ("public" when unknown)
    std::vector<std::string> foreign_columns;
    pg::action on_delete = pg::action::no_action;
    pg::action on_update = pg::action::no_action;
};

struct index_key_def {
    std::string expression; ///< a column name, or SQL text when is_expression
    bool is_expression = false;
    bool ascending = true;
    nulls_order nulls = nulls_order::unspecified;
};

struct index_def {
    std::string name;
    std::vector<index_key_def> keys;
    bool unique = false;
    bool concurrently = false;
    std::string method = "btree";
    std::optional<std::string> where;
};

struct table_def {
    std::string name;
    std::string schema;
    std::vector<column_def> columns;
    std::optional<primary_key_def> primary_key; ///< the table-level (composite) primary key
    std::vector<unique_def> uniques;            ///< column-level ones first, then table-level
    std::vector<check_def> checks;
    std::vector<foreign_key_def> foreign_keys;  ///< column-level references first, then table-level
    std::vector<index_def> indexes;
};

struct enum_def {
    std::string name;
    std::string schema;
    std::vector<std::string> values;
};

/// A sequence (drizzle's `pgSequence(name, {...})`); unset options take drizzle-kit's defaults
/// (increment 1, min 1, max 2^63-1, start = min, cache 1).
struct sequence {
    std::string name;
    std::string schema;
    std::optional<std::int64_t> start_with, increment, min_value, max_value, cache;
    bool cycle = false;
};

/// A view (drizzle's `pgView(name).as(qb => ...)` / `pgMaterializedView`): its query rendered with
/// the values inlined as literals, as drizzle-kit writes it. Made by ddl::view / materialized_view.
struct view_def {
    std::string name;
    std::string schema;
    bool materialized = false;
    std::string query;
};

struct schema_def {
    std::vector<enum_def> enums;
    std::vector<sequence> sequences;
    std::vector<table_def> tables;
    std::vector<view_def> views;
};

/// The marker drizzle-kit writes between statements (`breakpoints: true`).
inline constexpr std::string_view statement_breakpoint = "--> statement-breakpoint";

/// The statements that create the schema from nothing, each as drizzle-kit writes it (CREATE
/// TABLE and CREATE SCHEMA end with a newline, the others with `;`).
std::vector<std::string> create_statements(const schema_def& schema);
/// One statement each.
std::string create_schema_statement(std::string_view schema);
std::string create_enum_statement(const enum_def& e);
std::string create_sequence_statement(const sequence& s);
std::string create_table_statement(const table_def& t);
std::string create_foreign_key_statement(const table_def& t, const foreign_key_def& fk);
std::string create_index_statement(const table_def& t, const index_def& i);
std::string create_view_statement(const view_def& v);
/// The text of a migration file: the statements joined by `--> statement-breakpoint\n`.
std::string join_statements(const std::vector<std::string>& statements);
/// Splits a migration file at the breakpoint markers (the statements, without the marker).
std::vector<std::string> split_statements(std::string_view migration);

/// Resolves the schema of column-level references (by table name, among the model's tables;
/// "public" when the table is not in the model). describe() calls it.
void resolve_references(schema_def& schema);

namespace detail {
using sleet::detail::always_false;

[[noreturn]] void throw_view_binds_values(std::string_view name);

template <class Q>
view_def make_view(std::string name, const Q& query, std::string schema, bool materialized)
{
    render_context c;
    c.inline_params(true);
    query.render(c);
    if (c.param_count() != 0) throw_view_binds_values(name);
    return {std::move(name), std::move(schema), materialized, c.take()};
}

void add_enum(std::vector<enum_def>& enums, enum_def e);
std::string quote_literal(std::string_view text); ///< 'text' with ' doubled
std::string decimal(std::int64_t v);
std::string double_text(double v);

template <class M> struct precision_mod { static constexpr int value = -1; };
template <unsigned P> struct precision_mod<pg::precision<P>> { static constexpr int value = static_cast<int>(P); };
template <class M> struct fields_mod { static constexpr std::string_view value{}; };
template <fixed_string F> struct fields_mod<pg::fields<F>> { static constexpr std::string_view value = F.view(); };

template <class List> struct mod_values;
template <class... Ms> struct mod_values<type_list<Ms...>> {
    static constexpr int precision = [] { int p = -1; ((p = precision_mod<Ms>::value >= 0 ? precision_mod<Ms>::value : p), ...); return p; }();
    static constexpr std::string_view fields = [] { std::string_view f; ((f = fields_mod<Ms>::value.empty() ? f : fields_mod<Ms>::value), ...); return f; }();
};

template <class E> std::string enum_schema()
{
    if constexpr (requires { pg_enum<E>::schema; }) return std::string(pg_enum<E>::schema);
    else return {};
}

template <class Spec>
std::string column_type_text()
{
    using T = typename Spec::type;
    using mods = mod_values<typename Spec::mods>;
    std::string s;
    if constexpr (requires { T::is_enum; }) {
        auto schema = enum_schema<typename T::cpp>();
        if (!schema.empty() && schema != "public") {
            quote_identifier(s, schema);
            s += '.';
        }
        quote_identifier(s, T::sql);
    } else if constexpr (requires { T::length; }) {
        s = std::string(T::sql) + "(" + decimal(static_cast<std::int64_t>(T::length)) + ")";
    } else if constexpr (requires { T::precision; T::scale; }) {
        s = T::precision == 0 ? std::string("numeric")
                              : "numeric(" + decimal(T::precision) + ", " + decimal(T::scale) + ")";
    } else if constexpr (std::is_same_v<T, pg::types::timestamp_type> || std::is_same_v<T, pg::types::timestamptz_type> ||
                         std::is_same_v<T, pg::types::time_type>) {
        s = std::is_same_v<T, pg::types::time_type> ? "time" : "timestamp";
        if (mods::precision >= 0) s += " (" + decimal(mods::precision) + ")";
        if (std::is_same_v<T, pg::types::timestamptz_type>) s += " with time zone";
    } else if constexpr (std::is_same_v<T, pg::types::interval_type>) {
        s = "interval";
        if (!mods::fields.empty()) s += " " + std::string(mods::fields);
        if (mods::precision >= 0) s += "(" + decimal(mods::precision) + ")";
    } else {
        s = std::string(T::sql);
    }
    if (Spec::is_array) s += "[]";
    return s;
}

template <class Cpp, auto V>
std::string default_literal()
{
    using VT = decltype(V);
    if constexpr (std::is_same_v<VT, bool>) return V ? "true" : "false";
    else if constexpr (std::is_enum_v<VT>) {
        for (const auto& [value, label] : pg_enum<VT>::labels)
            if (value == V) return quote_literal(label);
        return {};
    } else if constexpr (std::is_integral_v<VT>) return decimal(static_cast<std::int64_t>(V));
    else if constexpr (std::is_floating_point_v<VT>) return double_text(static_cast<double>(V));
    else static_assert(always_false<Cpp>, "sleet: pg::default_value<V> takes a bool, an integer, a floating-point value or an enum value");
}

/// Each modifier adds to a column's model (the unmatched ones add nothing).
template <class Spec> struct column_mod_visitor {
    column_def& d;
    template <class M> void operator()(const M*) const {}
    template <auto V> void operator()(const pg::default_value<V>*) const { d.default_sql = default_literal<typename Spec::value_type, V>(); }
    template <fixed_string S> void operator()(const pg::default_text<S>*) const { d.default_sql = quote_literal(S.view()); }
    template <fixed_string S> void operator()(const pg::default_sql<S>*) const { d.default_sql = std::string(S.view()); }
    void operator()(const pg::default_now*) const { d.default_sql = "now()"; }
    void operator()(const pg::default_random*) const { d.default_sql = "gen_random_uuid()"; }
    template <fixed_string S> void operator()(const pg::generated_always_as<S>*) const { d.generated_sql = std::string(S.view()); }
    void operator()(const pg::identity_always*) const { identity().always = true; }
    void operator()(const pg::identity_by_default*) const { identity().always = false; }
    template <pg::sequence_options O> void operator()(const pg::identity_options<O>*) const
    {
        auto& id = identity();
        auto set = [](std::optional<std::int64_t>& to, std::int64_t v) {
            if (v != pg::sequence_options::unset) to = v;
        };
        set(id.start_with, O.start_with);
        set(id.increment, O.increment);
        set(id.min_value, O.min_value);
        set(id.max_value, O.max_value);
        set(id.cache, O.cache);
        id.cycle = O.cycle;
    }
    identity_def& identity() const
    {
        if (!d.identity) d.identity.emplace();
        return *d.identity;
    }
};

template <class M> struct unique_mod { static constexpr bool present = false; static constexpr std::string_view name{}; };
template <> struct unique_mod<pg::unique> { static constexpr bool present = true; static constexpr std::string_view name{}; };
template <fixed_string N> struct unique_mod<pg::unique_named<N>> { static constexpr bool present = true; static constexpr std::string_view name = N.view(); };

template <class A> struct action_of { static constexpr pg::action del = pg::action::no_action, upd = pg::action::no_action; static constexpr bool is_del = false, is_upd = false; };
template <pg::action A> struct action_of<pg::on_delete::tag<A>> { static constexpr pg::action del = A, upd = pg::action::no_action; static constexpr bool is_del = true, is_upd = false; };
template <pg::action A> struct action_of<pg::on_update::tag<A>> { static constexpr pg::action del = pg::action::no_action, upd = A; static constexpr bool is_del = false, is_upd = true; };

template <class M> struct references_mod { static constexpr bool present = false; };
template <fixed_string T, fixed_string C, class... A> struct references_mod<pg::references<T, C, A...>> {
    static constexpr bool present = true;
    static foreign_key_def make(std::string_view table, std::string_view column)
    {
        foreign_key_def fk;
        fk.name = std::string(table) + "_" + std::string(column) + "_" + std::string(T.view()) + "_" + std::string(C.view()) + "_fk";
        fk.columns = {std::string(column)};
        fk.foreign_table = std::string(T.view());
        fk.foreign_columns = {std::string(C.view())};
        ((action_of<A>::is_del ? (void)(fk.on_delete = action_of<A>::del) : (void)0), ...);
        ((action_of<A>::is_upd ? (void)(fk.on_update = action_of<A>::upd) : (void)0), ...);
        return fk;
    }
};

template <class M> struct is_identity_options : std::false_type {};
template <pg::sequence_options O> struct is_identity_options<pg::identity_options<O>> : std::true_type {};

template <class Spec, class... Ms>
void add_column(table_def& t, std::vector<enum_def>& enums, type_list<Ms...>)
{
    static_assert(!(is_identity_options<Ms>::value || ...) || Spec::template has<pg::identity_always> ||
                      Spec::template has<pg::identity_by_default>,
                  "sleet: pg::identity_options needs pg::identity_always or pg::identity_by_default on the same column");
    column_def d;
    d.name = std::string(Spec::name);
    d.type = column_type_text<Spec>();
    d.primary_key = Spec::primary;
    d.not_null = Spec::not_null;
    column_mod_visitor<Spec> visit{d};
    (visit(static_cast<const Ms*>(nullptr)), ...);
    (void)visit;
    if (d.identity && d.identity->sequence_name.empty()) d.identity->sequence_name = t.name + "_" + d.name + "_seq";
    t.columns.push_back(std::move(d));

    (
        [&] {
            if constexpr (unique_mod<Ms>::present) {
                std::string name = unique_mod<Ms>::name.empty() ? t.name + "_" + std::string(Spec::name) + "_unique"
                                                                 : std::string(unique_mod<Ms>::name);
                t.uniques.push_back({std::move(name), {std::string(Spec::name)}, false});
            }
            if constexpr (references_mod<Ms>::present) t.foreign_keys.push_back(references_mod<Ms>::make(t.name, Spec::name));
        }(),
        ...);

    if constexpr (requires { Spec::type::is_enum; }) {
        using E = typename Spec::type::cpp;
        enum_def e{std::string(pg_enum<E>::type_name), enum_schema<E>(), {}};
        for (const auto& [value, label] : pg_enum<E>::labels) e.values.emplace_back(label);
        add_enum(enums, std::move(e));
    }
}

template <class Id, class... Cols>
std::vector<std::string> column_names(type_list<Cols...>)
{
    static_assert((std::is_same_v<typename Cols::table, Id> && ...),
                  "sleet: a table-level constraint or index names a column of another table");
    return {std::string(Cols::spec::name)...};
}

template <class Id, class E>
std::string render_ddl_expression(const E& e, bool qualify)
{
    static_assert(sleet::detail::list_subset<typename E::tables, type_list<Id>>::value,
                  "sleet: a table-level constraint or index names a column of another table");
    render_context c;
    c.qualify_columns(qualify);
    e.render(c);
    return c.take();
}

template <class Id> struct extra_visitor {
    table_def& t;

    template <class... Cols> void operator()(const primary_key_constraint<Cols...>& pk) const
    {
        primary_key_def d{pk.constraint_name, column_names<Id>(type_list<Cols...>{})};
        if (d.name.empty()) {
            d.name = t.name;
            for (const auto& c : d.columns) d.name += "_" + c;
            d.name += "_pk";
        }
        t.primary_key = std::move(d);
    }
    template <class... Cols> void operator()(const unique_constraint<Cols...>& u) const
    {
        unique_def d{u.constraint_name, column_names<Id>(type_list<Cols...>{}), u.nulls_not_distinct_};
        if (d.name.empty()) {
            d.name = t.name;
            for (const auto& c : d.columns) d.name += "_" + c;
            d.name += "_unique";
        }
        t.uniques.push_back(std::move(d));
    }
    template <class E> void operator()(const check_constraint<E>& ck) const
    {
        t.checks.push_back({ck.constraint_name, render_ddl_expression<Id>(ck.expression, true)});
    }
    template <class... F, class... T> void operator()(const foreign_key_constraint<column_list<F...>, column_list<T...>>& fk) const
    {
        using first = std::tuple_element_t<0, std::tuple<T...>>;
        using foreign_id = typename first::table;
        foreign_key_def d;
        d.columns = column_names<Id>(type_list<F...>{});
        d.foreign_table = std::string(foreign_id::name);
        d.foreign_schema = foreign_id::schema.empty() ? std::string("public") : std::string(foreign_id::schema);
        d.foreign_columns = {std::string(T::spec::name)...};
        d.on_delete = fk.delete_action;
        d.on_update = fk.update_action;
        d.name = fk.constraint_name;
        if (d.name.empty()) {
            d.name = t.name;
            for (const auto& c : d.columns) d.name += "_" + c;
            d.name += "_" + d.foreign_table;
            for (const auto& c : d.foreign_columns) d.name += "_" + c;
            d.name += "_fk";
        }
        t.foreign_keys.push_back(std::move(d));
    }
    template <class Where, class... Keys> void operator()(const index_spec<Where, Keys...>& ix) const
    {
        index_def d;
        d.name = ix.index_name;
        d.unique = ix.is_unique;
        d.concurrently = ix.is_concurrent;
        d.method = ix.method;
        std::apply([&](const auto&... k) { (d.keys.push_back(key(k)), ...); }, ix.keys);
        if constexpr (!std::is_same_v<Where, no_where>) d.where = render_ddl_expression<Id>(ix.where_condition, true);
        t.indexes.push_back(std::move(d));
    }
    template <class X> void operator()(const X&) const
    {
        static_assert(always_false<X>, "sleet: table_extras() returned something that is not a constraint or an index "
                                       "(primary_key, unique, check, foreign_key, index, unique_index)");
    }

    template <class E> static index_key_def key(const index_key<E>& k)
    {
        index_key_def d;
        if constexpr (sleet::detail::is_ddl_column<E>::value) {
            static_assert(std::is_same_v<typename E::table, Id>, "sleet: a table-level constraint or index names a column of another table");
            d.expression = std::string(E::spec::name);
        } else {
            d.expression = render_ddl_expression<Id>(k.expression, false);
            d.is_expression = true;
        }
        d.ascending = k.ascending;
        d.nulls = k.nulls;
        return d;
    }
};

template <class T>
concept has_table_extras = requires(const T& t) { table_extras(t); };

template <class X> struct is_primary_key_constraint : std::false_type {};
template <class... Cols> struct is_primary_key_constraint<primary_key_constraint<Cols...>> : std::true_type {};
template <class Tuple> struct primary_key_count : std::integral_constant<std::size_t, 0> {};
template <class... Xs>
struct primary_key_count<std::tuple<Xs...>> : std::integral_constant<std::size_t, (std::size_t{0} + ... + is_primary_key_constraint<Xs>::value)> {};

template <class T>
table_def describe_table(const T& table, std::vector<enum_def>& enums)
{
    using traits = table_traits<T>;
    using id = typename traits::id;
    table_def t;
    t.name = std::string(id::name);
    t.schema = id::schema == "public" ? std::string() : std::string(id::schema);
    sleet::detail::for_each_column_index<T>([&](auto i) {
        using spec = typename traits::template spec_at<decltype(i)::value>;
        add_column<spec>(t, enums, typename spec::mods{});
    });
    if constexpr (has_table_extras<T>) {
        auto extras = table_extras(table);
        static_assert(primary_key_count<decltype(extras)>::value <= 1, "sleet: table_extras() declares more than one primary_key");
        std::apply([&](const auto&... item) { (extra_visitor<id>{t}(item), ...); }, extras);
    }
    return t;
}
} // namespace detail

/// The model of one table: columns, constraints (column-level and from `table_extras(t)`), indexes.
template <table_type T>
table_def describe_table(const T& table)
{
    std::vector<enum_def> unused;
    return detail::describe_table(table, unused);
}

/// `CREATE VIEW "public"."name" AS (<query>)`: `ddl::view("active_users", select(...).from(users).where(...))`.
/// Values in the query are written as literals (drizzle-kit does the same); a query part that
/// can only be a `$n` (an `in_array` list) throws error_with_diagnostics(errc::invalid_value).
template <class Q>
view_def view(std::string name, const Q& query, std::string schema = {})
{
    return detail::make_view(std::move(name), query, std::move(schema), false);
}
/// `CREATE MATERIALIZED VIEW "public"."name" AS (<query>)`.
template <class Q>
view_def materialized_view(std::string name, const Q& query, std::string schema = {})
{
    return detail::make_view(std::move(name), query, std::move(schema), true);
}

/// The model of a schema: tables (and the enums their columns use), sequences and views, in any order.
template <class... Items>
schema_def describe(const Items&... items)
{
    schema_def s;
    (
        [&] {
            if constexpr (std::is_same_v<Items, sequence>) s.sequences.push_back(items);
            else if constexpr (std::is_same_v<Items, view_def>) s.views.push_back(items);
            else if constexpr (table_type<Items>) s.tables.push_back(detail::describe_table(items, s.enums));
            else static_assert(detail::always_false<Items>, "sleet::ddl::describe(): pass tables, sleet::ddl::sequence and view objects");
        }(),
        ...);
    resolve_references(s);
    return s;
}

/// describe() then create_statements() then join_statements(): the text of drizzle-kit's first migration.
template <class... Items>
std::string create_migration(const Items&... items)
{
    return join_statements(create_statements(describe(items...)));
}

} // namespace sleet::ddl
