#include <sleet/result.hpp>

#include <cstring>

namespace sleet {

void row_view::throw_column_missing(std::size_t index) const
{
    diagnostics d;
    throw error_with_diagnostics(column_missing(index, d), std::move(d));
}

void row_view::throw_null(std::size_t index, std::string (*cpp_name)()) const
{
    diagnostics d;
    auto ec = detail::null_into_non_optional(info(index), cpp_name(), d);
    throw error_with_diagnostics(ec, std::move(d));
}

void row_view::throw_bad_value(std::size_t index, error_code ec, diagnostics& reason, std::string (*cpp_name)()) const
{
    ec = detail::column_decode_failed(info(index), cpp_name(), ec, reason);
    throw error_with_diagnostics(ec, std::move(reason));
}

error_code row_view::column_missing(std::size_t index, diagnostics& diag) const
{
    diag.assign_client("column index " + std::to_string(index) + " is out of range: the result has " +
                       std::to_string(size()) + " column(s)");
    return make_error_code(errc::column_not_found);
}

std::size_t row_view::index_of(std::string_view name) const
{
    const auto& cols = r_->columns();
    for (std::size_t i = 0; i < cols.size(); ++i)
        if (cols[i].name == name) return i;
    std::string known;
    for (const auto& c : cols) {
        if (!known.empty()) known += ", ";
        known += "\"" + c.name + "\"";
    }
    diagnostics d;
    d.assign_client("no column named \"" + std::string(name) + "\" in the result (columns: " + known + ")");
    throw error_with_diagnostics(make_error_code(errc::column_not_found), std::move(d));
}

void row_view::check_arity(std::size_t n) const
{
    if (n == size()) return;
    diagnostics d;
    d.assign_client("cannot read a row of " + std::to_string(size()) + " column(s) into a tuple of " + std::to_string(n) +
                    " element(s)");
    throw error_with_diagnostics(make_error_code(errc::type_mismatch), std::move(d));
}

void row_view::check_struct_arity(std::size_t n, std::string (*struct_name)()) const
{
    if (n == size()) return;
    diagnostics d;
    d.assign_client("cannot read a row of " + std::to_string(size()) + " column(s) into " + struct_name() + ", which has " +
                    std::to_string(n) + " field(s)");
    throw error_with_diagnostics(make_error_code(errc::type_mismatch), std::move(d));
}

row_view result::at(std::size_t i) const
{
    if (i >= row_count_) {
        diagnostics d;
        d.assign_client("row index " + std::to_string(i) + " is out of range: the result has " + std::to_string(row_count_) +
                        " row(s)");
        throw error_with_diagnostics(make_error_code(errc::column_not_found), std::move(d));
    }
    return (*this)[i];
}

void result::set_columns(std::vector<column> cols) { columns_ = std::make_shared<const std::vector<column>>(std::move(cols)); }

const std::vector<column>& result::no_columns() noexcept
{
    static const std::vector<column> none;
    return none;
}

void result::reserve(std::size_t rows, std::size_t bytes)
{
    data_.reserve(bytes);
    fields_.reserve(rows * column_count());
}

error_code result::append_row(std::string_view body, std::int16_t field_count)
{
    if (field_count < 0 || static_cast<std::size_t>(field_count) != column_count())
        return make_error_code(errc::protocol_error);
    const std::size_t base = data_.size();
    const std::size_t first_field = fields_.size();
    std::size_t pos = 0;
    for (std::int16_t i = 0; i < field_count; ++i) {
        if (body.size() - pos < 4) {
            fields_.resize(first_field);
            return make_error_code(errc::truncated_message);
        }
        std::uint32_t u = (static_cast<std::uint32_t>(static_cast<unsigned char>(body[pos])) << 24) |
                          (static_cast<std::uint32_t>(static_cast<unsigned char>(body[pos + 1])) << 16) |
                          (static_cast<std::uint32_t>(static_cast<unsigned char>(body[pos + 2])) << 8) |
                          static_cast<std::uint32_t>(static_cast<unsigned char>(body[pos + 3]));
        auto len = static_cast<std::int32_t>(u);
        pos += 4;
        if (len == -1) {
            fields_.push_back({0, -1});
            continue;
        }
        if (len < 0) {
            fields_.resize(first_field);
            return make_error_code(errc::invalid_field_length);
        }
        if (body.size() - pos < static_cast<std::size_t>(len)) {
            fields_.resize(first_field);
            return make_error_code(errc::truncated_message);
        }
        // Offsets are relative to the row's bytes, which are copied in one piece below.
        fields_.push_back({base + pos, len});
        pos += static_cast<std::size_t>(len);
    }
    if (pos != body.size()) {
        fields_.resize(first_field);
        return make_error_code(errc::protocol_error);
    }
    data_.append(body.data(), body.size());
    ++row_count_;
    return {};
}

void result::set_command_tag(std::string_view tag)
{
    command_tag_ = std::string(tag);
    affected_rows_ = 0;
    auto sp = tag.rfind(' ');
    if (sp == std::string_view::npos) return;
    auto num = tag.substr(sp + 1);
    std::uint64_t v = 0;
    for (char c : num) {
        if (c < '0' || c > '9') return;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    affected_rows_ = v;
}

} // namespace sleet
