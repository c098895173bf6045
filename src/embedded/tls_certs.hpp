// Internal to sleet_embedded: test certificates with OpenSSL 3 (libcrypto only).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sleet::detail::embedded {

/// A certificate and its unencrypted private key, both PEM.
struct pem_pair {
    std::string cert;
    std::string key;
};

enum class cert_kind { server, client };

/// A self-signed CA (EC P-256, CA:TRUE, valid from an hour ago for ten years).
pem_pair make_ca(std::string_view common_name);

/// A leaf certificate signed by `ca`. CN = common_name. For servers, `alt_names` become the
/// subjectAltName (IP literals as iPAddress, the rest as dNSName). `expired`: the validity
/// ended yesterday. Throws std::runtime_error with OpenSSL's reason on failure.
pem_pair make_leaf(const pem_pair& ca, cert_kind kind, std::string_view common_name,
                   const std::vector<std::string>& alt_names, bool expired);

/// Lower-case hex MD5 of `data` (for PostgreSQL's "md5" password hashes).
std::string md5_hex(std::string_view data);

} // namespace sleet::detail::embedded
