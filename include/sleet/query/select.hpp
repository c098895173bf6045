// sleet::query — select: whole-table or partial, distinct / distinct on, where, group by,
// having, order by, limit, offset, locking. Renders drizzle-orm's SQL. Asio-free.
//
//   db.select().from(users).where(eq(users.id, 42))            // std::vector<select_model<users_t>>
//   db.select(users.id, users.email).from(users).limit(10)     // std::vector<row<field<"id",..>, ..>>
#pragma once

#include <sleet/query/clause.hpp>
#include <sleet/query/common.hpp>
#include <sleet/query/row.hpp>
#include <sleet/result.hpp>

#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>
#include <span>
#include <vector>

namespace sleet {

namespace detail {
/// `select()` with no fields: every column of the from() table.
struct select_all {};
template <class... Es> struct selection {
    std::tuple<Es...> items;
};
struct distinct_all {
    using tables = type_list<>;
    static constexpr bool static_shape = true;
    void render(render_context& c) const { c.append(" distinct"); }
    template <class Sink> void bind(Sink&) const {}
};
template <class... Es> using distinct_on_clause = clause<" distinct on (", ", ", ")", Es...>;

enum select_part : std::size_t { p_where, p_group, p_having, p_order, p_limit, p_offset, p_lock, p_count };
using empty_select_parts = std::tuple<no_clause, no_clause, no_clause, no_clause, no_clause, no_clause, no_clause>;

template <class Sel> struct selection_traits;
template <> struct selection_traits<select_all> {
    using tables = type_list<>;
    static constexpr bool static_shape = true;
};
template <class... Es> struct selection_traits<selection<Es...>> {
    using tables = concat_t<type_list<>, typename Es::tables...>;
    static constexpr bool static_shape = (Es::static_shape && ...);
};

template <class Table, class Sel> struct select_row { using type = select_model<Table>; };
template <class Table, class... Es> struct select_row<Table, selection<Es...>> { using type = row_of<Es...>; };

template <class Row, class Table>
Row decode_row(const row_view& r)
{
    if constexpr (requires { row_decoder<Row>::decode(r); }) return row_decoder<Row>::decode(r);
    else return decode_model<Table>(r);
}

/// Can every field of Row read its column of `r`? These checks depend on the columns only, so
/// they run once per result rather than once per row.
template <class Row, class Table>
bool rows_readable(const result& r)
{
    bool ok = true;
    row_fields<Row, Table>::for_each_type([&](auto i, auto type) {
        ok = ok && row_access::readable<typename decltype(type)::type>(r, decltype(i)::value);
    });
    return ok;
}

template <class Row, class Table>
std::vector<Row> decode_rows(std::span<const result> rs)
{
    std::vector<Row> out;
    std::size_t n = 0;
    for (const auto& r : rs) n += r.size();
    out.reserve(n);
    for (const auto& r : rs) {
        if (r.empty()) continue;
        if (rows_readable<Row, Table>(r)) {
            // Fields are decoded in place, with one scratch diagnostics for the whole result.
            diagnostics scratch;
            for (auto rv : r) {
                row_fields<Row, Table>::for_each(out.emplace_back(), [&](auto i, auto& field) {
                    row_access::decode_readable(rv, decltype(i)::value, field, scratch);
                });
            }
        } else {
            // A missing column, or one a field cannot read: field by field as before, so a row
            // fails only where it hits the problem (a NULL into std::optional reads any column)
            // and with the same message.
            for (auto rv : r) out.push_back(decode_row<Row, Table>(rv));
        }
    }
    return out;
}
} // namespace detail

/// A select statement over one table. Each clause method returns a new query type; calling it
/// with a completion token (or co_await-ing it) runs it.
template <class D, class Table, class Sel, class Distinct, class Parts>
class select_query
    : public detail::executable<select_query<D, Table, Sel, Distinct, Parts>, D, std::vector<typename detail::select_row<Table, Sel>::type>> {
    using id = typename table_traits<Table>::id;
    using allowed = type_list<id>;
    template <class, class, class, class, class> friend class select_query;

public:
    using row_type = typename detail::select_row<Table, Sel>::type;
    using result_type = std::vector<row_type>;
    static constexpr bool static_shape = detail::selection_traits<Sel>::static_shape && Distinct::static_shape &&
                                         detail::tuple_static_shape<Parts>::value;

    select_query(D* db, Sel sel, Distinct distinct, Parts parts)
        : detail::executable<select_query, D, result_type>(db), sel_(std::move(sel)), distinct_(std::move(distinct)), parts_(std::move(parts))
    {
    }

    /// `where <condition>`: one boolean condition over the from() table (combine with and_/or_).
    template <sql_expression E> auto where(const E& cond) const
    {
        static_assert(detail::is_boolean_expr<E>(), "sleet: where() takes a boolean condition");
        static_assert(detail::tables_in<E, allowed>,
                      "sleet: where(): the condition uses a column of a table that is not in this query's from()");
        static_assert(std::is_same_v<std::tuple_element_t<detail::p_where, Parts>, detail::no_clause>,
                      "sleet: where() is given twice; combine the conditions with and_()");
        return with<detail::p_where>(detail::clause<" where ", "", "", E>{{cond}});
    }
    /// `group by a, b`.
    template <sql_expression... Es> auto group_by(const Es&... es) const
    {
        static_assert((detail::tables_in<Es, allowed> && ...),
                      "sleet: group_by(): a column of a table that is not in this query's from()");
        return with<detail::p_group>(detail::clause<" group by ", ", ", "", Es...>{{es...}});
    }
    /// `having <condition>`.
    template <sql_expression E> auto having(const E& cond) const
    {
        static_assert(detail::is_boolean_expr<E>(), "sleet: having() takes a boolean condition");
        static_assert(detail::tables_in<E, allowed>,
                      "sleet: having(): the condition uses a column of a table that is not in this query's from()");
        return with<detail::p_having>(detail::clause<" having ", "", "", E>{{cond}});
    }
    /// `order by a, b desc`: columns, expressions, asc(e), desc(e).
    template <sql_expression... Es> auto order_by(const Es&... es) const
    {
        static_assert((detail::tables_in<Es, allowed> && ...),
                      "sleet: order_by(): a column of a table that is not in this query's from()");
        return with<detail::p_order>(detail::clause<" order by ", ", ", "", Es...>{{es...}});
    }
    /// `limit $n` (bound, as drizzle does).
    auto limit(std::int64_t n) const { return with<detail::p_limit>(detail::clause<" limit ", "", "", bound<std::int64_t>>{{bound<std::int64_t>{n}}}); }
    /// `offset $n`.
    auto offset(std::int64_t n) const { return with<detail::p_offset>(detail::clause<" offset ", "", "", bound<std::int64_t>>{{bound<std::int64_t>{n}}}); }
    /// Row locks: `for update`, `for no key update`, `for share`, `for key share`.
    auto for_update() const { return with<detail::p_lock>(detail::clause<" for update", "", "">{}); }
    auto for_no_key_update() const { return with<detail::p_lock>(detail::clause<" for no key update", "", "">{}); }
    auto for_share() const { return with<detail::p_lock>(detail::clause<" for share", "", "">{}); }
    auto for_key_share() const { return with<detail::p_lock>(detail::clause<" for key share", "", "">{}); }

    void render(render_context& c) const
    {
        c.append("select");
        distinct_.render(c);
        c.append(' ');
        if constexpr (std::is_same_v<Sel, detail::select_all>) {
            detail::render_all_columns<Table>(c);
        } else {
            std::apply([&](const auto&... e) {
                std::size_t i = 0;
                ((c.append(i++ ? ", " : ""), detail::render_selected(c, e)), ...);
            }, sel_.items);
        }
        c.append(" from ");
        id::render(c);
        std::apply([&](const auto&... p) { (p.render(c), ...); }, parts_);
    }
    template <class Sink> void bind(Sink& s) const
    {
        distinct_.bind(s);
        if constexpr (!std::is_same_v<Sel, detail::select_all>)
            std::apply([&](const auto&... e) { (e.bind(s), ...); }, sel_.items);
        std::apply([&](const auto&... p) { (p.bind(s), ...); }, parts_);
    }

    /// Only reads unless it takes row locks (for update/share) or holds raw SQL.
    statement to_statement(bool show_params) const
    {
        constexpr bool locks = !std::is_same_v<std::tuple_element_t<detail::p_lock, Parts>, detail::no_clause>;
        return detail::single_statement(*this, show_params, !locks);
    }
    std::vector<statement> statements(bool show_params) const { return detail::one_statement(to_statement(show_params)); }
    static result_type decode(std::span<const result> rs) { return detail::decode_rows<row_type, Table>(rs); }

private:
    template <std::size_t I, class New> auto with(New part) const
    {
        auto p = detail::replace_at<I>(parts_, std::move(part));
        return select_query<D, Table, Sel, Distinct, decltype(p)>(this->db_, sel_, distinct_, std::move(p));
    }

    Sel sel_;
    Distinct distinct_;
    Parts parts_;
};

/// `select ... ` before from(): holds the fields and distinct.
template <class D, class Sel, class Distinct>
class select_builder {
public:
    select_builder(D* db, Sel sel, Distinct distinct) : db_(db), sel_(std::move(sel)), distinct_(std::move(distinct)) {}

