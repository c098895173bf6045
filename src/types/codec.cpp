// sleet::types — shared helpers, type names, field error messages, param_list storage.
#include <sleet/types/detail/codec.hpp>
#include <sleet/types/field.hpp>
#include <sleet/types/params.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#include <limits>

namespace sleet {

namespace detail {

error_code decode_fail(diagnostics& diag, errc code, std::string reason)
{
    diag.assign_client(std::move(reason));
    return make_error_code(code);
}

error_code wrong_size(std::string_view b, std::size_t n, diagnostics& diag)
{
    return decode_fail(diag, errc::invalid_value,
                       "expected " + std::to_string(n) + " bytes, got " + std::to_string(b.size()));
}

void throw_encode_error(errc code, std::string message)
{
    diagnostics d;
    d.assign_client(std::move(message));
    throw error_with_diagnostics(make_error_code(code), std::move(d));
}

void check_no_nul(std::string_view s)
{
    auto pos = s.find('\0');
    if (pos != std::string_view::npos)
        throw_encode_error(errc::nul_in_text_parameter,
                           "a text parameter contains a NUL byte at offset " + std::to_string(pos) +
                               "; PostgreSQL text cannot hold NUL (send it as bytea)");
}

} // namespace detail

namespace {

struct oid_name {
    oid_t oid;
    std::string_view name;
};

constexpr std::array<oid_name, 64> known_types{{
    {16, "bool"}, {17, "bytea"}, {18, "char"}, {19, "name"}, {20, "int8"}, {21, "int2"},
    {23, "int4"}, {24, "regproc"}, {25, "text"}, {26, "oid"}, {114, "json"}, {142, "xml"},
    {143, "xml[]"}, {199, "json[]"}, {650, "cidr"}, {651, "cidr[]"}, {700, "float4"},
    {701, "float8"}, {705, "unknown"}, {790, "money"}, {791, "money[]"}, {829, "macaddr"},
    {869, "inet"}, {1000, "bool[]"}, {1001, "bytea[]"}, {1002, "char[]"}, {1003, "name[]"},
    {1005, "int2[]"}, {1007, "int4[]"}, {1008, "regproc[]"}, {1009, "text[]"}, {1014, "bpchar[]"},
    {1015, "varchar[]"}, {1016, "int8[]"}, {1021, "float4[]"}, {1022, "float8[]"},
    {1028, "oid[]"}, {1040, "macaddr[]"}, {1041, "inet[]"}, {1042, "bpchar"}, {1043, "varchar"},
    {1082, "date"}, {1083, "time"}, {1114, "timestamp"}, {1115, "timestamp[]"},
    {1182, "date[]"}, {1183, "time[]"}, {1184, "timestamptz"}, {1185, "timestamptz[]"},
    {1186, "interval"}, {1187, "interval[]"}, {1231, "numeric[]"}, {1266, "timetz"},
    {1270, "timetz[]"}, {1700, "numeric"}, {2205, "regclass"}, {2206, "regtype"},
    {2210, "regclass[]"}, {2211, "regtype[]"}, {2950, "uuid"}, {2951, "uuid[]"},
    {3802, "jsonb"}, {3807, "jsonb[]"}, {0, "unspecified"},
}};

struct array_elem {
    oid_t array;
    oid_t element;
};

constexpr std::array<array_elem, 29> known_arrays{{
    {143, 142},   {199, 114},   {651, 650},   {791, 790},   {1000, 16},   {1001, 17},
    {1002, 18},   {1003, 19},   {1005, 21},   {1007, 23},   {1008, 24},   {1009, 25},
    {1014, 1042}, {1015, 1043}, {1016, 20},   {1021, 700},  {1022, 701},  {1028, 26},
    {1040, 829},  {1041, 869},  {1115, 1114}, {1182, 1082}, {1183, 1083}, {1185, 1184},
    {1187, 1186}, {1231, 1700}, {1270, 1266}, {2951, 2950}, {3807, 3802},
}};

} // namespace

std::string_view type_name_of(oid_t t)
{
    for (const auto& k : known_types)
        if (k.oid == t) return k.name;
    thread_local std::array<std::string, 8> ring;
    thread_local std::size_t next = 0;
    auto& s = ring[next];
    next = (next + 1) % ring.size();
    s = "oid " + std::to_string(t);
    return s;
}

oid_t array_element_oid(oid_t array_type) noexcept
{
    for (const auto& a : known_arrays)
        if (a.array == array_type) return a.element;
    return 0;
}

bool binary_result_supported(oid_t t) noexcept
{
    switch (t) {
    case oid::bool_: case oid::bytea: case oid::char_: case oid::name: case oid::int8: case oid::int2:
    case oid::int4: case oid::text: case oid::oid: case oid::json: case oid::xml: case oid::cidr:
    case oid::float4: case oid::float8: case oid::money: case oid::macaddr: case oid::inet:
    case oid::bpchar: case oid::varchar: case oid::date: case oid::time: case oid::timestamp:
    case oid::timestamptz: case oid::interval: case oid::timetz: case oid::numeric: case oid::uuid:
    case oid::jsonb:
    case 24:   // regproc
    case 2205: // regclass
    case 2206: // regtype
        return true;
    default: {
        // Arrays of those: the binary array codec hands each element to the element's decoder.
        const oid_t e = array_element_oid(t);
        return e != 0 && binary_result_supported(e);
    }
    }
}

bool type_name_matches(std::string_view declared, std::string_view server) noexcept
{
    if (declared == server) return true;
    if (declared.find('.') != std::string_view::npos) return false;
    const auto dot = server.find('.');
    return dot != std::string_view::npos && server.substr(dot + 1) == declared;
}

namespace detail {

namespace {
std::string server_type_name(const column_info& col)
{
    return col.type_name.empty() ? std::string(type_name_of(col.type_oid)) : std::string(col.type_name);
}
} // namespace

error_code null_into_non_optional(const column_info& col, const std::string& cpp, diagnostics& diag)
{
    diag.assign_client("column \"" + std::string(col.name) + "\" is NULL but the C++ type " + cpp +
                       " is not optional");
    return make_error_code(errc::null_value);
}

error_code column_type_mismatch(const column_info& col, const std::string& cpp, diagnostics& diag)
{
    diag.assign_client("column \"" + std::string(col.name) + "\" of type " + server_type_name(col) +
                       " cannot be read as " + cpp);
    return make_error_code(errc::type_mismatch);
}

error_code column_decode_failed(const column_info& col, const std::string& cpp, error_code ec,
                                diagnostics& diag)
{
    std::string reason = diag.client_message();
    std::string msg = "column \"" + std::string(col.name) + "\" of type " + server_type_name(col);
    if (ec == errc::value_out_of_range) msg += " holds a value out of range for " + cpp;
    else if (ec == errc::type_mismatch) msg += " cannot be read as " + cpp;
    else if (ec == errc::null_value) msg += " holds a NULL that the C++ type " + cpp + " cannot take";
    else msg += std::string(" holds an invalid ") +
                (col.format == wire::format::binary ? "binary" : "text") + " value for " + cpp;
    if (!reason.empty()) msg += ": " + reason;
    diag.assign_client(std::move(msg));
    return ec;
}

} // namespace detail

void param_list::push(oid_t oid, wire::format f, std::size_t start)
{
    const std::size_t len = data_.size() - start;
    if (len > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
        detail::throw_encode_error(errc::outgoing_message_too_large,
                                   "a parameter value of " + std::to_string(len) +
                                       " bytes exceeds the protocol's limit of 2^31-1 bytes");
    // Grow all three arrays first so that the pushes below cannot throw half-way.
    const std::size_t n = slots_.size() + 1;
    if (slots_.capacity() < n || oids_.capacity() < n || formats_.capacity() < n) {
        const std::size_t cap = std::max<std::size_t>(8, 2 * slots_.size());
        slots_.reserve(cap);
        oids_.reserve(cap);
        formats_.reserve(cap);
    }
    slots_.push_back({start, static_cast<std::int32_t>(len)});
    oids_.push_back(oid);
    formats_.push_back(f);
}

void param_list::push_null(oid_t oid, wire::format f)
{
    push(oid, f, data_.size());
    slots_.back().length = -1;
}

} // namespace sleet
