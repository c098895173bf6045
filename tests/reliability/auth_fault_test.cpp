// Reliability and security scenarios 7, 11, 12 and 13 of issue 7: faults during TLS and
// authentication, refused downgrades, malformed SCRAM from a scripted server, and passwords
// that must never appear in any error text.
#include "fake_server.hpp"
#include "reliability.hpp"

#include <sleet/wire/auth.hpp>
#include <sleet/wire/backend.hpp>

#include <cstdio>
#include <optional>
#include <vector>

namespace sleet::test {
namespace {

/// Every byte except RFC 3986 unreserved characters as %XX.
std::string percent_encode(std::string_view s)
{
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char ch : s) {
        if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            out.push_back(static_cast<char>(ch));
        } else {
            out.push_back('%');
            out.push_back(hex[ch >> 4]);
            out.push_back(hex[ch & 15]);
        }
    }
    return out;
}

/// A libpq key=value value in single quotes (\' and \\ escaped).
std::string kv_quote(std::string_view s)
{
    std::string out = "'";
    for (char ch : s) {
        if (ch == '\'' || ch == '\\') out.push_back('\\');
        out.push_back(ch);
    }
    return out + "'";
}

/// Fails the test if `text` contains `password` in any spelling a leak could take.
void expect_no_password(std::string_view text, std::string_view password, std::string_view where)
{
    EXPECT_EQ(text.find(password), std::string_view::npos) << where << " contains the password: " << text;
    const auto enc = percent_encode(password);
    if (enc != password) {
        EXPECT_EQ(text.find(enc), std::string_view::npos) << where << " contains the encoded password";
    }
}

// ---------------------------------------------------------------------------------------------
// Scenario 7: connection reset during the TLS handshake and during SCRAM.
// ---------------------------------------------------------------------------------------------

struct connect_outcome {
    error_code ec;
    std::string message;  // diagnostics client message
    std::string what;     // the exception text
};

connect_outcome connect_once(const std::string& conninfo, connection_params cp = {})
{
    connect_outcome out;
    run([&]() -> asio::awaitable<void> {
        connection c(co_await asio::this_coro::executor, cp);
        try {
            co_await c.async_connect(conninfo);
        } catch (const error_with_diagnostics& e) {
            out.ec = e.code();
            const auto& d = e.get_diagnostics();
            out.message = d.server_error() ? d.server_error()->to_string() : d.client_message();
            out.what = e.what();
        }
    });
    return out;
}

// Expected: the TLS handshake fails (the proxy resets the connection 40 bytes into the
// server's TLS answer, or 50 bytes into the client's ClientHello) with
// errc::tls_handshake_failed and "TLS handshake with "127.0.0.1" port <p> failed: <reason>";
// the password appears nowhere; exactly one connection attempt reaches the proxy (no retry
// storm: sslmode=require does not fall back to plaintext, and nothing retries in a loop).
TEST(reliability, s07_connection_reset_during_tls_handshake_clear_error_no_password_one_attempt)
{
    for (auto dir : {chaos_proxy::direction::to_client, chaos_proxy::direction::to_server}) {
        chaos_proxy proxy(server().host(), server().port());
        // to_client: 'S' then 40 bytes of the ServerHello; to_server: SSLRequest (8) + 50 bytes.
        proxy.drop_after(dir == chaos_proxy::direction::to_client ? 41 : 58, dir);
        auto r = connect_once(proxy_url(proxy, scram_user, scram_pw, "sslmode=require&connect_timeout=10"));
        EXPECT_EQ(r.ec, make_error_code(errc::tls_handshake_failed)) << r.ec.message() << " / " << r.message;
        const std::string prefix = "TLS handshake with \"127.0.0.1\" port " + std::to_string(proxy.port()) + " failed: ";
        EXPECT_EQ(r.message.substr(0, prefix.size()), prefix) << r.message;
        expect_no_password(r.message, scram_pw, "diagnostics");
        expect_no_password(r.what, scram_pw, "exception text");
        EXPECT_EQ(proxy.stats().accepted, 1u) << "a failed handshake must not be retried";
        std::printf("[s07 tls %s] %s\n", dir == chaos_proxy::direction::to_client ? "to_client" : "to_server", r.what.c_str());
    }
}

