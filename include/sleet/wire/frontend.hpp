// sleet::wire — frontend (client → server) message encoders. Sans-I/O: no Asio here.
//
// Assumptions of the codec: protocol 3.0, client_encoding UTF8. Every encoder appends one
// complete message to a caller-owned buffer (`std::string` used as a byte buffer), so the
// messages of several pipelined queries can go out in one write.
//
// A message over 2^31-1 bytes cannot be framed: the encoder throws
// sleet::error_with_diagnostics(errc::outgoing_message_too_large) and leaves `out` exactly as it
// was before the call, so nothing partial is ever sent.
#pragma once

#include <sleet/wire/oid.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace sleet::wire {

/// Format codes of the extended protocol.
enum class format : std::int16_t { text = 0, binary = 1 };

// --- primitives (big-endian), used by the encoders and by the types layer -------------------
void put_int8(std::string& out, std::uint8_t v);
void put_int16(std::string& out, std::int16_t v);
void put_int32(std::string& out, std::int32_t v);
void put_int64(std::string& out, std::int64_t v);
void put_bytes(std::string& out, std::string_view bytes);
/// Appends `s` and a terminating NUL. Throws errc::nul_in_text_parameter if `s` contains NUL,
/// before appending anything. Every encoder below that calls it erases its partial message
/// on that exception, so `out` is exactly as before the encoder call.
void put_cstring(std::string& out, std::string_view s);

/// The largest value of a message's int32 length field (which counts itself): 2^31-1.
inline constexpr std::size_t max_frame_length = 0x7fffffff;

/// RAII-free helper for one framed message: remembers where the length goes.
/// The constructor appends the type byte (if not 0) and a length placeholder; `finish` patches
/// the length, or erases the message and throws errc::outgoing_message_too_large.
///
/// `max_length` exists for tests (to exercise the erase-and-throw path without a 2 GiB buffer);
/// encoders always use the protocol's limit.
class message_frame {
public:
    message_frame(std::string& out, char type, std::size_t max_length = max_frame_length);
    /// Patches the length. Throws errc::outgoing_message_too_large (diagnostics name the message
    /// type and its size) after erasing everything from the type byte on.
    void finish();
    /// Erases the partial message (everything appended since construction). Never throws.
    void abandon() noexcept;
    /// Offset in `out` of the first byte of this message.
    std::size_t start() const noexcept { return start_; }

private:
    std::string& out_;
    std::size_t start_;     // offset of the type byte (or of the length if untyped)
    std::size_t len_pos_;   // offset of the 4-byte length
    std::size_t max_length_;
    char type_;
};

// --- startup phase ---------------------------------------------------------------------------
/// Protocol version 3.0 as sent in the StartupMessage.
inline constexpr std::int32_t protocol_version_3_0 = 196608;
/// Request codes of the untyped startup-phase messages.
inline constexpr std::int32_t ssl_request_code = 80877103;
inline constexpr std::int32_t cancel_request_code = 80877102;

/// StartupMessage for protocol 3.0 with the given name/value parameters (user, database, ...).
void encode_startup(std::string& out, std::span<const std::pair<std::string_view, std::string_view>> params);
void encode_ssl_request(std::string& out);
void encode_cancel_request(std::string& out, std::int32_t process_id, std::int32_t secret_key);
/// PasswordMessage ('p') carrying a cleartext or MD5-hashed password.
void encode_password(std::string& out, std::string_view password);
void encode_sasl_initial_response(std::string& out, std::string_view mechanism, std::string_view data);
void encode_sasl_response(std::string& out, std::string_view data);

// --- simple and extended query --------------------------------------------------------------
void encode_query(std::string& out, std::string_view sql);
/// More than 65535 parameter types cannot be described by the protocol: throws
/// errc::outgoing_message_too_large and leaves `out` unchanged.
void encode_parse(std::string& out, std::string_view statement, std::string_view sql,
                  std::span<const oid_t> param_types);

/// Bind is built incrementally so parameter values can be encoded straight into the buffer:
///   bind_writer b(out, portal, statement, param_formats);
///   b.null(); / b.value(bytes); / { auto f = b.begin_value(); ...put_*(out,...); b.end_value(f); }
///   b.finish(result_formats);
/// `param_formats` follows the protocol: empty (all text), one (applies to all), or one per value.
///
/// The parameter count is written up front, so exactly `param_count` values must follow;
/// `finish` checks this and throws std::logic_error (after erasing the partial Bind) otherwise.
/// The wire field is an unsigned 16-bit count (PostgreSQL allows up to 65535 parameters); a
/// count above 32767 is passed as static_cast<std::int16_t>(n) and written as the same 16 bits.
///
/// \par Exception safety
/// Strong for `out`: if the constructor, a value or `finish` throws, or if the writer is
/// destroyed before `finish` (e.g. an exception while the caller encodes a value), the partial
/// Bind is erased and `out` is as it was before the constructor.
class bind_writer {
public:
    bind_writer(std::string& out, std::string_view portal, std::string_view statement,
                std::span<const format> param_formats, std::int16_t param_count);
    bind_writer(const bind_writer&) = delete;
    bind_writer& operator=(const bind_writer&) = delete;
    ~bind_writer();
    void null();
    void value(std::string_view bytes);
    /// Reserves a 4-byte length; returns its offset for end_value.
    std::size_t begin_value();
    /// Patches the length reserved by begin_value with the number of bytes appended since.
    void end_value(std::size_t length_offset);
    void finish(std::span<const format> result_formats);

private:
    std::string& out_;
    message_frame frame_;
    std::uint16_t declared_ = 0;
    std::uint32_t written_ = 0;
    bool finished_ = false;
};

enum class describe_target : char { statement = 'S', portal = 'P' };
void encode_describe(std::string& out, describe_target target, std::string_view name);
/// max_rows 0 = all rows.
void encode_execute(std::string& out, std::string_view portal, std::int32_t max_rows = 0);
void encode_close(std::string& out, describe_target target, std::string_view name);
void encode_sync(std::string& out);
/// Bytes of a Sync message ('S' and its length).
inline constexpr std::size_t sync_message_size = 5;
void encode_flush(std::string& out);
void encode_terminate(std::string& out);

// --- COPY -----------------------------------------------------------------------------------
void encode_copy_data(std::string& out, std::string_view data);
void encode_copy_done(std::string& out);
void encode_copy_fail(std::string& out, std::string_view reason);

} // namespace sleet::wire
