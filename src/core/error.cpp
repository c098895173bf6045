#include <sleet/error.hpp>

#include <array>

namespace sleet {
namespace {

class client_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "sleet.client"; }
    std::string message(int ev) const override
    {
        switch (static_cast<errc>(ev)) {
        case errc::ok: return "success";
        case errc::protocol_error: return "protocol error: the server sent something the v3 protocol does not allow";
        case errc::invalid_message_length: return "protocol error: a server message declared a length under 4";
        case errc::message_too_large: return "protocol error: a server message declared a length over the configured maximum";
        case errc::truncated_message: return "protocol error: a server message ended before one of its fields";
        case errc::invalid_field_length: return "protocol error: a server message holds an invalid field length";
        case errc::unexpected_message: return "protocol error: unexpected message from the server";
        case errc::outgoing_message_too_large: return "message too large: the protocol limits a message to 2^31-1 bytes; nothing was sent";
        case errc::invalid_connection_string: return "invalid connection string";
        case errc::tls_refused_by_server: return "the server does not support TLS, but sslmode requires it";
        case errc::tls_handshake_failed: return "TLS handshake failed";
        case errc::auth_method_not_allowed: return "the server asked for an authentication method the connection options do not allow";
        case errc::auth_method_unsupported: return "the server asked for an unsupported authentication method";
        case errc::channel_binding_required: return "channel binding required, but the server did not offer SCRAM-SHA-256-PLUS over TLS";
        case errc::scram_invalid_server_message: return "SCRAM: malformed message from the server";
        case errc::scram_server_signature_mismatch: return "SCRAM: the server's signature is wrong (the server does not know the password)";
        case errc::password_required: return "the server requires a password, but none was supplied";
        case errc::scram_server_error: return "SCRAM: the server ended the exchange with an error";
        case errc::connection_closed: return "the connection is closed";
        case errc::connect_timeout: return "timed out while connecting";
        case errc::server_closed_connection: return "the server closed the connection unexpectedly";
        case errc::null_value: return "NULL value read into a non-optional type";
        case errc::type_mismatch: return "the column's type cannot be read as the requested C++ type";
        case errc::value_out_of_range: return "value out of range for the requested C++ type";
        case errc::invalid_value: return "invalid value encoding";
        case errc::column_not_found: return "no such column";
        case errc::nul_in_text_parameter: return "a text parameter contains a NUL byte, which PostgreSQL text cannot hold";
        case errc::copy_failed: return "COPY failed";
        case errc::pool_acquire_timeout: return "timed out waiting for a connection from the pool";
        case errc::pool_closed: return "the pool is closed";
        case errc::transaction_finished: return "the transaction has already been committed or rolled back";
        case errc::needs_single_session: return "this work needs one session (a connection or a transaction), not a pool";
        }
        return "unknown sleet error " + std::to_string(ev);
    }
};

// SQLSTATE packing: 5 characters from [0-9A-Z], base 36, fits in 26 bits.
constexpr int digit36(char c) noexcept
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    return -1;
}

std::string unpack_sqlstate(int v)
{
    std::string s(5, '0');
    for (int i = 4; i >= 0; --i) {
        int d = v % 36;
        v /= 36;
        s[static_cast<std::size_t>(i)] = static_cast<char>(d < 10 ? '0' + d : 'A' + d - 10);
    }
    return s;
}

class sqlstate_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "sleet.sqlstate"; }
    std::string message(int ev) const override { return "server error, SQLSTATE " + unpack_sqlstate(ev); }
};

} // namespace

const boost::system::error_category& client_category() noexcept
{
    static const client_category_impl c;
    return c;
}

const boost::system::error_category& sqlstate_category() noexcept
{
    static const sqlstate_category_impl c;
    return c;
}

error_code make_sqlstate_error(std::string_view s) noexcept
{
    int v = 0;
    bool ok = s.size() == 5;
    for (char c : s) {
        int d = digit36(c);
        if (d < 0) {
            ok = false;
            break;
        }
        v = v * 36 + d;
    }
    if (!ok) return make_sqlstate_error("XX000");
    return {v, sqlstate_category()};
}

std::string sqlstate_of(const error_code& ec)
{
    if (ec.category() != sqlstate_category()) return {};
    return unpack_sqlstate(ec.value());
}

std::string server_error_fields::to_string() const
{
    std::string out = severity.empty() ? std::string("ERROR") : severity;
    if (!sqlstate.empty()) out += " " + sqlstate;
    out += ": " + message;
    auto line = [&](std::string_view label, const std::string& v) {
        if (!v.empty()) {
            out += '\n';
            out += label;
            out += ": ";
            out += v;
        }
    };
    line("DETAIL", detail);
    line("HINT", hint);
    line("WHERE", where);
    if (!constraint_name.empty()) line("CONSTRAINT", constraint_name);
    return out;
}

namespace {
std::string what_text(const error_code& ec, const diagnostics& d)
{
    if (d.server_error()) return d.server_error()->to_string();
    if (!d.client_message().empty()) return d.client_message() + " [" + ec.to_string() + "]";
    return ec.message() + " [" + ec.to_string() + "]";
}
} // namespace

error_with_diagnostics::error_with_diagnostics(const error_code& ec, diagnostics diag)
    : boost::system::system_error(ec), diag_(std::move(diag)), what_(what_text(ec, diag_))
{
}

void throw_on_error(const error_code& ec, const diagnostics& diag)
{
    if (ec) throw error_with_diagnostics(ec, diag);
}

bool is_fatal(const error_code& ec) noexcept
{
    if (!ec) return false;
    if (ec.category() == sqlstate_category()) {
        // Class 08 (connection exception), 57P01..57P03 (admin shutdown, crash shutdown, cannot connect now).
        std::string s = sqlstate_of(ec);
        return s.rfind("08", 0) == 0 || s == "57P01" || s == "57P02" || s == "57P03";
    }
    if (ec.category() == client_category()) {
        switch (static_cast<errc>(ec.value())) {
        case errc::null_value:
        case errc::type_mismatch:
        case errc::value_out_of_range:
        case errc::invalid_value:
        case errc::column_not_found:
        case errc::nul_in_text_parameter:
        case errc::outgoing_message_too_large:
        case errc::copy_failed:
        case errc::pool_acquire_timeout:
        case errc::pool_closed:
        case errc::transaction_finished:
        case errc::needs_single_session:
            return false;
        default:
            return true;
        }
    }
    // Network and system errors leave the stream in an unknown state.
    return true;
}

} // namespace sleet
