// sleet::sql — the one small context every SQL renderer writes through: text, identifier quoting
// and `$n` parameter numbering (PostgreSQL dialect, as drizzle-orm's PgDialect renders them).
#pragma once

#include <sleet/types.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace sleet {

/// Appends `"name"` to `out`. drizzle-orm writes `"` + name + `"`; sleet does the same and, unlike
/// drizzle, doubles an embedded `"` so that no name can end the identifier early.
void quote_identifier(std::string& out, std::string_view name);

/// Where a query is rendered: the SQL text and the count of `$n` placeholders written so far.
class render_context {
public:
    render_context() = default;

    void append(std::string_view s) { text_ += s; }
    void append(char c) { text_ += c; }
    void identifier(std::string_view name) { quote_identifier(text_, name); }
    /// Writes the next placeholder: `$1`, `$2`, ...
    void param();
    std::size_t param_count() const noexcept { return params_; }
    /// Whether table columns render as `"table"."column"` (queries, checks, index `where`) or as
    /// `"column"` alone (index key expressions, as drizzle-kit writes them).
    bool qualify_columns() const noexcept { return qualify_columns_; }
    void qualify_columns(bool on) noexcept { qualify_columns_ = on; }
    /// Whether bound values are written into the text as literals instead of `$n` (drizzle's
    /// `inlineParams()`; used only for DDL such as view bodies, never for queries that run).
    bool inline_params() const noexcept { return inline_params_; }
    void inline_params(bool on) noexcept { inline_params_ = on; }
    const std::string& text() const noexcept { return text_; }
    std::string take() noexcept { return std::move(text_); }
    /// Raw SQL (sql<...>() or unsafe_raw()) went into the text: it may call functions with side
    /// effects, so the statement is not known to only read.
    void note_raw_sql() noexcept { raw_sql_ = true; }
    bool has_raw_sql() const noexcept { return raw_sql_; }

private:
    std::string text_;
    std::size_t params_ = 0;
    bool qualify_columns_ = true;
    bool inline_params_ = false;
    bool raw_sql_ = false;
};

/// One parameter value as a person reads it (to_sql(), logs, tests): what drizzle's `.toSQL()`
/// puts in `params`. Integers, floating point, booleans and NULL keep their kind; every other
/// value is its PostgreSQL text form (numeric "1.50", a uuid, an array literal `{"a","b"}`, an
/// enum label, a timestamp "2024-01-02 03:04:05").
using param_value = std::variant<std::nullptr_t, bool, std::int64_t, double, std::string>;

/// JSON-like text of a parameter: null, true, 42, 1.5, "text" (with \" and \\ escaped).
std::string to_string(const param_value& v);
/// A parameter as an SQL literal, as drizzle's `inlineParams()` writes it: null, true, 42, 1.5,
/// 'text' (with ' doubled).
std::string sql_literal(const param_value& v);

/// Converts a C++ parameter value to its param_value.
template <class T>
param_value to_param_value(const T& v)
{
    if constexpr (std::is_same_v<T, std::nullopt_t> || std::is_same_v<T, std::nullptr_t>) {
        return nullptr;
    } else if constexpr (detail::is_optional_v<T>) {
        if (!v) return nullptr;
        return to_param_value(*v);
    } else if constexpr (std::is_same_v<T, bool>) {
        return v;
    } else if constexpr (std::is_integral_v<T>) {
        return static_cast<std::int64_t>(v);
    } else if constexpr (std::is_floating_point_v<T>) {
        return static_cast<double>(v);
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
        return std::string(std::string_view(v));
    } else {
        std::string out;
        pg_type<T>::encode(v, out, wire::format::text);
        return out;
    }
}

/// A rendered statement for inspection: drizzle's `{ sql, params }`.
struct sql_query {
    std::string sql;
    std::vector<param_value> params;
};

/// One statement ready to send: SQL text and encoded parameters. `shown_params` is filled only
/// when asked for (logging with values).
struct statement {
    std::string sql;
    param_list params;
    std::vector<param_value> shown_params;
};

namespace detail {
/// Parameter sinks: the same walk over a query's values fills a param_list (to execute) or a
/// vector<param_value> (to show).
struct param_list_sink {
    param_list* out;
    template <class T> void operator()(const T& v) const { out->add(v); }
};
struct param_value_sink {
    std::vector<param_value>* out;
    template <class T> void operator()(const T& v) const { out->push_back(to_param_value(v)); }
};
} // namespace detail

} // namespace sleet
