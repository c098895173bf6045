// sleet::types — arrays: std::vector<T> (one dimension) and sleet::pg_array<T> (any).
#pragma once

#include <sleet/types/detail/codec.hpp>
#include <sleet/types/pg_type.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace sleet {

/// A PostgreSQL array of any number of dimensions. `elements` are in row-major order; an
/// empty `dims` is the empty (zero-dimensional) array. T may be std::optional<U> for arrays
/// that hold NULLs.
template <class T>
struct pg_array {
    std::vector<std::int32_t> dims;         ///< length of each dimension
    std::vector<std::int32_t> lower_bounds; ///< first index of each dimension (usually 1); empty = all 1
    std::vector<T> elements;
    bool operator==(const pg_array&) const = default;
};

namespace detail {

template <class E> struct array_elem { using type = E; static constexpr bool nullable = false; };
template <class U> struct array_elem<std::optional<U>> { using type = U; static constexpr bool nullable = true; };

template <class E>
inline constexpr bool array_element_ok_v =
    !std::is_same_v<E, std::byte> &&
    (pg_encodable<typename array_elem<E>::type> || pg_decodable<typename array_elem<E>::type>);

/// How an array of U travels: binary with U[]'s OID when U has a binary codec and known OIDs,
/// else a text literal "{...}" (OID of U[] when known, else 0: the server infers it).
template <class U>
struct array_wire {
    static constexpr bool binary = [] {
        if constexpr (pg_encodable<U>) return pg_type<U>::binary && pg_type<U>::oid != 0 && array_oid_of<U>() != 0;
        else return false;
    }();
    static constexpr oid_t oid = [] {
        if constexpr (pg_encodable<U>) return pg_type<U>::oid != 0 ? array_oid_of<U>() : oid_t{0};
        else return oid_t{0};
    }();
};

/// A parsed text array literal.
struct text_array {
    std::vector<std::int32_t> dims;
    std::vector<std::int32_t> lower_bounds;
    std::vector<std::optional<std::string>> elements;
};
/// Parses the server's array output ("{1,2}", "{{a,\"b c\"},{NULL,d}}", "[0:1]={x,y}").
error_code parse_text_array(std::string_view s, text_array& out, diagnostics& d);
/// Appends `elem` as a quoted array literal element.
void append_quoted_element(std::string& out, std::string_view elem);

struct array_header {
    std::vector<std::int32_t> dims;
    std::vector<std::int32_t> lower_bounds;
    bool has_null = false;
    oid_t element = 0;
};
error_code read_array_header(byte_reader& r, array_header& h, diagnostics& d);
void write_array_header(std::string& out, const std::vector<std::int32_t>& dims,
                        const std::vector<std::int32_t>& lower_bounds, bool has_null, oid_t element);
/// Reserves a 4-byte length at the end of `out`; returns its offset.
std::size_t begin_length(std::string& out);
void end_length(std::string& out, std::size_t at);
[[noreturn]] void throw_bad_dims(std::size_t product, std::size_t count);

template <class E>
bool element_is_null(const E& e)
{
    if constexpr (array_elem<E>::nullable) return !e.has_value();
    else return false;
}

template <class E>
void encode_elements(const std::vector<E>& elems, const std::vector<std::int32_t>& dims,
                     const std::vector<std::int32_t>& lbounds, std::string& out, wire::format f)
{
    using U = typename array_elem<E>::type;
    // By index, not by reference: std::vector<bool> hands out proxies.
    auto encode_one = [&elems](std::size_t i, std::string& to, wire::format ef) {
        if constexpr (array_elem<E>::nullable) pg_type<U>::encode(*elems[i], to, ef);
        else pg_type<U>::encode(elems[i], to, ef);
    };
    if (f == wire::format::binary) {
        bool has_null = false;
        for (std::size_t i = 0; i < elems.size(); ++i) has_null = has_null || element_is_null<E>(elems[i]);
        write_array_header(out, dims, lbounds, has_null, pg_type<U>::oid);
        for (std::size_t i = 0; i < elems.size(); ++i) {
            if (element_is_null<E>(elems[i])) {
                be_append(out, std::int32_t{-1});
                continue;
            }
            auto at = begin_length(out);
            encode_one(i, out, wire::format::binary);
            end_length(out, at);
        }
        return;
    }
    // Text literal, every element quoted; nested braces follow dims.
    if (dims.empty() || elems.empty()) {
        out += "{}";
        return;
    }
    if (!lbounds.empty()) {
        bool all_one = true;
        for (auto lb : lbounds) all_one = all_one && lb == 1;
        if (!all_one) {
            for (std::size_t i = 0; i < dims.size(); ++i)
                out += '[' + std::to_string(lbounds[i]) + ':' + std::to_string(lbounds[i] + dims[i] - 1) + ']';
            out += '=';
        }
    }
    std::string tmp;
    std::vector<std::int32_t> pos(dims.size(), 0);
    out.append(dims.size(), '{');
    for (std::size_t i = 0; i < elems.size(); ++i) {
        if (element_is_null<E>(elems[i])) out += "NULL";
        else {
            tmp.clear();
            encode_one(i, tmp, wire::format::text);
            append_quoted_element(out, tmp);
        }
        // Advance the row-major index; close and reopen braces where dimensions wrap.
        std::size_t k = dims.size();
        while (k > 0) {
            if (++pos[k - 1] < dims[k - 1]) break;
            pos[k - 1] = 0;
            out += '}';
            --k;
        }
        if (k > 0) {
            out += ',';
            out.append(dims.size() - k, '{');
        }
    }
}

template <class E>
error_code decode_elements(std::string_view b, wire::format f, oid_t t, std::vector<std::int32_t>& dims,
                           std::vector<std::int32_t>& lbounds, std::vector<E>& out, diagnostics& d)
{
    using U = typename array_elem<E>::type;
    out.clear();
    auto put = [&](std::optional<std::string_view> v, wire::format ef, oid_t et) -> error_code {
        if (!v) {
            if constexpr (array_elem<E>::nullable) {
                out.emplace_back();
                return {};
            } else {
                return decode_fail(d, errc::null_value,
                                   "element " + std::to_string(out.size() + 1) + " is NULL; read it as std::optional");
            }
        }
        U value{};
        if (auto ec = pg_type<U>::decode(*v, ef, et, value, d)) {
            d.assign_client("element " + std::to_string(out.size() + 1) +
                            (d.client_message().empty() ? "" : ": " + d.client_message()));
            return ec;
        }
        out.push_back(std::move(value));
        return {};
    };
    if (f == wire::format::binary) {
        byte_reader r(b);
        array_header h;
        if (auto ec = read_array_header(r, h, d)) return ec;
        if (!pg_type<U>::accepts(h.element))
            return decode_fail(d, errc::type_mismatch,
                               "its elements are of type " + std::string(type_name_of(h.element)));
        std::size_t count = h.dims.empty() ? 0 : 1;
        for (auto n : h.dims) count *= static_cast<std::size_t>(n);
        if (count > r.remaining() / 4) return decode_fail(d, errc::invalid_value, "array dimensions exceed its size");
        out.reserve(count);
        for (std::size_t i = 0; i < count; ++i) {
            std::int32_t len = 0;
            std::string_view v;
            if (!r.read(len) || len < -1 || (len >= 0 && !r.read_bytes(static_cast<std::size_t>(len), v)))
                return decode_fail(d, errc::invalid_value, "array element " + std::to_string(i + 1) + " is truncated");
            if (auto ec = put(len < 0 ? std::nullopt : std::optional<std::string_view>(v), f, h.element)) return ec;
        }
        if (r.remaining() != 0) return decode_fail(d, errc::invalid_value, "trailing bytes after the array");
        dims = std::move(h.dims);
        lbounds = std::move(h.lower_bounds);
        return {};
    }
    text_array ta;
    if (auto ec = parse_text_array(b, ta, d)) return ec;
    const oid_t et = array_element_oid(t);
    out.reserve(ta.elements.size());
    for (auto& e : ta.elements)
        if (auto ec = put(e ? std::optional<std::string_view>(*e) : std::nullopt, f, et)) return ec;
    dims = std::move(ta.dims);
    lbounds = std::move(ta.lower_bounds);
    return {};
}

template <class U>
bool array_accepts(oid_t t)
{
    if constexpr (pg_decodable<U>) {
        const oid_t e = array_element_oid(t);
        if (e != 0) return pg_type<U>::accepts(e);
        return is_user_oid(t); // arrays of extension/user types: the element type is checked in decode
    } else {
        return false;
    }
}

template <class U>
constexpr bool reads_any_text_v = [] {
    if constexpr (requires { pg_type<U>::reads_any_text_format; }) return pg_type<U>::reads_any_text_format;
    else return false;
}();

} // namespace detail