/// Offsets of each message start in a backend byte stream (after `skip` untyped bytes).
std::vector<std::pair<char, std::size_t>> message_starts(std::string_view bytes, std::size_t skip = 0)
{
    std::vector<std::pair<char, std::size_t>> out;
    std::size_t off = skip;
    while (off < bytes.size()) {
        auto r = wire::split_message(bytes.substr(off));
        if (r.status != wire::split_result::status_t::message) break;
        out.emplace_back(r.msg.type, off);
        off += r.consumed;
    }
    return out;
}

// Expected: the SCRAM exchange is cut (the proxy resets the connection in the middle of the
// server's SASLContinue, of its SASLFinal, or of the client's SASLResponse); the connect fails
// with a clear I/O error ("server closed the connection unexpectedly" or "could not receive
// data from server: Connection reset by peer"), never with a success; the password appears
// nowhere (diagnostics, exception text, bytes on the wire); one attempt only.
TEST(reliability, s07_connection_reset_during_scram_clear_error_no_password_one_attempt)
{
    // A clean exchange first, to find where the SCRAM messages are.
    std::string to_client, to_server;
    {
        chaos_proxy proxy(server().host(), server().port());
        auto ok = connect_once(proxy_url(proxy, scram_user, scram_pw));
        ASSERT_FALSE(ok.ec) << ok.what;
        to_client = proxy.captured_to_client();
        to_server = proxy.captured_to_server();
        expect_no_password(to_server, scram_pw, "bytes sent to the server");
    }
    auto backend = message_starts(to_client);
    ASSERT_GE(backend.size(), 3u);
    ASSERT_EQ(backend[1].first, 'R');  // SASLContinue
    ASSERT_EQ(backend[2].first, 'R');  // SASLFinal
    // Frontend: the untyped StartupMessage, then SASLInitialResponse, then SASLResponse.
    ASSERT_GE(to_server.size(), 4u);
    const std::size_t startup_len = static_cast<std::size_t>(static_cast<unsigned char>(to_server[2])) << 8 |
                                    static_cast<unsigned char>(to_server[3]);
    auto frontend = message_starts(to_server, startup_len);
    ASSERT_GE(frontend.size(), 2u);
    struct cut {
        const char* name;
        chaos_proxy::direction dir;
        std::size_t after;
    };
    const cut cuts[] = {
        {"mid SASLContinue", chaos_proxy::direction::to_client, backend[1].second + 20},
        {"mid SASLFinal", chaos_proxy::direction::to_client, backend[2].second + 12},
        {"mid SASLResponse", chaos_proxy::direction::to_server, frontend[1].second + 30},
    };
    for (const auto& c : cuts) {
        chaos_proxy proxy(server().host(), server().port());
        proxy.drop_after(c.after, c.dir);
        auto r = connect_once(proxy_url(proxy, scram_user, scram_pw, "sslmode=disable&connect_timeout=10"));
        EXPECT_TRUE(r.ec) << c.name;
        const bool clear = r.message == "server closed the connection unexpectedly" ||
                           r.message == "could not receive data from server: Connection reset by peer" ||
                           r.message.rfind("could not send data to server: ", 0) == 0;
        EXPECT_TRUE(clear) << c.name << ": " << r.message;
        expect_no_password(r.message, scram_pw, "diagnostics");
        expect_no_password(r.what, scram_pw, "exception text");
        expect_no_password(proxy.captured_to_server(), scram_pw, "bytes sent to the server");
        EXPECT_EQ(proxy.stats().accepted, 1u) << c.name;
        std::printf("[s07 scram %s] %s\n", c.name, r.what.c_str());
    }
}

// ---------------------------------------------------------------------------------------------
// Scenario 11: downgrades are refused.
// ---------------------------------------------------------------------------------------------

