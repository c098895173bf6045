// sleet: a throwaway PostgreSQL server for tests and local development.
//
// `embedded_postgres` runs `initdb` into a fresh temporary directory, writes postgresql.conf
// and pg_hba.conf, creates the requested roles, optionally generates a TLS CA and server
// certificate, starts the server on a free loopback port and removes everything again when it
// is destroyed, when the process exits, or when the process crashes (a watchdog process).
// It uses the PostgreSQL server binaries installed on the machine; it never uses libpq or psql.
//
// Plain POSIX + OpenSSL (libcrypto); no Asio. Linux only (uses /proc and getdents64).
// See docs/embedded_postgres.md for the pg_hba.conf it writes and the cleanup guarantees.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sleet {

namespace detail {
class embedded_postgres_impl;
} // namespace detail

/// A login role created before the server starts.
struct embedded_user {
    std::string name{};
    /// Empty: the role has no password (only useful with auth_method "trust").
    std::string password{};
    /// pg_hba.conf method for this role's lines: "trust", "password", "md5", "scram-sha-256",
    /// "reject", "cert" (needs tls) ... written verbatim. Empty means "scram-sha-256".
    /// The password is stored MD5-hashed when the method is "md5", SCRAM-hashed otherwise.
    std::string auth_method{};
    bool superuser = false;
};

/// How the server is stopped: the modes of `pg_ctl stop -m`.
enum class embedded_stop_mode { smart, fast, immediate };

/// Configuration of an embedded_postgres. Every field has a usable default.
struct embedded_postgres_params {
    /// Directory holding initdb, pg_ctl and postgres. Empty: `pg_config --bindir` (if it holds
    /// initdb), then the highest /usr/lib/postgresql/<N>/bin, then the directory of initdb on PATH.
    std::string bin_dir{};
    /// TCP port; 0 picks a free port on 127.0.0.1 (retried up to 3 times if another process
    /// grabs it before the server binds).
    std::uint16_t port = 0;
    /// listen_addresses. The generated pg_hba.conf only admits 127.0.0.1/32 and ::1/128.
    std::string listen_address = "127.0.0.1";
    /// Generate a CA and a server certificate (EC P-256) and start with ssl=on.
    bool tls = false;
    /// With tls: write `hostssl` instead of `host` lines, so the server refuses non-TLS TCP.
    bool hostssl_only = false;
    /// With tls: the server certificate's subjectAltName entries (IP addresses become iPAddress
    /// entries, anything else a dNSName). The subject CN is the first entry.
    std::vector<std::string> tls_server_names{"localhost", "127.0.0.1", "::1"};
    /// With tls: make the server certificate already expired (notAfter yesterday).
    bool tls_expired_cert = false;
    /// Roles created before start-up, in order.
    std::vector<embedded_user> users{};
    /// Databases created before start-up (owner: the bootstrap superuser).
    std::vector<std::string> databases{};
    /// pg_hba.conf lines written before the generated ones (the first matching line wins).
    std::vector<std::string> extra_hba_lines{};
    /// The bootstrap superuser (`initdb -U`), trusted on the unix socket and on loopback TCP.
    std::string superuser = "postgres";
    /// Extra postgresql.conf settings, written after (so overriding) the built-in ones.
    /// Values are quoted for you: {"shared_buffers", "16MB"}.
    std::vector<std::pair<std::string, std::string>> settings{};
    /// Time allowed to `pg_ctl start -w` (and to each stop).
    std::chrono::seconds start_timeout{30};
    /// When the process runs as root: the system user that owns the files and runs the server
    /// (initdb and postgres refuse root). Empty means "postgres". Ignored when not root.
    std::string system_user{};
};

/// Thrown when the binaries cannot be found or initdb, role creation or start-up fails.
/// what() names the step, the command line, the data directory and ends with the last lines
/// of the relevant log (initdb output, single-user output or the server log).
class embedded_postgres_error : public std::runtime_error {
public:
    embedded_postgres_error(const std::string& what, std::string log_tail)
        : std::runtime_error(what), log_tail_(std::move(log_tail)) {}
    /// The last lines of the log quoted in what() (empty if there was no log).
    const std::string& log_tail() const noexcept { return log_tail_; }

private:
    std::string log_tail_{};
};

