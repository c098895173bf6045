// sleet::types — small helpers shared by the codecs (big-endian integers, error reasons).
#pragma once

#include <sleet/error.hpp>

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace sleet::detail {

/// Appends `v` in network byte order.
template <class T>
void be_append(std::string& out, T v)
{
    static_assert(std::is_integral_v<T>);
    using U = std::make_unsigned_t<T>;
    auto u = static_cast<U>(v);
    char buf[sizeof(T)];
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        buf[sizeof(T) - 1 - i] = static_cast<char>(static_cast<unsigned char>(u & 0xFFu));
        if constexpr (sizeof(T) > 1) u = static_cast<U>(u >> 8);
    }
    out.append(buf, sizeof(T));
}

/// Reads a network-order integer from `p` (which must hold sizeof(T) bytes).
template <class T>
T be_read(const char* p) noexcept
{
    static_assert(std::is_integral_v<T>);
    using U = std::make_unsigned_t<T>;
    U u = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        if constexpr (sizeof(T) > 1) u = static_cast<U>(u << 8);
        u = static_cast<U>(u | static_cast<unsigned char>(p[i]));
    }
    return static_cast<T>(u);
}

/// Sets the reason (without column name) and returns the code.
error_code decode_fail(diagnostics& diag, errc code, std::string reason);
/// The failure of expect_size, out of line.
error_code wrong_size(std::string_view b, std::size_t n, diagnostics& diag);
/// invalid_value "expected N bytes, got M" unless b.size() == n. Inline: every fixed-size
/// binary value passes through here.
inline error_code expect_size(std::string_view b, std::size_t n, diagnostics& diag)
{
    if (b.size() == n) return {};
    return wrong_size(b, n, diag);
}
/// Throws error_with_diagnostics(code) with `message` as the client message.
[[noreturn]] void throw_encode_error(errc code, std::string message);
/// Throws errc::nul_in_text_parameter if `s` contains a NUL byte.
void check_no_nul(std::string_view s);

/// Cursor over a binary value: reads fail softly once past the end.
class byte_reader {
public:
    explicit byte_reader(std::string_view b) noexcept : b_(b) {}
    template <class T>
    bool read(T& v) noexcept
    {
        if (b_.size() - pos_ < sizeof(T)) return false;
        v = be_read<T>(b_.data() + pos_);
        pos_ += sizeof(T);
        return true;
    }
    bool read_bytes(std::size_t n, std::string_view& v) noexcept
    {
        if (b_.size() - pos_ < n) return false;
        v = b_.substr(pos_, n);
        pos_ += n;
        return true;
    }
    std::size_t remaining() const noexcept { return b_.size() - pos_; }

private:
    std::string_view b_;
    std::size_t pos_ = 0;
};

} // namespace sleet::detail
