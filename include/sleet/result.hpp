// sleet: the result of one statement — column metadata, rows, command tag.
//
// A result owns its bytes: rows are stored back to back in one buffer with an index of field
// offsets, so reading a field is a bounds-checked view, and decoding into C++ types goes through
// the types layer (sleet::decode_field), which names column, server type and C++ type on a
// mismatch. The hot path is inline: get<T> checks the column's type and hands the bytes to the
// codec, and the query layer's decode_rows checks every column once per result, not per field.
#pragma once

#include <sleet/error.hpp>
#include <sleet/types.hpp>
#include <sleet/wire/frontend.hpp>
#include <sleet/wire/oid.hpp>

#include <boost/pfr/core.hpp>
#include <boost/pfr/tuple_size.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace sleet {

/// Metadata of one result column (from RowDescription).
struct column {
    std::string name;
    oid_t type_oid = 0;
    oid_t table_oid = 0;
    std::int16_t column_attribute = 0;
    std::int16_t type_size = 0;
    std::int32_t type_modifier = 0;
    wire::format format = wire::format::text;
    /// The server's name of a type outside the built-in table ("public.mood"), once the
    /// connection has looked it up; empty otherwise (see column_info::type_name).
    std::string type_name;
};

class result;
namespace detail {
struct row_access;
}

/// A non-owning view of one row of a result. Valid while the result lives.
class row_view {
public:
    std::size_t size() const noexcept;
    /// Raw field bytes, std::nullopt for NULL. Throws error_with_diagnostics(column_not_found).
    std::optional<std::string_view> raw(std::size_t index) const;
    bool is_null(std::size_t index) const { return !raw(index).has_value(); }

    /// Decodes field `index` (or the column called `name`) into T. Throws error_with_diagnostics
    /// on NULL into a non-optional, a type mismatch or an out-of-range value; the message names the
    /// column, its server type and the C++ type.
    template <class T> T get(std::size_t index) const
    {
        T out{};
        read_field(index, out);
        return out;
    }
    template <class T> T get(std::string_view name) const { return get<T>(index_of(name)); }

    /// Non-throwing form.
    template <class T> error_code try_get(std::size_t index, T& out, diagnostics& diag) const
    {
        if (index >= size()) return column_missing(index, diag);
        return decode_field(info(index), raw(index), out, diag);
    }

    /// The row as a tuple (structured bindings): `auto [id, name] = row.as<std::int32_t, std::string>();`
    /// The number of types must equal the number of columns.
    template <class... Ts> std::tuple<Ts...> as() const
    {
        check_arity(sizeof...(Ts));
        return as_impl<Ts...>(std::index_sequence_for<Ts...>{});
    }

    /// The row as a user aggregate, field i from column i (Boost.PFR):
    /// `struct person { std::int32_t id; std::string name; }; auto p = row.as_struct<person>();`
    /// The number of fields must equal the number of columns (else error_with_diagnostics with
    /// errc::type_mismatch: `cannot read a row of 3 column(s) into person, which has 2 field(s)`);
    /// field names are not compared with column names. Each field is decoded like get<T>(i).
    template <class Struct> Struct as_struct() const
    {
        static_assert(std::is_aggregate_v<Struct> && !std::is_array_v<Struct>,
                      "sleet: row_view::as_struct<S> needs an aggregate struct (no constructors, no base classes)");
        static_assert(std::is_default_constructible_v<Struct>, "sleet: row_view::as_struct<S> needs a default-constructible S");
        constexpr std::size_t n = boost::pfr::tuple_size_v<Struct>;
        check_struct_arity(n, &detail::compiler_type_name<Struct>);
        Struct out{};
        as_struct_impl(out, std::make_index_sequence<n>{});
        return out;
    }

