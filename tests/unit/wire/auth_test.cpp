// Authentication: MD5 against values computed with md5sum, SCRAM-SHA-256 against the RFC 7677
// test vector, malformed server messages, channel binding data and the RFC 5929 hash rule.
#include <sleet/wire/auth.hpp>

#include "test_certs.hpp"
#include "wire_test_util.hpp"

#include <gtest/gtest.h>


using namespace sleet;
using namespace sleet::wire;
using namespace wire_test;

namespace {

// RFC 7677 §3.
constexpr std::string_view rfc_nonce = "rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view rfc_server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr std::string_view rfc_client_final =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view rfc_server_final = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

scram_client rfc_client() { return scram_client("pencil", scram_client::binding::none, {}, std::string(rfc_nonce), "user"); }

} // namespace

// --- MD5 ---------------------------------------------------------------------------------------

TEST(wire_auth_md5, known_values)
{
    // md5sum of "postgrespostgres" = 3175bce1d3201d16594cebf9d7eb3f9d (the stored hash), then
    // printf '3175bce1d3201d16594cebf9d7eb3f9d\x93\x1a\x7f\x00' | md5sum
    EXPECT_EQ(md5_password_response("postgres", "postgres", std::string_view("\x93\x1a\x7f\x00", 4)),
              "md57288dc751c08183feb37217f123b32dc");
    // printf 's3cretalice' | md5sum = 8213e4d0d5792b064442db7988e9f4c4, then with salt 01 02 03 04
    EXPECT_EQ(md5_password_response("alice", "s3cret", hex("01020304")), "md5b79948bbeb35dee03ab8fe15a839030b");
}

// --- base64 ------------------------------------------------------------------------------------

