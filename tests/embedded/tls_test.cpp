// sleet::embedded_postgres with tls: generated certificates, hostssl_only, expired and
// custom-name server certificates, client certificates.
#include "pg_probe.hpp"

#include <sleet/embedded_postgres.hpp>

#include <gtest/gtest.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <memory>

namespace {

using sleet::embedded_postgres;
using sleet::embedded_postgres_params;

struct x509_free_t {
    void operator()(X509* x) const { X509_free(x); }
};
using x509_ptr = std::unique_ptr<X509, x509_free_t>;

x509_ptr load_cert(const std::string& path)
{
    std::string pem = probe::slurp(path);
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    x509_ptr x(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
    BIO_free(bio);
    if (!x) throw std::runtime_error("cannot read certificate " + path);
    return x;
}

/// Verifies `leaf` against the CA for a host name (or IP literal) the way a verify-full client
/// does; returns the X509_V_* result (X509_V_OK when valid).
int verify(const std::string& ca_file, const std::string& leaf_file, const std::string& name, int purpose)
{
    x509_ptr ca = load_cert(ca_file);
    x509_ptr leaf = load_cert(leaf_file);
    X509_STORE* store = X509_STORE_new();
    X509_STORE_add_cert(store, ca.get());
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, store, leaf.get(), nullptr);
    X509_STORE_CTX_set_purpose(ctx, purpose);
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
    if (!name.empty()) {
        if (name.find_first_not_of("0123456789.:") == std::string::npos) X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
        else X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
    }
    int ok = X509_verify_cert(ctx);
    int err = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return err;
}

/// A real TLS handshake (STARTTLS-style SSLRequest) with verify-full semantics, done by the
/// openssl command-line tool since these tests link only libcrypto. Returns its exit status.
int s_client(const embedded_postgres& pg, const std::string& name)
{
    std::string cmd = "openssl s_client -starttls postgres -connect 127.0.0.1:" + std::to_string(pg.port()) +
                      " -CAfile " + pg.ca_file() + " -verify_hostname " + name +
                      " -verify_return_error -brief </dev/null >/dev/null 2>&1";
    return std::system(cmd.c_str());
}

bool have_openssl_cli() { return std::system("openssl version >/dev/null 2>&1") == 0; }

TEST(EmbeddedPostgresTls, GeneratesACaAndAServerCertificateForLocalhost)
{
    embedded_postgres_params p;
    p.tls = true;
    embedded_postgres pg(p);
    ASSERT_EQ(pg.ca_file(), pg.base_dir() + "/ca.crt");
    const std::string server_crt = pg.data_dir() + "/server.crt";

    EXPECT_EQ(verify(pg.ca_file(), server_crt, "localhost", X509_PURPOSE_SSL_SERVER), X509_V_OK);
    EXPECT_EQ(verify(pg.ca_file(), server_crt, "127.0.0.1", X509_PURPOSE_SSL_SERVER), X509_V_OK);
    EXPECT_EQ(verify(pg.ca_file(), server_crt, "::1", X509_PURPOSE_SSL_SERVER), X509_V_OK);
    EXPECT_EQ(verify(pg.ca_file(), server_crt, "wrong.example", X509_PURPOSE_SSL_SERVER), X509_V_ERR_HOSTNAME_MISMATCH);
    EXPECT_EQ(verify(pg.ca_file(), server_crt, "10.1.2.3", X509_PURPOSE_SSL_SERVER), X509_V_ERR_IP_ADDRESS_MISMATCH);

    // The key must be private to the server user, or PostgreSQL refuses to start.
    struct stat st;
    ASSERT_EQ(::stat((pg.data_dir() + "/server.key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(pg.ca_file().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u);

    EXPECT_EQ(probe::ssl_answer(pg.host(), pg.port()), 'S');
    // Without hostssl_only, plain TCP is still accepted.
    probe::session s(probe::connect_tcp(pg.host(), pg.port()), "postgres");
    EXPECT_EQ(s.value("SHOW ssl"), "on");
    EXPECT_EQ(pg.url(), "postgresql://postgres@127.0.0.1:" + std::to_string(pg.port()) +
                            "/postgres?sslmode=verify-full&sslrootcert=" +
                            [&] {
                                std::string e;
                                for (char c : pg.ca_file()) e += c == '/' ? std::string("%2F") : std::string(1, c);
                                return e;
                            }());

    if (!have_openssl_cli()) GTEST_SKIP() << "no openssl command-line tool for the handshake checks";
    EXPECT_EQ(s_client(pg, "localhost"), 0);
    EXPECT_NE(s_client(pg, "wrong.example"), 0);
}

TEST(EmbeddedPostgresTls, HostsslOnlyRefusesPlainTcp)
{
    embedded_postgres_params p;
    p.tls = true;
    p.hostssl_only = true;
    embedded_postgres pg(p);
    EXPECT_EQ(probe::ssl_answer(pg.host(), pg.port()), 'S');
    // What a non-TLS client sees.
    try {
        probe::session s(probe::connect_tcp(pg.host(), pg.port()), "postgres");
        FAIL() << "expected a refusal";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "28000: no pg_hba.conf entry for host \"127.0.0.1\", user \"postgres\", "
                               "database \"postgres\", no encryption");
    }
    // The unix socket is unaffected.
    probe::session u(probe::connect_unix(pg.socket_dir() + "/.s.PGSQL." + std::to_string(pg.port())), "postgres");
    EXPECT_EQ(u.value("SELECT 1"), "1");
    EXPECT_NE(probe::slurp(pg.data_dir() + "/pg_hba.conf").find("hostssl all \"postgres\" 127.0.0.1/32 trust\n"),
              std::string::npos);
}

TEST(EmbeddedPostgresTls, ExpiredServerCertificate)
{
    embedded_postgres_params p;
    p.tls = true;
    p.tls_expired_cert = true;
    embedded_postgres pg(p); // the server itself does not check its certificate's dates
    EXPECT_EQ(verify(pg.ca_file(), pg.data_dir() + "/server.crt", "localhost", X509_PURPOSE_SSL_SERVER),
              X509_V_ERR_CERT_HAS_EXPIRED);
    if (!have_openssl_cli()) GTEST_SKIP() << "no openssl command-line tool for the handshake check";
    EXPECT_NE(s_client(pg, "localhost"), 0);
}

TEST(EmbeddedPostgresTls, CustomServerNames)
{
    embedded_postgres_params p;
    p.tls = true;
    p.tls_server_names = {"db.test", "10.9.8.7"};
    embedded_postgres pg(p);
    const std::string crt = pg.data_dir() + "/server.crt";
    EXPECT_EQ(verify(pg.ca_file(), crt, "db.test", X509_PURPOSE_SSL_SERVER), X509_V_OK);
    EXPECT_EQ(verify(pg.ca_file(), crt, "10.9.8.7", X509_PURPOSE_SSL_SERVER), X509_V_OK);
    EXPECT_EQ(verify(pg.ca_file(), crt, "localhost", X509_PURPOSE_SSL_SERVER), X509_V_ERR_HOSTNAME_MISMATCH);
    EXPECT_EQ(verify(pg.ca_file(), crt, "127.0.0.1", X509_PURPOSE_SSL_SERVER), X509_V_ERR_IP_ADDRESS_MISMATCH);
}

TEST(EmbeddedPostgresTls, ClientCertificatesAndCertAuth)
{
    embedded_postgres_params p;
    p.tls = true;
    p.users = {{.name = "certuser", .auth_method = "cert"}};
    embedded_postgres pg(p); // starts: "cert" lines are written as hostssl
    EXPECT_NE(probe::slurp(pg.data_dir() + "/pg_hba.conf").find("hostssl all \"certuser\" 127.0.0.1/32 cert\n"),
              std::string::npos);
    auto [crt, key] = pg.make_client_certificate("certuser");
    EXPECT_EQ(crt, pg.base_dir() + "/client-1.crt");
    EXPECT_EQ(key, pg.base_dir() + "/client-1.key");
    EXPECT_EQ(verify(pg.ca_file(), crt, "", X509_PURPOSE_SSL_CLIENT), X509_V_OK);
    x509_ptr c = load_cert(crt);
    char cn[64] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(c.get()), NID_commonName, cn, sizeof cn);
    EXPECT_STREQ(cn, "certuser");
    struct stat st;
    ASSERT_EQ(::stat(key.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(st.st_uid, ::geteuid()); // libpq-style clients require their key to be theirs
    EXPECT_EQ(pg.make_client_certificate("other").first, pg.base_dir() + "/client-2.crt");

    // A plain-TCP login for a cert user finds no line: what the user sees.
    try {
        probe::session s(probe::connect_tcp(pg.host(), pg.port()), "certuser");
        FAIL() << "expected a refusal";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "28000: no pg_hba.conf entry for host \"127.0.0.1\", user \"certuser\", "
                               "database \"postgres\", no encryption");
    }
}

TEST(EmbeddedPostgresTls, ClientCertificateRequiresTls)
{
    embedded_postgres pg;
    try {
        pg.make_client_certificate("x");
        FAIL() << "expected embedded_postgres_error";
    } catch (const sleet::embedded_postgres_error& e) {
        EXPECT_STREQ(e.what(), "sleet::embedded_postgres: make_client_certificate requires embedded_postgres_params::tls");
    }
}

} // namespace
