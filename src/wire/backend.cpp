// sleet::wire — backend message framing and parsing (protocol 3.0, §55.7 "Message Formats").
//
// Every read goes through `cursor`, which checks the remaining length before touching a byte.
// Counts declared by the server are checked against the bytes actually left (times the minimum
// size of one element) before any vector is reserved, so a hostile count cannot make us
// allocate more than the body could possibly describe.
#include <sleet/wire/backend.hpp>

#include <cstring>
#include <limits>

namespace sleet::wire {
namespace {

error_code err(errc e) noexcept { return make_error_code(e); }

class cursor {
public:
    explicit cursor(std::string_view s) noexcept : rest_(s) {}

    std::size_t remaining() const noexcept { return rest_.size(); }
    bool empty() const noexcept { return rest_.empty(); }
    std::string_view rest() const noexcept { return rest_; }

    bool u8(std::uint8_t& v) noexcept
    {
        if (rest_.empty()) return false;
        v = static_cast<std::uint8_t>(rest_[0]);
        rest_.remove_prefix(1);
        return true;
    }
    bool u16(std::uint16_t& v) noexcept
    {
        if (rest_.size() < 2) return false;
        v = static_cast<std::uint16_t>((byte(0) << 8) | byte(1));
        rest_.remove_prefix(2);
        return true;
    }
    bool i16(std::int16_t& v) noexcept
    {
        std::uint16_t u = 0;
        if (!u16(u)) return false;
        v = static_cast<std::int16_t>(u);
        return true;
    }
    bool u32(std::uint32_t& v) noexcept
    {
        if (rest_.size() < 4) return false;
        v = (std::uint32_t{byte(0)} << 24) | (std::uint32_t{byte(1)} << 16) | (std::uint32_t{byte(2)} << 8) | byte(3);
        rest_.remove_prefix(4);
        return true;
    }
    bool i32(std::int32_t& v) noexcept
    {
        std::uint32_t u = 0;
        if (!u32(u)) return false;
        v = static_cast<std::int32_t>(u);
        return true;
    }
    /// A NUL-terminated string; false if there is no NUL before the end.
    bool cstring(std::string_view& v) noexcept
    {
        const auto nul = rest_.find('\0');
        if (nul == std::string_view::npos) return false;
        v = rest_.substr(0, nul);
        rest_.remove_prefix(nul + 1);
        return true;
    }
    bool bytes(std::size_t n, std::string_view& v) noexcept
    {
        if (rest_.size() < n) return false;
        v = rest_.substr(0, n);
        rest_.remove_prefix(n);
        return true;
    }

private:
    std::uint32_t byte(std::size_t i) const noexcept { return static_cast<unsigned char>(rest_[i]); }
    std::string_view rest_;
};

// Shared ending of every fixed layout: bytes left over are a protocol violation.
error_code expect_end(const cursor& c) noexcept { return c.empty() ? error_code{} : err(errc::protocol_error); }

// Walks `count` DataRow values; calls fn(index, optional value) for each.
template <class Fn>
error_code walk_values(std::string_view body, std::int16_t count, Fn&& fn) noexcept
{
    cursor c(body);
    for (std::int16_t i = 0; i < count; ++i) {
        std::int32_t len = 0;
        if (!c.i32(len)) return err(errc::truncated_message);
        if (len == -1) {
            fn(i, std::optional<std::string_view>{});
            continue;
        }
        if (len < 0) return err(errc::invalid_field_length);
        std::string_view v;
        if (!c.bytes(static_cast<std::size_t>(len), v)) return err(errc::truncated_message);
        fn(i, std::optional<std::string_view>{v});
    }
    return expect_end(c);
}

} // namespace

// --- framing -----------------------------------------------------------------------------------

split_result split_message(std::string_view buffered, std::size_t max_message_size) noexcept
{
    split_result r;
    if (buffered.size() < 5) {
        r.status = split_result::status_t::need_more;
        r.needed = 5 - buffered.size();
        return r;
    }
    cursor c(buffered.substr(1, 4));
    std::int32_t len = 0;
    c.i32(len);
    if (len < 4) {
        r.status = split_result::status_t::error;
        r.ec = err(errc::invalid_message_length);
        return r;
    }
    // `len` counts itself but not the type byte.
    if (static_cast<std::size_t>(len) > max_message_size) {
        r.status = split_result::status_t::error;
        r.ec = err(errc::message_too_large);
        return r;
    }
    const std::size_t total = 1 + static_cast<std::size_t>(len);
    if (buffered.size() < total) {
        r.status = split_result::status_t::need_more;
        r.needed = total - buffered.size();
        return r;
    }
    r.status = split_result::status_t::message;
    r.msg.type = buffered[0];
    r.msg.body = buffered.substr(5, total - 5);
    r.consumed = total;
    return r;
}

// --- parsers -----------------------------------------------------------------------------------

error_code parse_authentication(std::string_view body, authentication& out) noexcept
{
    cursor c(body);
    std::int32_t kind = 0;
    if (!c.i32(kind)) return err(errc::truncated_message);
    out = authentication{};
    out.kind = static_cast<auth_kind>(kind);
    switch (out.kind) {
    case auth_kind::ok:
    case auth_kind::kerberos_v5:
    case auth_kind::cleartext_password:
    case auth_kind::scm_credential:
    case auth_kind::gss:
    case auth_kind::sspi:
        return expect_end(c);
    case auth_kind::md5_password:
        if (!c.bytes(4, out.md5_salt)) return err(errc::truncated_message);
        return expect_end(c);
    case auth_kind::gss_continue:
    case auth_kind::sasl_continue:
    case auth_kind::sasl_final:
        out.data = c.rest();
        return {};
    case auth_kind::sasl: {
        // A list of mechanism names, each NUL-terminated, ended by an empty name. Each entry
        // takes at least 2 bytes, which bounds the vector by the body size.
        for (;;) {
            std::string_view name;
            if (!c.cstring(name)) return err(errc::truncated_message);
            if (name.empty()) break;
            try {
                out.mechanisms.push_back(name);
            } catch (...) {
                return err(errc::message_too_large);
            }
        }
        return expect_end(c);
    }
    }
    // An unknown authentication request: keep the code and the rest so the connection can say
    // "unsupported authentication method N" (errc::auth_method_unsupported).
    out.data = c.rest();
    return {};
}

error_code parse_parameter_status(std::string_view body, parameter_status& out) noexcept
{
    cursor c(body);
    if (!c.cstring(out.name) || !c.cstring(out.value)) return err(errc::truncated_message);
    return expect_end(c);
}

error_code parse_backend_key_data(std::string_view body, backend_key_data& out) noexcept
{
    cursor c(body);
    if (!c.i32(out.process_id) || !c.i32(out.secret_key)) return err(errc::truncated_message);
    return expect_end(c);
}

error_code parse_ready_for_query(std::string_view body, ready_for_query& out) noexcept
{
    cursor c(body);
    std::uint8_t s = 0;
    if (!c.u8(s)) return err(errc::truncated_message);
    switch (static_cast<char>(s)) {
    case 'I': out.status = transaction_status::idle; break;
    case 'T': out.status = transaction_status::in_transaction; break;
    case 'E': out.status = transaction_status::failed; break;
    default: return err(errc::protocol_error);
    }
    return expect_end(c);
}

error_code parse_command_complete(std::string_view body, command_complete& out) noexcept
{
    cursor c(body);
    if (!c.cstring(out.tag)) return err(errc::truncated_message);
    return expect_end(c);
}

namespace {
bool parse_u64(std::string_view s, std::uint64_t& v) noexcept
{
    if (s.empty()) return false;
    std::uint64_t r = 0;
    for (char ch : s) {
        if (ch < '0' || ch > '9') return false;
        const auto d = static_cast<std::uint64_t>(ch - '0');
        if (r > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return false;
        r = r * 10 + d;
    }
    v = r;
    return true;
}
} // namespace

std::optional<std::uint64_t> command_complete::rows() const noexcept
{
    // Split into at most 3 words; "INSERT oid rows" has 3, the others "VERB rows" have 2.
    std::string_view words[3];
    std::size_t n = 0;
    std::string_view rest = tag;
    while (!rest.empty()) {
        if (n == 3) return std::nullopt;
        const auto sp = rest.find(' ');
        words[n++] = rest.substr(0, sp);
        if (sp == std::string_view::npos) break;
        rest.remove_prefix(sp + 1);
        if (rest.empty()) return std::nullopt; // trailing space
    }
    if (n == 0) return std::nullopt;
    const std::string_view verb = words[0];
    std::uint64_t v = 0;
    if (verb == "INSERT") {
        if (n != 3 || !parse_u64(words[1], v) || !parse_u64(words[2], v)) return std::nullopt;
        return v;
    }
    if (verb == "UPDATE" || verb == "DELETE" || verb == "SELECT" || verb == "MOVE" || verb == "FETCH" ||
        verb == "COPY" || verb == "MERGE") {
        if (n != 2 || !parse_u64(words[1], v)) return std::nullopt;
        return v;
    }
    return std::nullopt;
}

error_code parse_row_description(std::string_view body, row_description& out) noexcept
{
    cursor c(body);
    std::int16_t count = 0;
    if (!c.i16(count)) return err(errc::truncated_message);
    if (count < 0) return err(errc::protocol_error);
    // Each field is at least 19 bytes: an empty name's NUL and 18 bytes of fixed fields.
    constexpr std::size_t min_field = 1 + 4 + 2 + 4 + 2 + 4 + 2;
    if (static_cast<std::size_t>(count) * min_field > c.remaining()) return err(errc::truncated_message);
    out.fields.clear();
    try {
        out.fields.reserve(static_cast<std::size_t>(count));
    } catch (...) {
        return err(errc::message_too_large);
    }
    for (std::int16_t i = 0; i < count; ++i) {
        field_description f;
        std::uint32_t table = 0, type = 0;
        if (!c.cstring(f.name) || !c.u32(table) || !c.i16(f.column_attribute) || !c.u32(type) || !c.i16(f.type_size) ||
            !c.i32(f.type_modifier) || !c.i16(f.format))
            return err(errc::truncated_message);
        f.table_oid = table;
        f.type_oid = type;
        out.fields.push_back(f); // within the reserved capacity: cannot throw
    }
    return expect_end(c);
}

error_code parse_data_row(std::string_view body, data_row_view& out) noexcept
{
    cursor c(body);
    std::int16_t count = 0;
    if (!c.i16(count)) return err(errc::truncated_message);
    if (count < 0) return err(errc::protocol_error);
    if (static_cast<std::size_t>(count) * 4 > c.remaining()) return err(errc::truncated_message);
    // Validate every length now (no allocation), so a row that parses can always be split.
    if (auto ec = walk_values(c.rest(), count, [](std::int16_t, std::optional<std::string_view>) {})) return ec;
    out.body_ = c.rest();
    out.count_ = count;
    return {};
}

error_code data_row_view::values(std::vector<std::optional<std::string_view>>& out) const noexcept
{
    try {
        out.resize(static_cast<std::size_t>(count_ < 0 ? 0 : count_));
    } catch (...) {
        return err(errc::message_too_large);
    }
    return walk_values(body_, count_, [&](std::int16_t i, std::optional<std::string_view> v) {
        out[static_cast<std::size_t>(i)] = v;
    });
}

error_code parse_parameter_description(std::string_view body, parameter_description& out) noexcept
{
    cursor c(body);
    // PostgreSQL writes the count as 16 bits and allows up to 65535 parameters: read unsigned.
    std::uint16_t count = 0;
    if (!c.u16(count)) return err(errc::truncated_message);
    if (std::size_t{count} * 4 > c.remaining()) return err(errc::truncated_message);
    out.types.clear();
    try {
        out.types.reserve(count);
    } catch (...) {
        return err(errc::message_too_large);
    }
    for (std::uint16_t i = 0; i < count; ++i) {
        std::uint32_t t = 0;
        c.u32(t); // length checked above
        out.types.push_back(t);
    }
    return expect_end(c);
}

error_code parse_notification(std::string_view body, notification& out) noexcept
{
    cursor c(body);
    if (!c.i32(out.process_id) || !c.cstring(out.channel) || !c.cstring(out.payload)) return err(errc::truncated_message);
    return expect_end(c);
}

error_code parse_copy_response(std::string_view body, copy_response& out) noexcept
{
    cursor c(body);
    std::uint8_t overall = 0;
    std::int16_t count = 0;
    if (!c.u8(overall) || !c.i16(count)) return err(errc::truncated_message);
    if (overall > 1 || count < 0) return err(errc::protocol_error);
    if (static_cast<std::size_t>(count) * 2 > c.remaining()) return err(errc::truncated_message);
    out.overall_format = static_cast<std::int8_t>(overall);
    out.column_formats.clear();
    try {
        out.column_formats.reserve(static_cast<std::size_t>(count));
    } catch (...) {
        return err(errc::message_too_large);
    }
    for (std::int16_t i = 0; i < count; ++i) {
        std::int16_t f = 0;
        c.i16(f); // length checked above
        if (f != 0 && f != 1) return err(errc::protocol_error);
        out.column_formats.push_back(f);
    }
    return expect_end(c);
}

error_code parse_negotiate_protocol_version(std::string_view body, negotiate_protocol_version& out) noexcept
{
    cursor c(body);
    std::int32_t count = 0;
    if (!c.i32(out.newest_minor) || !c.i32(count)) return err(errc::truncated_message);
    if (out.newest_minor < 0 || count < 0) return err(errc::protocol_error);
    // Each option name takes at least its NUL.
    if (static_cast<std::size_t>(count) > c.remaining()) return err(errc::truncated_message);
    out.unrecognized_options.clear();
    try {
        out.unrecognized_options.reserve(static_cast<std::size_t>(count));
    } catch (...) {
        return err(errc::message_too_large);
    }
    for (std::int32_t i = 0; i < count; ++i) {
        std::string_view name;
        if (!c.cstring(name)) return err(errc::truncated_message);
        out.unrecognized_options.push_back(name);
    }
    return expect_end(c);
}

error_code parse_error_fields(std::string_view body, server_error_fields& out) noexcept
{
    cursor c(body);
    server_error_fields f;
    try {
        for (;;) {
            std::uint8_t code = 0;
            if (!c.u8(code)) return err(errc::truncated_message); // the terminating NUL is missing
            if (code == 0) break;
            std::string_view v;
            if (!c.cstring(v)) return err(errc::truncated_message);
            std::string* dst = nullptr;
            switch (static_cast<char>(code)) {
            case 'S': dst = &f.severity; break;
            case 'V': dst = &f.severity_nonlocalized; break;
            case 'C': dst = &f.sqlstate; break;
            case 'M': dst = &f.message; break;
            case 'D': dst = &f.detail; break;
            case 'H': dst = &f.hint; break;
            case 'P': dst = &f.position; break;
            case 'p': dst = &f.internal_position; break;
            case 'q': dst = &f.internal_query; break;
            case 'W': dst = &f.where; break;
            case 's': dst = &f.schema_name; break;
            case 't': dst = &f.table_name; break;
            case 'c': dst = &f.column_name; break;
            case 'd': dst = &f.data_type_name; break;
            case 'n': dst = &f.constraint_name; break;
            case 'F': dst = &f.file; break;
            case 'L': dst = &f.line; break;
            case 'R': dst = &f.routine; break;
            default: break; // "frontends should silently ignore fields of unrecognized type"
            }
            if (dst) dst->assign(v.data(), v.size());
        }
    } catch (...) {
        // Copying the strings can only fail on allocation; the body is already in memory.
        return err(errc::message_too_large);
    }
    if (auto ec = expect_end(c)) return ec;
    out = std::move(f);
    return {};
}

error_code parse_empty(std::string_view body) noexcept { return body.empty() ? error_code{} : err(errc::protocol_error); }

} // namespace sleet::wire
