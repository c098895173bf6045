#include <sleet/embedded_postgres.hpp>

#include "process.hpp"
#include "tls_certs.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <system_error>

namespace sleet::detail {

namespace ep = embedded;
namespace fs = std::filesystem;

namespace {

constexpr const char* prefix = "sleet::embedded_postgres: ";
constexpr std::size_t log_tail_lines = 40;

[[noreturn]] void fail(const std::string& what, std::string log_tail = {})
{
    std::string msg = prefix + what;
    if (!log_tail.empty()) {
        if (msg.back() != '\n') msg += '\n';
        msg += log_tail;
    }
    throw embedded_postgres_error(msg, std::move(log_tail));
}

std::string errno_text(int e) { return std::error_code(e, std::generic_category()).message(); }

std::string read_file(const std::string& path, std::uintmax_t from = 0)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    in.seekg(static_cast<std::streamoff>(from));
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::uintmax_t file_size_or_zero(const std::string& path)
{
    std::error_code ec;
    auto n = fs::file_size(path, ec);
    return ec ? 0 : n;
}

std::string last_lines(const std::string& text, std::size_t n)
{
    std::size_t end = text.size();
    while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r')) --end;
    std::size_t pos = end;
    std::size_t lines = 0;
    while (pos > 0) {
        if (text[pos - 1] == '\n' && ++lines == n) break;
        --pos;
    }
    return text.substr(pos, end - pos);
}

std::string indent(const std::string& text)
{
    std::string out = "  | ";
    for (char c : text) {
        out += c;
        if (c == '\n') out += "  | ";
    }
    return out;
}

bool is_executable(const fs::path& p) { return ::access(p.c_str(), X_OK) == 0 && !fs::is_directory(p); }

bool has_server_binaries(const fs::path& dir)
{
    return is_executable(dir / "initdb") && is_executable(dir / "pg_ctl") && is_executable(dir / "postgres");
}

std::string find_in_path(const std::string& name)
{
    const char* path = std::getenv("PATH");
    std::string_view rest = path ? path : "/usr/local/bin:/usr/bin:/bin";
    while (true) {
        auto colon = rest.find(':');
        std::string_view dir = rest.substr(0, colon);
        if (!dir.empty()) {
            fs::path p = fs::path(dir) / name;
            if (is_executable(p)) return p.string();
        }
        if (colon == std::string_view::npos) break;
        rest.remove_prefix(colon + 1);
    }
    return {};
}

// Version directory names compare numerically ("15" > "9.6").
std::vector<int> version_key(const std::string& name)
{
    std::vector<int> key;
    std::size_t i = 0;
    while (i < name.size()) {
        if (!std::isdigit(static_cast<unsigned char>(name[i]))) return {};
        int v = 0;
        while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) v = v * 10 + (name[i++] - '0');
        key.push_back(v);
        if (i < name.size() && name[i++] != '.') return {};
    }
    return key;
}

std::string find_bin_dir(const std::string& configured)
{
    if (!configured.empty()) {
        if (!has_server_binaries(configured))
            fail("bin_dir \"" + configured + "\" does not contain the executables initdb, pg_ctl and postgres");
        return configured;
    }
    std::vector<std::string> tried;
    // 1. pg_config --bindir (on Debian it may name the client package's directory: check initdb).
    if (std::string pg_config = find_in_path("pg_config"); !pg_config.empty()) {
        try {
            auto [status, out] = ep::run_capture({pg_config, "--bindir"});
            while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) out.pop_back();
            if (status == 0 && !out.empty()) {
                if (has_server_binaries(out)) return out;
                tried.push_back(out + " (from pg_config --bindir)");
            }
        } catch (const std::system_error&) {
        }
    }
    // 2. The highest /usr/lib/postgresql/<version>/bin.
    std::error_code ec;
    std::vector<std::pair<std::vector<int>, fs::path>> versions;
    for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
        auto key = version_key(e.path().filename().string());
        if (!key.empty() && has_server_binaries(e.path() / "bin")) versions.emplace_back(key, e.path() / "bin");
    }
    if (!versions.empty()) return std::max_element(versions.begin(), versions.end())->second.string();
    tried.push_back("/usr/lib/postgresql/*/bin");
    // 3. initdb on PATH (its directory, or the directory its symlink resolves to).
    if (std::string initdb = find_in_path("initdb"); !initdb.empty()) {
        fs::path dir = fs::path(initdb).parent_path();
        if (has_server_binaries(dir)) return dir.string();
        fs::path real = fs::canonical(initdb, ec).parent_path();
        if (!ec && has_server_binaries(real)) return real.string();
    }
    tried.push_back("initdb on PATH");
    std::string list;
    for (const auto& t : tried) list += (list.empty() ? "" : ", ") + t;
    fail("could not find the PostgreSQL server executables (initdb, pg_ctl, postgres); tried " + list +
         ". Install the PostgreSQL server or set embedded_postgres_params::bin_dir.");
}

