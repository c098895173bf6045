// sleet::types — an owned, encoded parameter list for Bind.
#pragma once

#include <sleet/types/pg_type.hpp>
#include <sleet/types/small_vector.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sleet {

/// Parameters for one statement, each encoded once when added.
///
/// Values go in binary format where the type has a binary codec, text otherwise. String
/// parameters (std::string, std::string_view, const char*) are sent in text format with OID 0,
/// so the server infers their type from the statement, like libpq with no paramTypes:
/// `where id = $1` with "42" works against an int column. Cast in SQL (`$1::text`) where the
/// context does not decide.
///
/// All values live in one contiguous buffer; adding a value allocates only when that buffer
/// (or the per-parameter arrays, which hold their first four entries in the object) must grow.
///
/// \par Exception safety
/// add() is strong: if encoding throws (errc::nul_in_text_parameter for a text containing a
/// NUL byte, errc::value_out_of_range for a value PostgreSQL cannot represent,
/// errc::outgoing_message_too_large for a value over 2^31-1 bytes), the list is unchanged.
class param_list {
public:
    param_list() = default;

    /// Appends one parameter. std::optional<U> without a value, std::nullopt and a null
    /// `const char*` are sent as NULL.
    template <class T>
    void add(const T& v)
    {
        if constexpr (std::is_same_v<T, std::nullopt_t>) {
            push_null(0, wire::format::text);
        } else if constexpr (detail::is_optional_v<T>) {
            using U = typename T::value_type;
            if (v) add(*v);
            else {
                push_null(pg_type<U>::oid, format_of<U>());
                note_type_name<U>();
            }
        } else if constexpr (std::is_pointer_v<T> && std::is_same_v<std::remove_cv_t<std::remove_pointer_t<T>>, char>) {
            if (v == nullptr) push_null(0, wire::format::text);
            else add_value(static_cast<const char*>(v));
        } else {
            add_value(v);
        }
    }

    std::size_t size() const noexcept { return slots_.size(); }
    bool empty() const noexcept { return slots_.empty(); }
    std::span<const oid_t> oids() const noexcept { return {oids_.data(), oids_.size()}; }
    std::span<const wire::format> formats() const noexcept { return {formats_.data(), formats_.size()}; }
    /// The declared `type_name` of each parameter whose mapping has one (user and extension
    /// types, sent with OID 0); empty when no parameter has one. The connection resolves these
    /// names to OIDs once per connection and sends the real OID in Parse.
    std::span<const std::string_view> type_names() const noexcept { return type_names_; }
    /// The i-th value's bytes; nullopt for NULL. Valid until the list is changed.
    std::optional<std::string_view> value(std::size_t i) const noexcept
    {
        const auto& s = slots_[i];
        if (s.length < 0) return std::nullopt;
        return std::string_view(data_).substr(s.offset, static_cast<std::size_t>(s.length));
    }
    /// Total bytes of all values.
    std::size_t byte_size() const noexcept { return data_.size(); }
    /// Empties the list, keeping its capacity.
    void clear() noexcept
    {
        data_.clear();
        slots_.clear();
        oids_.clear();
        formats_.clear();
        type_names_.clear();
        read_only_ = false;
    }
    /// A hint about the statement these parameters go with: it only reads (a SELECT without row
    /// locks, no function with side effects). The connection may then run it in one implicit
    /// transaction with other read-only statements pipelined next to it, under one Sync (see
    /// connection.hpp, "Pipelining"). The query builder sets it for its selects; raw SQL never
    /// has it unless the caller sets it.
    void set_read_only(bool on = true) noexcept { read_only_ = on; }
    bool read_only() const noexcept { return read_only_; }

    void reserve(std::size_t count, std::size_t bytes)
    {
        data_.reserve(bytes);
        slots_.reserve(count);
        oids_.reserve(count);
        formats_.reserve(count);
    }

private:
    struct slot {
        std::size_t offset;
        std::int32_t length; // -1 = NULL
    };

    template <class U>
    static constexpr wire::format format_of() noexcept
    {
        return pg_type<U>::binary ? wire::format::binary : wire::format::text;
    }

    template <class T>
    void add_value(const T& v)
    {
        static_assert(pg_encodable<T>,
                      "sleet: this C++ type cannot be sent as a parameter: no usable "
                      "sleet::pg_type<T> specialisation (include <sleet/types.hpp>, or specialise "
                      "sleet::pg_type for it; see docs/types.md)");
        constexpr auto f = format_of<T>();
        const std::size_t start = data_.size();
        try {
            pg_type<T>::encode(v, data_, f);
            push(pg_type<T>::oid, f, start);
        } catch (...) {
            data_.resize(start);
            throw;
        }
        note_type_name<T>();
    }

    template <class T>
    void note_type_name()
    {
        if constexpr (requires { pg_type<T>::type_name; }) {
            if constexpr (pg_type<T>::oid == 0) {
                type_names_.resize(oids_.size());
                type_names_.back() = pg_type<T>::type_name;
            }
        }
    }

    void push(oid_t oid, wire::format f, std::size_t start);
    void push_null(oid_t oid, wire::format f);

    static constexpr std::size_t inline_params = 4;
    std::string data_;
    detail::small_vector<slot, inline_params> slots_;
    detail::small_vector<oid_t, inline_params> oids_;
    detail::small_vector<wire::format, inline_params> formats_;
    std::vector<std::string_view> type_names_;  // empty, or one per parameter up to the last named one
    bool read_only_ = false;
};

/// Builds a parameter list from the arguments, in order.
template <class... Ts>
param_list make_params(const Ts&... vs)
{
    param_list p;
    (p.add(vs), ...);
    return p;
}

} // namespace sleet
