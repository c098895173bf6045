// sleet::wire — password authentication as offline computations and a SCRAM state machine.
// No I/O: the connection feeds server messages in and sends what comes out.
#pragma once

#include <sleet/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace sleet::wire {

/// "md5" + md5hex(md5hex(password + user) + salt), as PostgreSQL's AuthenticationMD5Password wants.
std::string md5_password_response(std::string_view user, std::string_view password, std::string_view salt4);

/// SCRAM-SHA-256 / SCRAM-SHA-256-PLUS client (RFC 5802, RFC 7677, PostgreSQL §55.3).
///
/// Flow:
///   scram_client c(password, mode, cbind_data);
///   send SASLInitialResponse(c.mechanism(), c.client_first_message());
///   on AuthenticationSASLContinue(data): ec = c.handle_server_first(data); send SASLResponse(c.client_final_message());
///   on AuthenticationSASLFinal(data):    ec = c.handle_server_final(data);  // verifies the server signature
///
/// The password is normalised with SASLprep where it is ASCII-printable; other passwords are
/// used as raw UTF-8 bytes, as libpq does when normalisation is not possible. Errors never
/// include the password or any value derived from it.
class scram_client {
public:
    enum class binding {
        none,      ///< gs2 header "n,,": channel binding not supported by the client
        supported_not_used, ///< "y,,": client could bind but the server did not offer PLUS
        plus       ///< "p=tls-server-end-point,,": SCRAM-SHA-256-PLUS with cbind_data
    };

    /// `cbind_data` is the tls-server-end-point hash of the server certificate (for `plus`;
    /// `plus` with empty `cbind_data` throws errc::channel_binding_required).
    /// `nonce` empty = 18 random bytes from OpenSSL's RAND_bytes, base64-encoded; tests may fix it
    /// (it must be printable ASCII without ','; std::invalid_argument otherwise).
    /// `username` goes into client-first-bare ("n=<username>", escaped per RFC 5802). PostgreSQL
    /// ignores it and takes the startup user, so sleet sends it empty ("n=") like libpq; the
    /// parameter exists so the RFC 7677 test vector (n=user) can be reproduced.
    scram_client(std::string password, binding b, std::string cbind_data = {}, std::string nonce = {},
                 std::string_view username = {});
    ~scram_client();
    scram_client(const scram_client&) = default;
    scram_client& operator=(const scram_client&) = default;
    scram_client(scram_client&&) = default;
    scram_client& operator=(scram_client&&) = default;

    std::string_view mechanism() const noexcept;   ///< "SCRAM-SHA-256" or "SCRAM-SHA-256-PLUS"
    const std::string& client_first_message() const noexcept { return client_first_; }

    /// Parses server-first (r=,s=,i=), checks the nonce prefix and iteration count, computes the
    /// proof. Afterwards client_final_message() is ready.
    /// Errors: errc::scram_invalid_server_message (diag names the malformed part),
    /// errc::unexpected_message if called out of order.
    error_code handle_server_first(std::string_view server_first, diagnostics& diag);
    const std::string& client_final_message() const noexcept { return client_final_; }

    /// Parses server-final (v= or e=) and verifies the server signature.
    /// Errors: errc::scram_server_error ("e=<reason>", the diag quotes the reason),
    /// errc::scram_server_signature_mismatch, errc::scram_invalid_server_message,
    /// errc::unexpected_message if called out of order.
    error_code handle_server_final(std::string_view server_final, diagnostics& diag);

private:
    std::string password_;
    binding binding_;
    std::string cbind_data_;
    std::string client_nonce_;
    std::string client_first_bare_;
    std::string client_first_;
    std::string client_final_;
    std::string server_signature_;  // expected, raw bytes
    enum class state : std::uint8_t { want_server_first, want_server_final, done, failed };
    state state_ = state::want_server_first;
};

/// Iteration counts above this are refused (errc::scram_invalid_server_message): PostgreSQL's
/// default is 4096, and a hostile server could otherwise make the client burn minutes of CPU.
/// 10 million PBKDF2-SHA-256 rounds take a few seconds on current hardware.
inline constexpr std::uint32_t scram_max_iterations = 10'000'000;

/// Standard base64 (RFC 4648, with padding). `decode` is strict: no whitespace, padding only at
/// the end, length a multiple of 4; returns false on anything else.
std::string base64_encode(std::string_view bytes);
bool base64_decode(std::string_view text, std::string& out);

/// tls-server-end-point channel binding data (RFC 5929): hash of the DER certificate with the
/// certificate's signature digest (SHA-256 when that is MD5 or SHA-1). `der` is the server
/// certificate in DER. Returns empty on an unsupported signature algorithm.
std::string tls_server_end_point_hash(std::string_view der);

} // namespace sleet::wire
