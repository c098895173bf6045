// libFuzzer target: the SCRAM-SHA-256 client fed hostile server messages.
//
// Input: server-first and server-final separated by the first 0x00 byte. If server-first starts
// with "r=", the client's nonce is inserted after it (so the exchange gets past the nonce check
// and the fuzzer reaches the salt, iteration and server-final parsing). Iteration counts over
// 4096 are skipped to keep executions fast (the cap itself is unit-tested). Byte 0 picks the
// channel-binding mode. Properties: no crash; errors carry a message; the password never
// appears in a message unless the server sent it.
#include <sleet/wire/auth.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {
void check(bool ok)
{
    if (!ok) __builtin_trap();
}
constexpr std::string_view password = "fuzz-Password-7781";
constexpr std::string_view nonce = "fuzzClientNonce0123456789";
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1) return 0;
    std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    auto sep = in.find('\0');
    std::string first(in.substr(0, sep));
    std::string_view final_msg = sep == std::string_view::npos ? std::string_view{} : in.substr(sep + 1);
    if (first.rfind("r=", 0) == 0) first.insert(2, nonce);
    if (auto i = first.find("i="); i != std::string::npos) {
        const char* p = first.c_str() + i + 2;
        char* end = nullptr;
        unsigned long long n = std::strtoull(p, &end, 10);
        if (end != p && n > 4096) return 0;
    }
    using sleet::wire::scram_client;
    const auto mode = data[0] % 3 == 0 ? scram_client::binding::none
                      : data[0] % 3 == 1 ? scram_client::binding::supported_not_used
                                         : scram_client::binding::plus;
    scram_client c(std::string(password), mode, mode == scram_client::binding::plus ? std::string(32, 'h') : std::string(),
                   std::string(nonce));
    // The messages quote server text (e.g. an "e=" reason); the password may appear in them
    // only if the server itself sent it.
    const bool echoed = in.find(password) != std::string_view::npos;
    sleet::diagnostics d;
    if (auto ec = c.handle_server_first(first, d)) {
        check(!d.client_message().empty());
        check(echoed || d.client_message().find(password) == std::string::npos);
        return 0;
    }
    check(!c.client_final_message().empty());
    sleet::diagnostics d2;
    if (auto ec = c.handle_server_final(final_msg, d2)) {
        check(!d2.client_message().empty());
        check(echoed || d2.client_message().find(password) == std::string::npos);
    }
    return 0;
}