std::string sql_literal(std::string_view s)
{
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}

std::string sql_ident(std::string_view s)
{
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string conf_value(std::string_view s)
{
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') out += "''";
        else if (c == '\\') out += "\\\\";
        else out += c;
    }
    return out + "'";
}

std::string pct_encode(std::string_view s)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

bool has_char(std::string_view s, std::string_view chars) { return s.find_first_of(chars) != std::string_view::npos; }
constexpr std::string_view nul_nl{"\0\n\r", 3};

void validate(const embedded_postgres_params& p)
{
    auto bad_name = [](const std::string& n) { return n.empty() || has_char(n, nul_nl) || has_char(n, "\""); };
    if (bad_name(p.superuser)) fail("invalid superuser name \"" + p.superuser + "\" (empty, or contains '\"' or a line break)");
    for (const auto& u : p.users) {
        if (bad_name(u.name)) fail("invalid user name \"" + u.name + "\" (empty, or contains '\"' or a line break)");
        if (has_char(u.password, nul_nl)) fail("the password of user \"" + u.name + "\" contains a NUL or a line break");
        if (has_char(u.auth_method, std::string_view(" \t\0\n\r#", 6)))
            fail("invalid auth_method \"" + u.auth_method + "\" for user \"" + u.name + "\"");
    }
    for (const auto& u : p.users)
        if (u.auth_method == "cert" && !p.tls) fail("auth_method \"cert\" (user \"" + u.name + "\") requires tls");
    for (const auto& d : p.databases)
        if (d.empty() || has_char(d, nul_nl)) fail("invalid database name \"" + d + "\"");
    for (const auto& l : p.extra_hba_lines)
        if (has_char(l, nul_nl)) fail("extra_hba_lines entries must be single lines: \"" + l + "\"");
    for (const auto& [name, value] : p.settings) {
        if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
            }))
            fail("invalid setting name \"" + name + "\"");
        if (has_char(value, nul_nl)) fail("the value of setting \"" + name + "\" contains a NUL or a line break");
    }
    for (const auto& n : p.tls_server_names)
        if (n.empty() || has_char(n, std::string_view(",\0\n\r ", 5))) fail("invalid tls_server_names entry \"" + n + "\"");
    if (p.hostssl_only && !p.tls) fail("hostssl_only requires tls");
    if (p.listen_address.empty() || has_char(p.listen_address, nul_nl)) fail("invalid listen_address");
}

// The address clients should use and the one the free-port probe binds to.
std::string client_host(const std::string& listen)
{
    if (listen == "*" || listen == "0.0.0.0" || listen.find(',') != std::string::npos) return "127.0.0.1";
    if (listen == "::") return "::1";
    return listen;
}

std::uint16_t pick_free_port(const std::string& host)
{
    sockaddr_storage ss{};
    socklen_t len;
    int family;
    if (auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss); inet_pton(AF_INET6, host.c_str(), &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        family = AF_INET6;
        len = sizeof(sockaddr_in6);
    } else {
        auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
        a4->sin_family = AF_INET;
        if (inet_pton(AF_INET, host.c_str(), &a4->sin_addr) != 1) a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        family = AF_INET;
        len = sizeof(sockaddr_in);
    }
    int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket(): " + errno_text(errno));
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
        int e = errno;
        ::close(fd);
        fail("could not find a free TCP port on " + host + ": " + errno_text(e));
    }
    ::close(fd);
    return ntohs(family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                    : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

// ---- live servers, stopped at normal process exit ----
struct registry {
    std::mutex mutex;
    std::vector<embedded_postgres_impl*> live;
};
registry& the_registry()
{
    static auto* r = new registry; // never destroyed: used from the atexit handler
    return *r;
}
void stop_all_at_exit();
void register_live(embedded_postgres_impl* p)
{
    static std::once_flag once;
    std::call_once(once, [] { std::atexit(stop_all_at_exit); });
    auto& r = the_registry();
    std::lock_guard lock(r.mutex);
    r.live.push_back(p);
}
void unregister_live(embedded_postgres_impl* p)
{
    auto& r = the_registry();
    std::lock_guard lock(r.mutex);
    std::erase(r.live, p);
}

} // namespace