// Expected: channel_binding=require over a connection without TLS (so the server cannot offer
// SCRAM-SHA-256-PLUS) is refused before any authentication byte is sent, with
// errc::channel_binding_required and "channel binding is required (channel_binding=require), but
// the connection to "127.0.0.1" port <p> does not use TLS". Over TLS with a role the server
// trusts (no SCRAM at all), it is refused after the server's AuthenticationOk.
TEST(reliability, s11_channel_binding_require_without_plus_is_refused)
{
    chaos_proxy proxy(server().host(), server().port());
    auto r = connect_once(proxy_url(proxy, scram_user, scram_pw, "sslmode=disable&channel_binding=require"));
    EXPECT_EQ(r.ec, make_error_code(errc::channel_binding_required));
    EXPECT_EQ(r.message, "channel binding is required (channel_binding=require), but the connection to \"127.0.0.1\" port " +
                             std::to_string(proxy.port()) + " does not use TLS");
    EXPECT_EQ(proxy.stats().bytes_to_server, 0u) << "nothing may be sent";
    expect_no_password(r.what, scram_pw, "exception text");

    // The same against a server that is not PostgreSQL-with-TLS at all (a fake that answers 'N'
    // to SSLRequest): sslmode=prefer gets a plaintext connection, which cannot bind.
    fake_server fake([](fake_session& s) -> asio::awaitable<void> {
        co_await s.read_startup();
        std::vector<std::string> mechs{"SCRAM-SHA-256"};
        co_await s.send(fake_session::authentication_sasl(mechs));
        co_await s.wait_for_close();
    });
    auto f = connect_once("postgresql://u:pw-Fake-5521@127.0.0.1:" + std::to_string(fake.port()) +
                          "/db?sslmode=prefer&channel_binding=require");
    EXPECT_EQ(f.ec, make_error_code(errc::channel_binding_required));
    EXPECT_EQ(f.message, "channel binding is required (channel_binding=require), but the connection to \"127.0.0.1\" port " +
                             std::to_string(fake.port()) + " does not use TLS");

    // TLS, but the server authenticates without any exchange (trust): no binding happened.
    auto t = connect_once(url(trust_user, "", "sslmode=verify-full&sslrootcert=" + server().ca_file() + "&channel_binding=require"));
    EXPECT_EQ(t.ec, make_error_code(errc::channel_binding_required));
    EXPECT_EQ(t.message, "channel binding required (channel_binding=require), but the server authenticated the client without channel binding");
}

// Expected: require_auth=scram-sha-256 against a server that asks for a cleartext password (or
// for MD5) is refused with errc::auth_method_not_allowed before the password is sent: the
// password never crosses the wire and is in no message.
TEST(reliability, s11_cleartext_or_md5_offered_when_scram_required_is_refused_before_sending_the_password)
{
    struct role {
        const char* user;
        const char* password;
        const char* method;
    };
    const role roles[] = {{password_user, password_pw, "password"}, {md5_user, md5_pw, "md5"}};
    for (const auto& ro : roles) {
        chaos_proxy proxy(server().host(), server().port());
        auto r = connect_once(proxy_url(proxy, ro.user, ro.password, "sslmode=disable&require_auth=scram-sha-256"));
        EXPECT_EQ(r.ec, make_error_code(errc::auth_method_not_allowed)) << ro.method << ": " << r.what;
        EXPECT_EQ(r.message, std::string("authentication method requirement \"scram-sha-256\" failed: server requested ") +
                                 (ro.method == std::string_view("md5") ? "an MD5-hashed password" : "a cleartext password"));
        expect_no_password(proxy.captured_to_server(), ro.password, "bytes sent to the server");
        expect_no_password(r.what, ro.password, "exception text");
        std::printf("[s11 %s offered] %s\n", ro.method, r.what.c_str());
    }
}

