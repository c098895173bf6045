// sleet::types — inet, cidr, macaddr, money.
#include <sleet/types/detail/codec.hpp>
#include <sleet/types/money.hpp>
#include <sleet/types/network.hpp>

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace sleet {

namespace {

constexpr std::uint8_t pg_af_inet = 2;  // PGSQL_AF_INET (AF_INET + 0)
constexpr std::uint8_t pg_af_inet6 = 3; // PGSQL_AF_INET6 (AF_INET + 1)

bool host_bits_clear(const inet& v)
{
    const std::size_t n = v.family == inet::family_t::v4 ? 4 : 16;
    for (std::size_t i = 0; i < n; ++i) {
        const int bits_in_byte = std::max(0, std::min(8, static_cast<int>(v.prefix_length) - static_cast<int>(i) * 8));
        const auto mask = static_cast<std::uint8_t>(bits_in_byte == 0 ? 0 : 0xFF << (8 - bits_in_byte));
        if ((v.address[i] & static_cast<std::uint8_t>(~mask)) != 0) return false;
    }
    return true;
}

std::string shown(std::string_view b)
{
    // Appends instead of operator+ chains: GCC 12 -O2/-O3 reports a false -Wrestrict on those.
    std::string out;
    out.reserve(62);
    out += '"';
    out.append(b.substr(0, 60));
    out += '"';
    return out;
}

int hex_value(char c) noexcept
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

} // namespace

std::optional<inet> inet::parse(std::string_view s)
{
    inet v;
    std::string addr(s.substr(0, s.find('/')));
    const bool has_prefix = s.find('/') != std::string_view::npos;
    if (addr.find(':') != std::string::npos) {
        v.family = family_t::v6;
        if (inet_pton(AF_INET6, addr.c_str(), v.address.data()) != 1) return std::nullopt;
    } else {
        v.family = family_t::v4;
        if (inet_pton(AF_INET, addr.c_str(), v.address.data()) != 1) return std::nullopt;
    }
    v.prefix_length = v.max_prefix();
    if (has_prefix) {
        std::string_view p = s.substr(s.find('/') + 1);
        unsigned bits = 0;
        auto res = std::from_chars(p.data(), p.data() + p.size(), bits);
        if (res.ec != std::errc{} || res.ptr != p.data() + p.size() || p.empty() || bits > v.max_prefix())
            return std::nullopt;
        v.prefix_length = static_cast<std::uint8_t>(bits);
    }
    return v;
}

std::string inet::to_string() const
{
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(family == family_t::v4 ? AF_INET : AF_INET6, address.data(), buf, sizeof buf);
    std::string s = buf;
    if (prefix_length != max_prefix()) {
        s += '/';
        s += std::to_string(prefix_length);  // two appends: "/" + to_string trips GCC 12's -Wrestrict at -O3
    }
    return s;
}

std::optional<cidr> cidr::parse(std::string_view s)
{
    auto i = inet::parse(s);
    if (!i || !host_bits_clear(*i)) return std::nullopt;
    cidr c;
    static_cast<inet&>(c) = *i;
    return c;
}

std::string cidr::to_string() const
{
    std::string s = inet::to_string();
    if (prefix_length == max_prefix()) {
        s += '/';
        s += std::to_string(prefix_length);
    }
    return s;
}

namespace {

void encode_inet(const inet& v, bool is_cidr, std::string& out, wire::format f)
{
    if (v.prefix_length > v.max_prefix())
        detail::throw_encode_error(errc::invalid_value, "inet prefix length " + std::to_string(v.prefix_length) +
                                                            " exceeds " + std::to_string(v.max_prefix()));
    if (f == wire::format::text) {
        out += is_cidr ? static_cast<const cidr&>(v).to_string() : v.to_string();
        return;
    }
    const bool v4 = v.family == inet::family_t::v4;
    out.push_back(static_cast<char>(v4 ? pg_af_inet : pg_af_inet6));
    out.push_back(static_cast<char>(v.prefix_length));
    out.push_back(static_cast<char>(is_cidr ? 1 : 0));
    out.push_back(static_cast<char>(v4 ? 4 : 16));
    out.append(reinterpret_cast<const char*>(v.address.data()), v4 ? 4 : 16);
}

error_code decode_inet(std::string_view b, wire::format f, inet& out, diagnostics& d)
{
    if (f == wire::format::text) {
        auto v = inet::parse(b);
        if (!v) return detail::decode_fail(d, errc::invalid_value, "not an address: " + shown(b));
        out = *v;
        return {};
    }
    if (b.size() < 4) return detail::decode_fail(d, errc::invalid_value, "truncated inet");
    const auto fam = static_cast<std::uint8_t>(b[0]);
    const auto bits = static_cast<std::uint8_t>(b[1]);
    const auto nb = static_cast<std::uint8_t>(b[3]);
    if (!((fam == pg_af_inet && nb == 4) || (fam == pg_af_inet6 && nb == 16)) || b.size() != 4u + nb)
        return detail::decode_fail(d, errc::invalid_value, "invalid inet family or length");
    inet v;
    v.family = fam == pg_af_inet ? inet::family_t::v4 : inet::family_t::v6;
    if (bits > v.max_prefix()) return detail::decode_fail(d, errc::invalid_value, "invalid inet prefix length");
    v.prefix_length = bits;
    std::memcpy(v.address.data(), b.data() + 4, nb);
    out = v;
    return {};
}

} // namespace

void pg_type<inet>::encode(const inet& v, std::string& out, wire::format f) { encode_inet(v, false, out, f); }

error_code pg_type<inet>::decode(std::string_view b, wire::format f, oid_t, inet& out, diagnostics& d)
{
    return decode_inet(b, f, out, d);
}

void pg_type<cidr>::encode(const cidr& v, std::string& out, wire::format f)
{
    if (!host_bits_clear(v))
        detail::throw_encode_error(errc::invalid_value, "cidr " + v.inet::to_string() + " has bits set to the right of its mask");
    encode_inet(v, true, out, f);
}

error_code pg_type<cidr>::decode(std::string_view b, wire::format f, oid_t, cidr& out, diagnostics& d)
{
    return decode_inet(b, f, out, d);
}

// --- macaddr -----------------------------------------------------------------------------------

std::optional<macaddr> macaddr::parse(std::string_view s)
{
    macaddr m;
    std::size_t n = 0;
    char sep = 0;
    for (std::size_t i = 0; i < s.size();) {
        if (hex_value(s[i]) < 0) {
            // One kind of separator, between digit pairs only.
            char c = s[i];
            if ((c != ':' && c != '-' && c != '.') || (sep != 0 && c != sep) || n == 0 || n == 6) return std::nullopt;
            sep = c;
            ++i;
            continue;
        }
        if (i + 1 >= s.size() || hex_value(s[i + 1]) < 0 || n == 6) return std::nullopt;
        m.bytes[n++] = static_cast<std::uint8_t>(hex_value(s[i]) * 16 + hex_value(s[i + 1]));
        i += 2;
    }
    if (n != 6) return std::nullopt;
    return m;
}

std::string macaddr::to_string() const
{
    static constexpr char d[] = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < 6; ++i) {
        if (i) s.push_back(':');
        s.push_back(d[bytes[i] >> 4]);
        s.push_back(d[bytes[i] & 15]);
    }
    return s;
}