class embedded_postgres_impl {
public:
    explicit embedded_postgres_impl(embedded_postgres_params p) : params_(std::move(p)), owner_(::getpid()) {}
    ~embedded_postgres_impl() { stop(); }
    embedded_postgres_impl(const embedded_postgres_impl&) = delete;
    embedded_postgres_impl& operator=(const embedded_postgres_impl&) = delete;

    void setup();
    void start_server();
    void stop_server(embedded_stop_mode mode);
    void stop() noexcept;
    std::pair<std::string, std::string> make_client_certificate(std::string_view cn);
    std::string make_url(std::string_view host, std::string_view user, std::string_view password,
                         std::string_view dbname, bool tls_query) const;

    embedded_postgres_params params_;
    pid_t owner_;
    std::string bin_dir_, base_dir_, data_dir_, socket_dir_, host_, ca_file_, log_file_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
    bool stopped_ = false;
    ep::run_as user_;
    ep::watchdog watchdog_;
    ep::pem_pair ca_;
    int client_certs_ = 0;

private:
    std::string bin(const char* name) const { return bin_dir_ + "/" + name; }
    void make_base_dir();
    void give_to_server_user(const std::string& path) const;
    void write_file(const std::string& path, std::string_view content, mode_t mode, bool server_owned) const;
    void run_initdb();
    void write_tls_files();
    void write_hba();
    void write_conf();
    void create_roles();
    enum class start_result { ok, port_in_use };
    start_result try_start();
    void kill_postmaster() noexcept;
};

namespace {
void stop_all_at_exit()
{
    std::vector<embedded_postgres_impl*> copy;
    {
        auto& r = the_registry();
        std::lock_guard lock(r.mutex);
        copy = r.live;
    }
    for (auto* p : copy) p->stop();
}
} // namespace

void embedded_postgres_impl::setup()
{
    validate(params_);
    bin_dir_ = find_bin_dir(params_.bin_dir);
    if (::geteuid() == 0) {
        std::string name = params_.system_user.empty() ? "postgres" : params_.system_user;
        passwd* pw = ::getpwnam(name.c_str());
        if (!pw)
            fail("running as root, but the system user \"" + name +
                 "\" (which runs initdb and the server, as they refuse root) does not exist; "
                 "create it or set embedded_postgres_params::system_user");
        user_ = {true, pw->pw_uid, pw->pw_gid, name};
    }
    host_ = client_host(params_.listen_address);
    make_base_dir();
    data_dir_ = base_dir_ + "/data";
    socket_dir_ = base_dir_ + "/socket";
    log_file_ = data_dir_ + "/server.log";
    // The watchdog exists from the moment there is something to clean up.
    watchdog_.start(base_dir_, data_dir_ + "/postmaster.pid");
    register_live(this);

    if (::mkdir(socket_dir_.c_str(), 0755) != 0) fail("mkdir " + socket_dir_ + ": " + errno_text(errno));
    give_to_server_user(socket_dir_);
    run_initdb();
    if (params_.tls) write_tls_files();
    write_hba();
    create_roles();
    if (params_.port != 0) {
        port_ = params_.port;
        if (try_start() != start_result::ok) fail("unreachable"); // try_start throws on failure
        return;
    }
    // Port 0: probe a free port; another process may take it before the server binds.
    for (int attempt = 1;; ++attempt) {
        port_ = pick_free_port(host_);
        if (try_start() == start_result::ok) return;
        if (attempt == 3) fail("could not bind a free port after 3 attempts; server log:\n" + indent(last_lines(read_file(log_file_), log_tail_lines)));
    }
}