/// A PostgreSQL server in a temporary directory, running for the lifetime of this object.
///
/// \par Example
/// \code
/// sleet::embedded_postgres pg({.users = {{.name = "app", .password = "secret"}}});
/// auto url = pg.url("app", "secret");  // postgresql://app:secret@127.0.0.1:41234/postgres
/// \endcode
///
/// \par Cleanup
/// The server is stopped and the directory removed by stop() or the destructor; at normal
/// process exit (std::exit, return from main) for objects never destroyed; and, if the process
/// dies (SIGKILL, abort, crash), by a watchdog child process forked by the constructor, which
/// shuts the server down immediately and removes the directory once the owner is gone.
///
/// \par Root
/// When geteuid() == 0, initdb, pg_ctl and postgres run as `params.system_user` ("postgres"),
/// and the temporary directory is owned by that user.
///
/// \par Thread safety
/// Distinct objects: safe. Shared object: const accessors are safe; stop(), stop_server()
/// and start_server() must not run concurrently with anything else on the same object.
///
/// \par Object lifetimes
/// Movable; a moved-from object may only be destroyed or assigned to.
class embedded_postgres {
public:
    /// Creates the cluster and starts the server (blocks until it accepts connections).
    /// \throws embedded_postgres_error when a step fails; nothing is left behind then.
    explicit embedded_postgres(embedded_postgres_params params = {});
    /// Same as stop().
    ~embedded_postgres();
    embedded_postgres(embedded_postgres&&) noexcept;
    embedded_postgres& operator=(embedded_postgres&&) noexcept;
    embedded_postgres(const embedded_postgres&) = delete;
    embedded_postgres& operator=(const embedded_postgres&) = delete;

    std::uint16_t port() const noexcept;
    /// The TCP host for clients: "127.0.0.1" (or listen_address when it is a single address).
    const std::string& host() const noexcept;
    /// The private unix-socket directory; the socket is socket_dir() + "/.s.PGSQL." + port.
    const std::string& socket_dir() const noexcept;
    const std::string& data_dir() const noexcept;
    /// The temporary directory holding everything (data/, socket/, ca.crt ...).
    const std::string& base_dir() const noexcept;
    const std::string& bin_dir() const noexcept;
    const std::string& superuser() const noexcept;
    /// Path of the CA certificate (PEM) that signed the server certificate; empty without tls.
    std::string ca_file() const;
    /// PID of the running postmaster, or -1 when it is not running.
    int postmaster_pid() const noexcept;
    bool running() const noexcept;

    /// "postgresql://user:password@127.0.0.1:port/dbname", percent-encoded. An empty user means
    /// the superuser; an empty password is left out. With tls, the query
    /// "?sslmode=verify-full&sslrootcert=<ca_file()>" is appended.
    std::string url(std::string_view user = {}, std::string_view password = {},
                    std::string_view dbname = "postgres") const;
    /// The unix-socket form: "postgresql://user:password@%2Ftmp%2Fsleet-pg-XXXXXX%2Fsocket:port/dbname".
    std::string socket_url(std::string_view user = {}, std::string_view password = {},
                           std::string_view dbname = "postgres") const;

    /// Signs a client certificate (CN = common_name) with the CA and writes
    /// <base_dir>/client-<n>.crt and .key (0600, owned by the calling user); returns their paths
    /// {cert, key}. Requires tls. For `cert` authentication and sslcert/sslkey tests.
    std::pair<std::string, std::string> make_client_certificate(std::string_view common_name);

    /// Stops the server (keeping its data and port) — for tests of a server going away.
    /// No-op when not running.
    void stop_server(embedded_stop_mode mode = embedded_stop_mode::fast);
    /// Starts the server again after stop_server(), on the same port and data.
    /// \throws embedded_postgres_error with the server log's tail on failure.
    void start_server();

    /// Stops the server (fast, then SIGKILL after start_timeout) and removes the temporary
    /// directory. Idempotent; never throws. Accessors keep returning the old values.
    void stop() noexcept;

    /// The server log so far (empty after stop()).
    std::string log() const;

private:
    std::unique_ptr<detail::embedded_postgres_impl> impl_;
};

} // namespace sleet