void pg_type<macaddr>::encode(const macaddr& v, std::string& out, wire::format f)
{
    if (f == wire::format::binary) out.append(reinterpret_cast<const char*>(v.bytes.data()), 6);
    else out += v.to_string();
}

error_code pg_type<macaddr>::decode(std::string_view b, wire::format f, oid_t, macaddr& out, diagnostics& d)
{
    if (f == wire::format::binary) {
        if (auto ec = detail::expect_size(b, 6, d)) return ec;
        std::memcpy(out.bytes.data(), b.data(), 6);
        return {};
    }
    auto m = macaddr::parse(b);
    if (!m) return detail::decode_fail(d, errc::invalid_value, "not a MAC address: " + shown(b));
    out = *m;
    return {};
}

// --- money -------------------------------------------------------------------------------------

void pg_type<money>::encode(const money& v, std::string& out, wire::format f)
{
    if (f == wire::format::binary) {
        detail::be_append(out, v.cents);
        return;
    }
    // Locale-free text the server's money input accepts: "-1234.56".
    std::int64_t c = v.cents;
    auto mag = c < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(c) : static_cast<std::uint64_t>(c);
    if (c < 0) out.push_back('-');
    out += std::to_string(mag / 100);
    out.push_back('.');
    out.push_back(static_cast<char>('0' + mag % 100 / 10));
    out.push_back(static_cast<char>('0' + mag % 10));
}

error_code pg_type<money>::decode(std::string_view b, wire::format f, oid_t, money& out, diagnostics& d)
{
    if (f == wire::format::binary) {
        if (auto ec = detail::expect_size(b, 8, d)) return ec;
        out.cents = detail::be_read<std::int64_t>(b.data());
        return {};
    }
    // "$1,234.56", "-$1,234.56", "($1.00)": keep the digits, a '-' or parentheses make it negative,
    // two digits after the point are cents.
    bool neg = false, point = false, any = false;
    int frac = 0;
    std::uint64_t mag = 0;
    for (char c : b) {
        if (c >= '0' && c <= '9') {
            if (point && frac == 2) return detail::decode_fail(d, errc::invalid_value, "not a 2-digit money: " + shown(b));
            if (mag > (std::uint64_t{1} << 63) / 10) return detail::decode_fail(d, errc::value_out_of_range, shown(b));
            mag = mag * 10 + static_cast<std::uint64_t>(c - '0');
            any = true;
            if (point) ++frac;
        } else if (c == '.') {
            if (point) return detail::decode_fail(d, errc::invalid_value, "not a money value: " + shown(b));
            point = true;
        } else if (c == '-' || c == '(') {
            neg = true;
        }
    }
    if (!any) return detail::decode_fail(d, errc::invalid_value, "not a money value: " + shown(b));
    for (; frac < 2; ++frac)
        if (__builtin_mul_overflow(mag, std::uint64_t{10}, &mag)) return detail::decode_fail(d, errc::value_out_of_range, shown(b));
    if (mag > (neg ? (std::uint64_t{1} << 63) : (std::uint64_t{1} << 63) - 1))
        return detail::decode_fail(d, errc::value_out_of_range, shown(b));
    out.cents = neg ? static_cast<std::int64_t>(std::uint64_t{0} - mag) : static_cast<std::int64_t>(mag);
    return {};
}

} // namespace sleet