void embedded_postgres_impl::make_base_dir()
{
    std::string tmp = "/tmp";
    if (const char* t = std::getenv("TMPDIR"); t && t[0] == '/') {
        std::string cand = t;
        while (cand.size() > 1 && cand.back() == '/') cand.pop_back();
        // The socket path must fit sockaddr_un::sun_path (108 bytes).
        if (cand.size() + std::strlen("/sleet-pg-XXXXXX/socket/.s.PGSQL.65535") < sizeof(sockaddr_un::sun_path))
            tmp = cand;
    }
    std::string templ = tmp + "/sleet-pg-XXXXXX";
    if (!::mkdtemp(templ.data())) fail("mkdtemp " + templ + ": " + errno_text(errno));
    base_dir_ = templ;
    // Readable for the CA certificate and the socket; the data directory itself is 0700.
    ::chmod(base_dir_.c_str(), 0755);
    give_to_server_user(base_dir_);
}

void embedded_postgres_impl::give_to_server_user(const std::string& path) const
{
    if (user_.enabled && ::chown(path.c_str(), user_.uid, user_.gid) != 0)
        fail("chown " + path + " to " + user_.name + ": " + errno_text(errno));
}

void embedded_postgres_impl::write_file(const std::string& path, std::string_view content, mode_t mode,
                                        bool server_owned) const
{
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) fail("cannot write " + path + ": " + errno_text(errno));
    bool ok = ::fchmod(fd, mode) == 0;
    if (ok && server_owned && user_.enabled) ok = ::fchown(fd, user_.uid, user_.gid) == 0;
    const char* p = content.data();
    std::size_t left = content.size();
    while (ok && left > 0) {
        ssize_t n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) ok = false;
        else {
            p += n;
            left -= static_cast<std::size_t>(n);
        }
    }
    int e = errno;
    ::close(fd);
    if (!ok) fail("cannot write " + path + ": " + errno_text(e));
}

void embedded_postgres_impl::run_initdb()
{
    std::vector<std::string> argv{bin("initdb"), "-D", data_dir_, "-A", "trust", "-U", params_.superuser,
                                  "--no-sync", "-E", "UTF8", "--locale=C"};
    std::string out_path = base_dir_ + "/initdb.log";
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) fail("cannot create " + out_path + ": " + errno_text(errno));
    ep::spawn_options o;
    o.stdout_fd = out;
    o.user = &user_;
    o.cwd = base_dir_;
    int status;
    try {
        status = ep::run(argv, o);
    } catch (const std::system_error& e) {
        ::close(out);
        fail(std::string("initdb: ") + e.what());
    }
    ::close(out);
    if (status != 0) {
        std::string tail = last_lines(read_file(out_path), log_tail_lines);
        fail("initdb failed (exit status " + std::to_string(status) + ")\ncommand: " + ep::command_line(argv) +
                 "\ndata directory: " + data_dir_ + " (removed)\ninitdb output (last lines):\n",
             indent(tail));
    }
    ::unlink(out_path.c_str());
}

void embedded_postgres_impl::write_tls_files()
{
    try {
        ca_ = ep::make_ca("sleet embedded test CA");
        const auto& names = params_.tls_server_names;
        ep::pem_pair server = ep::make_leaf(ca_, ep::cert_kind::server, names.empty() ? "localhost" : names.front(),
                                            names, params_.tls_expired_cert);
        ca_file_ = base_dir_ + "/ca.crt";
        write_file(ca_file_, ca_.cert, 0644, true);
        write_file(data_dir_ + "/server.crt", server.cert, 0644, true);
        // The server refuses a key readable by others.
        write_file(data_dir_ + "/server.key", server.key, 0600, true);
    } catch (const embedded_postgres_error&) {
        throw;
    } catch (const std::exception& e) {
        throw embedded_postgres_error(e.what(), {});
    }
}

void embedded_postgres_impl::write_hba()
{
    const std::string hostssl = "hostssl";
    const std::string host = params_.hostssl_only ? hostssl : "host";
    std::string s = "# Written by sleet::embedded_postgres.\n";
    for (const auto& l : params_.extra_hba_lines) s += l + "\n";
    const std::string su = sql_ident(params_.superuser); // pg_hba quotes names the same way
    s += "local all " + su + " trust\n";
    for (const auto& u : params_.users) {
        const std::string method = u.auth_method.empty() ? "scram-sha-256" : u.auth_method;
        const std::string name = sql_ident(u.name);
        // The server rejects "cert" on local and non-hostssl lines (and would not start).
        const std::string& kind = method == "cert" ? hostssl : host;
        if (method != "cert") s += "local all " + name + " " + method + "\n";
        s += kind + " all " + name + " 127.0.0.1/32 " + method + "\n";
        s += kind + " all " + name + " ::1/128 " + method + "\n";
    }
    s += host + " all " + su + " 127.0.0.1/32 trust\n";
    s += host + " all " + su + " ::1/128 trust\n";
    write_file(data_dir_ + "/pg_hba.conf", s, 0600, true);

    // Our settings live in sleet.conf, included last so that they override initdb's.
    std::string conf = read_file(data_dir_ + "/postgresql.conf");
    conf += "\n# Added by sleet::embedded_postgres.\ninclude 'sleet.conf'\n";
    write_file(data_dir_ + "/postgresql.conf", conf, 0600, true);
    write_conf();
}