    /// Index of the column called `name`; throws error_with_diagnostics(column_not_found).
    std::size_t index_of(std::string_view name) const;

private:
    friend class result;
    friend struct detail::row_access;
    row_view(const result* r, std::size_t row) noexcept : r_(r), row_(row) {}
    column_info info(std::size_t index) const noexcept;
    error_code column_missing(std::size_t index, diagnostics& diag) const;
    [[noreturn]] void throw_column_missing(std::size_t index) const;
    void check_arity(std::size_t n) const;
    /// `struct_name` is only called to build the error message.
    void check_struct_arity(std::size_t n, std::string (*struct_name)()) const;
    template <class Struct, std::size_t... I> void as_struct_impl(Struct& out, std::index_sequence<I...>) const
    {
        (read_field(I, boost::pfr::get<I>(out)), ...);
    }
    template <class T> void read_field(std::size_t index, T& out) const;
    /// The field's bytes without the index check (the caller has checked it).
    std::optional<std::string_view> field_bytes(std::size_t index) const noexcept;
    /// Decodes field `index` of a column that T can read (result::readable<T>): only the NULL and
    /// value checks are left. `scratch` receives a codec's reason; it is not cleared on success,
    /// so one can serve a whole result.
    template <class T> void decode_readable(std::size_t index, T& out, diagnostics& scratch) const;
    template <class T>
    void decode_value(std::size_t index, std::optional<std::string_view> value, T& out, diagnostics& scratch) const;
    // The error paths of decode_readable, out of line; `cpp_name` is only called to build the message.
    [[noreturn]] void throw_null(std::size_t index, std::string (*cpp_name)()) const;
    [[noreturn]] void throw_bad_value(std::size_t index, error_code ec, diagnostics& reason, std::string (*cpp_name)()) const;
    template <class... Ts, std::size_t... I> std::tuple<Ts...> as_impl(std::index_sequence<I...>) const
    {
        return std::tuple<Ts...>{get<Ts>(I)...};
    }

    const result* r_ = nullptr;
    std::size_t row_ = 0;
};

/// The outcome of one statement: columns (empty for statements without rows), rows, command tag.
class result {
public:
    result() = default;

    const std::vector<column>& columns() const noexcept { return columns_ ? *columns_ : no_columns(); }
    std::size_t size() const noexcept { return row_count_; }
    bool empty() const noexcept { return row_count_ == 0; }
    row_view operator[](std::size_t i) const noexcept { return row_view(this, i); }
    row_view at(std::size_t i) const;
    row_view front() const { return at(0); }

    /// Every row as a user aggregate (see row_view::as_struct): `auto people = r.as_vector<person>();`
    /// The field count is checked against the columns even when there are no rows.
    template <class Struct> std::vector<Struct> as_vector() const
    {
        if (!columns().empty())
            row_view(this, 0).check_struct_arity(boost::pfr::tuple_size_v<Struct>, &detail::compiler_type_name<Struct>);
        std::vector<Struct> out;
        out.reserve(row_count_);
        for (std::size_t i = 0; i < row_count_; ++i) out.push_back((*this)[i].template as_struct<Struct>());
        return out;
    }

    /// "INSERT 0 1", "SELECT 3", ... ; empty for an empty query.
    const std::string& command_tag() const noexcept { return command_tag_; }
    /// Rows affected or returned, as the command tag reports it (0 when it has no count).
    std::uint64_t affected_rows() const noexcept { return affected_rows_; }

    class iterator {
    public:
        using value_type = row_view;
        using difference_type = std::ptrdiff_t;
        iterator() = default;
        row_view operator*() const noexcept { return (*r_)[i_]; }
        iterator& operator++() noexcept { ++i_; return *this; }
        iterator operator++(int) noexcept { auto t = *this; ++i_; return t; }
        bool operator==(const iterator& o) const noexcept { return i_ == o.i_; }

    private:
        friend class result;
        iterator(const result* r, std::size_t i) : r_(r), i_(i) {}
        const result* r_ = nullptr;
        std::size_t i_ = 0;
    };
    iterator begin() const noexcept { return {this, 0}; }
    iterator end() const noexcept { return {this, row_count_}; }