    template <table_type T> auto from(const T&) const
    {
        using id = typename table_traits<T>::id;
        static_assert(detail::list_subset<typename detail::selection_traits<Sel>::tables, type_list<id>>::value,
                      "sleet: select(): a selected column belongs to a table that is not in this query's from()");
        static_assert(detail::list_subset<typename Distinct::tables, type_list<id>>::value,
                      "sleet: select_distinct_on(): a column of a table that is not in this query's from()");
        return select_query<D, T, Sel, Distinct, detail::empty_select_parts>(db_, sel_, distinct_, {});
    }

private:
    D* db_;
    Sel sel_;
    Distinct distinct_;
};

namespace detail {
template <class D, class... Es> auto make_select(D* db, const Es&... es)
{
    if constexpr (sizeof...(Es) == 0) {
        return select_builder<D, select_all, no_clause>(db, {}, {});
    } else {
        static_assert((sql_expression<Es> && ...), "sleet: select() takes columns and expressions");
        (void)sizeof(row_of<Es...>); // names and types of the fields are checked here
        return select_builder<D, selection<Es...>, no_clause>(db, selection<Es...>{{es...}}, {});
    }
}
template <class D, class... Es> auto make_select_distinct(D* db, const Es&... es)
{
    if constexpr (sizeof...(Es) == 0) return select_builder<D, select_all, distinct_all>(db, {}, {});
    else return select_builder<D, selection<Es...>, distinct_all>(db, selection<Es...>{{es...}}, {});
}
template <class... Es> struct distinct_on_list {
    std::tuple<Es...> items;
};
template <class D, class... On, class... Es> auto make_select_distinct_on(D* db, const distinct_on_list<On...>& on, const Es&... es)
{
    distinct_on_clause<On...> d{on.items};
    if constexpr (sizeof...(Es) == 0) return select_builder<D, select_all, decltype(d)>(db, {}, d);
    else return select_builder<D, selection<Es...>, decltype(d)>(db, selection<Es...>{{es...}}, d);
}
} // namespace detail

/// The expressions of `distinct on (...)`: `select_distinct_on(sleet::on(posts.author_id), ...)`.
template <sql_expression... Es> detail::distinct_on_list<Es...> on(const Es&... es) { return {{es...}}; }

/// Builders that render only (no database): `sleet::to_sql(sleet::select().from(users))`.
template <class... Es> auto select(const Es&... es) { return detail::make_select<detail::no_database>(nullptr, es...); }
template <class... Es> auto select_distinct(const Es&... es) { return detail::make_select_distinct<detail::no_database>(nullptr, es...); }
template <class... On, class... Es> auto select_distinct_on(const detail::distinct_on_list<On...>& on, const Es&... es)
{
    return detail::make_select_distinct_on<detail::no_database>(nullptr, on, es...);
}

} // namespace sleet