void embedded_postgres_impl::write_conf()
{
    std::vector<std::pair<std::string, std::string>> s{
        {"listen_addresses", params_.listen_address},
        {"unix_socket_directories", socket_dir_},
        {"fsync", "off"},
        {"synchronous_commit", "off"},
        {"full_page_writes", "off"},
        {"max_connections", "200"},
        {"logging_collector", "off"},
    };
    if (port_ != 0) s.insert(s.begin(), {"port", std::to_string(port_)}); // not yet known in single-user mode
    if (params_.tls) {
        s.insert(s.end(), {{"ssl", "on"},
                           {"ssl_cert_file", "server.crt"},
                           {"ssl_key_file", "server.key"},
                           {"ssl_ca_file", ca_file_}});
    }
    s.insert(s.end(), params_.settings.begin(), params_.settings.end());
    std::string text = "# Written by sleet::embedded_postgres; later lines win.\n";
    for (const auto& [k, v] : s) text += k + " = " + conf_value(v) + "\n";
    write_file(data_dir_ + "/sleet.conf", text, 0600, true);
}

void embedded_postgres_impl::create_roles()
{
    if (params_.users.empty() && params_.databases.empty()) return;
    // Single-user mode needs no client library; -j ends a statement at ";\n\n".
    std::string script;
    for (const auto& u : params_.users) {
        const bool md5 = u.auth_method == "md5";
        script += std::string("SET password_encryption = ") + (md5 ? "'md5'" : "'scram-sha-256'") + ";\n\n";
        std::string pw;
        if (!u.password.empty()) {
            // An "md5<hex>" literal is stored as is: md5(password || username), as the server would.
            pw = " PASSWORD " + sql_literal(md5 ? "md5" + ep::md5_hex(u.password + u.name) : u.password);
        }
        const std::string attrs = std::string(" LOGIN") + (u.superuser ? " SUPERUSER" : "");
        if (u.name == params_.superuser)
            script += "ALTER ROLE " + sql_ident(u.name) + attrs + pw + ";\n\n";
        else
            script += "CREATE ROLE " + sql_ident(u.name) + attrs + pw + ";\n\n";
    }
    for (const auto& d : params_.databases) script += "CREATE DATABASE " + sql_ident(d) + ";\n\n";

    const std::string script_path = base_dir_ + "/setup.sql";
    const std::string out_path = base_dir_ + "/setup.log";
    write_file(script_path, script, 0600, false);
    int in = ::open(script_path.c_str(), O_RDONLY | O_CLOEXEC);
    ::unlink(script_path.c_str()); // it holds passwords; the open descriptor is enough
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (in < 0 || out < 0) {
        int e = errno;
        if (in >= 0) ::close(in);
        if (out >= 0) ::close(out);
        fail("cannot prepare the single-user session: " + errno_text(e));
    }
    std::vector<std::string> argv{bin("postgres"), "--single", "-j", "-D", data_dir_, "-F",
                                  "-c", "exit_on_error=on", "postgres"};
    ep::spawn_options o;
    o.stdin_fd = in;
    o.stdout_fd = out;
    o.user = &user_;
    o.cwd = base_dir_;
    int status;
    try {
        status = ep::run(argv, o);
    } catch (const std::system_error& e) {
        ::close(in);
        ::close(out);
        fail(std::string("postgres --single: ") + e.what());
    }
    ::close(in);
    ::close(out);
    std::string output = read_file(out_path);
    ::unlink(out_path.c_str());
    if (status != 0 || output.find("ERROR:") != std::string::npos || output.find("FATAL:") != std::string::npos) {
        fail("creating roles and databases in single-user mode failed (exit status " + std::to_string(status) +
                 ")\ncommand: " + ep::command_line(argv) + " < (generated script)\ndata directory: " + data_dir_ +
                 " (removed)\noutput (last lines):\n",
             indent(last_lines(output, log_tail_lines)));
    }
}

