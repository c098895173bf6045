// sleet::query — insert: one or many rows, returning, on conflict do nothing / do update
// (with excluded values). An insert whose parameters exceed PostgreSQL's 65,535 per statement is
// split into several statements, run in one transaction. Asio-free.
//
//   db.insert(users).values({.email = "a@b.c", .name = "Ann"}).returning(users.id)
//   db.insert(users).values(rows).on_conflict_do_update(users.email, sleet::excluded(users))
#pragma once

#include <sleet/query/clause.hpp>
#include <sleet/query/common.hpp>
#include <sleet/query/row.hpp>
#include <sleet/query/select.hpp>

#include <cstdint>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>
#include <span>
#include <vector>

namespace sleet {

/// PostgreSQL's limit of bind parameters in one statement.
inline constexpr std::size_t max_statement_params = 65535;

namespace detail {
/// Throws error_with_diagnostics(errc::invalid_value): "insert(): values() was given no rows".
[[noreturn]] void throw_no_insert_rows();
struct param_counter {
    std::size_t* n;
    template <class T> void operator()(const T&) const { ++*n; }
};
template <class T> struct is_required : std::false_type {};
template <class T, fixed_string N> struct is_required<required<T, N>> : std::true_type {};

/// `returning` absent: the statement completes with the number of affected rows.
struct no_returning {
    using tables = type_list<>;
    static constexpr bool static_shape = true;
    void render(render_context&) const {}
    template <class Sink> void bind(Sink&) const {}
};
template <class Table> struct returning_all {
    using tables = type_list<>;
    static constexpr bool static_shape = true;
    void render(render_context& c) const
    {
        c.append(" returning ");
        render_all_columns<Table>(c);
    }
    template <class Sink> void bind(Sink&) const {}
};
template <class... Es> struct returning_fields {
    std::tuple<Es...> items;
    using tables = concat_t<type_list<>, typename Es::tables...>;
    static constexpr bool static_shape = (Es::static_shape && ...);
    void render(render_context& c) const
    {
        c.append(" returning ");
        std::apply([&](const auto&... e) {
            std::size_t i = 0;
            ((c.append(i++ ? ", " : ""), render_selected(c, e)), ...);
        }, items);
    }
    template <class Sink> void bind(Sink& s) const
    {
        std::apply([&](const auto&... e) { (e.bind(s), ...); }, items);
    }
};

template <class Table, class Returning> struct returning_result { using row_type = void; using type = std::uint64_t; };
template <class Table> struct returning_result<Table, returning_all<Table>> {
    using row_type = select_model<Table>;
    using type = std::vector<row_type>;
};
template <class Table, class... Es> struct returning_result<Table, returning_fields<Es...>> {
    using row_type = row_of<Es...>;
    using type = std::vector<row_type>;
};

template <class Table, class Returning>
typename returning_result<Table, Returning>::type decode_returning(std::span<const result> rs)
{
    using R = returning_result<Table, Returning>;
    if constexpr (std::is_same_v<typename R::row_type, void>) {
        std::uint64_t n = 0;
        for (const auto& r : rs) n += r.affected_rows();
        return n;
    } else {
        return decode_rows<typename R::row_type, Table>(rs);
    }
}

/// Renders the conflict target: `("email")` or `("a","b")` (drizzle joins with "," only).
template <class... Cs> struct conflict_target {
    void render(render_context& c) const
    {
        c.append('(');
        std::size_t i = 0;
        ((c.append(i++ ? "," : ""), c.identifier(Cs::spec::name)), ...);
        c.append(')');
    }
};

struct no_conflict {
    using tables = type_list<>;
    static constexpr bool static_shape = true;
    void render(render_context&) const {}
    template <class Sink> void bind(Sink&) const {}
};
template <class... Cs> struct conflict_do_nothing {
    using tables = type_list<>;
    static constexpr bool static_shape = true;
    void render(render_context& c) const
    {
        c.append(" on conflict ");
        if constexpr (sizeof...(Cs) > 0) {
            conflict_target<Cs...>{}.render(c);
            c.append(' ');
        }
        c.append("do nothing");
    }
    template <class Sink> void bind(Sink&) const {}
};
template <class Target, class Set> struct conflict_do_update {
    Set set;
    using tables = typename Set::tables;
    static constexpr bool static_shape = Set::static_shape;
    void render(render_context& c) const
    {
        c.append(" on conflict ");
        Target{}.render(c);
        c.append(" do update set ");
        set.render(c);
    }
    template <class Sink> void bind(Sink& s) const { set.bind(s); }
};

/// `excluded(users)`: set every column the insert can write, except the conflict target and the
/// primary key, to the proposed value: `"name" = excluded."name", ...` (drizzle #1728).
template <class Table> struct excluded_all_marker {};

template <class Table, class... Targets>
struct excluded_set {
    using tables = type_list<>;
    static constexpr bool static_shape = true;
    void render(render_context& c) const
    {
        bool first = true;
        for_each_column_index<Table>([&](auto i) {
            using spec = typename table_traits<Table>::template spec_at<decltype(i)::value>;
            constexpr bool is_target = (std::is_same_v<spec, typename Targets::spec> || ...);
            if constexpr (spec::insertable && !spec::primary && !is_target) {
                if (!first) c.append(", ");
                first = false;
                c.identifier(spec::name);
                c.append(" = excluded.");
                c.identifier(spec::name);
            } else if constexpr (spec::has_on_update && !is_target) {
                if (!first) c.append(", ");
                first = false;
                c.identifier(spec::name);
                c.append(" = ");
                c.append(spec::on_update_sql);
            }
        });
    }
    template <class Sink> void bind(Sink&) const {}
};

template <class C> struct is_table_column : std::false_type {};
template <class Id, class Spec> struct is_table_column<table_column<Id, Spec>> : std::true_type {};
template <class A> struct is_assignment : std::false_type {};
template <class C, class V> struct is_assignment<assignment<C, V>> : std::true_type {};
} // namespace detail

/// The conflict target of on_conflict_do_update with several columns: `target(t.a, t.b)`.
template <class... Cs> struct conflict_columns {};
template <class... Ids, class... Specs> conflict_columns<table_column<Ids, Specs>...> target(const table_column<Ids, Specs>&...) { return {}; }

/// Every insertable column = its excluded value (see on_conflict_do_update).
template <table_type T> detail::excluded_all_marker<T> excluded(const T&) { return {}; }

template <class D, class Table, class Conflict, class Returning>
class insert_query
    : public detail::executable<insert_query<D, Table, Conflict, Returning>, D, typename detail::returning_result<Table, Returning>::type> {
    using traits = table_traits<Table>;
    using id = typename traits::id;
    using model = insert_model<Table>;
    template <class, class, class, class> friend class insert_query;

public:
    using result_type = typename detail::returning_result<Table, Returning>::type;
    static constexpr bool static_shape = false; // `default` or `$n` depends on which values are given

    insert_query(D* db, std::vector<model> rows, Conflict conflict, Returning returning)
        : detail::executable<insert_query, D, result_type>(db), rows_(std::move(rows)), conflict_(std::move(conflict)),
          returning_(std::move(returning))
    {
    }

    /// `returning <every column>`: rows of the table's select model.
    auto returning() const
    {
        return insert_query<D, Table, Conflict, detail::returning_all<Table>>(this->db_, rows_, conflict_, {});
    }
    /// `returning "a", "b"`: rows of row<field<"a", ...>, ...>.
    template <sql_expression... Es> auto returning(const Es&... es) const
    {
        static_assert((detail::tables_in<Es, type_list<id>> && ...),
                      "sleet: returning(): a column of another table than the one this statement writes");
        return insert_query<D, Table, Conflict, detail::returning_fields<Es...>>(this->db_, rows_, conflict_, {{es...}});
    }
    /// `on conflict do nothing`, or `on conflict ("a","b") do nothing` with target columns.
    template <class... Ids, class... Specs> auto on_conflict_do_nothing(const table_column<Ids, Specs>&...) const
    {
        static_assert((std::is_same_v<Ids, id> && ...), "sleet: on_conflict_do_nothing(): a target column of another table");
        using C = detail::conflict_do_nothing<table_column<Ids, Specs>...>;
        return insert_query<D, Table, C, Returning>(this->db_, rows_, C{}, returning_);
    }
    /// `on conflict ("col") do update set ...`: the target is a column or target(a, b); then
    /// assignments (`users.name = sleet::excluded(users.name)`, `users.age = 40`) or
    /// `sleet::excluded(users)` for all columns. Set in the table's column order, with
    /// $onUpdate columns added, like drizzle.
    template <class TargetArg, class... As> auto on_conflict_do_update(const TargetArg&, const As&... as) const
    {
        using Target = target_of<TargetArg>;
        static_assert(sizeof...(As) > 0, "sleet: on_conflict_do_update() needs assignments or sleet::excluded(table)");
        if constexpr (sizeof...(As) == 1 && (is_excluded_marker<As> && ...)) {
            using S = typename excluded_for<TargetArg>::type;
            using C = detail::conflict_do_update<Target, S>;
            return insert_query<D, Table, C, Returning>(this->db_, rows_, C{S{}}, returning_);
        } else {
            static_assert((detail::is_assignment<As>::value && ...),
                          "sleet: on_conflict_do_update(): give assignments `column = value` after the target");
            static_assert((detail::assigns_column_of<Table, As>() && ...),
                          "sleet: on_conflict_do_update(): an assignment to a column of another table");
            static_assert(detail::no_duplicate_assignments<As...>(), "sleet: a column is assigned twice");
            using S = detail::set_list<Table, As...>;
            using C = detail::conflict_do_update<Target, S>;
            return insert_query<D, Table, C, Returning>(this->db_, rows_, C{S{{as...}}}, returning_);
        }
    }

    void render(render_context& c) const { render_rows(c, 0, rows_.size()); }
    template <class Sink> void bind(Sink& s) const { bind_rows(s, 0, rows_.size()); }

    /// One statement, or several (in one transaction) when the values need more than
    /// `max_params` parameters.
    std::vector<statement> statements(bool show_params, std::size_t max_params = max_statement_params) const
    {
        std::vector<statement> out;
        std::size_t begin = 0;
        // Parameters outside the values (on conflict set) count in every chunk.
        std::size_t fixed = 0;
        {
            detail::param_counter counter{&fixed};
            conflict_.bind(counter);
            returning_.bind(counter);
        }
        if (rows_.empty()) detail::throw_no_insert_rows();
        while (begin < rows_.size()) {
            std::size_t end = begin, used = fixed;
            while (end < rows_.size()) {
                std::size_t n = row_params(rows_[end]);
                if (end > begin && used + n > max_params) break;
                used += n;
                ++end;
            }
            render_context c;
            render_rows(c, begin, end);
            statement st{c.take(), {}, {}};
            detail::param_list_sink sink{&st.params};
            bind_rows(sink, begin, end);
            if (show_params) {
                detail::param_value_sink vs{&st.shown_params};
                bind_rows(vs, begin, end);
            }
            out.push_back(std::move(st));
            begin = end;
        }
        return out;
    }
    static result_type decode(std::span<const result> rs) { return detail::decode_returning<Table, Returning>(rs); }

private:
    template <class A> static constexpr bool is_excluded_marker = std::is_same_v<A, detail::excluded_all_marker<Table>>;
    template <class T> struct target_list { using type = conflict_columns<T>; };
    template <class... Cs> struct target_list<conflict_columns<Cs...>> { using type = conflict_columns<Cs...>; };
    template <class T> struct target_render;
    template <class... Cs> struct target_render<conflict_columns<Cs...>> {
        static_assert((std::is_same_v<typename Cs::table, id> && ...), "sleet: on_conflict_do_update(): a target column of another table");
        using type = detail::conflict_target<Cs...>;
    };
    template <class TargetArg> using target_of = typename target_render<typename target_list<TargetArg>::type>::type;
    template <class TargetArg> struct excluded_for;
    template <class TargetArg> struct excluded_for {
        template <class L> struct of;
        template <class... Cs> struct of<conflict_columns<Cs...>> { using type = detail::excluded_set<Table, Cs...>; };
        using type = typename of<typename target_list<TargetArg>::type>::type;
    };

    static std::size_t row_params(const model& m)
    {
        std::size_t n = 0;
        auto t = detail::tie_model<traits::column_count>(const_cast<model&>(m));
        detail::for_each_column_index<Table>([&](auto i) {
            const auto& f = detail::tie_get<decltype(i)::value>(t);
            using F = std::remove_cvref_t<decltype(f)>;
            if constexpr (detail::is_required<F>::value) ++n;
            else if constexpr (detail::is_optional_v<F>) n += f.has_value() ? 1 : 0;
        });
        return n;
    }

    void render_rows(render_context& c, std::size_t begin, std::size_t end) const
    {
        c.append("insert into ");
        id::render(c);
        c.append(" (");
        bool first = true;
        detail::for_each_column_index<Table>([&](auto i) {
            using spec = typename traits::template spec_at<decltype(i)::value>;
            if constexpr (spec::insertable) {
                if (!first) c.append(", ");
                first = false;
                c.identifier(spec::name);
            }
        });
        c.append(") values ");
        for (std::size_t r = begin; r < end; ++r) {
            if (r != begin) c.append(", ");
            c.append('(');
            auto t = detail::tie_model<traits::column_count>(const_cast<model&>(rows_[r]));
            bool firstv = true;
            detail::for_each_column_index<Table>([&](auto i) {
                using spec = typename traits::template spec_at<decltype(i)::value>;
                const auto& f = detail::tie_get<decltype(i)::value>(t);
                using F = std::remove_cvref_t<decltype(f)>;
                if constexpr (spec::insertable) {
                    if (!firstv) c.append(", ");
                    firstv = false;
                    if constexpr (detail::is_required<F>::value) {
                        c.param();
                    } else {
                        if (f.has_value()) c.param();
                        else if constexpr (spec::has_on_update && !spec::has_default) c.append(spec::on_update_sql);
                        else c.append("default");
                    }
                }
            });
            c.append(')');
        }
        conflict_.render(c);
        returning_.render(c);
    }

    template <class Sink> void bind_rows(Sink& s, std::size_t begin, std::size_t end) const
    {
        for (std::size_t r = begin; r < end; ++r) {
            auto t = detail::tie_model<traits::column_count>(const_cast<model&>(rows_[r]));
            detail::for_each_column_index<Table>([&](auto i) {
                const auto& f = detail::tie_get<decltype(i)::value>(t);
                using F = std::remove_cvref_t<decltype(f)>;
                if constexpr (detail::is_required<F>::value) s(f.value);
                else if constexpr (detail::is_optional_v<F>) {
                    if (f.has_value()) s(*f);
                }
            });
        }
        conflict_.bind(s);
        returning_.bind(s);
    }

    std::vector<model> rows_;
    Conflict conflict_;
    Returning returning_;
};

/// `insert into <table>` before values().
template <class D, class Table>
class insert_builder {
public:
    using model = insert_model<Table>;
    insert_builder(D* db) : db_(db) {}

    /// One row: `values({.email = "a@b.c", .name = "Ann"})`. Omitted optional columns render as
    /// `default`; omitting a NOT NULL column without default does not compile.
    auto values(model row) const
    {
        std::vector<model> rows;
        rows.push_back(std::move(row));
        return insert_query<D, Table, detail::no_conflict, detail::no_returning>(db_, std::move(rows), {}, {});
    }
    /// Many rows: `values (...), (...)`.
    template <std::ranges::input_range R>
        requires std::same_as<std::remove_cvref_t<std::ranges::range_value_t<R>>, model>
    auto values(R&& rows) const
    {
        std::vector<model> v(std::ranges::begin(rows), std::ranges::end(rows));
        return insert_query<D, Table, detail::no_conflict, detail::no_returning>(db_, std::move(v), {}, {});
    }

private:
    D* db_;
};

template <table_type T> auto insert(const T&) { return insert_builder<detail::no_database, T>(nullptr); }

} // namespace sleet