/// std::vector<T> ↔ T[] (one dimension; T may be std::optional<U> for NULL elements).
///
/// Parameters: binary with the array type's OID when T has a binary codec (int4[] for
/// std::int32_t); otherwise a text literal with OID 0 (std::vector<std::string> works with
/// `= ANY($1)` against any column type). Reading: binary or text, from an array whose element
/// type T accepts. A NULL element into a non-optional T is errc::null_value; an array of more
/// than one dimension, or whose lower bound is not 1, is errc::type_mismatch (read it as
/// sleet::pg_array<T>, which keeps both).
template <class E>
struct pg_type<std::vector<E>, std::enable_if_t<detail::array_element_ok_v<E>>> {
    using U = typename detail::array_elem<E>::type;
    static constexpr std::string_view sql_name = "array";
    static constexpr oid_t oid = detail::array_wire<U>::oid;
    static constexpr bool binary = detail::array_wire<U>::binary;
    static constexpr bool reads_any_text_format = detail::reads_any_text_v<U>;
    static std::string cpp_name_of() { return "std::vector<" + cpp_type_name<E>() + ">"; }
    static bool accepts(oid_t t) { return detail::array_accepts<U>(t); }
    static void encode(const std::vector<E>& v, std::string& out, wire::format f)
    {
        static const std::vector<std::int32_t> no_bounds;
        std::vector<std::int32_t> dims;
        if (!v.empty()) dims.push_back(static_cast<std::int32_t>(v.size()));
        detail::encode_elements(v, dims, no_bounds, out, f);
    }
    static error_code decode(std::string_view b, wire::format f, oid_t t, std::vector<E>& out, diagnostics& d)
    {
        std::vector<std::int32_t> dims, lbounds;
        if (auto ec = detail::decode_elements(b, f, t, dims, lbounds, out, d)) return ec;
        if (dims.size() > 1)
            return detail::decode_fail(d, errc::type_mismatch,
                                       "the array has " + std::to_string(dims.size()) +
                                           " dimensions; read it as sleet::pg_array");
        // Indexes would shift silently: refuse, and say where to keep the bound.
        if (!lbounds.empty() && lbounds[0] != 1)
            return detail::decode_fail(d, errc::type_mismatch,
                                       "the array starts at index " + std::to_string(lbounds[0]) +
                                           ", not 1; read it as sleet::pg_array to keep its lower bound");
        return {};
    }
};