embedded_postgres_impl::start_result embedded_postgres_impl::try_start()
{
    write_conf();
    // After a SIGKILL the old postmaster may linger as an unreaped zombie, which the server
    // would take for a running postmaster: remove a pid file whose process is gone.
    const std::string pid_file = data_dir_ + "/postmaster.pid";
    if (pid_t old = ep::read_postmaster_pid(pid_file.c_str()); old > 0 && ep::process_gone(old)) {
        ::unlink(pid_file.c_str());
        std::error_code ec; // the socket's lock file names the same pid
        for (const auto& e : fs::directory_iterator(socket_dir_, ec)) fs::remove(e.path(), ec);
    }
    const std::uintmax_t log_offset = file_size_or_zero(log_file_);
    const std::string out_path = base_dir_ + "/pg_ctl.log";
    std::vector<std::string> argv{bin("pg_ctl"), "start", "-w", "-t", std::to_string(params_.start_timeout.count()),
                                  "-D", data_dir_, "-l", log_file_};
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) fail("cannot create " + out_path + ": " + errno_text(errno));
    ep::spawn_options o;
    o.stdout_fd = out;
    o.user = &user_;
    o.cwd = base_dir_;
    int status;
    try {
        status = ep::run(argv, o);
    } catch (const std::system_error& e) {
        ::close(out);
        fail(std::string("pg_ctl start: ") + e.what());
    }
    ::close(out);
    std::string pg_ctl_out = read_file(out_path);
    ::unlink(out_path.c_str());
    if (status == 0) {
        pid_ = ep::read_postmaster_pid(pid_file.c_str());
        if (pid_ > 0) return start_result::ok;
    }
    // A timed-out start may leave a postmaster behind.
    pid_ = ep::read_postmaster_pid(pid_file.c_str());
    kill_postmaster();
    std::string log = read_file(log_file_, log_offset);
    if (params_.port == 0 && (log.find("could not bind") != std::string::npos ||
                              log.find("Address already in use") != std::string::npos))
        return start_result::port_in_use;
    while (!pg_ctl_out.empty() && pg_ctl_out.back() == '\n') pg_ctl_out.pop_back();
    fail("the server did not start (pg_ctl exited with status " + std::to_string(status) + ")\ncommand: " +
             ep::command_line(argv) + "\ndata directory: " + data_dir_ + " (removed)\npg_ctl output:\n" +
             indent(pg_ctl_out) + "\nserver log (last lines):\n",
         indent(last_lines(log, log_tail_lines)));
}

void embedded_postgres_impl::kill_postmaster() noexcept
{
    if (pid_ > 0 && !ep::process_gone(pid_)) {
        ::kill(pid_, SIGKILL);
        for (int i = 0; i < 500 && !ep::process_gone(pid_); ++i) ::usleep(10000);
    }
    pid_ = -1;
}

void embedded_postgres_impl::start_server()
{
    if (stopped_) fail("start_server() after stop(): the data directory is gone");
    if (pid_ > 0 && !ep::process_gone(pid_)) return;
    if (try_start() != start_result::ok)
        fail("port " + std::to_string(port_) + " is taken by another process; server log:\n" +
             indent(last_lines(read_file(log_file_), log_tail_lines)));
}

void embedded_postgres_impl::stop_server(embedded_stop_mode mode)
{
    if (pid_ <= 0) return;
    if (ep::process_gone(pid_)) {
        pid_ = -1;
        return;
    }
    const char* m = mode == embedded_stop_mode::smart ? "smart" : mode == embedded_stop_mode::fast ? "fast" : "immediate";
    std::vector<std::string> argv{bin("pg_ctl"), "stop", "-w", "-t", std::to_string(params_.start_timeout.count()),
                                  "-D", data_dir_, "-m", m};
    ep::spawn_options o;
    o.user = &user_;
    o.cwd = base_dir_;
    try {
        ep::run(argv, o);
    } catch (const std::system_error&) {
    }
    kill_postmaster(); // no-op when pg_ctl stopped it
}

void embedded_postgres_impl::stop() noexcept
{
    // A forked child inherits this object: only the creating process may touch the server.
    if (stopped_ || ::getpid() != owner_) return;
    stopped_ = true;
    try {
        stop_server(embedded_stop_mode::fast);
    } catch (...) {
        kill_postmaster();
    }
    bool removed = base_dir_.empty() || ep::remove_tree(base_dir_.c_str());
    watchdog_.release(removed); // not removed: the watchdog tries again
    unregister_live(this);
}