/// Extra servers for the certificate checks, started on first use.
embedded_postgres& wrong_name_server()
{
    static embedded_postgres pg([] {
        embedded_postgres_params p;
        p.tls = true;
        p.tls_server_names = {"db.invalid"};
        return p;
    }());
    return pg;
}

embedded_postgres& expired_cert_server()
{
    static embedded_postgres pg([] {
        embedded_postgres_params p;
        p.tls = true;
        p.tls_expired_cert = true;
        p.tls_server_names = {"localhost", "127.0.0.1"};
        return p;
    }());
    return pg;
}

// Expected: sslmode=verify-full refuses a certificate issued for another name, both when
// connecting by IP address and by host name, with errc::tls_handshake_failed and a message
// naming the mismatch; and refuses an expired certificate ("certificate has expired").
TEST(reliability, s11_verify_full_with_wrong_host_name_or_expired_certificate_is_refused)
{
    auto& wrong = wrong_name_server();
    const std::string port = std::to_string(wrong.port());
    auto by_ip = connect_once("postgresql://postgres@127.0.0.1:" + port + "/postgres?sslmode=verify-full&sslrootcert=" + wrong.ca_file());
    EXPECT_EQ(by_ip.ec, make_error_code(errc::tls_handshake_failed));
    EXPECT_EQ(by_ip.message, "TLS handshake with \"127.0.0.1\" port " + port +
                                 " failed: IP address mismatch (sslmode=verify-full: the server certificate does not match IP address 127.0.0.1)");
    auto by_name = connect_once("postgresql://postgres@localhost:" + port + "/postgres?sslmode=verify-full&sslrootcert=" + wrong.ca_file());
    EXPECT_EQ(by_name.ec, make_error_code(errc::tls_handshake_failed));
    EXPECT_EQ(by_name.message, "TLS handshake with \"localhost\" port " + port +
                                   " failed: hostname mismatch (sslmode=verify-full: the server certificate does not match host name \"localhost\")");
    // verify-ca does not check the name: the same server is accepted (control).
    auto ca_only = connect_once("postgresql://postgres@127.0.0.1:" + port + "/postgres?sslmode=verify-ca&sslrootcert=" + wrong.ca_file());
    EXPECT_FALSE(ca_only.ec) << ca_only.what;

    auto& expired = expired_cert_server();
    const std::string eport = std::to_string(expired.port());
    auto exp = connect_once("postgresql://postgres@127.0.0.1:" + eport + "/postgres?sslmode=verify-full&sslrootcert=" + expired.ca_file());
    EXPECT_EQ(exp.ec, make_error_code(errc::tls_handshake_failed));
    EXPECT_EQ(exp.message, "TLS handshake with \"127.0.0.1\" port " + eport + " failed: certificate has expired");
    std::printf("[s11 wrong name/ip] %s\n[s11 wrong name/host] %s\n[s11 expired] %s\n", by_ip.what.c_str(),
                by_name.what.c_str(), exp.what.c_str());
}

// ---------------------------------------------------------------------------------------------
// Scenario 12: malformed SCRAM messages from a scripted server.
// ---------------------------------------------------------------------------------------------

/// Plays SCRAM-SHA-256 up to a scripted server-first ("{nonce}" is replaced by the client's
/// nonce) and server-final, then claims success (AuthenticationOk, BackendKeyData,
/// ReadyForQuery) so that a client that ignored a bad message would connect.
fake_server::script scram_script(std::string server_first, std::string server_final)
{
    return [server_first, server_final](fake_session& s) -> asio::awaitable<void> {
        co_await s.read_startup();
        std::vector<std::string> mechs{"SCRAM-SHA-256"};
        co_await s.send(fake_session::authentication_sasl(mechs));
        auto init = co_await s.read_message();  // SASLInitialResponse: mechanism\0, int32 length, data
        const auto nul = init.body.find('\0');
        const std::string client_first = nul == std::string::npos || init.body.size() < nul + 5 ? "" : init.body.substr(nul + 5);
        std::string first = server_first;
        if (auto p = first.find("{nonce}"); p != std::string::npos) first.replace(p, 7, scram_client_nonce(client_first));
        co_await s.send(fake_session::authentication_sasl_continue(first));
        auto m = co_await s.read_message();
        if (m.type != 'p') co_return;  // the client gave up on server-first
        std::string out = fake_session::authentication_sasl_final(server_final) + fake_session::authentication_ok() +
                          fake_session::backend_key_data(42, 4242) + fake_session::ready_for_query();
        co_await s.send(std::move(out));
        co_await s.wait_for_close();
    };
}

