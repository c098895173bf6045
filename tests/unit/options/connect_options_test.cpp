// Tests for sleet::parse_connect_options: libpq URIs, keyword/value strings, PG* environment
// variables (injected), defaults, validation messages and password redaction.
#include <sleet/connect_options.hpp>

#include <gtest/gtest.h>

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using sleet::channel_binding;
using sleet::host_address;
using sleet::ssl_mode;

using env_map = std::map<std::string, std::string>;

sleet::env_lookup make_env(env_map vars)
{
    return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
        auto it = vars.find(std::string(name));
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

std::string os_user()
{
    const passwd* pw = ::getpwuid(::geteuid());
    return pw ? pw->pw_name : "";
}

// Every field parse_connect_options resolves; `text` is the exact to_string() result.
struct expected_options {
    std::vector<host_address> hosts;
    std::string user;
    std::string password; // empty = no password
    std::string database;
    ssl_mode sslmode = ssl_mode::prefer;
    std::string sslrootcert = {};
    std::string sslcert = {};
    std::string sslkey = {};
    bool sslsni = true;
    channel_binding channel_binding_mode = channel_binding::prefer;
    std::string application_name = {};
    std::string options = {};
    int connect_timeout = 0;
    std::string require_auth = {};
    std::string target_session_attrs = "any";
    std::string text = {};
};

struct parse_case {
    std::string name;
    std::string conninfo;
    env_map env;
    std::optional<expected_options> expected; // nullopt: parsing must fail with `error`
    std::string error = {};                   // the exact client message the user sees
};

// Every password in the table contains this marker; no message or to_string may show it.
constexpr std::string_view marker = "s3cr3t";

std::vector<parse_case> cases()
{
    const std::string u = os_user();
    const std::string sock = "/var/run/postgresql";
    const std::string defaults_text = "host=" + sock + " port=5432 user=" + u + " dbname=" + u + " sslmode=prefer";
    std::vector<parse_case> c;

    // ---------------------------------------------------------------- defaults and environment
    c.push_back({"empty string, no environment: libpq defaults", "", {},
                 expected_options{.hosts = {{sock, 5432}}, .user = u, .password = "", .database = u,
                                  .text = defaults_text}});
    c.push_back({"postgresql:// with nothing after: libpq defaults", "postgresql://", {},
                 expected_options{.hosts = {{sock, 5432}}, .user = u, .password = "", .database = u,
                                  .text = defaults_text}});
    c.push_back({"postgres:/// (empty host and dbname): libpq defaults", "postgres:///", {},
                 expected_options{.hosts = {{sock, 5432}}, .user = u, .password = "", .database = u,
                                  .text = defaults_text}});
    c.push_back({"empty string with every environment variable",
                 "",
                 {{"PGHOST", "db.example.com"}, {"PGPORT", "6543"}, {"PGUSER", "alice"},
                  {"PGPASSWORD", "s3cr3t-%-pw"}, {"PGDATABASE", "shop"}, {"PGSSLMODE", "require"},
                  {"PGSSLROOTCERT", "/etc/ca.pem"}, {"PGSSLCERT", "/c.pem"}, {"PGSSLKEY", "/k.pem"},
                  {"PGSSLSNI", "0"}, {"PGCHANNELBINDING", "require"}, {"PGAPPNAME", "app"},
                  {"PGOPTIONS", "-c geqo=off"}, {"PGCONNECT_TIMEOUT", "10"}, {"PGREQUIREAUTH", "scram-sha-256"},
                  {"PGTARGETSESSIONATTRS", "read-write"}},
                 expected_options{.hosts = {{"db.example.com", 6543}}, .user = "alice", .password = "s3cr3t-%-pw",
                                  .database = "shop", .sslmode = ssl_mode::require, .sslrootcert = "/etc/ca.pem",
                                  .sslcert = "/c.pem", .sslkey = "/k.pem", .sslsni = false,
                                  .channel_binding_mode = channel_binding::require, .application_name = "app",
                                  .options = "-c geqo=off", .connect_timeout = 10, .require_auth = "scram-sha-256",
                                  .target_session_attrs = "read-write",
                                  .text = "host=db.example.com port=6543 user=alice password=******** dbname=shop "
                                          "sslmode=require sslrootcert=/etc/ca.pem sslcert=/c.pem sslkey=/k.pem "
                                          "sslsni=0 channel_binding=require application_name=app "
                                          "options='-c geqo=off' connect_timeout=10 require_auth=scram-sha-256 "
                                          "target_session_attrs=read-write"}});
    c.push_back({"whitespace-only string takes the environment", " \t\n ", {{"PGUSER", "carol"}},
                 expected_options{.hosts = {{sock, 5432}}, .user = "carol", .password = "", .database = "carol",
                                  .text = "host=" + sock + " port=5432 user=carol dbname=carol sslmode=prefer"}});
    c.push_back({"string beats environment, environment beats defaults", "host=h1 user=bob",
                 {{"PGHOST", "envhost"}, {"PGUSER", "envuser"}, {"PGPORT", "7777"}, {"PGDATABASE", "envdb"},
                  {"PGPASSWORD", "s3cr3t-env"}, {"PGSSLMODE", "disable"}},
                 expected_options{.hosts = {{"h1", 7777}}, .user = "bob", .password = "s3cr3t-env",
                                  .database = "envdb", .sslmode = ssl_mode::disable,
                                  .text = "host=h1 port=7777 user=bob password=******** dbname=envdb sslmode=disable"}});
    c.push_back({"URI parts beat the environment", "postgresql://bob:s3cr3t@h1:5433/db1",
                 {{"PGHOST", "envhost"}, {"PGUSER", "envuser"}, {"PGPORT", "7777"}, {"PGDATABASE", "envdb"},
                  {"PGPASSWORD", "other"}},
                 expected_options{.hosts = {{"h1", 5433}}, .user = "bob", .password = "s3cr3t", .database = "db1",
                                  .text = "host=h1 port=5433 user=bob password=******** dbname=db1 sslmode=prefer"}});
    c.push_back({"URI without port: PGPORT applies", "postgresql://h1/db", {{"PGPORT", "7777"}},
                 expected_options{.hosts = {{"h1", 7777}}, .user = u, .password = "", .database = "db",
                                  .text = "host=h1 port=7777 user=" + u + " dbname=db sslmode=prefer"}});
    c.push_back({"URI with two hosts and no port stores port \",\" (libpq): PGPORT ignored", "postgresql://h1,h2/db",
                 {{"PGPORT", "7777"}},
                 expected_options{.hosts = {{"h1", 5432}, {"h2", 5432}}, .user = u, .password = "", .database = "db",
                                  .text = "host=h1,h2 port=5432,5432 user=" + u + " dbname=db sslmode=prefer"}});
    c.push_back({"URI with empty dbname: PGDATABASE applies", "postgresql://h/", {{"PGDATABASE", "envdb"}},
                 expected_options{.hosts = {{"h", 5432}}, .user = u, .password = "", .database = "envdb",
                                  .text = "host=h port=5432 user=" + u + " dbname=envdb sslmode=prefer"}});
    c.push_back({"explicit empty host in kv means the default socket, not PGHOST", "host='' user=x",
                 {{"PGHOST", "envhost"}},
                 expected_options{.hosts = {{sock, 5432}}, .user = "x", .password = "", .database = "x",
                                  .text = "host=" + sock + " port=5432 user=x dbname=x sslmode=prefer"}});

    // ---------------------------------------------------------------- URIs
    c.push_back({"postgres:// full URI with percent-encoded password",
                 "postgres://alice:s3cr3t-%25-pw@db.example.com:6543/shop", {},
                 expected_options{.hosts = {{"db.example.com", 6543}}, .user = "alice", .password = "s3cr3t-%-pw",
                                  .database = "shop",
                                  .text = "host=db.example.com port=6543 user=alice password=******** dbname=shop "
                                          "sslmode=prefer"}});
    c.push_back({"percent-decoding in user, password and dbname",
                 "postgresql://al%40ice:s3cr3t%2F%3A%40pw@host/my%20db", {},
                 expected_options{.hosts = {{"host", 5432}}, .user = "al@ice", .password = "s3cr3t/:@pw",
                                  .database = "my db",
                                  .text = "host=host port=5432 user=al@ice password=******** dbname='my db' "
                                          "sslmode=prefer"}});
    c.push_back({"unencoded '@' and ':' in the password: the last '@' ends the user info",
                 "postgresql://bob:s3cr3t@x:y@h/db", {},
                 expected_options{.hosts = {{"h", 5432}}, .user = "bob", .password = "s3cr3t@x:y", .database = "db",
                                  .text = "host=h port=5432 user=bob password=******** dbname=db sslmode=prefer"}});
    c.push_back({"IPv6 literal with port", "postgresql://[::1]:5433/db", {},
                 expected_options{.hosts = {{"::1", 5433}}, .user = u, .password = "", .database = "db",
                                  .text = "host=::1 port=5433 user=" + u + " dbname=db sslmode=prefer"}});
    c.push_back({"two IPv6 literals, zone id percent-encoded, second with port",
                 "postgresql://[2001:db8::1],[fe80::1%25eth0]:6000/db", {},
                 expected_options{.hosts = {{"2001:db8::1", 5432}, {"fe80::1%eth0", 6000}}, .user = u, .password = "",
                                  .database = "db",
                                  .text = "host=2001:db8::1,fe80::1%eth0 port=5432,6000 user=" + u +
                                          " dbname=db sslmode=prefer"}});
    c.push_back({"unix socket directory percent-encoded in the host", "postgresql://%2Fvar%2Frun%2Fpostgresql/db", {},
                 expected_options{.hosts = {{"/var/run/postgresql", 5432}}, .user = u, .password = "",
                                  .database = "db",
                                  .text = "host=/var/run/postgresql port=5432 user=" + u + " dbname=db sslmode=prefer"}});
    c.push_back({"unix socket directory as ?host= query parameter", "postgresql:///db?host=/tmp/sock&port=5555", {},
                 expected_options{.hosts = {{"/tmp/sock", 5555}}, .user = u, .password = "", .database = "db",
                                  .text = "host=/tmp/sock port=5555 user=" + u + " dbname=db sslmode=prefer"}});
    c.push_back({"query parameters override the URI parts",
                 "postgresql://u1:s3cr3t-1@h1:1111/db1?user=u2&host=h2&port=2222&dbname=db2&password=s3cr3t-2", {},
                 expected_options{.hosts = {{"h2", 2222}}, .user = "u2", .password = "s3cr3t-2", .database = "db2",
                                  .text = "host=h2 port=2222 user=u2 password=******** dbname=db2 sslmode=prefer"}});
    c.push_back({"three hosts in a URI, ports per host", "postgresql://h1:5432,h2:5433,h3/db", {},
                 expected_options{.hosts = {{"h1", 5432}, {"h2", 5433}, {"h3", 5432}}, .user = u, .password = "",
                                  .database = "db",
                                  .text = "host=h1,h2,h3 port=5432,5433,5432 user=" + u + " dbname=db sslmode=prefer"}});
    c.push_back({"URI query with sslmode, sslrootcert, application_name, options, connect_timeout=1 (becomes 2)",
                 "postgresql://h/db?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=my%20app"
                 "&options=-c%20search_path%3Dx&connect_timeout=1",
                 {},
                 expected_options{.hosts = {{"h", 5432}}, .user = u, .password = "", .database = "db",
                                  .sslmode = ssl_mode::verify_full, .sslrootcert = "/etc/ca.pem",
                                  .application_name = "my app", .options = "-c search_path=x", .connect_timeout = 2,
                                  .text = "host=h port=5432 user=" + u +
                                          " dbname=db sslmode=verify-full sslrootcert=/etc/ca.pem "
                                          "application_name='my app' options='-c search_path=x' connect_timeout=2"}});
    c.push_back({"ssl=true is libpq's JDBC spelling of sslmode=require", "postgresql://h/db?ssl=true", {},
                 expected_options{.hosts = {{"h", 5432}}, .user = u, .password = "", .database = "db",
                                  .sslmode = ssl_mode::require,
                                  .text = "host=h port=5432 user=" + u + " dbname=db sslmode=require"}});
    c.push_back({"client certificate, sslsni=0, channel_binding=disable in a URI",
                 "postgresql://h/db?sslcert=%2Fc.pem&sslkey=%2Fk.pem&sslsni=0&channel_binding=disable", {},
                 expected_options{.hosts = {{"h", 5432}}, .user = u, .password = "", .database = "db",
                                  .sslcert = "/c.pem", .sslkey = "/k.pem", .sslsni = false,
                                  .channel_binding_mode = channel_binding::disable,
                                  .text = "host=h port=5432 user=" + u +
                                          " dbname=db sslmode=prefer sslcert=/c.pem sslkey=/k.pem sslsni=0 "
                                          "channel_binding=disable"}});

    // ---------------------------------------------------------------- keyword/value strings
    c.push_back({"kv: quoting and backslash escapes",
                 R"(host=h user='bob smith' password='s3cr3t \' \\ pw' dbname = 'my db' application_name=a\ b)", {},
                 expected_options{.hosts = {{"h", 5432}}, .user = "bob smith", .password = R"(s3cr3t ' \ pw)",
                                  .database = "my db", .application_name = "a b",
                                  .text = "host=h port=5432 user='bob smith' password=******** dbname='my db' "
                                          "sslmode=prefer application_name='a b'"}});
    c.push_back({"kv: whitespace around '=' and between pairs", "  host =  h \t port=\n5433  ", {},
                 expected_options{.hosts = {{"h", 5433}}, .user = u, .password = "", .database = u,
                                  .text = "host=h port=5433 user=" + u + " dbname=" + u + " sslmode=prefer"}});
    c.push_back({"kv: two hosts, two ports", "host=a,b port=5432,5433 user=x", {},
                 expected_options{.hosts = {{"a", 5432}, {"b", 5433}}, .user = "x", .password = "", .database = "x",
                                  .text = "host=a,b port=5432,5433 user=x dbname=x sslmode=prefer"}});
    c.push_back({"kv: one port applies to every host", "host=a,b,c port=6000 user=x", {},
                 expected_options{.hosts = {{"a", 6000}, {"b", 6000}, {"c", 6000}}, .user = "x", .password = "",
                                  .database = "x",
                                  .text = "host=a,b,c port=6000,6000,6000 user=x dbname=x sslmode=prefer"}});
    c.push_back({"kv: empty host element is the default socket", "host=,h2 port=,5433 user=x", {},
                 expected_options{.hosts = {{sock, 5432}, {"h2", 5433}}, .user = "x", .password = "",
                                  .database = "x",
                                  .text = "host=" + sock + ",h2 port=5432,5433 user=x dbname=x sslmode=prefer"}});
    c.push_back({"kv: abstract unix socket", "host=@pgsock user=x", {},
                 expected_options{.hosts = {{"@pgsock", 5432}}, .user = "x", .password = "", .database = "x",
                                  .text = "host=@pgsock port=5432 user=x dbname=x sslmode=prefer"}});
    c.push_back({"kv: last duplicate keyword wins", "port=1 port=2 user=x", {},
                 expected_options{.hosts = {{sock, 2}}, .user = "x", .password = "", .database = "x",
                                  .text = "host=" + sock + " port=2 user=x dbname=x sslmode=prefer"}});
    c.push_back({"kv: negative connect_timeout means none (libpq)", "connect_timeout=-5 user=x", {},
                 expected_options{.hosts = {{sock, 5432}}, .user = "x", .password = "", .database = "x",
                                  .text = "host=" + sock + " port=5432 user=x dbname=x sslmode=prefer"}});
    c.push_back({"kv: negated require_auth list", "require_auth=!password,!md5 user=x", {},
                 expected_options{.hosts = {{sock, 5432}}, .user = "x", .password = "", .database = "x",
                                  .require_auth = "!password,!md5",
                                  .text = "host=" + sock +
                                          " port=5432 user=x dbname=x sslmode=prefer require_auth=!password,!md5"}});
    c.push_back({"kv: fallback_application_name used when application_name is unset",
                 "fallback_application_name=fb user=x", {},
                 expected_options{.hosts = {{sock, 5432}}, .user = "x", .password = "", .database = "x",
                                  .application_name = "fb",
                                  .text = "host=" + sock + " port=5432 user=x dbname=x sslmode=prefer application_name=fb"}});
    c.push_back({"kv: requiressl=1 is sslmode=require (deprecated libpq keyword)", "requiressl=1 user=x", {},
                 expected_options{.hosts = {{sock, 5432}}, .user = "x", .password = "", .database = "x",
                                  .sslmode = ssl_mode::require,
                                  .text = "host=" + sock + " port=5432 user=x dbname=x sslmode=require"}});
    c.push_back({"kv: target_session_attrs=prefer-standby", "target_session_attrs=prefer-standby user=x", {},
                 expected_options{.hosts = {{sock, 5432}}, .user = "x", .password = "", .database = "x",
                                  .target_session_attrs = "prefer-standby",
                                  .text = "host=" + sock +
                                          " port=5432 user=x dbname=x sslmode=prefer target_session_attrs=prefer-standby"}});
    // Every sslmode value.
    const std::pair<const char*, ssl_mode> modes[] = {
        {"disable", ssl_mode::disable}, {"allow", ssl_mode::allow},         {"prefer", ssl_mode::prefer},
        {"require", ssl_mode::require}, {"verify-ca", ssl_mode::verify_ca}, {"verify-full", ssl_mode::verify_full}};
    for (const auto& [text, mode] : modes) {
        c.push_back({std::string("kv: sslmode=") + text, std::string("host=h user=x password=s3cr3t sslmode=") + text, {},
                     expected_options{.hosts = {{"h", 5432}}, .user = "x", .password = "s3cr3t", .database = "x",
                                      .sslmode = mode,
                                      .text = std::string("host=h port=5432 user=x password=******** dbname=x sslmode=") +
                                              text}});
    }

    // ---------------------------------------------------------------- malformed
    auto bad = [&](std::string name, std::string conninfo, env_map env, std::string error) {
        c.push_back({std::move(name), std::move(conninfo), std::move(env), std::nullopt, std::move(error)});
    };
    bad("bad port (letters)", "host=h port=abc password=s3cr3t", {}, R"(invalid port number: "abc")");
    bad("bad port 0", "port=0", {}, R"(invalid port number: "0")");
    bad("bad port 65536 in a URI", "postgresql://u:s3cr3t@h:65536/db", {}, R"(invalid port number: "65536")");
    bad("bad port from PGPORT", "", {{"PGPORT", "54x"}, {"PGPASSWORD", "s3cr3t"}},
        R"(invalid port number: "54x" (from environment variable PGPORT))");
    bad("port count does not match host count", "host=a,b,c port=1,2", {}, "could not match 2 port numbers to 3 hosts");
    bad("bad sslmode", "sslmode=foo password=s3cr3t", {}, R"(invalid sslmode value: "foo")");
    bad("bad sslmode in a URI query", "postgresql://h/db?sslmode=verify_full", {}, R"(invalid sslmode value: "verify_full")");
    bad("explicit empty sslmode", "sslmode=''", {}, R"(invalid sslmode value: "")");
    bad("bad sslmode from PGSSLMODE", "host=h", {{"PGSSLMODE", "on"}},
        R"(invalid sslmode value: "on" (from environment variable PGSSLMODE))");
    bad("bad channel_binding", "channel_binding=maybe", {}, R"(invalid channel_binding value: "maybe")");
    bad("connect_timeout not an integer", "connect_timeout=10s", {},
        R"(invalid integer value "10s" for connection option "connect_timeout")");
    bad("unknown keyword", "host=h foo=bar password=s3cr3t", {}, R"(invalid connection option "foo")");
    bad("unknown URI query parameter", "postgresql://u:s3cr3t@h/db?foo=bar", {}, R"(invalid URI query parameter: "foo")");
    bad("ssl=false is not libpq (only ssl=true is)", "postgresql://h/db?ssl=false", {},
        R"(invalid URI query parameter: "ssl")");
    bad("libpq keyword sleet does not implement", "hostaddr=127.0.0.1", {},
        R"(connection option "hostaddr" is not supported by sleet)");
    bad("unterminated quote in the password", "host=h password='s3cr3t-%-pw", {},
        "unterminated quoted string in connection info string");
    bad("missing '='", "host", {}, R"(missing "=" after "host" in connection info string)");
    bad("unquoted space in the password: the rest is not shown", "password=s3cr3t -%-pw host=h", {},
        "missing \"=\" after a token that follows the password value (not shown; quote passwords that contain "
        "spaces) in connection info string");
    bad("unknown keyword right after the password is not shown", "password=s3cr3t pw=x", {},
        "invalid connection option after the password (not shown: it may be part of the password; quote "
        "passwords that contain spaces)");
    bad("invalid percent-escape inside the password", "postgres://u:s3cr3t%ZZ@h/db", {},
        "invalid percent-encoded token in the password");
    bad("%00 inside the password", "postgres://u:s3cr3t%00@h/db", {}, "forbidden value %00 in the password");
    bad("invalid percent-escape in a ?password= value", "postgresql://h/db?password=s3cr3t%G1", {},
        "invalid percent-encoded token in the password");
    bad("invalid percent-escape in the user", "postgresql://u%4:s3cr3t@h/db", {},
        R"(invalid percent-encoded token: "u%4")");
    bad("invalid percent-escape in the dbname", "postgresql://h/d%zb", {}, R"(invalid percent-encoded token: "d%zb")");
    bad("%00 in the host", "postgresql://h%00/db", {}, R"(forbidden value %00 in percent-encoded value: "h%00")");
    bad("unterminated IPv6 literal", "postgresql://u:s3cr3t@[::1/db", {},
        R"(end of string reached when looking for matching "]" in IPv6 host address in URI)");
    bad("empty IPv6 literal", "postgresql://[]/db", {}, "IPv6 host address may not be empty in URI");
    bad("junk after an IPv6 literal: position, but not the URI (it holds the password)",
        "postgresql://u:s3cr3t@[::1]x/db", {},
        R"(unexpected character "x" at position 28 in URI (expected ":" or "/"))");
    bad("URI query parameter without '='", "postgresql://h/db?sslmode", {},
        R"(missing key/value separator "=" in URI query parameter: "sslmode")");
    bad("URI query value with a second '=' (libpq wants %3D)", "postgresql://h/db?options=-c%20a=b", {},
        R"(extra key/value separator "=" in URI query parameter: "options")");
    bad("unencoded '&' in a ?password= value: the rest is not shown",
        "postgresql://h/db?password=s3cr3t&pw&user=x", {},
        "missing key/value separator \"=\" in URI query parameter: (not shown: it follows the password value)");
    bad("unknown require_auth method", "require_auth=kerberos", {}, R"(invalid require_auth value: "kerberos")");
    bad("require_auth mixes negated and plain methods", "require_auth=md5,!password", {},
        R"(negative require_auth method "!password" cannot be mixed with non-negative methods)");
    bad("require_auth plain after negated", "require_auth=!md5,password", {},
        R"(require_auth method "password" cannot be mixed with negative methods)");
    bad("require_auth duplicate", "require_auth=md5,md5", {}, R"(require_auth method "md5" is specified more than once)");
    bad("bad target_session_attrs", "target_session_attrs=master", {}, R"(invalid target_session_attrs value: "master")");
    bad("bad sslsni", "sslsni=true", {}, R"(invalid sslsni value: "true" (expected 0 or 1))");
    bad("NUL byte in the string", std::string("host=h\0x", 8), {}, "connection string contains a NUL byte");
    return c;
}

