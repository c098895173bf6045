// sleet::wire — MD5 password response, SCRAM-SHA-256(-PLUS) client, channel binding hash.
//
// SCRAM flow (RFC 5802 §3, RFC 7677, PostgreSQL §55.3.1), with our state names:
//   want_server_first  --handle_server_first-->  want_server_final  --handle_server_final-->  done
// Any error moves to `failed`; a call in the wrong state is errc::unexpected_message.
//
// The password and every key derived from it are wiped (OPENSSL_cleanse) when no longer needed,
// and no diagnostic ever contains them.
#include <sleet/wire/auth.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <array>
#include <limits>
#include <stdexcept>

namespace sleet::wire {
namespace {

using digest32 = std::array<unsigned char, 32>;

const unsigned char* uc(std::string_view s) noexcept { return reinterpret_cast<const unsigned char*>(s.data()); }

std::string_view sv(const digest32& d) noexcept { return {reinterpret_cast<const char*>(d.data()), d.size()}; }

[[noreturn]] void throw_crypto(const char* what)
{
    diagnostics d;
    d.assign_client(std::string("OpenSSL failed to compute ") + what +
                    " (is the algorithm disabled, e.g. MD5 in FIPS mode?)");
    throw error_with_diagnostics(errc::auth_method_unsupported, std::move(d));
}

std::string hex_lower(const unsigned char* p, std::size_t n)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string s(n * 2, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 0xf];
    }
    return s;
}

std::string md5_hex(std::string_view data)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr) != 1) throw_crypto("MD5");
    return hex_lower(md, len);
}

digest32 hmac_sha256(std::string_view key, std::string_view data)
{
    digest32 out{};
    unsigned int len = 0;
    if (key.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
        HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), uc(data), data.size(), out.data(), &len) == nullptr ||
        len != out.size())
        throw_crypto("HMAC-SHA-256");
    return out;
}

digest32 sha256(std::string_view data)
{
    digest32 out{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 || len != out.size())
        throw_crypto("SHA-256");
    return out;
}

template <class T> void wipe(T& buf) noexcept { OPENSSL_cleanse(buf.data(), buf.size()); }

// RFC 5802 §5.1: "=" and "," in a saslname are written as "=3D" and "=2C".
std::string escape_saslname(std::string_view name)
{
    std::string s;
    for (char c : name) {
        if (c == '=') s += "=3D";
        else if (c == ',') s += "=2C";
        else s += c;
    }
    return s;
}

// RFC 5802 "printable": %x21-2B / %x2D-7E (visible ASCII except ',').
bool printable_nonce(std::string_view s) noexcept
{
    for (char c : s)
        if (c < 0x21 || c > 0x7e || c == ',') return false;
    return !s.empty();
}

// SASLprep (RFC 4013) of the password. For printable ASCII, SASLprep is the identity (no mapping
// applies, nothing is prohibited, NFKC leaves ASCII alone), so the bytes are used as is. For any
// other password sleet does not normalise: it uses the raw UTF-8 bytes, which is also what libpq
// and the server do when SASLprep fails (prohibited characters, invalid UTF-8). The result is
// the same as libpq's for every password that is already in NFKC and has no characters that
// SASLprep maps (non-ASCII spaces, soft hyphen, zero-width joiners...); passwords with such
// characters may fail to authenticate. So this function returns its input.
const std::string& saslprep(const std::string& password) noexcept { return password; }

const char* gs2_header(scram_client::binding b) noexcept
{
    switch (b) {
    case scram_client::binding::none: return "n,,";
    case scram_client::binding::supported_not_used: return "y,,";
    case scram_client::binding::plus: return "p=tls-server-end-point,,";
    }
    return "n,,";
}