// Expected: every malformed or wrong server message of the SCRAM exchange makes the connect
// fail with a SCRAM error (scram_invalid_server_message, scram_server_signature_mismatch or
// scram_server_error), even though the fake server then claims AuthenticationOk; no crash and no
// overflow (a 1 MiB signature, a 100 kB error reason, NUL bytes, absurd iteration counts); the
// password is in no message.
TEST(reliability, s12_malformed_scram_server_messages_give_clean_errors)
{
    const std::string pw = "pw-Fake-5521";
    const std::string salt = wire::base64_encode("0123456789abcdef");
    const std::string good_first = "r={nonce}SRVnonce,s=" + salt + ",i=4096";
    const std::string sig32 = wire::base64_encode(std::string(32, '\x01'));
    struct scram_case {
        std::string name, first, final_msg;
        errc expected;
    };
    const std::vector<scram_case> cases = {
        {"empty server-final", good_first, "", errc::scram_invalid_server_message},
        // An empty or short verifier cannot match: reported as a signature mismatch.
        {"v= empty", good_first, "v=", errc::scram_server_signature_mismatch},
        {"v= not base64", good_first, "v=!!!!", errc::scram_invalid_server_message},
        {"v= wrong signature", good_first, "v=" + sig32, errc::scram_server_signature_mismatch},
        {"v= 16-byte signature", good_first, "v=" + wire::base64_encode(std::string(16, 'x')), errc::scram_server_signature_mismatch},
        {"v= 1 MiB signature", good_first, "v=" + wire::base64_encode(std::string(1u << 20, 'A')), errc::scram_server_signature_mismatch},
        {"v= with extension", good_first, "v=" + sig32 + ",x=1", errc::scram_server_signature_mismatch},
        {"v= with NUL bytes", good_first, std::string("v=\0\0\0\0", 6), errc::scram_invalid_server_message},
        {"unknown attribute", good_first, "x=unknown", errc::scram_invalid_server_message},
        {"e= reason", good_first, "e=invalid-proof", errc::scram_server_error},
        {"e= empty", good_first, "e=", errc::scram_server_error},
        {"server-first wrong nonce", "r=NOTmyNONCE,s=" + salt + ",i=4096", "v=" + sig32, errc::scram_invalid_server_message},
        {"server-first bad salt", "r={nonce}S,s=!!!,i=4096", "v=" + sig32, errc::scram_invalid_server_message},
        {"server-first i=0", "r={nonce}S,s=" + salt + ",i=0", "v=" + sig32, errc::scram_invalid_server_message},
        {"server-first i=2^32", "r={nonce}S,s=" + salt + ",i=4294967296", "v=" + sig32, errc::scram_invalid_server_message},
        {"server-first i over the cap", "r={nonce}S,s=" + salt + ",i=99999999", "v=" + sig32, errc::scram_invalid_server_message},
        {"server-first missing s and i", "r={nonce}S", "v=" + sig32, errc::scram_invalid_server_message},
        {"server-first empty", "", "v=" + sig32, errc::scram_invalid_server_message},
    };
    for (const auto& c : cases) {
        fake_server fake(scram_script(c.first, c.final_msg));
        const auto t0 = clock_type::now();
        auto r = connect_once("postgresql://u:" + pw + "@127.0.0.1:" + std::to_string(fake.port()) +
                              "/db?sslmode=disable&connect_timeout=10");
        EXPECT_EQ(r.ec, make_error_code(c.expected)) << c.name << ": " << r.what;
        EXPECT_FALSE(r.message.empty()) << c.name;
        expect_no_password(r.message, pw, c.name);
        expect_no_password(r.what, pw, c.name);
        EXPECT_EQ(fake.sessions(), 1u) << c.name;
        EXPECT_LT(ms_since(t0), 5s) << c.name;
        std::printf("[s12 %s] %.200s\n", c.name.c_str(), r.what.c_str());
    }
}

