// sleet::query — update (set, where, returning) and delete (where, returning). Asio-free.
//
//   db.update(users).set(users.name = "x").where(eq(users.id, 1))
//   db.delete_(users).where(is_null(users.name)).returning()
#pragma once

#include <sleet/query/clause.hpp>
#include <sleet/query/common.hpp>
#include <sleet/query/insert.hpp>
#include <sleet/query/row.hpp>

#include <tuple>
#include <type_traits>
#include <utility>
#include <span>
#include <vector>

namespace sleet {

template <class D, class Table, class Set, class Where, class Returning>
class update_query
    : public detail::executable<update_query<D, Table, Set, Where, Returning>, D, typename detail::returning_result<Table, Returning>::type> {
    using id = typename table_traits<Table>::id;
    using allowed = type_list<id>;

public:
    using result_type = typename detail::returning_result<Table, Returning>::type;
    static constexpr bool static_shape = Set::static_shape && Where::static_shape && Returning::static_shape;

    update_query(D* db, Set set, Where where, Returning returning)
        : detail::executable<update_query, D, result_type>(db), set_(std::move(set)), where_(std::move(where)), returning_(std::move(returning))
    {
    }

    template <sql_expression E> auto where(const E& cond) const
    {
        static_assert(detail::is_boolean_expr<E>(), "sleet: where() takes a boolean condition");
        static_assert(detail::tables_in<E, allowed>,
                      "sleet: where(): the condition uses a column of a table that is not in this query");
        static_assert(std::is_same_v<Where, detail::no_clause>, "sleet: where() is given twice; combine the conditions with and_()");
        using W = detail::clause<" where ", "", "", E>;
        return update_query<D, Table, Set, W, Returning>(this->db_, set_, W{{cond}}, returning_);
    }
    auto returning() const
    {
        return update_query<D, Table, Set, Where, detail::returning_all<Table>>(this->db_, set_, where_, {});
    }
    template <sql_expression... Es> auto returning(const Es&... es) const
    {
        static_assert((detail::tables_in<Es, allowed> && ...),
                      "sleet: returning(): a column of another table than the one this statement writes");
        return update_query<D, Table, Set, Where, detail::returning_fields<Es...>>(this->db_, set_, where_, {{es...}});
    }

    void render(render_context& c) const
    {
        c.append("update ");
        id::render(c);
        c.append(" set ");
        set_.render(c);
        where_.render(c);
        returning_.render(c);
    }
    template <class Sink> void bind(Sink& s) const
    {
        set_.bind(s);
        where_.bind(s);
        returning_.bind(s);
    }
    statement to_statement(bool show_params) const { return detail::single_statement(*this, show_params); }
    std::vector<statement> statements(bool show_params) const { return detail::one_statement(to_statement(show_params)); }
    static result_type decode(std::span<const result> rs) { return detail::decode_returning<Table, Returning>(rs); }

private:
    Set set_;
    Where where_;
    Returning returning_;
};

template <class D, class Table>
class update_builder {
public:
    explicit update_builder(D* db) : db_(db) {}

