// Helpers shared by the reliability scenarios (issue 7).
#pragma once

#include "chaos_proxy.hpp"
#include "fixture.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

#include <chrono>
#include <string>
#include <string_view>

namespace sleet::test {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
inline constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

inline std::chrono::milliseconds ms_since(clock_type::time_point t)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t);
}

/// What run_until_quiet saw.
struct quiet_result {
    bool finished = false;                  ///< the coroutine returned (or threw)
    bool quiet = false;                     ///< the io_context then ran out of work by itself
    std::chrono::milliseconds finished_after{0};  ///< from the start
    std::chrono::milliseconds quiet_after{0};     ///< from the start until the io_context had no work left
    clock_type::time_point quiet_at{};            ///< when run_for returned
    std::exception_ptr error;
};

/// Runs `fn` on a fresh io_context and, unlike run(), does NOT stop the io_context when `fn`
/// returns: io_context::run_for returns only once no work is left at all (no coroutine, timer or
/// socket operation of the connection still waiting), or at `limit`. quiet == false means
/// something would wait forever.
inline quiet_result run_until_quiet(std::function<asio::awaitable<void>()> fn, std::chrono::milliseconds limit)
{
    asio::io_context ioc;
    quiet_result r;
    const auto start = clock_type::now();
    asio::co_spawn(ioc, fn(), [&](std::exception_ptr e) {
        r.error = e;
        r.finished = true;
        r.finished_after = ms_since(start);
    });
    ioc.run_for(limit);
    r.quiet = ioc.stopped();
    r.quiet_after = ms_since(start);
    r.quiet_at = clock_type::now();
    return r;
}

/// One line for a failure message: when the scenario finished and went quiet, and what it threw.
inline std::string describe(const quiet_result& r)
{
    std::string s = r.finished ? "finished after " + std::to_string(r.finished_after.count()) + " ms"
                               : "did not finish";
    s += r.quiet ? ", io_context quiet after " + std::to_string(r.quiet_after.count()) + " ms"
                 : ", io_context still had work after " + std::to_string(r.quiet_after.count()) + " ms";
    if (r.error) {
        try {
            std::rethrow_exception(r.error);
        } catch (const std::exception& e) {
            s += ", threw: " + std::string(e.what());
        }
    }
    return s;
}

/// The superuser URL through `proxy` (no TLS unless `query` says otherwise).
inline std::string proxy_url(const chaos_proxy& proxy, std::string_view user = {}, std::string_view password = {},
                             std::string_view query = "sslmode=disable")
{
    std::string u = "postgresql://";
    u += user.empty() ? server().superuser() : std::string(user);
    if (!password.empty()) u += ":" + std::string(password);
    u += "@127.0.0.1:" + std::to_string(proxy.port()) + "/postgres";
    if (!query.empty()) u += "?" + std::string(query);
    return u;
}

/// Peak resident set size of this process so far, in bytes.
inline std::size_t peak_rss()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<std::size_t>(u.ru_maxrss) * 1024;
}

/// Current resident set size, in bytes (from /proc/self/statm).
inline std::size_t current_rss()
{
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long size = 0, resident = 0;
    const int n = std::fscanf(f, "%lu %lu", &size, &resident);
    std::fclose(f);
    return n == 2 ? static_cast<std::size_t>(resident) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

} // namespace sleet::test
