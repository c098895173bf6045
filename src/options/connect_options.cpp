// Connection options: libpq connection strings, PG* environment variables and defaults.
//
// Flow: the string (URI or keyword/value) is first reduced to raw keyword values, exactly as
// libpq's conninfo_uri_parse_options / conninfo_parse do (a URI's netloc becomes "host=a,b
// port=1,"), then unset keywords are filled from the environment, then everything is validated
// and converted in libpq's order (pqConnectOptions2). Keeping the raw stage lets both syntaxes
// share one validator and gives libpq's quirks for free (e.g. a URI with two hosts and one port
// stores port ",5433", so PGPORT is not consulted).
//
// Password hygiene: no message quotes the password, and a token that directly follows a
// password value (likely the rest of a password with an unquoted space or an unencoded '&') is
// not quoted either. As a last line of defence, every message is scrubbed of the password text.
#include <sleet/connect_options.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <pwd.h>
#include <unistd.h>
#include <vector>

namespace sleet {

// ------------------------------------------------------------------------------------ secret

namespace {
// Zeroes the whole buffer (up to capacity, so a shrunken or moved-from SSO buffer is covered
// too), then empties the string. resize() within capacity never reallocates.
void wipe(std::string& s) noexcept
{
    s.resize(s.capacity());
    if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
    s.clear();
}
} // namespace

secret::secret(secret&& other) noexcept : value_(std::move(other.value_)) { wipe(other.value_); }

secret& secret::operator=(const secret& other)
{
    if (this != &other) {
        wipe(value_);
        value_ = other.value_;
    }
    return *this;
}

secret& secret::operator=(secret&& other) noexcept
{
    if (this != &other) {
        wipe(value_);
        value_ = std::move(other.value_);
        wipe(other.value_);
    }
    return *this;
}

secret::~secret() { wipe(value_); }

void secret::clear() noexcept { wipe(value_); }

bool operator==(const secret& a, const secret& b) noexcept
{
    return a.value_.size() == b.value_.size() &&
           CRYPTO_memcmp(a.value_.data(), b.value_.data(), a.value_.size()) == 0;
}

// ------------------------------------------------------------------------------ small types

std::string_view to_string(ssl_mode m) noexcept
{
    switch (m) {
    case ssl_mode::disable: return "disable";
    case ssl_mode::allow: return "allow";
    case ssl_mode::prefer: return "prefer";
    case ssl_mode::require: return "require";
    case ssl_mode::verify_ca: return "verify-ca";
    case ssl_mode::verify_full: return "verify-full";
    }
    return "prefer";
}

std::string_view to_string(channel_binding c) noexcept
{
    switch (c) {
    case channel_binding::disable: return "disable";
    case channel_binding::prefer: return "prefer";
    case channel_binding::require: return "require";
    }
    return "prefer";
}

bool host_address::is_unix_socket() const noexcept
{
    return !host.empty() && (host.front() == '/' || host.front() == '@');
}

std::string host_address::unix_socket_path() const
{
    std::string path = host;
    if (path.empty() || path.back() != '/') path += '/';
    path += ".s.PGSQL.";
    path += std::to_string(port);
    return path;
}

env_lookup process_environment()
{
    return [](std::string_view name) -> std::optional<std::string> {
        const char* v = std::getenv(std::string(name).c_str());
        if (v == nullptr) return std::nullopt;
        return std::string(v);
    };
}

env_lookup empty_environment()
{
    return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

error_code default_user_name(std::string& out, diagnostics& diag)
{
    const uid_t uid = ::geteuid();
    long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buf(size > 0 ? static_cast<std::size_t>(size) : 16384);
    passwd pw{};
    passwd* result = nullptr;
    int rc = 0;
    while ((rc = ::getpwuid_r(uid, &pw, buf.data(), buf.size(), &result)) == ERANGE && buf.size() < (1u << 20))
        buf.resize(buf.size() * 2);
    if (result == nullptr) {
        // libpq's messages (pg_fe_getauthname / pg_get_user_name).
        if (rc != 0)
            diag.assign_client("could not look up local user ID " + std::to_string(uid) + ": " + std::strerror(rc));
        else
            diag.assign_client("local user with ID " + std::to_string(uid) + " does not exist");
        return errc::invalid_connection_string;
    }
    out = pw.pw_name;
    return {};
}

// ------------------------------------------------------------------------------------ parser

namespace {

constexpr std::string_view default_socket_dir = "/var/run/postgresql";
constexpr std::uint16_t default_port = 5432;
constexpr std::string_view redacted = "********";

enum class kw {
    host,
    port,
    user,
    password,
    dbname,
    sslmode,
    sslrootcert,
    sslcert,
    sslkey,
    sslsni,
    channel_binding,
    application_name,
    fallback_application_name,
    options,
    connect_timeout,
    require_auth,
    target_session_attrs,
    count_
};

struct keyword_info {
    std::string_view name;
    std::string_view env; // empty: no environment fallback (as in libpq)
};

constexpr std::array<keyword_info, static_cast<std::size_t>(kw::count_)> keywords{{
    {"host", "PGHOST"},
    {"port", "PGPORT"},
    {"user", "PGUSER"},
    {"password", "PGPASSWORD"},
    {"dbname", "PGDATABASE"},
    {"sslmode", "PGSSLMODE"},
    {"sslrootcert", "PGSSLROOTCERT"},
    {"sslcert", "PGSSLCERT"},
    {"sslkey", "PGSSLKEY"},
    {"sslsni", "PGSSLSNI"},
    {"channel_binding", "PGCHANNELBINDING"},
    {"application_name", "PGAPPNAME"},
    {"fallback_application_name", ""},
    {"options", "PGOPTIONS"},
    {"connect_timeout", "PGCONNECT_TIMEOUT"},
    {"require_auth", "PGREQUIREAUTH"},
    {"target_session_attrs", "PGTARGETSESSIONATTRS"},
}};

// libpq keywords sleet knows but does not implement: rejected with a clear message rather than
// silently ignored (an ignored sslcrl or hostaddr would change what the user asked for).
constexpr std::array<std::string_view, 24> unsupported_keywords{
    "service",        "passfile",          "hostaddr",        "client_encoding",
    "keepalives",     "keepalives_idle",   "keepalives_interval", "keepalives_count",
    "tcp_user_timeout", "sslcompression",  "sslcertmode",     "sslpassword",
    "sslcrl",         "sslcrldir",         "sslnegotiation",  "requirepeer",
    "ssl_min_protocol_version", "ssl_max_protocol_version", "gssencmode", "krbsrvname",
    "gsslib",         "gssdelegation",     "replication",     "load_balance_hosts",
};

std::optional<kw> find_keyword(std::string_view name)
{
    for (std::size_t i = 0; i < keywords.size(); ++i)
        if (keywords[i].name == name) return static_cast<kw>(i);
    return std::nullopt;
}

bool is_unsupported_keyword(std::string_view name)
{
    for (auto k : unsupported_keywords)
        if (k == name) return true;
    return false;
}

bool is_space(char c) noexcept { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string quoted(std::string_view s)
{
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    out += s;
    out += '"';
    return out;
}

struct raw_value {
    std::string text;
    std::string_view env_var; // non-empty when the value came from the environment
};

/// The parse state shared by the URI and keyword/value front ends.
class parser {
public:
    explicit parser(const env_lookup& env) : env_(env) {}

    error_code run(std::string_view conninfo, connect_options& out, diagnostics& diag)
    {
        if (conninfo.find('\0') != std::string_view::npos) {
            fail("connection string contains a NUL byte");
        } else if (conninfo.starts_with("postgresql://")) {
            parse_uri(conninfo, std::string_view("postgresql://").size());
        } else if (conninfo.starts_with("postgres://")) {
            parse_uri(conninfo, std::string_view("postgres://").size());
        } else {
            parse_keyword_value(conninfo);
        }
        if (!failed_) add_environment();
        connect_options result;
        if (!failed_) resolve(result);
        if (failed_) {
            diag.assign_client(scrubbed(std::move(message_)));
            wipe_candidates();
            return errc::invalid_connection_string;
        }
        wipe_candidates();
        out = std::move(result);
        diag.clear();
        return {};
    }

private:
    // -------------------------------------------------------------------------- helpers
    void fail(std::string msg)
    {
        if (!failed_) {
            failed_ = true;
            message_ = std::move(msg);
        }
    }

    void store(kw k, std::string value)
    {
        if (k == kw::password) remember_password(value);
        values_[static_cast<std::size_t>(k)] = raw_value{std::move(value), {}};
    }

    // Taken by value and moved in, so no unwiped temporary copy is left behind.
    void remember_password(std::string text)
    {
        if (!text.empty()) candidates_.push_back(std::move(text));
    }

    // Replace any leftover occurrence of password text. Short passwords (under 4 bytes) are not
    // scrubbed: they would garble the message and the structured rules above already keep them out.
    std::string scrubbed(std::string msg) const
    {
        for (const auto& c : candidates_) {
            if (c.size() < 4) continue;
            for (auto pos = msg.find(c); pos != std::string::npos; pos = msg.find(c, pos + redacted.size()))
                msg.replace(pos, c.size(), redacted);
        }
        return msg;
    }

    void wipe_candidates()
    {
        for (auto& c : candidates_) wipe(c);
        for (auto& v : values_)
            if (v) wipe(v->text);
    }

    // Quotes `token` unless it directly follows a password value, where it may be password text.
    static std::string token_or_redacted(std::string_view token, bool after_password)
    {
        if (after_password) return "(not shown: it follows the password value)";
        return quoted(token);
    }

    /// Stores a keyword from the string. `uri` selects libpq's message for unknown keywords.
    void store_keyword(std::string_view name, std::string value, bool uri, bool after_password)
    {
        if (auto k = find_keyword(name)) {
            store(*k, std::move(value));
            return;
        }
        if (name == "requiressl") {
            // Deprecated libpq keyword: requiressl=1 is sslmode=require, anything else prefer.
            store(kw::sslmode, value.starts_with('1') ? "require" : "prefer");
            return;
        }
        if (is_unsupported_keyword(name)) {
            fail("connection option " + quoted(name) + " is not supported by sleet");
            return;
        }
        if (after_password) {
            fail(std::string(uri ? "invalid URI query parameter" : "invalid connection option") +
                 " after the password (not shown: it may be part of the password; " +
                 (uri ? "percent-encode '&' in passwords)" : "quote passwords that contain spaces)"));
            return;
        }
        fail(std::string(uri ? "invalid URI query parameter: " : "invalid connection option ") + quoted(name));
    }

    enum class decode_result { ok, bad_token, nul };

    static decode_result percent_decode(std::string_view in, std::string& out)
    {
        auto hex = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        };
        out.clear();
        out.reserve(in.size());
        for (std::size_t i = 0; i < in.size(); ++i) {
            if (in[i] != '%') {
                out += in[i];
                continue;
            }
            int hi = i + 1 < in.size() ? hex(in[i + 1]) : -1;
            int lo = i + 2 < in.size() ? hex(in[i + 2]) : -1;
            if (hi < 0 || lo < 0) return decode_result::bad_token;
            int c = hi * 16 + lo;
            if (c == 0) return decode_result::nul;
            out += static_cast<char>(c);
            i += 2;
        }
        return decode_result::ok;
    }

    /// Decodes a URI component; on error sets libpq's message (quoting the component), or a
    /// message that does not quote it for the password.
    bool decode_component(std::string_view in, std::string& out, bool is_password)
    {
        switch (percent_decode(in, out)) {
        case decode_result::ok: return true;
        case decode_result::bad_token:
            if (is_password) fail("invalid percent-encoded token in the password");
            else fail("invalid percent-encoded token: " + quoted(in));
            break;
        case decode_result::nul:
            if (is_password) fail("forbidden value %00 in the password");
            else fail("forbidden value %00 in percent-encoded value: " + quoted(in));
            break;
        }
        wipe(out);
        return false;
    }

    // -------------------------------------------------------------------------- URI
    // postgres[ql]://[user[:password]@][host][:port][,host[:port]]...[/dbname][?key=value&...]
    void parse_uri(std::string_view uri, std::size_t prefix)
    {
        const std::string_view rest = uri.substr(prefix);
        // The authority ends at the first '/' or '?'. (libpq looks for '@' up to the first '/'
        // only; also stopping at '?' keeps "?application_name=a@b" out of the user info.)
        const std::size_t authority_end = std::min(rest.find_first_of("/?"), rest.size());
        const std::string_view authority = rest.substr(0, authority_end);

        std::size_t p = 0; // index into rest
        // The last '@' of the authority ends the user info, so an unencoded '@' in a password
        // still parses as the user meant (libpq takes the first '@' and then fails on the host).
        if (auto at = authority.rfind('@'); at != std::string_view::npos) {
            const std::string_view userinfo = authority.substr(0, at);
            const std::size_t colon = userinfo.find(':');
            const std::string_view user = userinfo.substr(0, colon);
            if (colon != std::string_view::npos) remember_password(std::string(userinfo.substr(colon + 1)));
            if (!user.empty()) {
                std::string v;
                if (!decode_component(user, v, false)) return;
                store(kw::user, std::move(v));
            }
            if (colon != std::string_view::npos) {
                const std::string_view pw = userinfo.substr(colon + 1);
                if (!pw.empty()) {
                    std::string v;
                    if (!decode_component(pw, v, true)) return;
                    store(kw::password, std::move(v));
                }
            }
            p = at + 1;
        }

        // One or more netloc[:port], separated by commas.
        std::string hostbuf, portbuf;
        for (;;) {
            std::string_view host;
            if (p < authority_end && rest[p] == '[') {
                const std::size_t close = authority.find(']', p + 1);
                if (close == std::string_view::npos) {
                    fail("end of string reached when looking for matching \"]\" in IPv6 host address in URI");
                    return;
                }
                if (close == p + 1) {
                    fail("IPv6 host address may not be empty in URI");
                    return;
                }
                host = authority.substr(p + 1, close - p - 1);
                p = close + 1;
                if (p < authority_end && rest[p] != ':' && rest[p] != ',') {
                    // 1-based position in the whole string, as libpq counts; the URI itself is
                    // not quoted because it may hold a password.
                    fail(std::string("unexpected character \"") + rest[p] + "\" at position " +
                         std::to_string(prefix + p + 1) + " in URI (expected \":\" or \"/\")");
                    return;
                }
            } else {
                const std::size_t end = std::min(authority.find_first_of(":,", p), authority_end);
                host = authority.substr(p, end - p);
                p = end;
            }
            hostbuf += host;
            if (p < authority_end && rest[p] == ':') {
                const std::size_t end = std::min(authority.find(',', p + 1), authority_end);
                portbuf += authority.substr(p + 1, end - p - 1);
                p = end;
            }
            if (p < authority_end && rest[p] == ',') {
                ++p;
                hostbuf += ',';
                portbuf += ',';
                continue;
            }
            break;
        }
        // Empty host or port lists are not stored, so the environment still applies (libpq).
        if (!hostbuf.empty()) {
            std::string v;
            if (!decode_component(hostbuf, v, false)) return;
            store(kw::host, std::move(v));
        }
        if (!portbuf.empty()) {
            std::string v;
            if (!decode_component(portbuf, v, false)) return;
            store(kw::port, std::move(v));
        }

        p = authority_end;
        if (p < rest.size() && rest[p] == '/') {
            const std::size_t end = std::min(rest.find('?', p + 1), rest.size());
            const std::string_view db = rest.substr(p + 1, end - p - 1);
            // An empty dbname is not stored, so PGDATABASE still applies (libpq).
            if (!db.empty()) {
                std::string v;
                if (!decode_component(db, v, false)) return;
                store(kw::dbname, std::move(v));
            }
            p = end;
        }
        if (p < rest.size() && rest[p] == '?') parse_uri_query(rest.substr(p + 1));
    }

    // key=value&key=value; keys and values percent-decoded; later values override earlier ones,
    // including the parts of the URI before '?'.
    void parse_uri_query(std::string_view query)
    {
        bool after_password = false;
        std::size_t p = 0;
        while (p < query.size()) {
            const std::size_t end = std::min(query.find('&', p), query.size());
            const std::string_view param = query.substr(p, end - p);
            p = end < query.size() ? end + 1 : end;

            const std::size_t eq = param.find('=');
            if (eq == std::string_view::npos) {
                fail("missing key/value separator \"=\" in URI query parameter: " +
                     token_or_redacted(param, after_password));
                return;
            }
            const std::string_view raw_key = param.substr(0, eq);
            const std::string_view raw_value = param.substr(eq + 1);
            if (raw_value.find('=') != std::string_view::npos) {
                // libpq quotes only the key here; so do we (the value may be a password).
                fail("extra key/value separator \"=\" in URI query parameter: " +
                     token_or_redacted(raw_key, after_password));
                return;
            }
            std::string key;
            if (percent_decode(raw_key, key) != decode_result::ok) {
                if (after_password) fail("invalid percent-encoded token after the password (not shown)");
                else decode_component(raw_key, key, false);
                return;
            }
            const bool is_password = key == "password";
            if (is_password) remember_password(std::string(raw_value));
            std::string value;
            if (!decode_component(raw_value, value, is_password)) return;
            // JDBC compatibility, as in libpq: ssl=true means sslmode=require (only "true").
            if (key == "ssl" && value == "true") {
                key = "sslmode";
                value = "require";
            }
            store_keyword(key, std::move(value), true, after_password);
            if (failed_) return;
            after_password = is_password;
        }
    }

    // -------------------------------------------------------------------------- key=value
    // key = value pairs separated by whitespace; values may be single-quoted; a backslash
    // escapes the next character, quoted or not (libpq's conninfo_parse).
    void parse_keyword_value(std::string_view s)
    {
        bool after_password = false;
        std::size_t p = 0;
        for (;;) {
            while (p < s.size() && is_space(s[p])) ++p;
            if (p >= s.size()) return;

            const std::size_t name_begin = p;
            while (p < s.size() && s[p] != '=' && !is_space(s[p])) ++p;
            const std::string_view name = s.substr(name_begin, p - name_begin);
            while (p < s.size() && is_space(s[p])) ++p;
            if (p >= s.size() || s[p] != '=') {
                if (after_password)
                    fail("missing \"=\" after a token that follows the password value (not shown; quote "
                         "passwords that contain spaces) in connection info string");
                else
                    fail("missing \"=\" after " + quoted(name) + " in connection info string");
                return;
            }
            ++p; // '='
            while (p < s.size() && is_space(s[p])) ++p;

            const bool is_password = name == "password";
            std::string value;
            if (p < s.size() && s[p] == '\'') {
                ++p;
                bool closed = false;
                while (p < s.size()) {
                    if (s[p] == '\\') {
                        ++p;
                        if (p < s.size()) value += s[p++];
                    } else if (s[p] == '\'') {
                        ++p;
                        closed = true;
                        break;
                    } else {
                        value += s[p++];
                    }
                }
                if (is_password) remember_password(value);
                if (!closed) {
                    wipe(value);
                    fail("unterminated quoted string in connection info string");
                    return;
                }
            } else {
                while (p < s.size() && !is_space(s[p])) {
                    if (s[p] == '\\') {
                        ++p;
                        if (p < s.size()) value += s[p++];
                    } else {
                        value += s[p++];
                    }
                }
            }
            store_keyword(name, std::move(value), false, after_password);
            if (failed_) return;
            after_password = is_password;
        }
    }

    // -------------------------------------------------------------------------- environment
    void add_environment()
    {
        if (!env_) return;
        for (std::size_t i = 0; i < keywords.size(); ++i) {
            if (values_[i] || keywords[i].env.empty()) continue;
            if (auto v = env_(keywords[i].env)) {
                if (static_cast<kw>(i) == kw::password) remember_password(*v);
                values_[i] = raw_value{std::move(*v), keywords[i].env};
            }
        }
    }

    // -------------------------------------------------------------------------- validation
    // " (from PGPORT)" when the offending value came from the environment.
    std::string origin(kw k) const
    {
        const auto& v = values_[static_cast<std::size_t>(k)];
        if (v && !v->env_var.empty()) return " (from environment variable " + std::string(v->env_var) + ")";
        return {};
    }

    const std::string* value_of(kw k) const
    {
        const auto& v = values_[static_cast<std::size_t>(k)];
        return v ? &v->text : nullptr;
    }

    std::string value_or_empty(kw k) const
    {
        const std::string* v = value_of(k);
        return v ? *v : std::string();
    }

    static std::vector<std::string_view> split_commas(std::string_view s)
    {
        std::vector<std::string_view> out;
        std::size_t p = 0;
        for (;;) {
            const std::size_t c = s.find(',', p);
            out.push_back(s.substr(p, c == std::string_view::npos ? std::string_view::npos : c - p));
            if (c == std::string_view::npos) return out;
            p = c + 1;
        }
    }

    // libpq's parse_int_param: optional surrounding whitespace, optional sign, decimal digits,
    // must fit an int.
    static std::optional<int> parse_int(std::string_view s)
    {
        std::string tmp(s);
        const char* b = tmp.c_str();
        char* e = nullptr;
        errno = 0;
        const long v = std::strtol(b, &e, 10);
        if (e == b || errno != 0 || v < INT_MIN || v > INT_MAX) return std::nullopt;
        while (*e != '\0' && is_space(*e)) ++e;
        if (*e != '\0') return std::nullopt;
        return static_cast<int>(v);
    }

    static std::optional<std::uint16_t> parse_port(std::string_view s)
    {
        if (s.empty() || s.size() > 5) return std::nullopt;
        unsigned v = 0;
        for (char c : s) {
            if (c < '0' || c > '9') return std::nullopt;
            v = v * 10 + static_cast<unsigned>(c - '0');
        }
        if (v < 1 || v > 65535) return std::nullopt;
        return static_cast<std::uint16_t>(v);
    }

    // Order of checks as in libpq's pqConnectOptions2: hosts and ports, user, dbname,
    // require_auth, channel_binding, sslmode, target_session_attrs; then connect_timeout.
    void resolve(connect_options& o)
    {
        // Hosts: one entry per comma-separated element; an empty element is the default socket.
        const std::string host_text = value_or_empty(kw::host);
        const auto hosts = host_text.empty() ? std::vector<std::string_view>{std::string_view{}} : split_commas(host_text);
        o.hosts.clear();
        for (auto h : hosts) o.hosts.push_back(host_address{h.empty() ? std::string(default_socket_dir) : std::string(h), default_port});

        // Ports: one for all hosts, or exactly one per host; an empty element is 5432.
        const std::string port_text = value_or_empty(kw::port);
        if (!port_text.empty()) {
            const auto ports = split_commas(port_text);
            if (ports.size() != 1 && ports.size() != hosts.size()) {
                fail("could not match " + std::to_string(ports.size()) + " port numbers to " +
                     std::to_string(hosts.size()) + " hosts" + origin(kw::port));
                return;
            }
            for (std::size_t i = 0; i < o.hosts.size(); ++i) {
                const std::string_view pt = ports.size() == 1 ? ports[0] : ports[i];
                if (pt.empty()) continue;
                auto n = parse_port(pt);
                if (!n) {
                    fail("invalid port number: " + quoted(pt) + origin(kw::port));
                    return;
                }
                o.hosts[i].port = *n;
            }
        }

        // User: the string or PGUSER, else the OS user (libpq's pg_fe_getauthname).
        o.user = value_or_empty(kw::user);
        if (o.user.empty()) {
            diagnostics d;
            if (default_user_name(o.user, d)) {
                fail(d.client_message());
                return;
            }
        }
        // Database: the string or PGDATABASE, else the user name.
        o.database = value_or_empty(kw::dbname);
        if (o.database.empty()) o.database = o.user;

        if (const std::string* pw = value_of(kw::password)) o.password = secret(*pw);

        o.require_auth = value_or_empty(kw::require_auth);
        if (!o.require_auth.empty() && !validate_require_auth(o.require_auth, origin(kw::require_auth))) return;

        if (const std::string* cb = value_of(kw::channel_binding)) {
            if (*cb == "disable") o.channel_binding_mode = channel_binding::disable;
            else if (*cb == "prefer") o.channel_binding_mode = channel_binding::prefer;
            else if (*cb == "require") o.channel_binding_mode = channel_binding::require;
            else {
                fail("invalid channel_binding value: " + quoted(*cb) + origin(kw::channel_binding));
                return;
            }
        }

        if (const std::string* m = value_of(kw::sslmode)) {
            if (*m == "disable") o.sslmode = ssl_mode::disable;
            else if (*m == "allow") o.sslmode = ssl_mode::allow;
            else if (*m == "prefer") o.sslmode = ssl_mode::prefer;
            else if (*m == "require") o.sslmode = ssl_mode::require;
            else if (*m == "verify-ca") o.sslmode = ssl_mode::verify_ca;
            else if (*m == "verify-full") o.sslmode = ssl_mode::verify_full;
            else {
                fail("invalid sslmode value: " + quoted(*m) + origin(kw::sslmode));
                return;
            }
        }

        if (const std::string* t = value_of(kw::target_session_attrs)) {
            static constexpr std::array<std::string_view, 6> allowed{"any", "read-write", "read-only", "primary",
                                                                     "standby", "prefer-standby"};
            bool ok = false;
            for (auto a : allowed) ok = ok || *t == a;
            if (!ok) {
                fail("invalid target_session_attrs value: " + quoted(*t) + origin(kw::target_session_attrs));
                return;
            }
            o.target_session_attrs = *t;
        }

        // sslsni: libpq enables SNI when the value starts with '1' and accepts anything; we
        // accept only 0 and 1 so that a typo ("true") does not silently turn SNI off.
        if (const std::string* sni = value_of(kw::sslsni)) {
            if (*sni == "1") o.sslsni = true;
            else if (*sni == "0") o.sslsni = false;
            else {
                fail("invalid sslsni value: " + quoted(*sni) + " (expected 0 or 1)" + origin(kw::sslsni));
                return;
            }
        }

        if (const std::string* t = value_of(kw::connect_timeout)) {
            auto n = parse_int(*t);
            if (!n) {
                fail("invalid integer value " + quoted(*t) + " for connection option \"connect_timeout\"" +
                     origin(kw::connect_timeout));
                return;
            }
            // libpq: non-positive means no timeout; 1 second is raised to 2 (rounding could make
            // the attempt fail almost at once).
            o.connect_timeout = std::chrono::seconds(*n <= 0 ? 0 : (*n == 1 ? 2 : *n));
        }

        o.sslrootcert = value_or_empty(kw::sslrootcert);
        o.sslcert = value_or_empty(kw::sslcert);
        o.sslkey = value_or_empty(kw::sslkey);
        o.options = value_or_empty(kw::options);
        o.application_name = value_or_empty(kw::application_name);
        if (o.application_name.empty()) o.application_name = value_or_empty(kw::fallback_application_name);
    }

    bool validate_require_auth(std::string_view list, const std::string& from)
    {
        static constexpr std::array<std::string_view, 6> methods{"password", "md5", "gss", "sspi", "scram-sha-256",
                                                                 "none"};
        bool negated = false;
        std::vector<std::string_view> seen;
        const auto parts = split_commas(list);
        for (std::size_t i = 0; i < parts.size(); ++i) {
            std::string_view method = parts[i];
            if (!method.empty() && method.front() == '!') {
                if (i > 0 && !negated) {
                    fail("negative require_auth method " + quoted(method) +
                         " cannot be mixed with non-negative methods" + from);
                    return false;
                }
                negated = true;
                method.remove_prefix(1);
            } else if (negated) {
                fail("require_auth method " + quoted(method) + " cannot be mixed with negative methods" + from);
                return false;
            }
            bool known = false;
            for (auto m : methods) known = known || m == method;
            if (!known) {
                fail("invalid require_auth value: " + quoted(method) + from);
                return false;
            }
            for (auto s : seen) {
                if (s == method) {
                    fail("require_auth method " + quoted(parts[i]) + " is specified more than once" + from);
                    return false;
                }
            }
            seen.push_back(method);
        }
        return true;
    }

    const env_lookup& env_;
    std::array<std::optional<raw_value>, static_cast<std::size_t>(kw::count_)> values_{};
    std::vector<std::string> candidates_; // password texts (raw and decoded) for the scrubber
    bool failed_ = false;
    std::string message_;
};

// A value as libpq's keyword/value syntax wants it: bare if it has no space, quote or
// backslash, otherwise single-quoted with \' and \\ escapes.
void append_value(std::string& out, std::string_view v)
{
    bool plain = !v.empty();
    for (char c : v)
        if (is_space(c) || c == '\'' || c == '\\') plain = false;
    if (plain) {
        out += v;
        return;
    }
    out += '\'';
    for (char c : v) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
    }
    out += '\'';
}

} // namespace

bool connect_options::auth_method_allowed(std::string_view method) const
{
    if (require_auth.empty()) return true;
    // require_auth was validated by the parser; code that fills it by hand gets the same reading.
    const bool negated = require_auth.front() == '!';
    std::size_t p = 0;
    for (;;) {
        const std::size_t c = require_auth.find(',', p);
        std::string_view part = std::string_view(require_auth).substr(p, c == std::string::npos ? std::string::npos : c - p);
        if (!part.empty() && part.front() == '!') part.remove_prefix(1);
        if (part == method) return !negated;
        if (c == std::string::npos) break;
        p = c + 1;
    }
    return negated;
}

std::string connect_options::to_string() const
{
    std::string out;
    auto field = [&](std::string_view key, std::string_view value) {
        if (!out.empty()) out += ' ';
        out += key;
        out += '=';
        append_value(out, value);
    };
    std::string host_list, port_list;
    for (std::size_t i = 0; i < hosts.size(); ++i) {
        if (i > 0) {
            host_list += ',';
            port_list += ',';
        }
        host_list += hosts[i].host;
        port_list += std::to_string(hosts[i].port);
    }
    field("host", host_list);
    field("port", port_list);
    field("user", user);
    if (!password.empty()) field("password", redacted);
    field("dbname", database);
    field("sslmode", sleet::to_string(sslmode));
    if (!sslrootcert.empty()) field("sslrootcert", sslrootcert);
    if (!sslcert.empty()) field("sslcert", sslcert);
    if (!sslkey.empty()) field("sslkey", sslkey);
    if (!sslsni) field("sslsni", "0");
    if (channel_binding_mode != channel_binding::prefer) field("channel_binding", sleet::to_string(channel_binding_mode));
    if (!application_name.empty()) field("application_name", application_name);
    if (!options.empty()) field("options", options);
    if (connect_timeout.count() > 0) field("connect_timeout", std::to_string(connect_timeout.count()));
    if (!require_auth.empty()) field("require_auth", require_auth);
    if (target_session_attrs != "any" && !target_session_attrs.empty())
        field("target_session_attrs", target_session_attrs);
    return out;
}

error_code parse_connect_options(std::string_view conninfo, connect_options& out, diagnostics& diag,
                                 const env_lookup& env)
{
    parser p(env);
    return p.run(conninfo, out, diag);
}

connect_options parse_connect_options(std::string_view conninfo, const env_lookup& env)
{
    connect_options out;
    diagnostics diag;
    if (error_code ec = parse_connect_options(conninfo, out, diag, env)) throw error_with_diagnostics(ec, std::move(diag));
    return out;
}

} // namespace sleet