void expect_no_password(std::string_view text, const std::string& where)
{
    EXPECT_EQ(text.find(marker), std::string_view::npos) << where << " shows the password: " << text;
}

TEST(connect_options, table)
{
    const auto all = cases();
    ASSERT_GE(all.size(), 40u);
    for (const auto& tc : all) {
        SCOPED_TRACE(tc.name + "  [" + tc.conninfo + "]");
        const auto env = make_env(tc.env);

        // error_code overload
        sleet::connect_options o;
        sleet::diagnostics diag;
        const sleet::error_code ec = sleet::parse_connect_options(tc.conninfo, o, diag, env);
        expect_no_password(diag.client_message(), "diagnostics");

        // throwing overload
        std::optional<sleet::connect_options> thrown_result;
        std::string what;
        sleet::error_code thrown_code;
        try {
            thrown_result = sleet::parse_connect_options(tc.conninfo, env);
        } catch (const sleet::error_with_diagnostics& e) {
            what = e.what();
            thrown_code = e.code();
            expect_no_password(e.get_diagnostics().client_message(), "exception diagnostics");
        }
        expect_no_password(what, "what()");

        if (!tc.expected) {
            EXPECT_EQ(ec, sleet::errc::invalid_connection_string);
            EXPECT_EQ(diag.client_message(), tc.error);
            EXPECT_FALSE(thrown_result.has_value());
            EXPECT_EQ(thrown_code, sleet::errc::invalid_connection_string);
            // The user sees "<message> [sleet.client:20]".
            EXPECT_EQ(what.rfind(tc.error, 0), 0u) << what;
            continue;
        }

        ASSERT_FALSE(ec) << diag.client_message();
        EXPECT_TRUE(diag.empty());
        ASSERT_TRUE(thrown_result.has_value()) << what;
        const auto& x = *tc.expected;
        for (const sleet::connect_options* r : {&o, &*thrown_result}) {
            EXPECT_EQ(r->hosts, x.hosts);
            EXPECT_EQ(r->user, x.user);
            EXPECT_EQ(r->password.reveal(), x.password);
            EXPECT_EQ(r->database, x.database);
            EXPECT_EQ(r->sslmode, x.sslmode);
            EXPECT_EQ(r->sslrootcert, x.sslrootcert);
            EXPECT_EQ(r->sslcert, x.sslcert);
            EXPECT_EQ(r->sslkey, x.sslkey);
            EXPECT_EQ(r->sslsni, x.sslsni);
            EXPECT_EQ(r->channel_binding_mode, x.channel_binding_mode);
            EXPECT_EQ(r->application_name, x.application_name);
            EXPECT_EQ(r->options, x.options);
            EXPECT_EQ(r->connect_timeout, std::chrono::seconds(x.connect_timeout));
            EXPECT_EQ(r->require_auth, x.require_auth);
            EXPECT_EQ(r->target_session_attrs, x.target_session_attrs);
            EXPECT_TRUE(r->extra_startup_params.empty());
            EXPECT_EQ(r->to_string(), x.text);
            expect_no_password(r->to_string(), "to_string()");
        }
    }
}

