// sleet: error codes, server error fields and the exception type.
//
// `error_code` says *what* went wrong; `diagnostics` says *why*, in words, keeping the text the
// client wrote apart from the fields the server sent. Three categories:
//   - client_category(): sleet::errc (protocol violations, auth refusals, type mismatches, ...)
//   - sqlstate_category(): a server ErrorResponse; the value packs the 5-character SQLSTATE
//   - Asio/system categories pass through (connection refused, operation_aborted, eof, ...)
//
// This header is Asio-free (only Boost.System), so every layer may include it.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sleet {

using error_code = boost::system::error_code;

/// Errors detected by the client (never sent by the server).
enum class errc : int {
    ok = 0,
    // --- wire protocol (the server is untrusted input) ---
    protocol_error = 1,         ///< generic violation of the v3 protocol
    invalid_message_length,     ///< a backend message declared a length under 4
    message_too_large,          ///< a backend message declared a length over the configured cap
    truncated_message,          ///< a message body ended before one of its fields
    invalid_field_length,       ///< a field length that is negative (other than -1) or past the body
    unexpected_message,         ///< a message that is not valid in the current protocol state
    outgoing_message_too_large, ///< a frontend message would exceed 2^31-1 bytes; nothing was sent
    // --- connection options ---
    invalid_connection_string = 20,
    // --- TLS and authentication ---
    tls_refused_by_server = 40,  ///< sslmode demands TLS but the server answered 'N'
    tls_handshake_failed,        ///< certificate or hostname verification, or handshake error
    auth_method_not_allowed,     ///< server asked for a method weaker than the options allow
    auth_method_unsupported,     ///< server asked for a method sleet does not implement
    channel_binding_required,    ///< channel_binding=require but the exchange cannot bind
    scram_invalid_server_message,///< malformed SCRAM server-first or server-final
    scram_server_signature_mismatch, ///< server could not prove it knows the password
    password_required,           ///< server asked for a password and none was given
    scram_server_error,          ///< SCRAM server-final carried "e=<reason>" (the diagnostics hold the reason)
    // --- connection state ---
    connection_closed = 60,      ///< the connection is closed (or was closed by an earlier failure)
    connect_timeout,             ///< connect_timeout elapsed before the session was ready
    server_closed_connection,    ///< the server closed the socket (EOF) unexpectedly
    // --- values ---
    null_value = 80,             ///< NULL read into a non-optional C++ type
    type_mismatch,               ///< the column's server type cannot be read as the C++ type
    value_out_of_range,          ///< the value does not fit the C++ type
    invalid_value,               ///< the bytes are not a valid encoding of the server type
    column_not_found,            ///< no column with that name or index
    nul_in_text_parameter,       ///< a text parameter contains a NUL byte
    copy_failed,                 ///< COPY was ended by the client
    // --- pool and transactions ---
    pool_acquire_timeout = 100,  ///< no pooled connection became available within the acquire timeout
    pool_closed,                 ///< the pool is closed (or closing) and hands out no more connections
    transaction_finished,        ///< the transaction was already committed or rolled back
    needs_single_session,        ///< work that needs one session was given a pool (e.g. a split insert)
};

const boost::system::error_category& client_category() noexcept;
const boost::system::error_category& sqlstate_category() noexcept;

inline error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), client_category()}; }

/// Packs a 5-character SQLSTATE into an error_code of sqlstate_category(). Invalid text yields
/// the generic "XX000" (internal_error) code.
error_code make_sqlstate_error(std::string_view sqlstate) noexcept;
/// The 5-character SQLSTATE of a server error code, empty if `ec` is not of sqlstate_category().
std::string sqlstate_of(const error_code& ec);

/// Every field of an ErrorResponse/NoticeResponse (protocol §55.8). Absent fields are empty.
struct server_error_fields {
    std::string severity;              // S (localized)
    std::string severity_nonlocalized; // V
    std::string sqlstate;              // C
    std::string message;               // M
    std::string detail;                // D
    std::string hint;                  // H
    std::string position;              // P
    std::string internal_position;     // p
    std::string internal_query;        // q
    std::string where;                 // W
    std::string schema_name;           // s
    std::string table_name;            // t
    std::string column_name;           // c
    std::string data_type_name;        // d
    std::string constraint_name;       // n
    std::string file;                  // F
    std::string line;                  // L
    std::string routine;               // R

    /// "ERROR 23505: message\nDETAIL: ...\nHINT: ..." (one line per present field).
    std::string to_string() const;
};

/// Why an operation failed, in words. Server text and client text are kept apart.
class diagnostics {
public:
    diagnostics() = default;
    const std::string& client_message() const noexcept { return client_message_; }
    const std::optional<server_error_fields>& server_error() const noexcept { return server_; }
    void assign_client(std::string msg) { client_message_ = std::move(msg); server_.reset(); }
    void assign_server(server_error_fields f) { server_ = std::move(f); client_message_.clear(); }
    void clear() noexcept { client_message_.clear(); server_.reset(); }
    bool empty() const noexcept { return client_message_.empty() && !server_; }

private:
    std::string client_message_;
    std::optional<server_error_fields> server_;
};

/// The exception thrown on the `co_await` path. what() reads like a libpq error message: the
/// client text or the server's "SEVERITY SQLSTATE: message" with detail and hint.
class error_with_diagnostics : public boost::system::system_error {
public:
    error_with_diagnostics(const error_code& ec, diagnostics diag);
    const diagnostics& get_diagnostics() const noexcept { return diag_; }
    /// The server's "SEVERITY SQLSTATE: message" (with DETAIL/HINT lines) or the client message
    /// followed by the error code, e.g. "the connection is closed [sleet.client:60]".
    const char* what() const noexcept override { return what_.c_str(); }
    /// The SQLSTATE for server errors, empty otherwise.
    std::string sqlstate() const { return sqlstate_of(code()); }

private:
    diagnostics diag_;
    std::string what_;
};

/// Throws error_with_diagnostics if `ec` is set.
void throw_on_error(const error_code& ec, const diagnostics& diag = {});

/// True when the connection cannot be used after this error (must reconnect).
bool is_fatal(const error_code& ec) noexcept;

} // namespace sleet

namespace boost::system {
template <> struct is_error_code_enum<sleet::errc> : std::true_type {};
} // namespace boost::system
