// sleet: connection options — libpq connection strings (URI and keyword/value), PG* environment
// variables and libpq's defaults, resolved into one plain struct.
//
// This header is Asio-free. Parsing follows libpq (PostgreSQL 15/16 "Connection Strings",
// "Parameter Key Words" and "Environment Variables"); the differences are listed in
// docs/connect_options.md. The password is a `secret`: it never appears in to_string(), in
// error messages or in diagnostics, even when parsing fails halfway through it.
#pragma once

#include <sleet/error.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sleet {

/// A password. It cannot be printed: there is no operator<<, no conversion to a string type, and
/// every to_string-like function of sleet shows "********" instead. reveal() is the one explicit
/// accessor (used by the authentication code). The destructor, move operations and assignment
/// overwrite the bytes they give up (best effort: copies made by the caller are the caller's).
class secret {
public:
    secret() = default;
    explicit secret(std::string v) : value_(std::move(v)) {}
    secret(const secret& other) : value_(other.value_) {}
    secret(secret&& other) noexcept;
    secret& operator=(const secret& other);
    secret& operator=(secret&& other) noexcept;
    ~secret();

    /// The password itself. Do not log it.
    const std::string& reveal() const noexcept { return value_; }
    bool empty() const noexcept { return value_.empty(); }
    /// Overwrites and empties the value.
    void clear() noexcept;

    /// Constant-time comparison of the bytes (the lengths may leak).
    friend bool operator==(const secret& a, const secret& b) noexcept;

private:
    std::string value_;
};

/// libpq's sslmode. Note: verify_ca/verify_full with an empty sslrootcert use the system's default
/// trust store (libpq would read ~/.postgresql/root.crt).
enum class ssl_mode { disable, allow, prefer, require, verify_ca, verify_full };
/// libpq's channel_binding (SCRAM-SHA-256-PLUS over TLS).
enum class channel_binding { disable, prefer, require };

/// The libpq spelling of a mode ("verify-full", "prefer", ...).
std::string_view to_string(ssl_mode m) noexcept;
std::string_view to_string(channel_binding c) noexcept;

/// One entry of a multi-host list.
struct host_address {
    /// A DNS name, an IPv4/IPv6 literal (without brackets), or an absolute unix-socket directory
    /// ("/var/run/postgresql"; "@name" is Linux's abstract namespace).
    std::string host;
    std::uint16_t port = 5432;

    /// True when `host` starts with '/' or '@'.
    bool is_unix_socket() const noexcept;
    /// "<dir>/.s.PGSQL.<port>". For an abstract socket ("@dir") the result also starts with '@';
    /// the caller replaces it with a NUL byte when filling sockaddr_un.
    std::string unix_socket_path() const;

    friend bool operator==(const host_address&, const host_address&) = default;
};

/// Resolved connection options: every field holds its final value (string, then environment,
/// then libpq's default), so the connection code needs no further defaulting.
struct connect_options {
    /// libpq's host=a,b port=1,2: tried in order. Never empty after parsing.
    std::vector<host_address> hosts;
    std::string user;
    secret password;
    std::string database;
    ssl_mode sslmode = ssl_mode::prefer;
    /// CA file for verify-ca/verify-full; empty = the system's default trust store.
    std::string sslrootcert;
    /// Client certificate and its private key (PEM files); empty = none.
    std::string sslcert, sslkey;
    /// Send the host name as TLS SNI (libpq sslsni=1, the default). Never sent for IP literals.
    bool sslsni = true;
    channel_binding channel_binding_mode = channel_binding::prefer;
    /// application_name, or fallback_application_name when application_name is not set.
    std::string application_name;
    /// libpq "options": command-line options sent at startup, e.g. "-c search_path=x".
    std::string options;
    /// 0 = no timeout. Per host attempt, like libpq; libpq's rules apply: 1 becomes 2, negative
    /// values mean no timeout.
    std::chrono::seconds connect_timeout{0};
    /// libpq 16 require_auth, validated: a comma-separated list of password, md5, gss, sspi,
    /// scram-sha-256, none, all negated ("!password") or none negated. Empty = anything goes.
    std::string require_auth;
    /// libpq target_session_attrs, validated: any, read-write, read-only, primary, standby,
    /// prefer-standby.
    std::string target_session_attrs = "any";
    /// Extra StartupMessage parameters (e.g. {"search_path", "x"}). Connection strings cannot set
    /// these (libpq rejects unknown keywords, and so do we); set them in code.
    std::vector<std::pair<std::string, std::string>> extra_startup_params;

    /// Whether require_auth lets the server use `method` (one of libpq's names: "password",
    /// "md5", "gss", "sspi", "scram-sha-256", or "none" for a server that asks for nothing).
    bool auth_method_allowed(std::string_view method) const;

    /// Redacted libpq keyword/value form that parses back to the same options (password aside):
    /// "host=h1,h2 port=5432,5433 user=u password=******** dbname=d sslmode=prefer ...".
    /// The password, when set, is shown as "password=********", never its value. Options at
    /// their default are left out, except host, port, user, dbname and sslmode.
    std::string to_string() const;
};

/// Environment lookup, injectable for tests. std::nullopt = the variable is not set.
using env_lookup = std::function<std::optional<std::string>(std::string_view name)>;
/// Reads the process environment with ::getenv (not thread-safe against concurrent setenv).
env_lookup process_environment();
/// An environment with no variables at all (handy in tests and for "ignore PG*" callers).
env_lookup empty_environment();

/// The OS user name of the effective user id (getpwuid_r), libpq's default user.
/// Errors: errc::invalid_connection_string with "could not look up local user ID ...".
error_code default_user_name(std::string& out, diagnostics& diag);

/// Parses a postgres:// or postgresql:// URI or a libpq keyword/value string (an empty string
/// means all defaults), fills unset values from the PG* environment variables, then from
/// libpq's defaults, and validates the result.
///
/// Errors: errc::invalid_connection_string with a client message in diag naming the problem and
/// the offending keyword or position (libpq's wording where libpq has one). No message ever
/// contains the password. On error `out` is left unchanged.
error_code parse_connect_options(std::string_view conninfo, connect_options& out, diagnostics& diag,
                                 const env_lookup& env = process_environment());

/// Throwing convenience: throws error_with_diagnostics on error.
connect_options parse_connect_options(std::string_view conninfo, const env_lookup& env = process_environment());

} // namespace sleet