// to_string() is itself a valid connection string that parses back to the same options (the
// password aside: it reads back as the literal "********").
TEST(connect_options, to_string_round_trips)
{
    for (const auto& tc : cases()) {
        if (!tc.expected) continue;
        SCOPED_TRACE(tc.name);
        const auto first = sleet::parse_connect_options(tc.conninfo, make_env(tc.env));
        const auto again = sleet::parse_connect_options(first.to_string(), sleet::empty_environment());
        EXPECT_EQ(again.to_string(), first.to_string());
        EXPECT_EQ(again.hosts, first.hosts);
        EXPECT_EQ(again.user, first.user);
        EXPECT_EQ(again.database, first.database);
        EXPECT_EQ(again.password.reveal(), first.password.empty() ? "" : "********");
    }
}

TEST(connect_options, to_string_redacts_the_password)
{
    sleet::connect_options o;
    o.hosts = {{"h", 5432}};
    o.user = "u";
    o.database = "d";
    o.password = sleet::secret("s3cr3t-%-pw");
    // What a log line shows:
    EXPECT_EQ(o.to_string(), "host=h port=5432 user=u password=******** dbname=d sslmode=prefer");
    o.password = sleet::secret();
    EXPECT_EQ(o.to_string(), "host=h port=5432 user=u dbname=d sslmode=prefer");
}

