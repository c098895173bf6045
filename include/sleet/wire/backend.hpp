// sleet::wire — backend (server → client) message framing and decoding. Sans-I/O.
//
// The server is untrusted input. The framer rejects a length under 4 or over the cap
// (default 1 GiB) before allocating anything; parsers check every field against the body and
// report errc::truncated_message / errc::invalid_field_length / errc::protocol_error, never
// reading out of bounds and never throwing. Decoded messages are *views* into the buffer the
// message came from: they are valid until the caller consumes or overwrites those bytes.
#pragma once

#include <sleet/error.hpp>
#include <sleet/wire/oid.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace sleet::wire {

/// Backend message type bytes.
namespace msg {
inline constexpr char authentication = 'R';
inline constexpr char backend_key_data = 'K';
inline constexpr char bind_complete = '2';
inline constexpr char close_complete = '3';
inline constexpr char command_complete = 'C';
inline constexpr char copy_data = 'd';
inline constexpr char copy_done = 'c';
inline constexpr char copy_in_response = 'G';
inline constexpr char copy_out_response = 'H';
inline constexpr char copy_both_response = 'W';
inline constexpr char data_row = 'D';
inline constexpr char empty_query_response = 'I';
inline constexpr char error_response = 'E';
inline constexpr char negotiate_protocol_version = 'v';
inline constexpr char no_data = 'n';
inline constexpr char notice_response = 'N';
inline constexpr char notification_response = 'A';
inline constexpr char parameter_description = 't';
inline constexpr char parameter_status = 'S';
inline constexpr char parse_complete = '1';
inline constexpr char portal_suspended = 's';
inline constexpr char ready_for_query = 'Z';
inline constexpr char row_description = 'T';
} // namespace msg

inline constexpr std::size_t default_max_message_size = std::size_t{1} << 30; // 1 GiB

/// One framed backend message: type byte and body (without the 4-byte length).
struct raw_message {
    char type = 0;
    std::string_view body;
};

/// Splits a byte stream into messages. Feed it the bytes read so far; it never copies.
///   auto r = split_message(buffered, cap);
///   r.status == need_more: read at least r.needed more bytes (a hint; 0 if unknown)
///   r.status == message:   r.msg is valid, r.consumed bytes belong to it
///   r.status == error:     r.ec says why (the connection must be closed)
struct split_result {
    enum class status_t { need_more, message, error } status = status_t::need_more;
    raw_message msg{};
    std::size_t consumed = 0;
    std::size_t needed = 0;
    error_code ec{};
};
/// `max_message_size` is compared with the declared length field (which counts its own 4 bytes
/// but not the type byte); the check needs only the 5-byte header, so an oversized message is
/// refused before any of its body is waited for.
split_result split_message(std::string_view buffered, std::size_t max_message_size = default_max_message_size) noexcept;

// --- decoded messages (views) ---------------------------------------------------------------

enum class auth_kind : std::int32_t {
    ok = 0,
    kerberos_v5 = 2,
    cleartext_password = 3,
    md5_password = 5,
    scm_credential = 6,
    gss = 7,
    gss_continue = 8,
    sspi = 9,
    sasl = 10,
    sasl_continue = 11,
    sasl_final = 12,
};

struct authentication {
    auth_kind kind = auth_kind::ok;
    std::string_view md5_salt;                 ///< 4 bytes, for md5_password
    std::vector<std::string_view> mechanisms;  ///< for sasl
    std::string_view data;                     ///< for sasl_continue / sasl_final / gss_continue
};

struct parameter_status { std::string_view name, value; };
struct backend_key_data { std::int32_t process_id = 0, secret_key = 0; };

enum class transaction_status : char { idle = 'I', in_transaction = 'T', failed = 'E' };
struct ready_for_query { transaction_status status = transaction_status::idle; };

struct command_complete {
    std::string_view tag;
    /// Rows affected/returned for INSERT/UPDATE/DELETE/SELECT/MOVE/FETCH/COPY/MERGE, if present.
    std::optional<std::uint64_t> rows() const noexcept;
};

struct field_description {
    std::string_view name;
    oid_t table_oid = 0;
    std::int16_t column_attribute = 0;
    oid_t type_oid = 0;
    std::int16_t type_size = 0;
    std::int32_t type_modifier = 0;
    std::int16_t format = 0;
};
struct row_description { std::vector<field_description> fields; };

/// DataRow as a view. parse_data_row validates every value length once (no allocation), so a
/// view that parsed successfully always splits; values() still checks each length.
/// A NULL value is std::nullopt.
class data_row_view {
public:
    data_row_view() = default;
    std::int16_t size() const noexcept { return count_; }
    /// Splits all values into `out` (resized to size()). Validates every length.
    error_code values(std::vector<std::optional<std::string_view>>& out) const noexcept;
    std::string_view body() const noexcept { return body_; }

private:
    friend error_code parse_data_row(std::string_view body, data_row_view& out) noexcept;
    std::string_view body_;   // after the column count
    std::int16_t count_ = 0;
};

struct parameter_description { std::vector<oid_t> types; };

struct notification { std::int32_t process_id = 0; std::string_view channel, payload; };

struct copy_response {
    std::int8_t overall_format = 0;
    std::vector<std::int16_t> column_formats;
};

struct negotiate_protocol_version {
    std::int32_t newest_minor = 0;
    std::vector<std::string_view> unrecognized_options;
};

// Each parser takes the body of a message of the named type. All return an error_code of
// sleet::errc (truncated_message, invalid_field_length, protocol_error) on malformed input.
/// An authentication code sleet does not know is not an error here: `kind` holds the raw code and
/// `data` the rest of the body, so the connection can report errc::auth_method_unsupported.
error_code parse_authentication(std::string_view body, authentication& out) noexcept;
error_code parse_parameter_status(std::string_view body, parameter_status& out) noexcept;
error_code parse_backend_key_data(std::string_view body, backend_key_data& out) noexcept;
error_code parse_ready_for_query(std::string_view body, ready_for_query& out) noexcept;
error_code parse_command_complete(std::string_view body, command_complete& out) noexcept;
error_code parse_row_description(std::string_view body, row_description& out) noexcept;
error_code parse_data_row(std::string_view body, data_row_view& out) noexcept;
error_code parse_parameter_description(std::string_view body, parameter_description& out) noexcept;
error_code parse_notification(std::string_view body, notification& out) noexcept;
error_code parse_copy_response(std::string_view body, copy_response& out) noexcept;
error_code parse_negotiate_protocol_version(std::string_view body, negotiate_protocol_version& out) noexcept;
/// ErrorResponse and NoticeResponse share a layout. Unknown field codes are skipped. `out` is
/// only assigned on success (the strings are copied: the fields outlive the buffer).
error_code parse_error_fields(std::string_view body, server_error_fields& out) noexcept;
/// For messages with an empty body (ParseComplete, BindComplete, CloseComplete, NoData,
/// EmptyQueryResponse, PortalSuspended, CopyDone): anything in the body is a protocol error.
error_code parse_empty(std::string_view body) noexcept;

} // namespace sleet::wire
