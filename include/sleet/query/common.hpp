// sleet::query — what every statement builder shares: rendering once per query type, binding,
// to_sql(), and the completion-token call operator that makes a builder an Asio async operation
// (the operator forwards to the database type; this header does not include Asio).
#pragma once

#include <sleet/sql/render.hpp>

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace sleet {

class result;

namespace detail {

/// The database of builders made by the free functions (sleet::select(), sleet::insert(), ...):
/// they render (to_sql) but do not run.
struct no_database {
    struct no_token {};
    using default_token = no_token;
    template <class Token, class R> static constexpr bool accepts_token = false;
};

/// A query's SQL text, and whether raw SQL (sql<...>(), unsafe_raw()) went into it.
struct rendered_sql {
    std::string text;
    bool raw = false;
};

template <class Q> rendered_sql render_sql(const Q& q)
{
    render_context c;
    q.render(c);
    const bool raw = c.has_raw_sql();
    return {c.take(), raw};
}

/// The SQL text of a query. When the query type's text cannot vary (no in_array lists, no
/// runtime raw SQL, no insert values), it is rendered once per query type and kept in a
/// function-local static: later executions only bind values.
template <class Q> rendered_sql sql_text(const Q& q)
{
    if constexpr (Q::static_shape) {
        static const rendered_sql text = render_sql(q);
        return text;
    } else {
        return render_sql(q);
    }
}

/// The statement of a query that is one statement. `read_only`: the query only reads (a select
/// without row locks); it is passed on to the connection unless raw SQL went into the text.
template <class Q> statement single_statement(const Q& q, bool show_params, bool read_only = false)
{
    rendered_sql text = sql_text(q);
    statement s{std::move(text.text), {}, {}};
    param_list_sink sink{&s.params};
    q.bind(sink);
    if (read_only && !text.raw) s.params.set_read_only();
    if (show_params) {
        param_value_sink vs{&s.shown_params};
        q.bind(vs);
    }
    return s;
}

/// One statement in a vector (without the initializer_list copy of the statement).
inline std::vector<statement> one_statement(statement s)
{
    std::vector<statement> v;
    v.reserve(1);
    v.push_back(std::move(s));
    return v;
}

/// CRTP base: `q(token)` runs the query on its database; `co_await q` works inside
/// asio::awaitable (Boost 1.81 recognises the constrained call operator as an async operation).
template <class Derived, class D, class R>
class executable {
public:
    template <class Token = typename D::default_token>
        requires D::template accepts_token<Token, R>
    auto operator()(Token&& token = {}) const&
    {
        return db_->run(static_cast<const Derived&>(*this), std::forward<Token>(token));
    }
    template <class Token = typename D::default_token>
        requires D::template accepts_token<Token, R>
    auto operator()(Token&& token = {}) &&
    {
        return db_->run(static_cast<Derived&&>(*this), std::forward<Token>(token));
    }

    D* database() const noexcept { return db_; }

protected:
    explicit executable(D* db) noexcept : db_(db) {}
    D* db_ = nullptr;
};

} // namespace detail

/// The SQL text and parameters of a query, like drizzle's `.toSQL()`. (An insert too large for
/// one statement is still shown as one; execution splits it.)
template <class Q>
    requires requires(const Q& q, render_context& c) { q.render(c); }
sql_query to_sql(const Q& q)
{
    sql_query out{detail::sql_text(q).text, {}};
    detail::param_value_sink sink{&out.params};
    q.bind(sink);
    return out;
}

} // namespace sleet