/// Server-supplied text for an error message: at most 256 bytes, control bytes as \xNN, so a
/// hostile server can neither flood nor forge log lines.
std::string quote_server_text(std::string_view v)
{
    constexpr std::size_t limit = 256;
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(std::min(v.size(), limit) + 8);
    for (std::size_t i = 0; i < v.size() && i < limit; ++i) {
        const auto c = static_cast<unsigned char>(v[i]);
        if (c < 0x20 || c == 0x7f) {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        } else {
            out += static_cast<char>(c);
        }
    }
    if (v.size() > limit) out += "...";
    return out;
}

error_code fail(errc e, diagnostics& diag, std::string msg)
{
    diag.assign_client(std::move(msg));
    return make_error_code(e);
}

// Splits "a=...,b=...": returns the next attribute and advances `rest`.
std::string_view next_attr(std::string_view& rest) noexcept
{
    const auto comma = rest.find(',');
    std::string_view a = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    return a;
}

bool take_attr(std::string_view attr, char name, std::string_view& value) noexcept
{
    if (attr.size() < 2 || attr[0] != name || attr[1] != '=') return false;
    value = attr.substr(2);
    return true;
}

int b64_value(char c) noexcept
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

} // namespace

// --- base64 ------------------------------------------------------------------------------------

std::string base64_encode(std::string_view bytes)
{
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v = (std::uint32_t{uc(bytes)[i]} << 16) | (std::uint32_t{uc(bytes)[i + 1]} << 8) | uc(bytes)[i + 2];
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    const std::size_t left = bytes.size() - i;
    if (left > 0) {
        std::uint32_t v = std::uint32_t{uc(bytes)[i]} << 16;
        if (left == 2) v |= std::uint32_t{uc(bytes)[i + 1]} << 8;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += left == 2 ? alphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

bool base64_decode(std::string_view text, std::string& out)
{
    out.clear();
    if (text.size() % 4 != 0) return false;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = text[i + static_cast<std::size_t>(k)];
            if (c == '=' && last && k >= 2) {
                v[k] = 0;
                ++pad;
                continue;
            }
            if (pad > 0) return false; // data after padding
            v[k] = b64_value(c);
            if (v[k] < 0) return false;
        }
        const std::uint32_t w = (std::uint32_t(v[0]) << 18) | (std::uint32_t(v[1]) << 12) | (std::uint32_t(v[2]) << 6) |
                                std::uint32_t(v[3]);
        // Canonical encoding only: the bits dropped by the padding must be zero.
        if ((pad == 1 && (w & 0xff) != 0) || (pad == 2 && (w & 0xffff) != 0)) return false;
        out += static_cast<char>((w >> 16) & 0xff);
        if (pad < 2) out += static_cast<char>((w >> 8) & 0xff);
        if (pad < 1) out += static_cast<char>(w & 0xff);
    }
    return true;
}

// --- MD5 ---------------------------------------------------------------------------------------

std::string md5_password_response(std::string_view user, std::string_view password, std::string_view salt4)
{
    std::string inner(password);
    inner += user;
    std::string stage1 = md5_hex(inner);
    wipe(inner);
    stage1 += salt4;
    std::string result = "md5" + md5_hex(stage1);
    wipe(stage1);
    return result;
}

// --- SCRAM -------------------------------------------------------------------------------------

scram_client::scram_client(std::string password, binding b, std::string cbind_data, std::string nonce,
                           std::string_view username)
    : password_(std::move(password)), binding_(b), cbind_data_(std::move(cbind_data)), client_nonce_(std::move(nonce))
{
    if (binding_ == binding::plus && cbind_data_.empty()) {
        diagnostics d;
        d.assign_client("SCRAM-SHA-256-PLUS needs the tls-server-end-point hash of the server certificate, but none is "
                        "available (unsupported certificate signature algorithm?)");
        throw error_with_diagnostics(errc::channel_binding_required, std::move(d));
    }
    if (client_nonce_.empty()) {
        unsigned char raw[18];
        if (RAND_bytes(raw, sizeof raw) != 1) throw_crypto("a random SCRAM nonce");
        client_nonce_ = base64_encode({reinterpret_cast<const char*>(raw), sizeof raw});
    } else if (!printable_nonce(client_nonce_)) {
        throw std::invalid_argument("sleet::wire::scram_client: the nonce must be printable ASCII without ','");
    }
    client_first_bare_ = "n=" + escape_saslname(username) + ",r=" + client_nonce_;
    client_first_ = gs2_header(binding_) + client_first_bare_;
}