TEST(connect_options, error_leaves_output_unchanged)
{
    sleet::connect_options o;
    o.user = "kept";
    sleet::diagnostics diag;
    EXPECT_EQ(sleet::parse_connect_options("port=x", o, diag, sleet::empty_environment()),
              sleet::errc::invalid_connection_string);
    EXPECT_EQ(o.user, "kept");
    EXPECT_TRUE(o.hosts.empty());
}

TEST(connect_options, process_environment_reads_getenv)
{
    ASSERT_EQ(::setenv("PGAPPNAME", "from-process-env", 1), 0);
    const auto env = sleet::process_environment();
    EXPECT_EQ(env("PGAPPNAME"), std::optional<std::string>("from-process-env"));
    EXPECT_EQ(sleet::parse_connect_options("user=x", env).application_name, "from-process-env");
    ASSERT_EQ(::unsetenv("PGAPPNAME"), 0);
    EXPECT_EQ(env("PGAPPNAME"), std::nullopt);
}

TEST(connect_options, default_user_is_the_os_user)
{
    std::string name;
    sleet::diagnostics diag;
    ASSERT_FALSE(sleet::default_user_name(name, diag));
    EXPECT_EQ(name, os_user());
    EXPECT_FALSE(name.empty());
}

TEST(connect_options, auth_method_allowed)
{
    sleet::connect_options o;
    EXPECT_TRUE(o.auth_method_allowed("password")); // empty require_auth: anything goes
    EXPECT_TRUE(o.auth_method_allowed("none"));
    o.require_auth = "scram-sha-256";
    EXPECT_TRUE(o.auth_method_allowed("scram-sha-256"));
    EXPECT_FALSE(o.auth_method_allowed("md5"));
    EXPECT_FALSE(o.auth_method_allowed("none")); // a listed method means the server must authenticate
    o.require_auth = "!password,!md5";
    EXPECT_FALSE(o.auth_method_allowed("password"));
    EXPECT_FALSE(o.auth_method_allowed("md5"));
    EXPECT_TRUE(o.auth_method_allowed("scram-sha-256"));
    EXPECT_TRUE(o.auth_method_allowed("none"));
    o.require_auth = "!none";
    EXPECT_FALSE(o.auth_method_allowed("none"));
    EXPECT_TRUE(o.auth_method_allowed("md5"));
}

