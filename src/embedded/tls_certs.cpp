#include "tls_certs.hpp"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace sleet::detail::embedded {
namespace {

template <class T, void (*F)(T*)> struct deleter {
    void operator()(T* p) const noexcept { F(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, deleter<X509, X509_free>>;
using bio_ptr = std::unique_ptr<BIO, deleter<BIO, BIO_free_all>>;
using bn_ptr = std::unique_ptr<BIGNUM, deleter<BIGNUM, BN_free>>;
using ext_ptr = std::unique_ptr<X509_EXTENSION, deleter<X509_EXTENSION, X509_EXTENSION_free>>;

[[noreturn]] void fail(const char* what)
{
    std::string msg = std::string("sleet::embedded_postgres: certificate generation failed: ") + what;
    unsigned long e = ERR_get_error();
    if (e != 0) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        msg += ": ";
        msg += buf;
    }
    ERR_clear_error();
    throw std::runtime_error(msg);
}

void check(int ok, const char* what)
{
    if (ok <= 0) fail(what);
}

pkey_ptr new_key()
{
    pkey_ptr k(EVP_EC_gen("P-256"));
    if (!k) fail("EVP_EC_gen(P-256)");
    return k;
}

std::string to_pem(X509* x)
{
    bio_ptr b(BIO_new(BIO_s_mem()));
    if (!b) fail("BIO_new");
    check(PEM_write_bio_X509(b.get(), x), "PEM_write_bio_X509");
    char* data = nullptr;
    long n = BIO_get_mem_data(b.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

std::string to_pem(EVP_PKEY* k)
{
    bio_ptr b(BIO_new(BIO_s_mem()));
    if (!b) fail("BIO_new");
    check(PEM_write_bio_PrivateKey(b.get(), k, nullptr, nullptr, 0, nullptr, nullptr), "PEM_write_bio_PrivateKey");
    char* data = nullptr;
    long n = BIO_get_mem_data(b.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

x509_ptr cert_from_pem(const std::string& pem)
{
    bio_ptr b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!b) fail("BIO_new_mem_buf");
    x509_ptr x(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
    if (!x) fail("PEM_read_bio_X509");
    return x;
}

pkey_ptr key_from_pem(const std::string& pem)
{
    bio_ptr b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!b) fail("BIO_new_mem_buf");
    pkey_ptr k(PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr));
    if (!k) fail("PEM_read_bio_PrivateKey");
    return k;
}

// Version 3, random positive serial, subject CN, validity and public key.
x509_ptr new_cert(EVP_PKEY* key, std::string_view cn, long not_before_s, long not_after_s)
{
    x509_ptr x(X509_new());
    if (!x) fail("X509_new");
    check(X509_set_version(x.get(), X509_VERSION_3), "X509_set_version");
    bn_ptr serial(BN_new());
    if (!serial) fail("BN_new");
    check(BN_rand(serial.get(), 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY), "BN_rand");
    if (!BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(x.get()))) fail("BN_to_ASN1_INTEGER");
    if (!X509_gmtime_adj(X509_getm_notBefore(x.get()), not_before_s)) fail("X509_gmtime_adj");
    if (!X509_gmtime_adj(X509_getm_notAfter(x.get()), not_after_s)) fail("X509_gmtime_adj");
    X509_NAME* name = X509_get_subject_name(x.get());
    std::string cn_s(cn);
    check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn_s.c_str()),
                                     -1, -1, 0),
          "X509_NAME_add_entry_by_txt");
    check(X509_set_pubkey(x.get(), key), "X509_set_pubkey");
    return x;
}

void add_ext(X509* x, X509* issuer, int nid, const std::string& value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, nullptr, nullptr, 0);
    ext_ptr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    if (!ext) fail(("extension " + value).c_str());
    check(X509_add_ext(x, ext.get(), -1), "X509_add_ext");
}

bool is_ip_literal(const std::string& s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

constexpr long day = 24L * 3600;

} // namespace

pem_pair make_ca(std::string_view common_name)
{
    pkey_ptr key = new_key();
    x509_ptr x = new_cert(key.get(), common_name, -3600, 3650 * day);
    check(X509_set_issuer_name(x.get(), X509_get_subject_name(x.get())), "X509_set_issuer_name");
    add_ext(x.get(), x.get(), NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x.get(), x.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(x.get(), x.get(), NID_subject_key_identifier, "hash");
    check(X509_sign(x.get(), key.get(), EVP_sha256()), "X509_sign");
    return {to_pem(x.get()), to_pem(key.get())};
}

pem_pair make_leaf(const pem_pair& ca, cert_kind kind, std::string_view common_name,
                   const std::vector<std::string>& alt_names, bool expired)
{
    x509_ptr ca_cert = cert_from_pem(ca.cert);
    pkey_ptr ca_key = key_from_pem(ca.key);
    pkey_ptr key = new_key();
    x509_ptr x = expired ? new_cert(key.get(), common_name, -2 * day, -day)
                         : new_cert(key.get(), common_name, -3600, 3650 * day);
    check(X509_set_issuer_name(x.get(), X509_get_subject_name(ca_cert.get())), "X509_set_issuer_name");
    add_ext(x.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE");
    add_ext(x.get(), ca_cert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment");
    add_ext(x.get(), ca_cert.get(), NID_ext_key_usage, kind == cert_kind::server ? "serverAuth" : "clientAuth");
    add_ext(x.get(), ca_cert.get(), NID_subject_key_identifier, "hash");
    add_ext(x.get(), ca_cert.get(), NID_authority_key_identifier, "keyid:always");
    if (!alt_names.empty()) {
        std::string san;
        for (const auto& n : alt_names) {
            if (!san.empty()) san += ',';
            san += (is_ip_literal(n) ? "IP:" : "DNS:") + n;
        }
        add_ext(x.get(), ca_cert.get(), NID_subject_alt_name, san);
    }
    check(X509_sign(x.get(), ca_key.get(), EVP_sha256()), "X509_sign");
    return {to_pem(x.get()), to_pem(key.get())};
}

std::string md5_hex(std::string_view data)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    check(EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr), "EVP_Digest(md5)");
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out += hex[md[i] >> 4];
        out += hex[md[i] & 15];
    }
    return out;
}

} // namespace sleet::detail::embedded
