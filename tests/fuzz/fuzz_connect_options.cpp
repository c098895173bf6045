// libFuzzer target: the connection-option parser (URL and keyword/value forms, PG* environment).
//
// Input: byte 0 selects the environment (none, or PG* variables taken from the tail after a
// 0xFF separator, NUL-separated values for PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE,
// PGSSLMODE, PGOPTIONS, PGCONNECT_TIMEOUT); the rest is the connection string.
// Properties: no crash; errors carry a message; a successful parse prints (to_string) without the
// password, and the printed form parses back to the same options (password aside).
#include <sleet/connect_options.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {
void check(bool ok)
{
    if (!ok) __builtin_trap();
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1) return 0;
    std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::array<std::string, 8> env_values;
    std::array<bool, 8> env_set{};
    if (data[0] & 1) {
        auto sep = in.find('\xff');
        if (sep != std::string_view::npos) {
            std::string_view tail = in.substr(sep + 1);
            in = in.substr(0, sep);
            for (std::size_t i = 0; i < env_values.size() && !tail.empty(); ++i) {
                auto nul = tail.find('\0');
                env_values[i] = std::string(tail.substr(0, nul));
                env_set[i] = true;
                tail = nul == std::string_view::npos ? std::string_view{} : tail.substr(nul + 1);
            }
        }
    }
    static constexpr std::array<std::string_view, 8> names = {"PGHOST", "PGPORT", "PGUSER", "PGPASSWORD",
                                                               "PGDATABASE", "PGSSLMODE", "PGOPTIONS", "PGCONNECT_TIMEOUT"};
    sleet::env_lookup env = [&](std::string_view name) -> std::optional<std::string> {
        if (name == "USER" || name == "LOGNAME") return std::string("fuzz");
        for (std::size_t i = 0; i < names.size(); ++i)
            if (name == names[i] && env_set[i]) return env_values[i];
        return std::nullopt;
    };
    sleet::connect_options o;
    sleet::diagnostics d;
    auto ec = sleet::parse_connect_options(in, o, d, env);
    if (ec) {
        check(!d.client_message().empty());
        return 0;
    }
    check(!o.hosts.empty());
    const std::string printed = o.to_string();
    // The password never shows: the text is the same whatever the password is.
    if (!o.password.empty()) {
        sleet::connect_options other = o;
        other.password = sleet::secret("a-different-password");
        check(other.to_string() == printed);
    }
    // The printed form parses back to the same options (password aside).
    sleet::connect_options again;
    sleet::diagnostics d2;
    check(!sleet::parse_connect_options(printed, again, d2, sleet::empty_environment()));
    check(again.hosts == o.hosts);
    check(again.user == o.user && again.database == o.database);
    check(again.sslmode == o.sslmode && again.channel_binding_mode == o.channel_binding_mode);
    check(again.sslrootcert == o.sslrootcert && again.sslcert == o.sslcert && again.sslkey == o.sslkey);
    check(again.sslsni == o.sslsni && again.application_name == o.application_name && again.options == o.options);
    check(again.connect_timeout == o.connect_timeout && again.require_auth == o.require_auth);
    check(again.target_session_attrs == o.target_session_attrs);
    check(again.password.empty() == o.password.empty());
    return 0;
}