TEST(host_address, unix_socket_path)
{
    EXPECT_TRUE((host_address{"/var/run/postgresql", 5432}.is_unix_socket()));
    EXPECT_TRUE((host_address{"@abstract", 5432}.is_unix_socket()));
    EXPECT_FALSE((host_address{"::1", 5432}.is_unix_socket()));
    EXPECT_FALSE((host_address{"localhost", 5432}.is_unix_socket()));
    EXPECT_EQ((host_address{"/var/run/postgresql", 5432}.unix_socket_path()), "/var/run/postgresql/.s.PGSQL.5432");
    EXPECT_EQ((host_address{"/tmp/", 5433}.unix_socket_path()), "/tmp/.s.PGSQL.5433");
    EXPECT_EQ((host_address{"@abstract", 5432}.unix_socket_path()), "@abstract/.s.PGSQL.5432");
}

// ------------------------------------------------------------------------------------ secret

template <class T>
concept streamable = requires(std::ostream& os, const T& v) { os << v; };

static_assert(streamable<std::string>, "sanity check of the concept");
static_assert(!streamable<sleet::secret>, "a secret must not be printable with operator<<");
static_assert(!std::is_convertible_v<sleet::secret, std::string>, "no implicit conversion to std::string");
static_assert(!std::is_convertible_v<sleet::secret, std::string_view>, "no implicit conversion to std::string_view");
static_assert(!std::is_convertible_v<sleet::secret, const char*>, "no implicit conversion to const char*");
static_assert(!std::is_convertible_v<std::string, sleet::secret>, "constructing a secret is explicit");

TEST(secret, value_semantics)
{
    sleet::secret a("s3cr3t-%-pw");
    EXPECT_EQ(a.reveal(), "s3cr3t-%-pw");
    EXPECT_FALSE(a.empty());
    sleet::secret b = a;
    EXPECT_TRUE(a == b);
    sleet::secret c = std::move(b);
    EXPECT_EQ(c.reveal(), "s3cr3t-%-pw");
    EXPECT_TRUE(b.empty()); // NOLINT(bugprone-use-after-move): moved-from secrets are wiped and empty
    EXPECT_FALSE(a == sleet::secret("other"));
    EXPECT_FALSE(a == sleet::secret("s3cr3t-%-pX"));
    c.clear();
    EXPECT_TRUE(c.empty());
    EXPECT_TRUE(sleet::secret() == sleet::secret(""));
    a = sleet::secret("short");
    EXPECT_EQ(a.reveal(), "short");
}

} // namespace