TEST(wire_auth_base64, rfc4648_vectors)
{
    const std::pair<const char*, const char*> v[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                     {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                                                     {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, enc] : v) {
        EXPECT_EQ(base64_encode(plain), enc);
        std::string out;
        ASSERT_TRUE(base64_decode(enc, out)) << enc;
        EXPECT_EQ(out, plain);
    }
    std::string out;
    ASSERT_TRUE(base64_decode("//79AA==", out));
    EXPECT_EQ(to_hex(out), "fffefd00");
}

TEST(wire_auth_base64, decode_is_strict)
{
    std::string out;
    for (const char* bad : {"Zg", "Zg=", "Z===", "====", "Zm9v\n", "Zh==", "Zm8=Zm8=", "=Zg=", "Zm!v", "Zm9v Zm9v"})
        EXPECT_FALSE(base64_decode(bad, out)) << bad;
}

// --- SCRAM: RFC 7677 vector --------------------------------------------------------------------

TEST(wire_auth_scram, rfc7677_test_vector)
{
    auto c = rfc_client();
    EXPECT_EQ(c.mechanism(), "SCRAM-SHA-256");
    EXPECT_EQ(c.client_first_message(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    diagnostics diag;
    ASSERT_FALSE(c.handle_server_first(rfc_server_first, diag)) << diag.client_message();
    EXPECT_EQ(c.client_final_message(), rfc_client_final);
    ASSERT_FALSE(c.handle_server_final(rfc_server_final, diag)) << diag.client_message();
    EXPECT_TRUE(diag.empty());
}

TEST(wire_auth_scram, server_first_extensions_after_iteration_count_are_ignored)
{
    // RFC 5802 §7 allows extensions after i=; they change AuthMessage, so only check success.
    auto c = rfc_client();
    diagnostics diag;
    EXPECT_FALSE(c.handle_server_first(std::string(rfc_server_first) + ",x=ext", diag)) << diag.client_message();
    EXPECT_EQ(c.client_final_message().substr(0, 7), "c=biws,");
}

TEST(wire_auth_scram, postgres_client_first_has_empty_username)
{
    scram_client c("pw", scram_client::binding::none, {}, "abcdef");
    EXPECT_EQ(c.client_first_message(), "n,,n=,r=abcdef");
}

TEST(wire_auth_scram, username_is_escaped)
{
    scram_client c("pw", scram_client::binding::none, {}, "abc", "a=b,c");
    EXPECT_EQ(c.client_first_message(), "n,,n=a=3Db=2Cc,r=abc");
}

TEST(wire_auth_scram, random_nonce)
{
    scram_client a("pw", scram_client::binding::none);
    scram_client b("pw", scram_client::binding::none);
    const std::string prefix = "n,,n=,r=";
    ASSERT_EQ(a.client_first_message().substr(0, prefix.size()), prefix);
    const std::string na = a.client_first_message().substr(prefix.size());
    const std::string nb = b.client_first_message().substr(prefix.size());
    EXPECT_EQ(na.size(), 24u); // base64 of 18 bytes
    std::string raw;
    EXPECT_TRUE(base64_decode(na, raw));
    EXPECT_EQ(raw.size(), 18u);
    EXPECT_NE(na, nb);
}

TEST(wire_auth_scram, invalid_fixed_nonce_is_refused)
{
    EXPECT_THROW(scram_client("pw", scram_client::binding::none, {}, "a,b"), std::invalid_argument);
    EXPECT_THROW(scram_client("pw", scram_client::binding::none, {}, "a b"), std::invalid_argument);
}

// --- SCRAM: channel binding --------------------------------------------------------------------

TEST(wire_auth_scram, supported_not_used_header)
{
    scram_client c("pencil", scram_client::binding::supported_not_used, {}, std::string(rfc_nonce));
    EXPECT_EQ(c.mechanism(), "SCRAM-SHA-256");
    EXPECT_EQ(c.client_first_message(), "y,,n=,r=rOprNGfwEbeRWgbNEkqO");
    diagnostics diag;
    ASSERT_FALSE(c.handle_server_first(rfc_server_first, diag));
    // base64("y,,") = "eSws"
    const std::string expected = "c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=";
    EXPECT_EQ(c.client_final_message().substr(0, expected.size()), expected);
    EXPECT_EQ(c.client_final_message().size(), expected.size() + 44); // base64 of a 32-byte proof
}

TEST(wire_auth_scram, plus_binds_the_certificate_hash)
{
    std::string cbind;
    for (int i = 0; i < 32; ++i) cbind += static_cast<char>(i);
    scram_client c("pencil", scram_client::binding::plus, cbind, std::string(rfc_nonce));
    EXPECT_EQ(c.mechanism(), "SCRAM-SHA-256-PLUS");
    EXPECT_EQ(c.client_first_message(), "p=tls-server-end-point,,n=,r=rOprNGfwEbeRWgbNEkqO");
    diagnostics diag;
    ASSERT_FALSE(c.handle_server_first(rfc_server_first, diag));
    // python3: base64.b64encode(b'p=tls-server-end-point,,' + bytes(range(32)))
    const std::string expected_c = "c=cD10bHMtc2VydmVyLWVuZC1wb2ludCwsAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const std::string expected = expected_c + ",r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=";
    EXPECT_EQ(c.client_final_message().substr(0, expected.size()), expected);
    EXPECT_EQ(c.client_final_message().size(), expected.size() + 44);
    // The proof covers the binding, so it differs from the unbound RFC proof; the server of the
    // RFC vector did not bind, so its signature must not verify here.
    EXPECT_EQ(c.handle_server_final(rfc_server_final, diag), ec_of(errc::scram_server_signature_mismatch));
}

TEST(wire_auth_scram, plus_without_binding_data_is_refused)
{
    try {
        scram_client c("pw", scram_client::binding::plus);
        ADD_FAILURE() << "no exception";
    } catch (const error_with_diagnostics& e) {
        EXPECT_EQ(e.code(), ec_of(errc::channel_binding_required));
        EXPECT_EQ(e.get_diagnostics().client_message(),
                  "SCRAM-SHA-256-PLUS needs the tls-server-end-point hash of the server certificate, but none is "
                  "available (unsupported certificate signature algorithm?)");
    }
}

// --- SCRAM: malformed server messages ----------------------------------------------------------

TEST(wire_auth_scram, malformed_server_first)
{
    const std::string n = std::string(rfc_nonce);
    const std::string good_r = "r=" + n + "srv";
    const std::string p = "SCRAM: invalid server-first-message: ";
    const std::pair<std::string, std::string> cases[] = {
        {"", p + "missing the nonce (r=)"},
        {"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", p + "missing the nonce (r=)"},
        {"m=ext," + good_r + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", p + "the server requires an unsupported mandatory extension (m=)"},
        {"r=XXXXNGfwEbeRWgbNEkqOsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", p + "the nonce (r=) does not extend the client's nonce"},
        {"r=" + n + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", p + "the nonce (r=) does not extend the client's nonce"},
        {"r=" + n.substr(0, 10) + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", p + "the nonce (r=) does not extend the client's nonce"},
        {"r=" + n + "s v,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", p + "the nonce (r=) contains invalid characters"},
        {"r=,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", p + "the nonce (r=) contains invalid characters"},
        {good_r, p + "missing the salt (s=)"},
        {good_r + ",i=4096", p + "missing the salt (s=)"},
        {good_r + ",s=W22Z!J0SNY7soEsUEjb6gQ==,i=4096", p + "the salt (s=) is empty or not valid base64"},
        {good_r + ",s=W22ZaJ0SNY7soEsUEjb6gQ=,i=4096", p + "the salt (s=) is empty or not valid base64"},
        {good_r + ",s=,i=4096", p + "the salt (s=) is empty or not valid base64"},
        {good_r + ",s=W22ZaJ0SNY7soEsUEjb6gQ==", p + "missing the iteration count (i=)"},
        {good_r + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,x=4096", p + "missing the iteration count (i=)"},
        {good_r + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0", p + "the iteration count (i=0) is outside 1..10000000"},
        {good_r + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=10000001", p + "the iteration count (i=10000001) is outside 1..10000000"},
        {good_r + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-1", p + "the iteration count (i=) is not a number"},
        {good_r + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=", p + "the iteration count (i=) is not a number"},
        {good_r + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4k", p + "the iteration count (i=) is not a number"},
        {good_r + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999999999999", p + "the iteration count (i=) is not a number"},
        {"s=W22ZaJ0SNY7soEsUEjb6gQ==," + good_r + ",i=4096", p + "missing the nonce (r=)"},
    };
    for (const auto& [msg, expected] : cases) {
        auto c = rfc_client();
        diagnostics diag;
        EXPECT_EQ(c.handle_server_first(msg, diag), ec_of(errc::scram_invalid_server_message)) << msg;
        EXPECT_EQ(diag.client_message(), expected) << msg;
        EXPECT_EQ(diag.client_message().find("pencil"), std::string::npos);
        // The exchange cannot continue after a failure.
        diagnostics d2;
        EXPECT_EQ(c.handle_server_final(rfc_server_final, d2), ec_of(errc::unexpected_message));
    }
}

TEST(wire_auth_scram, server_final_error_attribute)
{
    auto c = rfc_client();
    diagnostics diag;
    ASSERT_FALSE(c.handle_server_first(rfc_server_first, diag));
    EXPECT_EQ(c.handle_server_final("e=invalid-proof", diag), ec_of(errc::scram_server_error));
    // The user sees the server's reason.
    EXPECT_EQ(diag.client_message(), "SCRAM: the server rejected the authentication: invalid-proof");
}

TEST(wire_auth_scram, malformed_or_wrong_server_final)
{
    const std::pair<std::string, std::pair<errc, std::string>> cases[] = {
        {"", {errc::scram_invalid_server_message, "SCRAM: invalid server-final-message: missing the verifier (v=)"}},
        {"x=abc", {errc::scram_invalid_server_message, "SCRAM: invalid server-final-message: missing the verifier (v=)"}},
        {"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4", // padding missing
         {errc::scram_invalid_server_message, "SCRAM: invalid server-final-message: the verifier (v=) is not valid base64"}},
        {"v=!!!!", {errc::scram_invalid_server_message, "SCRAM: invalid server-final-message: the verifier (v=) is not valid base64"}},
        {"v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
         {errc::scram_server_signature_mismatch, "SCRAM: the server's signature (v=) does not match: the server does not know the password"}},
        {"v=c2ln", // valid base64, wrong length
         {errc::scram_server_signature_mismatch, "SCRAM: the server's signature (v=) does not match: the server does not know the password"}},
        {"e=", {errc::scram_server_error, "SCRAM: the server rejected the authentication: (no reason given)"}},
    };
    for (const auto& [msg, expected] : cases) {
        auto c = rfc_client();
        diagnostics diag;
        ASSERT_FALSE(c.handle_server_first(rfc_server_first, diag));
        EXPECT_EQ(c.handle_server_final(msg, diag), ec_of(expected.first)) << msg;
        EXPECT_EQ(diag.client_message(), expected.second) << msg;
        EXPECT_EQ(diag.client_message().find("pencil"), std::string::npos);
    }
}

TEST(wire_auth_scram, calls_out_of_order)
{
    auto c = rfc_client();
    diagnostics diag;
    EXPECT_EQ(c.handle_server_final(rfc_server_final, diag), ec_of(errc::unexpected_message));
    EXPECT_EQ(diag.client_message(),
              "SCRAM: unexpected server-final-message (AuthenticationSASLFinal) at this point of the exchange");

    auto d = rfc_client();
    ASSERT_FALSE(d.handle_server_first(rfc_server_first, diag));
    EXPECT_EQ(d.handle_server_first(rfc_server_first, diag), ec_of(errc::unexpected_message));
    EXPECT_EQ(diag.client_message(),
              "SCRAM: unexpected server-first-message (AuthenticationSASLContinue) at this point of the exchange");

    auto e = rfc_client();
    ASSERT_FALSE(e.handle_server_first(rfc_server_first, diag));
    ASSERT_FALSE(e.handle_server_final(rfc_server_final, diag));
    EXPECT_EQ(e.handle_server_final(rfc_server_final, diag), ec_of(errc::unexpected_message));
}

TEST(wire_auth_scram, non_ascii_password_uses_raw_utf8)
{
    // Documented fallback: no SASLprep normalisation for non-ASCII; the exchange still runs and
    // is deterministic (same bytes in, same proof out).
    auto a = scram_client("p\xc3\xa4ss", scram_client::binding::none, {}, std::string(rfc_nonce), "user");
    auto b = scram_client("p\xc3\xa4ss", scram_client::binding::none, {}, std::string(rfc_nonce), "user");
    diagnostics diag;
    ASSERT_FALSE(a.handle_server_first(rfc_server_first, diag));
    ASSERT_FALSE(b.handle_server_first(rfc_server_first, diag));
    EXPECT_EQ(a.client_final_message(), b.client_final_message());
    EXPECT_NE(a.client_final_message(), rfc_client_final);
}

// --- channel binding hash ----------------------------------------------------------------------

TEST(wire_auth_cbind, tls_server_end_point_hash_rules)
{
    using namespace sleet_test_certs;
    // ecdsa-with-SHA256: SHA-256 of the DER.
    EXPECT_EQ(to_hex(tls_server_end_point_hash(hex(ec_sha256_der_hex))), ec_sha256_expected);
    // ecdsa-with-SHA384: the certificate's own hash, SHA-384.
    EXPECT_EQ(to_hex(tls_server_end_point_hash(hex(ec_sha384_der_hex))), ec_sha384_expected);
    // ecdsa-with-SHA1: RFC 5929 §4.1 upgrades SHA-1 to SHA-256.
    EXPECT_EQ(to_hex(tls_server_end_point_hash(hex(ec_sha1_der_hex))), ec_sha1_expected);
    // Ed25519 has no separate hash: no binding data.
    EXPECT_EQ(tls_server_end_point_hash(hex(ed_der_hex)), "");
}

TEST(wire_auth_cbind, garbage_yields_empty)
{
    using namespace sleet_test_certs;
    EXPECT_EQ(tls_server_end_point_hash(""), "");
    EXPECT_EQ(tls_server_end_point_hash("not a certificate"), "");
    const std::string der = hex(ec_sha256_der_hex);
    for (std::size_t k : {std::size_t{1}, std::size_t{4}, std::size_t{100}, der.size() - 1})
        EXPECT_EQ(tls_server_end_point_hash(std::string_view(der).substr(0, k)), "") << k;
}