    /// `set "a" = $1, "b" = $2`: assignments `users.name = "x"` to columns of this table; written
    /// in the table's column order, with $onUpdate columns added (as drizzle does).
    template <class... As> auto set(const As&... as) const
    {
        static_assert(sizeof...(As) > 0, "sleet: update().set() needs at least one assignment");
        static_assert((detail::is_assignment<As>::value && ...),
                      "sleet: update().set() takes assignments: table.column = value");
        static_assert((detail::assigns_column_of<Table, As>() && ...),
                      "sleet: update().set(): an assignment to a column of another table than the one updated");
        static_assert(detail::no_duplicate_assignments<As...>(), "sleet: a column is assigned twice");
        using S = detail::set_list<Table, As...>;
        return update_query<D, Table, S, detail::no_clause, detail::no_returning>(db_, S{{as...}}, {}, {});
    }

private:
    D* db_;
};

template <class D, class Table, class Where, class Returning>
class delete_query
    : public detail::executable<delete_query<D, Table, Where, Returning>, D, typename detail::returning_result<Table, Returning>::type> {
    using id = typename table_traits<Table>::id;
    using allowed = type_list<id>;

public:
    using result_type = typename detail::returning_result<Table, Returning>::type;
    static constexpr bool static_shape = Where::static_shape && Returning::static_shape;

    delete_query(D* db, Where where, Returning returning)
        : detail::executable<delete_query, D, result_type>(db), where_(std::move(where)), returning_(std::move(returning))
    {
    }

    template <sql_expression E> auto where(const E& cond) const
    {
        static_assert(detail::is_boolean_expr<E>(), "sleet: where() takes a boolean condition");
        static_assert(detail::tables_in<E, allowed>,
                      "sleet: where(): the condition uses a column of a table that is not in this query");
        static_assert(std::is_same_v<Where, detail::no_clause>, "sleet: where() is given twice; combine the conditions with and_()");
        using W = detail::clause<" where ", "", "", E>;
        return delete_query<D, Table, W, Returning>(this->db_, W{{cond}}, returning_);
    }
    auto returning() const { return delete_query<D, Table, Where, detail::returning_all<Table>>(this->db_, where_, {}); }
    template <sql_expression... Es> auto returning(const Es&... es) const
    {
        static_assert((detail::tables_in<Es, allowed> && ...),
                      "sleet: returning(): a column of another table than the one this statement writes");
        return delete_query<D, Table, Where, detail::returning_fields<Es...>>(this->db_, where_, {{es...}});
    }

    void render(render_context& c) const
    {
        c.append("delete from ");
        id::render(c);
        where_.render(c);
        returning_.render(c);
    }
    template <class Sink> void bind(Sink& s) const
    {
        where_.bind(s);
        returning_.bind(s);
    }
    statement to_statement(bool show_params) const { return detail::single_statement(*this, show_params); }
    std::vector<statement> statements(bool show_params) const { return detail::one_statement(to_statement(show_params)); }
    static result_type decode(std::span<const result> rs) { return detail::decode_returning<Table, Returning>(rs); }

private:
    Where where_;
    Returning returning_;
};

/// `select count(*) from <table>[ where ...]` completing with the count (drizzle's `$count`).
template <class D, class Table, class Where>
class count_query : public detail::executable<count_query<D, Table, Where>, D, std::int64_t> {
public:
    using result_type = std::int64_t;
    static constexpr bool static_shape = Where::static_shape;
    count_query(D* db, Where where) : detail::executable<count_query, D, result_type>(db), where_(std::move(where)) {}

    void render(render_context& c) const
    {
        c.append("select count(*) from ");
        table_traits<Table>::id::render(c);
        where_.render(c);
    }
    template <class Sink> void bind(Sink& s) const { where_.bind(s); }
    statement to_statement(bool show_params) const { return detail::single_statement(*this, show_params, true); }
    std::vector<statement> statements(bool show_params) const { return detail::one_statement(to_statement(show_params)); }
    static result_type decode(std::span<const result> rs)
    {
        if (rs.empty() || rs.front().empty()) return 0;
        return rs.front().front().template get<std::int64_t>(0);
    }

private:
    Where where_;
};

namespace detail {
template <class D, class Table> auto make_delete(D* db) { return delete_query<D, Table, no_clause, no_returning>(db, {}, {}); }
template <class D, class Table> auto make_count(D* db) { return count_query<D, Table, no_clause>(db, {}); }
template <class D, class Table, class E> auto make_count(D* db, const E& cond)
{
    static_assert(is_boolean_expr<E>(), "sleet: count(table, condition) takes a boolean condition");
    static_assert(tables_in<E, type_list<typename table_traits<Table>::id>>,
                  "sleet: count(table, condition): the condition uses a column of another table");
    using W = clause<" where ", "", "", E>;
    return count_query<D, Table, W>(db, W{{cond}});
}
} // namespace detail

template <table_type T> auto update(const T&) { return update_builder<detail::no_database, T>(nullptr); }
template <table_type T> auto delete_(const T&) { return detail::make_delete<detail::no_database, T>(nullptr); }
template <table_type T> auto count(const T&) { return detail::make_count<detail::no_database, T>(nullptr); }
template <table_type T, sql_expression E> auto count(const T&, const E& cond) { return detail::make_count<detail::no_database, T>(nullptr, cond); }

} // namespace sleet
