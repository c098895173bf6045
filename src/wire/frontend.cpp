// sleet::wire — frontend message encoders (protocol 3.0, §55.7 "Message Formats").
//
// Every encoder appends exactly one framed message. On any exception (NUL in a text field,
// message over 2^31-1 bytes, too many parameters) the bytes appended so far are erased, so the
// caller's buffer never holds a partial message.
#include <sleet/wire/frontend.hpp>

#include <sleet/error.hpp>

#include <stdexcept>
#include <string>

namespace sleet::wire {
namespace {

// Erases everything appended after construction unless commit() was called. Used by the
// fixed-layout encoders so that a throwing put_cstring leaves `out` as it was.
class rollback {
public:
    explicit rollback(std::string& out) noexcept : out_(out), mark_(out.size()) {}
    rollback(const rollback&) = delete;
    rollback& operator=(const rollback&) = delete;
    ~rollback()
    {
        if (!committed_) out_.resize(mark_);
    }
    void commit() noexcept { committed_ = true; }

private:
    std::string& out_;
    std::size_t mark_;
    bool committed_ = false;
};

[[noreturn]] void throw_too_large(char type, std::size_t length, std::size_t limit)
{
    std::string what = "message too large: the ";
    if (type != 0) {
        what += "'";
        what += type;
        what += "' ";
    } else {
        what += "startup ";
    }
    what += "message would be " + std::to_string(length) + " bytes long, but the PostgreSQL protocol limits a message to " +
            std::to_string(limit) + " bytes; nothing was sent";
    diagnostics d;
    d.assign_client(std::move(what));
    throw error_with_diagnostics(errc::outgoing_message_too_large, std::move(d));
}

void patch_int32(std::string& out, std::size_t pos, std::uint32_t v) noexcept
{
    out[pos] = static_cast<char>((v >> 24) & 0xff);
    out[pos + 1] = static_cast<char>((v >> 16) & 0xff);
    out[pos + 2] = static_cast<char>((v >> 8) & 0xff);
    out[pos + 3] = static_cast<char>(v & 0xff);
}

// A message with no body but its type byte and length 4.
void put_empty(std::string& out, char type)
{
    const char bytes[5] = {type, 0, 0, 0, 4};
    out.append(bytes, sizeof bytes);
}

} // namespace

// --- primitives --------------------------------------------------------------------------------

void put_int8(std::string& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }

void put_int16(std::string& out, std::int16_t v)
{
    const auto u = static_cast<std::uint16_t>(v);
    const char b[2] = {static_cast<char>(u >> 8), static_cast<char>(u & 0xff)};
    out.append(b, 2);
}

void put_int32(std::string& out, std::int32_t v)
{
    const auto u = static_cast<std::uint32_t>(v);
    const char b[4] = {static_cast<char>(u >> 24), static_cast<char>((u >> 16) & 0xff), static_cast<char>((u >> 8) & 0xff),
                       static_cast<char>(u & 0xff)};
    out.append(b, 4);
}

void put_int64(std::string& out, std::int64_t v)
{
    const auto u = static_cast<std::uint64_t>(v);
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((u >> (56 - 8 * i)) & 0xff);
    out.append(b, 8);
}

void put_bytes(std::string& out, std::string_view bytes) { out.append(bytes.data(), bytes.size()); }

void put_cstring(std::string& out, std::string_view s)
{
    if (s.find('\0') != std::string_view::npos) {
        diagnostics d;
        d.assign_client("a text value sent to the server contains a NUL byte at offset " + std::to_string(s.find('\0')) +
                        "; PostgreSQL text cannot hold NUL (send it as bytea instead)");
        throw error_with_diagnostics(errc::nul_in_text_parameter, std::move(d));
    }
    out.append(s.data(), s.size());
    out.push_back('\0');
}

// --- message_frame -----------------------------------------------------------------------------

message_frame::message_frame(std::string& out, char type, std::size_t max_length)
    : out_(out), start_(out.size()), len_pos_(out.size() + (type != 0 ? 1 : 0)), max_length_(max_length), type_(type)
{
    if (type != 0) out_.push_back(type);
    out_.append(4, '\0');
}

void message_frame::finish()
{
    const std::size_t length = out_.size() - len_pos_;
    if (length > max_length_ || length > max_frame_length) {
        abandon();
        throw_too_large(type_, length, max_length_ < max_frame_length ? max_length_ : max_frame_length);
    }
    patch_int32(out_, len_pos_, static_cast<std::uint32_t>(length));
}

void message_frame::abandon() noexcept
{
    if (out_.size() > start_) out_.resize(start_);
}

// --- startup phase -----------------------------------------------------------------------------

void encode_startup(std::string& out, std::span<const std::pair<std::string_view, std::string_view>> params)
{
    rollback guard(out);
    message_frame f(out, 0);
    put_int32(out, protocol_version_3_0);
    for (const auto& [name, value] : params) {
        put_cstring(out, name);
        put_cstring(out, value);
    }
    out.push_back('\0');
    f.finish();
    guard.commit();
}

void encode_ssl_request(std::string& out)
{
    put_int32(out, 8);
    put_int32(out, ssl_request_code);
}

void encode_cancel_request(std::string& out, std::int32_t process_id, std::int32_t secret_key)
{
    put_int32(out, 16);
    put_int32(out, cancel_request_code);
    put_int32(out, process_id);
    put_int32(out, secret_key);
}

void encode_password(std::string& out, std::string_view password)
{
    rollback guard(out);
    message_frame f(out, 'p');
    put_cstring(out, password);
    f.finish();
    guard.commit();
}

void encode_sasl_initial_response(std::string& out, std::string_view mechanism, std::string_view data)
{
    rollback guard(out);
    message_frame f(out, 'p');
    put_cstring(out, mechanism);
    // The data length is an int32; anything longer also overflows the frame, which finish reports.
    put_int32(out, static_cast<std::int32_t>(data.size() > max_frame_length ? max_frame_length : data.size()));
    put_bytes(out, data);
    f.finish();
    guard.commit();
}

void encode_sasl_response(std::string& out, std::string_view data)
{
    rollback guard(out); // put_bytes may throw std::bad_alloc
    message_frame f(out, 'p');
    put_bytes(out, data);
    f.finish();
    guard.commit();
}

// --- simple and extended query -----------------------------------------------------------------

void encode_query(std::string& out, std::string_view sql)
{
    rollback guard(out);
    message_frame f(out, 'Q');
    put_cstring(out, sql);
    f.finish();
    guard.commit();
}

void encode_parse(std::string& out, std::string_view statement, std::string_view sql, std::span<const oid_t> param_types)
{
    if (param_types.size() > 0xffff) {
        diagnostics d;
        d.assign_client("Parse: " + std::to_string(param_types.size()) +
                        " parameter types, but the PostgreSQL protocol allows at most 65535 parameters; nothing was sent");
        throw error_with_diagnostics(errc::outgoing_message_too_large, std::move(d));
    }
    rollback guard(out);
    message_frame f(out, 'P');
    put_cstring(out, statement);
    put_cstring(out, sql);
    put_int16(out, static_cast<std::int16_t>(static_cast<std::uint16_t>(param_types.size())));
    for (oid_t t : param_types) put_int32(out, static_cast<std::int32_t>(t));
    f.finish();
    guard.commit();
}

bind_writer::bind_writer(std::string& out, std::string_view portal, std::string_view statement,
                         std::span<const format> param_formats, std::int16_t param_count)
    : out_(out), frame_(out, 'B'), declared_(static_cast<std::uint16_t>(param_count))
{
    // The destructor does not run if the constructor throws: erase here.
    try {
        if (param_formats.size() > 0xffff) {
            diagnostics d;
            d.assign_client("Bind: " + std::to_string(param_formats.size()) +
                            " parameter format codes, but the PostgreSQL protocol allows at most 65535; nothing was sent");
            throw error_with_diagnostics(errc::outgoing_message_too_large, std::move(d));
        }
        put_cstring(out_, portal);
        put_cstring(out_, statement);
        put_int16(out_, static_cast<std::int16_t>(static_cast<std::uint16_t>(param_formats.size())));
        for (format fmt : param_formats) put_int16(out_, static_cast<std::int16_t>(fmt));
        put_int16(out_, param_count);
    } catch (...) {
        frame_.abandon();
        throw;
    }
}

bind_writer::~bind_writer()
{
    if (!finished_) frame_.abandon();
}

void bind_writer::null()
{
    put_int32(out_, -1);
    ++written_;
}

void bind_writer::value(std::string_view bytes)
{
    if (bytes.size() > max_frame_length) {
        // Cannot even be described by the int32 length; the frame would overflow anyway.
        frame_.abandon();
        finished_ = true;
        throw_too_large('B', bytes.size(), max_frame_length);
    }
    put_int32(out_, static_cast<std::int32_t>(bytes.size()));
    put_bytes(out_, bytes);
    ++written_;
}

std::size_t bind_writer::begin_value()
{
    const std::size_t pos = out_.size();
    out_.append(4, '\0');
    return pos;
}

void bind_writer::end_value(std::size_t length_offset)
{
    const std::size_t length = out_.size() - length_offset - 4;
    if (length > max_frame_length) {
        frame_.abandon();
        finished_ = true;
        throw_too_large('B', length, max_frame_length);
    }
    patch_int32(out_, length_offset, static_cast<std::uint32_t>(length));
    ++written_;
}

void bind_writer::finish(std::span<const format> result_formats)
{
    if (written_ != declared_) {
        frame_.abandon();
        finished_ = true;
        throw std::logic_error("sleet::wire::bind_writer: " + std::to_string(written_) + " parameter values written, but " +
                               std::to_string(declared_) + " declared");
    }
    if (result_formats.size() > 0xffff) {
        frame_.abandon();
        finished_ = true;
        diagnostics d;
        d.assign_client("Bind: " + std::to_string(result_formats.size()) +
                        " result format codes, but the PostgreSQL protocol allows at most 65535; nothing was sent");
        throw error_with_diagnostics(errc::outgoing_message_too_large, std::move(d));
    }
    put_int16(out_, static_cast<std::int16_t>(static_cast<std::uint16_t>(result_formats.size())));
    for (format fmt : result_formats) put_int16(out_, static_cast<std::int16_t>(fmt));
    finished_ = true; // finish() erases the message itself if it throws
    frame_.finish();
}

void encode_describe(std::string& out, describe_target target, std::string_view name)
{
    rollback guard(out);
    message_frame f(out, 'D');
    out.push_back(static_cast<char>(target));
    put_cstring(out, name);
    f.finish();
    guard.commit();
}

void encode_execute(std::string& out, std::string_view portal, std::int32_t max_rows)
{
    rollback guard(out);
    message_frame f(out, 'E');
    put_cstring(out, portal);
    put_int32(out, max_rows);
    f.finish();
    guard.commit();
}

void encode_close(std::string& out, describe_target target, std::string_view name)
{
    rollback guard(out);
    message_frame f(out, 'C');
    out.push_back(static_cast<char>(target));
    put_cstring(out, name);
    f.finish();
    guard.commit();
}

void encode_sync(std::string& out) { put_empty(out, 'S'); }
void encode_flush(std::string& out) { put_empty(out, 'H'); }
void encode_terminate(std::string& out) { put_empty(out, 'X'); }

// --- COPY --------------------------------------------------------------------------------------

void encode_copy_data(std::string& out, std::string_view data)
{
    rollback guard(out); // put_bytes may throw std::bad_alloc
    message_frame f(out, 'd');
    put_bytes(out, data);
    f.finish();
    guard.commit();
}

void encode_copy_done(std::string& out) { put_empty(out, 'c'); }

void encode_copy_fail(std::string& out, std::string_view reason)
{
    rollback guard(out);
    message_frame f(out, 'f');
    put_cstring(out, reason);
    f.finish();
    guard.commit();
}

} // namespace sleet::wire
