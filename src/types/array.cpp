// sleet::types — array headers (binary) and the array literal parser (text).
#include <sleet/types/array.hpp>

#include <cctype>
#include <limits>

namespace sleet::detail {

error_code read_array_header(byte_reader& r, array_header& h, diagnostics& d)
{
    std::int32_t ndim = 0, flags = 0;
    std::uint32_t elem = 0;
    if (!r.read(ndim) || !r.read(flags) || !r.read(elem))
        return decode_fail(d, errc::invalid_value, "truncated array header");
    if (ndim < 0 || ndim > 6) // PostgreSQL's MAXDIM
        return decode_fail(d, errc::invalid_value, "invalid number of array dimensions " + std::to_string(ndim));
    if (flags != 0 && flags != 1) return decode_fail(d, errc::invalid_value, "invalid array flags");
    h.has_null = flags == 1;
    h.element = elem;
    h.dims.clear();
    h.lower_bounds.clear();
    std::size_t count = ndim == 0 ? 0 : 1;
    for (std::int32_t i = 0; i < ndim; ++i) {
        std::int32_t n = 0, lb = 0;
        if (!r.read(n) || !r.read(lb)) return decode_fail(d, errc::invalid_value, "truncated array header");
        if (n < 0) return decode_fail(d, errc::invalid_value, "negative array dimension");
        count *= static_cast<std::size_t>(n);
        if (count > std::numeric_limits<std::int32_t>::max())
            return decode_fail(d, errc::invalid_value, "array dimensions too large");
        h.dims.push_back(n);
        h.lower_bounds.push_back(lb);
    }
    return {};
}

void write_array_header(std::string& out, const std::vector<std::int32_t>& dims,
                        const std::vector<std::int32_t>& lower_bounds, bool has_null, oid_t element)
{
    be_append(out, static_cast<std::int32_t>(dims.size()));
    be_append(out, std::int32_t{has_null ? 1 : 0});
    be_append(out, element);
    for (std::size_t i = 0; i < dims.size(); ++i) {
        be_append(out, dims[i]);
        be_append(out, i < lower_bounds.size() ? lower_bounds[i] : std::int32_t{1});
    }
}

std::size_t begin_length(std::string& out)
{
    auto at = out.size();
    out.append(4, '\0');
    return at;
}

void end_length(std::string& out, std::size_t at)
{
    const std::size_t len = out.size() - at - 4;
    if (len > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
        throw_encode_error(errc::outgoing_message_too_large, "an array element exceeds 2^31-1 bytes");
    std::string tmp;
    be_append(tmp, static_cast<std::int32_t>(len));
    out.replace(at, 4, tmp);
}

void throw_bad_dims(std::size_t product, std::size_t count)
{
    throw_encode_error(errc::invalid_value, "pg_array: the dimensions describe " + std::to_string(product) +
                                                " elements but it holds " + std::to_string(count) +
                                                " (or lower_bounds does not match dims)");
}

void append_quoted_element(std::string& out, std::string_view elem)
{
    out.push_back('"');
    for (char c : elem) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    out.push_back('"');
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/// Recursive-descent parser of an array literal; one element per leaf, dims checked to be
/// rectangular.
class array_parser {
public:
    array_parser(std::string_view s, text_array& out) : s_(s), out_(out) {}

    bool parse()
    {
        std::vector<std::int32_t> explicit_lb, explicit_dims;
        skip_ws();
        if (peek() == '[') {
            while (peek() == '[') {
                ++i_;
                std::int64_t lb = 0, ub = 0;
                if (!integer(lb) || !lit(':') || !integer(ub) || !lit(']') || ub < lb - 1) return false;
                explicit_lb.push_back(static_cast<std::int32_t>(lb));
                explicit_dims.push_back(static_cast<std::int32_t>(ub - lb + 1));
            }
            if (!lit('=')) return false;
            skip_ws();
        }
        if (!level(0)) return false;
        skip_ws();
        if (i_ != s_.size()) return false;
        if (out_.elements.empty()) {
            out_.dims.clear(); // "{}" is the zero-dimensional array
        } else if (!explicit_dims.empty() && explicit_dims != out_.dims) {
            return false;
        }
        out_.lower_bounds = explicit_lb.empty() ? std::vector<std::int32_t>(out_.dims.size(), 1) : explicit_lb;
        if (out_.elements.empty()) out_.lower_bounds.clear();
        return true;
    }

private:
    char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
    bool lit(char c)
    {
        if (peek() != c || i_ >= s_.size()) return false;
        ++i_;
        return true;
    }
    void skip_ws()
    {
        while (i_ < s_.size() && is_space(s_[i_])) ++i_;
    }
    bool integer(std::int64_t& v)
    {
        bool neg = lit('-');
        std::size_t start = i_;
        v = 0;
        while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9' && i_ - start < 10) v = v * 10 + (s_[i_++] - '0');
        if (neg) v = -v;
        return i_ > start;
    }

    bool level(std::size_t depth)
    {
        if (!lit('{')) return false;
        if (depth >= 6) return false;
        if (out_.dims.size() <= depth) {
            if (seen_leaf_ && depth >= leaf_depth_) return false;
            out_.dims.push_back(-1);
        }
        skip_ws();
        std::int32_t count = 0;
        if (lit('}')) {
            // Only "{}" as a whole may be empty.
            return depth == 0;
        }
        for (;;) {
            skip_ws();
            if (peek() == '{') {
                if (seen_leaf_ && leaf_depth_ == depth) return false;
                if (!level(depth + 1)) return false;
            } else {
                if (seen_leaf_ && leaf_depth_ != depth) return false;
                if (!seen_leaf_ && out_.dims.size() != depth + 1) return false;
                seen_leaf_ = true;
                leaf_depth_ = depth;
                if (!element()) return false;
            }
            ++count;
            skip_ws();
            if (lit(',')) continue;
            if (lit('}')) break;
            return false;
        }
        if (out_.dims[depth] == -1) out_.dims[depth] = count;
        else if (out_.dims[depth] != count) return false; // not rectangular
        return true;
    }

    bool element()
    {
        std::string v;
        if (lit('"')) {
            for (;;) {
                if (i_ >= s_.size()) return false;
                char c = s_[i_++];
                if (c == '"') break;
                if (c == '\\') {
                    if (i_ >= s_.size()) return false;
                    c = s_[i_++];
                }
                v.push_back(c);
            }
            out_.elements.emplace_back(std::move(v));
            return true;
        }
        bool escaped = false;
        std::size_t keep = 0; // length up to the last escaped or non-space character
        while (i_ < s_.size()) {
            char c = s_[i_];
            if (c == ',' || c == '}') break;
            if (c == '{' || c == '"') return false;
            ++i_;
            if (c == '\\') {
                if (i_ >= s_.size()) return false;
                v.push_back(s_[i_++]);
                escaped = true;
                keep = v.size();
                continue;
            }
            v.push_back(c);
            if (!is_space(c)) keep = v.size();
        }
        v.resize(keep);
        if (v.empty() && !escaped) return false;
        if (!escaped && v.size() == 4 && std::toupper(static_cast<unsigned char>(v[0])) == 'N' &&
            std::toupper(static_cast<unsigned char>(v[1])) == 'U' && std::toupper(static_cast<unsigned char>(v[2])) == 'L' &&
            std::toupper(static_cast<unsigned char>(v[3])) == 'L')
            out_.elements.emplace_back(std::nullopt);
        else out_.elements.emplace_back(std::move(v));
        return true;
    }

    std::string_view s_;
    text_array& out_;
    std::size_t i_ = 0;
    bool seen_leaf_ = false;
    std::size_t leaf_depth_ = 0;
};

} // namespace

error_code parse_text_array(std::string_view s, text_array& out, diagnostics& d)
{
    out = {};
    array_parser p(s, out);
    if (!p.parse())
        return decode_fail(d, errc::invalid_value,
                           "not an array literal: \"" + std::string(s.substr(0, 60)) + (s.size() > 60 ? "...\"" : "\""));
    return {};
}

} // namespace sleet::detail