/// sleet::pg_array<T> ↔ T[] of any number of dimensions, with lower bounds.
template <class E>
struct pg_type<pg_array<E>, std::enable_if_t<detail::array_element_ok_v<E>>> {
    using U = typename detail::array_elem<E>::type;
    static constexpr std::string_view sql_name = "array";
    static constexpr oid_t oid = detail::array_wire<U>::oid;
    static constexpr bool binary = detail::array_wire<U>::binary;
    static constexpr bool reads_any_text_format = detail::reads_any_text_v<U>;
    static std::string cpp_name_of() { return "sleet::pg_array<" + cpp_type_name<E>() + ">"; }
    static bool accepts(oid_t t) { return detail::array_accepts<U>(t); }
    /// Throws errc::invalid_value if the dimensions do not multiply to the element count.
    static void encode(const pg_array<E>& v, std::string& out, wire::format f)
    {
        std::size_t product = v.dims.empty() ? 0 : 1;
        for (auto n : v.dims) product *= n < 0 ? 0 : static_cast<std::size_t>(n);
        if (product != v.elements.size() || (!v.lower_bounds.empty() && v.lower_bounds.size() != v.dims.size()))
            detail::throw_bad_dims(product, v.elements.size());
        detail::encode_elements(v.elements, v.dims, v.lower_bounds, out, f);
    }
    static error_code decode(std::string_view b, wire::format f, oid_t t, pg_array<E>& out, diagnostics& d)
    {
        return detail::decode_elements(b, f, t, out.dims, out.lower_bounds, out.elements, d);
    }
};

} // namespace sleet