scram_client::~scram_client()
{
    wipe(password_);
    wipe(server_signature_);
}

std::string_view scram_client::mechanism() const noexcept
{
    return binding_ == binding::plus ? std::string_view("SCRAM-SHA-256-PLUS") : std::string_view("SCRAM-SHA-256");
}

error_code scram_client::handle_server_first(std::string_view server_first, diagnostics& diag)
{
    if (state_ != state::want_server_first)
        return fail(errc::unexpected_message, diag, "SCRAM: unexpected server-first-message (AuthenticationSASLContinue) at this point of the exchange");
    state_ = state::failed;
    constexpr std::string_view what = "SCRAM: invalid server-first-message: ";

    std::string_view rest = server_first;
    std::string_view attr = next_attr(rest);
    if (attr.size() >= 2 && attr[0] == 'm' && attr[1] == '=')
        return fail(errc::scram_invalid_server_message, diag, std::string(what) + "the server requires an unsupported mandatory extension (m=)");

    std::string_view nonce, salt_b64, iter_text;
    if (!take_attr(attr, 'r', nonce)) return fail(errc::scram_invalid_server_message, diag, std::string(what) + "missing the nonce (r=)");
    if (!printable_nonce(nonce))
        return fail(errc::scram_invalid_server_message, diag, std::string(what) + "the nonce (r=) contains invalid characters");
    if (nonce.size() <= client_nonce_.size() || nonce.substr(0, client_nonce_.size()) != client_nonce_)
        return fail(errc::scram_invalid_server_message, diag,
                    std::string(what) + "the nonce (r=) does not extend the client's nonce");
    if (!take_attr(next_attr(rest), 's', salt_b64))
        return fail(errc::scram_invalid_server_message, diag, std::string(what) + "missing the salt (s=)");
    std::string salt;
    if (!base64_decode(salt_b64, salt) || salt.empty())
        return fail(errc::scram_invalid_server_message, diag, std::string(what) + "the salt (s=) is empty or not valid base64");
    if (!take_attr(next_attr(rest), 'i', iter_text))
        return fail(errc::scram_invalid_server_message, diag, std::string(what) + "missing the iteration count (i=)");
    std::uint64_t iterations = 0;
    bool digits_ok = !iter_text.empty() && iter_text.size() <= 10;
    for (char c : iter_text) {
        if (c < '0' || c > '9') {
            digits_ok = false;
            break;
        }
        iterations = iterations * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (!digits_ok)
        return fail(errc::scram_invalid_server_message, diag, std::string(what) + "the iteration count (i=) is not a number");
    if (iterations < 1 || iterations > scram_max_iterations)
        return fail(errc::scram_invalid_server_message, diag,
                    std::string(what) + "the iteration count (i=" + std::string(iter_text) + ") is outside 1.." +
                        std::to_string(scram_max_iterations));
    // Anything after i= is an optional extension (RFC 5802 §7): ignored.

    // c= is base64(gs2 header + channel binding data); the data only for PLUS.
    std::string cbind_input = gs2_header(binding_);
    if (binding_ == binding::plus) cbind_input += cbind_data_;
    std::string final_without_proof = "c=" + base64_encode(cbind_input) + ",r=" + std::string(nonce);
    const std::string auth_message = client_first_bare_ + "," + std::string(server_first) + "," + final_without_proof;

    const std::string& prepared = saslprep(password_);
    if (prepared.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        return fail(errc::scram_invalid_server_message, diag, "SCRAM: the password is too long");
    digest32 salted{};
    if (PKCS5_PBKDF2_HMAC(prepared.data(), static_cast<int>(prepared.size()), uc(salt), static_cast<int>(salt.size()),
                          static_cast<int>(iterations), EVP_sha256(), static_cast<int>(salted.size()), salted.data()) != 1)
        throw_crypto("PBKDF2-HMAC-SHA-256");

    digest32 client_key = hmac_sha256(sv(salted), "Client Key");
    digest32 stored_key = sha256(sv(client_key));
    digest32 client_signature = hmac_sha256(sv(stored_key), auth_message);
    digest32 proof{};
    for (std::size_t i = 0; i < proof.size(); ++i) proof[i] = client_key[i] ^ client_signature[i];
    digest32 server_key = hmac_sha256(sv(salted), "Server Key");
    digest32 server_signature = hmac_sha256(sv(server_key), auth_message);

    server_signature_.assign(reinterpret_cast<const char*>(server_signature.data()), server_signature.size());
    client_final_ = std::move(final_without_proof) + ",p=" + base64_encode(sv(proof));
    wipe(salted);
    wipe(client_key);
    wipe(stored_key);
    wipe(client_signature);
    wipe(server_key);
    wipe(server_signature);
    state_ = state::want_server_final;
    return {};
}

error_code scram_client::handle_server_final(std::string_view server_final, diagnostics& diag)
{
    if (state_ != state::want_server_final)
        return fail(errc::unexpected_message, diag, "SCRAM: unexpected server-final-message (AuthenticationSASLFinal) at this point of the exchange");
    state_ = state::failed;
    std::string_view rest = server_final;
    std::string_view attr = next_attr(rest);
    std::string_view value;
    if (take_attr(attr, 'e', value)) {
        return fail(errc::scram_server_error, diag,
                    "SCRAM: the server rejected the authentication: " + (value.empty() ? std::string("(no reason given)") : quote_server_text(value)));
    }
    if (!take_attr(attr, 'v', value))
        return fail(errc::scram_invalid_server_message, diag, "SCRAM: invalid server-final-message: missing the verifier (v=)");
    std::string signature;
    if (!base64_decode(value, signature))
        return fail(errc::scram_invalid_server_message, diag, "SCRAM: invalid server-final-message: the verifier (v=) is not valid base64");
    if (signature.size() != server_signature_.size() ||
        CRYPTO_memcmp(signature.data(), server_signature_.data(), signature.size()) != 0)
        return fail(errc::scram_server_signature_mismatch, diag,
                    "SCRAM: the server's signature (v=) does not match: the server does not know the password");
    wipe(server_signature_);
    state_ = state::done;
    return {};
}

// --- channel binding ---------------------------------------------------------------------------

std::string tls_server_end_point_hash(std::string_view der)
{
    if (der.empty() || der.size() > static_cast<std::size_t>(std::numeric_limits<long>::max())) return {};
    const unsigned char* p = uc(der);
    X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
    if (cert == nullptr) return {};
    std::string result;
    int md_nid = NID_undef;
    int pk_nid = NID_undef;
    if (X509_get_signature_info(cert, &md_nid, &pk_nid, nullptr, nullptr) == 1) {
        // RFC 5929 §4.1: MD5 and SHA-1 are replaced by SHA-256; otherwise the signature's own hash.
        const EVP_MD* md = nullptr;
        if (md_nid == NID_md5 || md_nid == NID_sha1) md = EVP_sha256();
        else if (md_nid != NID_undef) md = EVP_get_digestbynid(md_nid);
        unsigned char buf[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (md != nullptr && X509_digest(cert, md, buf, &len) == 1) result.assign(reinterpret_cast<const char*>(buf), len);
    }
    X509_free(cert);
    return result;
}

} // namespace sleet::wire