// Expected: a server-final "e=<reason>" with a 100 kB reason (or one with control characters)
// still fails with errc::scram_server_error, and the message quotes the reason bounded (at most
// a few hundred bytes) with control characters escaped, so a hostile server cannot flood or
// forge log lines through the error text.
TEST(reliability, s12_scram_server_error_reason_is_bounded_and_escaped_in_the_message)
{
    fake_server big(scram_script("r={nonce}SRVnonce,s=" + wire::base64_encode("0123456789abcdef") + ",i=4096",
                                 "e=" + std::string(100000, 'E')));
    auto r = connect_once("postgresql://u:pw-Fake-5521@127.0.0.1:" + std::to_string(big.port()) + "/db?sslmode=disable");
    EXPECT_EQ(r.ec, make_error_code(errc::scram_server_error));
    EXPECT_LT(r.message.size(), 1024u) << "the message echoes " << r.message.size() << " bytes of server input";
    fake_server forged(scram_script("r={nonce}SRVnonce,s=" + wire::base64_encode("0123456789abcdef") + ",i=4096",
                                    "e=other-error\nLOG:  forged line"));
    auto f = connect_once("postgresql://u:pw-Fake-5521@127.0.0.1:" + std::to_string(forged.port()) + "/db?sslmode=disable");
    EXPECT_EQ(f.ec, make_error_code(errc::scram_server_error));
    EXPECT_EQ(f.message.find('\n'), std::string::npos) << f.message;
}

// ---------------------------------------------------------------------------------------------
// Scenario 13: passwords with %, quotes, spaces and non-ASCII never leak.
// ---------------------------------------------------------------------------------------------

// A password that stresses every quoting layer: URL escapes that are not escapes (%41, %zz),
// both quote characters, a backslash, spaces, '=' and ',' (SCRAM attribute syntax), non-ASCII.
const std::string weird_pw = "p%41 'q\"\\ w \xc3\xa9\xe2\x9c\x93 %zz=x,y";

embedded_postgres& password_server()
{
    static embedded_postgres pg([] {
        embedded_postgres_params p;
        p.users = {
            {"u_weird_scram", weird_pw, "scram-sha-256", false},
            {"u_weird_md5", weird_pw, "md5", false},
        };
        return p;
    }());
    return pg;
}