    // --- building (used by the connection) ---
    void set_columns(std::vector<column> cols);
    /// Shares the column list of a prepared statement (no copy per execution).
    void set_columns(std::shared_ptr<const std::vector<column>> cols) noexcept { columns_ = std::move(cols); }
    /// Appends one DataRow body (after the 2-byte column count); validates every length.
    error_code append_row(std::string_view data_row_body, std::int16_t field_count);
    void set_command_tag(std::string_view tag);
    /// Room for `rows` rows of `bytes` field bytes in all (e.g. the size of the statement's last
    /// result), so appending does not grow the buffers step by step.
    void reserve(std::size_t rows, std::size_t bytes);
    /// Field bytes held (for the next reserve of the same statement).
    std::size_t byte_size() const noexcept { return data_.size(); }

private:
    friend class row_view;
    friend struct detail::row_access;
    /// May a T (optional or not) read column `index`? The checks of decode_field that do not
    /// depend on the value, so a caller can run them once per column, not once per field.
    template <class T> bool readable(std::size_t index) const
    {
        if (index >= column_count()) return false;
        const column& c = (*columns_)[index];
        return detail::column_readable<detail::non_optional_t<T>>(column_info{c.name, c.type_oid, c.format, c.type_name});
    }
    static const std::vector<column>& no_columns() noexcept;
    std::size_t column_count() const noexcept { return columns_ ? columns_->size() : 0; }
    std::shared_ptr<const std::vector<column>> columns_;
    std::string data_;                 // field bytes of all rows, back to back
    struct field_ref {
        std::size_t offset;   // into data_
        std::int32_t length;  // -1 for NULL
    };
    std::vector<field_ref> fields_;    // row-major: row * columns + column
    std::size_t row_count_ = 0;
    std::string command_tag_;
    std::uint64_t affected_rows_ = 0;
};

// --- row_view's hot paths, inline: decoding a field costs a few loads and the codec itself ---

inline std::size_t row_view::size() const noexcept { return r_->column_count(); }

inline std::optional<std::string_view> row_view::field_bytes(std::size_t index) const noexcept
{
    const auto& f = r_->fields_[row_ * r_->column_count() + index];
    if (f.length < 0) return std::nullopt;
    return std::string_view(r_->data_.data() + f.offset, static_cast<std::size_t>(f.length));
}

inline std::optional<std::string_view> row_view::raw(std::size_t index) const
{
    if (index >= size()) throw_column_missing(index);
    return field_bytes(index);
}

inline column_info row_view::info(std::size_t index) const noexcept
{
    const column& c = (*r_->columns_)[index];
    return column_info{c.name, c.type_oid, c.format, c.type_name};
}

template <class T> void row_view::read_field(std::size_t index, T& out) const
{
    if (r_->readable<T>(index)) {
        diagnostics scratch;
        decode_readable(index, out, scratch);
    } else {
        // A missing column or one T cannot read: decode_field builds the message (and a NULL
        // into std::optional is still fine whatever the column's type).
        diagnostics diag;
        throw_on_error(try_get(index, out, diag), diag);
    }
}

template <class T> void row_view::decode_readable(std::size_t index, T& out, diagnostics& scratch) const
{
    decode_value(index, field_bytes(index), out, scratch);
}

// Mirrors decode_field for a column already found readable: same results, same messages.
template <class T>
void row_view::decode_value(std::size_t index, std::optional<std::string_view> value, T& out, diagnostics& scratch) const
{
    if constexpr (detail::is_optional_v<T>) {
        if (!value) {
            out.reset();
            return;
        }
        if (!out) out.emplace();
        decode_value(index, value, *out, scratch);
    } else {
        if (!value) throw_null(index, &cpp_type_name<T>);
        const column& c = (*r_->columns_)[index];
        // A codec sets a reason only when it fails; clear one left by a misbehaving codec so it
        // cannot end up in a later message.
        if (!scratch.empty()) scratch.clear();
        if (auto ec = pg_type<T>::decode(*value, c.format, c.type_oid, out, scratch))
            throw_bad_value(index, ec, scratch, &cpp_type_name<T>);
    }
}

namespace detail {
/// The query layer's way to decode whole results with the column checks done once per result
/// (decode_rows); not for users.
struct row_access {
    template <class T> static bool readable(const result& r, std::size_t index) { return r.readable<T>(index); }
    template <class T> static void decode_readable(const row_view& row, std::size_t index, T& out, diagnostics& scratch)
    {
        row.decode_readable(index, out, scratch);
    }
};
} // namespace detail

} // namespace sleet
