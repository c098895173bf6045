// sleet::source_location — where a call was made, for diagnostics (the pool's leak warning).
//
// std::source_location needs __builtin_source_location, which clang 14 lacks when it compiles
// against libstdc++; the __builtin_FILE/LINE/FUNCTION builtins work on every supported
// compiler. Used as a defaulted parameter, current() records the caller's location.
#pragma once

#include <cstdint>

namespace sleet {

class source_location {
public:
    static constexpr source_location current(const char* file = __builtin_FILE(), std::uint_least32_t line = __builtin_LINE(),
                                             const char* function = __builtin_FUNCTION()) noexcept
    {
        source_location l;
        l.file_ = file;
        l.line_ = line;
        l.function_ = function;
        return l;
    }

    constexpr source_location() noexcept = default;
    constexpr const char* file_name() const noexcept { return file_; }
    constexpr std::uint_least32_t line() const noexcept { return line_; }
    constexpr const char* function_name() const noexcept { return function_; }

private:
    const char* file_ = "";
    std::uint_least32_t line_ = 0;
    const char* function_ = "";
};

} // namespace sleet