// Expected: users whose password contains %, quotes, spaces and non-ASCII connect with the URL
// form (percent-encoded) and the key=value form (single-quoted, \' and \\ escaped), over SCRAM
// and MD5. With a wrong password the server's 28P01 "password authentication failed for user
// ..." is reported. Connection strings that fail to parse report errc::invalid_connection_string.
// In every case the password (raw or percent-encoded) is absent from the diagnostics, the
// exception text, everything written to stdout/stderr, the server log, and the bytes sent to the
// server (SCRAM and MD5 never send it).
TEST(reliability, s13_special_character_passwords_connect_and_never_appear_in_errors)
{
    auto& pg = password_server();
    const std::string port = std::to_string(pg.port());
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    std::vector<std::string> texts;  // every message produced

    for (const char* user : {"u_weird_scram", "u_weird_md5"}) {
        chaos_proxy proxy(pg.host(), pg.port());
        const std::string pport = std::to_string(proxy.port());
        const std::string as_url = "postgresql://" + std::string(user) + ":" + percent_encode(weird_pw) + "@127.0.0.1:" + pport +
                                   "/postgres?sslmode=disable";
        const std::string as_kv = "host=127.0.0.1 port=" + pport + " dbname=postgres sslmode=disable user=" + user +
                                  " password=" + kv_quote(weird_pw);
        for (const auto& conninfo : {as_url, as_kv}) {
            auto r = connect_once(conninfo);
            EXPECT_FALSE(r.ec) << user << " with " << (conninfo == as_url ? "URL" : "key=value") << ": " << r.message;
        }
        // Wrong variants: one character more, and the URL form without percent-encoding the
        // '%' (so "%41" decodes to "A").
        const std::string wrong_url = "postgresql://" + std::string(user) + ":" + percent_encode(weird_pw + "!") +
                                      "@127.0.0.1:" + pport + "/postgres?sslmode=disable";
        auto w = connect_once(wrong_url);
        EXPECT_EQ(sqlstate_of(w.ec), "28P01") << w.what;
        EXPECT_NE(w.what.find(std::string("password authentication failed for user \"") + user + "\""), std::string::npos) << w.what;
        texts.push_back(w.message);
        texts.push_back(w.what);
        const std::string wrong_kv = "host=127.0.0.1 port=" + pport + " dbname=postgres sslmode=disable user=" + user +
                                     " password=" + kv_quote("p%41 'q\"\\ w");
        auto w2 = connect_once(wrong_kv);
        EXPECT_EQ(sqlstate_of(w2.ec), "28P01") << w2.what;
        texts.push_back(w2.what);
        const auto wire_bytes = proxy.captured_to_server();
        expect_no_password(wire_bytes, weird_pw, "bytes sent to the server");
        expect_no_password(wire_bytes, weird_pw + "!", "bytes sent to the server");
    }

    // Connection strings that fail to parse, each with the password inside.
    const std::vector<std::string> broken = {
        "postgresql://u:" + weird_pw + "@127.0.0.1:" + port + "/postgres",            // raw '%zz' in a URL
        "postgresql://u:" + percent_encode(weird_pw) + "@127.0.0.1:99999/postgres",   // bad port
        "postgresql://u:" + percent_encode(weird_pw) + "@127.0.0.1/postgres?sslmode=bogus",
        "postgresql://u@127.0.0.1/postgres?password=" + percent_encode(weird_pw) + "&nonsense=1",
        "host=127.0.0.1 password=" + kv_quote(weird_pw) + " sslmode=bogus",
        "host=127.0.0.1 password='" + weird_pw,                                         // unterminated quote
        "host=127.0.0.1 password=" + kv_quote(weird_pw) + " connect_timeout=abc",
        "password=" + kv_quote(weird_pw) + " = broken",
        "host=127.0.0.1 password " + kv_quote(weird_pw),                                // missing '='
    };
    for (const auto& conninfo : broken) {
        auto r = connect_once(conninfo);
        EXPECT_EQ(r.ec, make_error_code(errc::invalid_connection_string)) << r.what;
        texts.push_back(r.message);
        texts.push_back(r.what);
        try {
            (void)parse_connect_options(conninfo, empty_environment());
            ADD_FAILURE() << "parsed: " << r.what;
        } catch (const error_with_diagnostics& e) {
            texts.push_back(e.what());
            texts.push_back(e.get_diagnostics().client_message());
        }
    }
    // A successful parse never shows it either.
    {
        auto o = parse_connect_options("host=h user=u password=" + kv_quote(weird_pw), empty_environment());
        EXPECT_EQ(o.password.reveal(), weird_pw);
        texts.push_back(o.to_string());
    }

    const std::string out = testing::internal::GetCapturedStdout();
    const std::string err = testing::internal::GetCapturedStderr();
    for (const auto& t : texts) expect_no_password(t, weird_pw, "an error text");
    expect_no_password(out, weird_pw, "stdout");
    expect_no_password(err, weird_pw, "stderr");
    expect_no_password(pg.log(), weird_pw, "the server log");
    for (std::size_t i = 0; i < texts.size(); ++i) std::printf("[s13] %.160s\n", texts[i].c_str());
}

} // namespace
} // namespace sleet::test
