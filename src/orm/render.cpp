// sleet::orm — the non-template parts of SQL rendering.
#include <sleet/query/insert.hpp>
#include <sleet/query/operators.hpp>
#include <sleet/sql/expression.hpp>
#include <sleet/sql/render.hpp>

#include <charconv>
#include <cstdio>
#include <string>

namespace sleet {

void quote_identifier(std::string& out, std::string_view name)
{
    out += '"';
    for (char ch : name) {
        if (ch == '"') out += '"';
        out += ch;
    }
    out += '"';
}

void render_context::param()
{
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, ++params_);
    (void)ec;
    text_ += '$';
    text_.append(buf, end);
}

std::string to_string(const param_value& v)
{
    struct visitor {
        std::string operator()(std::nullptr_t) const { return "null"; }
        std::string operator()(bool b) const { return b ? "true" : "false"; }
        std::string operator()(std::int64_t i) const { return std::to_string(i); }
        std::string operator()(double d) const
        {
            char buf[64];
            auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
            (void)ec;
            return std::string(buf, end);
        }
        std::string operator()(const std::string& s) const
        {
            std::string out = "\"";
            for (char c : s) {
                if (c == '"' || c == '\\') {
                    out += '\\';
                    out += c;
                } else if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
                    out += buf;
                } else {
                    out += c;
                }
            }
            out += '"';
            return out;
        }
    };
    return std::visit(visitor{}, v);
}

std::string sql_literal(const param_value& v)
{
    if (const auto* s = std::get_if<std::string>(&v)) {
        std::string out = "'";
        for (char ch : *s) {
            if (ch == '\'') out += '\'';
            out += ch;
        }
        out += '\'';
        return out;
    }
    return to_string(v); // null, true/false, numbers: the same spelling
}

namespace detail {
std::string to_decimal(std::uint64_t v) { return std::to_string(v); }

void throw_out_of_range_param()
{
    diagnostics d;
    d.assign_client("a parameter value does not fit the column's C++ type (an integer out of range)");
    throw error_with_diagnostics(make_error_code(errc::value_out_of_range), std::move(d));
}
void throw_no_insert_rows()
{
    diagnostics d;
    d.assign_client("insert(): values() was given no rows");
    throw error_with_diagnostics(make_error_code(errc::invalid_value), std::move(d));
}
} // namespace detail

} // namespace sleet