std::pair<std::string, std::string> embedded_postgres_impl::make_client_certificate(std::string_view cn)
{
    if (!params_.tls) fail("make_client_certificate requires embedded_postgres_params::tls");
    if (stopped_) fail("make_client_certificate after stop()");
    ep::pem_pair c;
    try {
        c = ep::make_leaf(ca_, ep::cert_kind::client, cn, {}, false);
    } catch (const std::exception& e) {
        throw embedded_postgres_error(e.what(), {});
    }
    const std::string stem = base_dir_ + "/client-" + std::to_string(++client_certs_);
    write_file(stem + ".crt", c.cert, 0644, false);
    write_file(stem + ".key", c.key, 0600, false);
    return {stem + ".crt", stem + ".key"};
}

std::string embedded_postgres_impl::make_url(std::string_view host, std::string_view user, std::string_view password,
                                             std::string_view dbname, bool tls_query) const
{
    // Appends only: "literal" + std::string chains trip GCC 12's -Wrestrict false positive at -O3.
    std::string u = "postgresql://";
    u += pct_encode(user.empty() ? std::string_view(params_.superuser) : user);
    if (!password.empty()) {
        u += ':';
        u += pct_encode(password);
    }
    u += '@';
    u += host;
    u += ':';
    u += std::to_string(port_);
    u += '/';
    u += pct_encode(dbname);
    if (tls_query && params_.tls) {
        u += "?sslmode=verify-full&sslrootcert=";
        u += pct_encode(ca_file_);
    }
    return u;
}

} // namespace sleet::detail

namespace sleet {

embedded_postgres::embedded_postgres(embedded_postgres_params params)
{
    auto p = std::make_unique<detail::embedded_postgres_impl>(std::move(params));
    p->setup(); // on failure, ~embedded_postgres_impl stops and removes what was made
    impl_ = std::move(p);
}

embedded_postgres::~embedded_postgres() = default;
embedded_postgres::embedded_postgres(embedded_postgres&&) noexcept = default;
embedded_postgres& embedded_postgres::operator=(embedded_postgres&&) noexcept = default;

std::uint16_t embedded_postgres::port() const noexcept { return impl_->port_; }
const std::string& embedded_postgres::host() const noexcept { return impl_->host_; }
const std::string& embedded_postgres::socket_dir() const noexcept { return impl_->socket_dir_; }
const std::string& embedded_postgres::data_dir() const noexcept { return impl_->data_dir_; }
const std::string& embedded_postgres::base_dir() const noexcept { return impl_->base_dir_; }
const std::string& embedded_postgres::bin_dir() const noexcept { return impl_->bin_dir_; }
const std::string& embedded_postgres::superuser() const noexcept { return impl_->params_.superuser; }
std::string embedded_postgres::ca_file() const { return impl_->ca_file_; }
int embedded_postgres::postmaster_pid() const noexcept
{
    return impl_->pid_ > 0 && !detail::embedded::process_gone(impl_->pid_) ? impl_->pid_ : -1;
}
bool embedded_postgres::running() const noexcept { return postmaster_pid() > 0; }

std::string embedded_postgres::url(std::string_view user, std::string_view password, std::string_view dbname) const
{
    const std::string& h = impl_->host_;
    std::string host = h.find(':') != std::string::npos ? "[" + h + "]" : h;
    return impl_->make_url(host, user, password, dbname, true);
}

std::string embedded_postgres::socket_url(std::string_view user, std::string_view password,
                                          std::string_view dbname) const
{
    return impl_->make_url(detail::pct_encode(impl_->socket_dir_), user, password, dbname, false);
}

std::pair<std::string, std::string> embedded_postgres::make_client_certificate(std::string_view common_name)
{
    return impl_->make_client_certificate(common_name);
}

void embedded_postgres::stop_server(embedded_stop_mode mode) { impl_->stop_server(mode); }
void embedded_postgres::start_server() { impl_->start_server(); }
void embedded_postgres::stop() noexcept
{
    if (impl_) impl_->stop();
}

std::string embedded_postgres::log() const
{
    return impl_->stopped_ ? std::string() : detail::read_file(impl_->log_file_);
}

} // namespace sleet
