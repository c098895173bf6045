// sleet-bench: sleet as a peer of ../shared/peers/run-peers.sh. Runs one of the harness's four
// workloads through sleet's typed query builder and prints the single JSON line the other peers
// print (see ../shared/peers/README.md and python/peerstat.py for the fields).
//
//   sleet-bench --workload w1|w2|w3|w4 --url URL [--duration S] [--warmup S]
//               [--w2 pool|connections] [--connections N] [--tasks N]
//
//   w1  point select of the 4 user columns by random id, one connection, sequential
//   w2  the same with 8 connections and 256 concurrent tasks:
//         pool (default, peer "sleet"): a sleet::database over a sleet::pool (min = max = 8);
//           the selects are read-only, so the pool pipelines them on shared borrows (up to 32
//           in flight per connection, pool_params::shared_depth)
//         connections (peer "sleet-conns"): 8 sleet::connections, task k issues its queries on
//           connection k % 8 (sleet pipelines implicitly)
//   w3  all 10,000 users in one query into std::vector<select_model<users_t>>, repeated
//   w4  a 1,000-row insert into events (jsonb payload) per statement, fresh rows each time
//
// Client CPU is getrusage(RUSAGE_SELF) over the measured window (after connecting and the
// warm-up); host and server figures are read from /proc exactly as peerstat.py does. The extra
// field `allocs_per_unit` counts global operator new calls in the window per query or row.
// The io_context runs on one thread: the machine's other core is the server's.
#include "alloc_counter.hpp"
#include "bench_schema.hpp"

#include <sleet/orm.hpp>
#include <sleet/pool.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/version.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

// GCC 12 at -O2/-O3 inlines Asio's awaitable frame allocation (aligned_new, a malloc-family call
// behind operator new) and its deallocation (std::free) and then reports a new/free mismatch that
// is not there (-Wmismatched-new-delete, boost/asio/detail/memory.hpp:156).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace asio = boost::asio;
using namespace sleet_bench;
using clock_type = std::chrono::steady_clock;

namespace {

// --- options ----------------------------------------------------------------------------------
struct options {
    std::string workload;
    std::string url;
    double duration = 5;
    double warmup = 1;
    std::string w2_mode = "pool";
    std::size_t connections = 8;
    std::size_t tasks = 256;
};

[[noreturn]] void usage(const char* why)
{
    std::fprintf(stderr,
                 "sleet-bench: %s\nusage: sleet-bench --workload w1|w2|w3|w4 --url URL [--duration S] [--warmup S]\n"
                 "                   [--w2 pool|connections] [--connections N] [--tasks N]\n",
                 why);
    std::exit(2);
}

options parse_args(int argc, char** argv)
{
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string k = argv[i];
        if (i + 1 >= argc) usage(("missing value after " + k).c_str());
        std::string v = argv[++i];
        try {
            if (k == "--workload") o.workload = v;
            else if (k == "--url") o.url = v;
            else if (k == "--duration") o.duration = std::stod(v);
            else if (k == "--warmup") o.warmup = std::stod(v);
            else if (k == "--w2") o.w2_mode = v;
            else if (k == "--connections") o.connections = std::stoul(v);
            else if (k == "--tasks") o.tasks = std::stoul(v);
            else usage(("unknown option " + k).c_str());
        } catch (const std::logic_error&) {
            usage(("bad value for " + k + ": " + v).c_str());
        }
    }
    if (o.workload != "w1" && o.workload != "w2" && o.workload != "w3" && o.workload != "w4") usage("--workload must be w1, w2, w3 or w4");
    if (o.url.empty()) usage("--url is required");
    if (o.w2_mode != "connections" && o.w2_mode != "pool") usage("--w2 must be pool or connections");
    if (o.connections == 0 || o.tasks == 0 || o.duration <= 0 || o.warmup < 0) usage("bad numeric option");
    return o;
}

// --- /proc accounting (as ../shared/peers/python/peerstat.py) ----------------------------------
struct host_snapshot {
    clock_type::time_point t;
    long ncpu = 0;
    long long busy = 0, idle = 0, steal = 0;
};

std::optional<host_snapshot> host_ticks()
{
    host_snapshot h;
    h.t = clock_type::now();
    std::ifstream f("/proc/stat");
    if (!f) return std::nullopt;
    std::string line;
    if (!std::getline(f, line)) return std::nullopt;
    std::istringstream first(line);
    std::string cpu;
    long long v[8] = {};
    first >> cpu;
    for (auto& x : v) first >> x;  // user nice system idle iowait irq softirq steal (missing = 0)
    h.busy = v[0] + v[1] + v[2] + v[5] + v[6];
    h.idle = v[3] + v[4];
    h.steal = v[7];
    while (std::getline(f, line))
        if (line.rfind("cpu", 0) == 0) ++h.ncpu;
    return h;
}

/// Ticks used by the cluster whose postmaster is $PEERS_SERVER_PID: its own utime+stime and
/// cutime+cstime, plus utime+stime of its live children.
std::optional<long long> server_ticks()
{
    const char* env = std::getenv("PEERS_SERVER_PID");
    if (!env || !*env) return std::nullopt;
    char* end = nullptr;
    const long pm = std::strtol(env, &end, 10);
    if (*end != '\0' || pm <= 0) return std::nullopt;
    DIR* d = opendir("/proc");
    if (!d) return std::nullopt;
    long long total = 0;
    bool found = false;
    while (dirent* e = readdir(d)) {
        const char* n = e->d_name;
        if (*n < '0' || *n > '9') continue;
        std::ifstream f(std::string("/proc/") + n + "/stat");
        std::string s;
        if (!f || !std::getline(f, s)) continue;
        const auto close = s.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream in(s.substr(close + 2));
        std::vector<std::string> fields;  // from field 3 (state) on
        for (std::string x; in >> x && fields.size() < 15;) fields.push_back(x);
        if (fields.size() < 15) continue;
        const long pid = std::atol(n), ppid = std::atol(fields[1].c_str());
        auto num = [&](int i) { return std::atoll(fields[static_cast<std::size_t>(i)].c_str()); };
        if (pid == pm) {
            found = true;
            total += num(11) + num(12) + num(13) + num(14);
        } else if (ppid == pm) {
            total += num(11) + num(12);
        }
    }
    closedir(d);
    if (!found) return std::nullopt;
    return total;
}

struct snapshot {
    std::optional<host_snapshot> host;
    std::optional<long long> server;
};
snapshot take_snapshot() { return {host_ticks(), server_ticks()}; }

double seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; }

// --- workloads --------------------------------------------------------------------------------
/// Uniform user ids 1..10,000.
struct id_source {
    std::mt19937 rng{std::random_device{}()};
    std::uniform_int_distribution<std::int32_t> dist{1, static_cast<std::int32_t>(users_count)};
    std::int32_t operator()() { return dist(rng); }
};

/// One point select through the builder; checks the row like the peers do.
asio::awaitable<void> point_select(sleet::database& db, std::int32_t id)
{
    auto q = db.select().from(users).where(sleet::eq(users.id, id));
    std::vector<user> rows = co_await std::move(q)();
    if (rows.size() != 1 || rows[0].id != id) throw std::runtime_error("point select: wrong row for id " + std::to_string(id));
}

asio::awaitable<std::uint64_t> run_w1(sleet::database& db, id_source& ids, clock_type::time_point until)
{
    std::uint64_t n = 0;
    while (clock_type::now() < until) {
        co_await point_select(db, ids());
        ++n;
    }
    co_return n;
}

/// W2: `tasks` coroutines; task k runs its queries on dbs[k % dbs.size()].
asio::awaitable<std::uint64_t> run_w2(std::vector<sleet::database>& dbs, std::size_t tasks, id_source& ids, clock_type::time_point until)
{
    auto ex = co_await asio::this_coro::executor;
    struct join {
        std::size_t remaining;
        std::uint64_t units = 0;
        std::exception_ptr error;
        asio::steady_timer done;
    };
    auto j = std::make_shared<join>(join{tasks, 0, nullptr, asio::steady_timer(ex, clock_type::time_point::max())});
    for (std::size_t k = 0; k < tasks; ++k) {
        auto task = [](sleet::database& db, id_source& ids, clock_type::time_point until, std::shared_ptr<join> j) -> asio::awaitable<void> {
            std::uint64_t n = 0;
            while (clock_type::now() < until && !j->error) {
                co_await point_select(db, ids());
                ++n;
            }
            j->units += n;
        };
        asio::co_spawn(ex, task(dbs[k % dbs.size()], ids, until, j), [j](std::exception_ptr e) {
            if (e && !j->error) j->error = e;
            if (--j->remaining == 0) j->done.cancel();
        });
    }
    co_await j->done.async_wait(asio::as_tuple(asio::use_awaitable));
    if (j->error) std::rethrow_exception(j->error);
    co_return j->units;
}

asio::awaitable<std::uint64_t> run_w3(sleet::database& db, clock_type::time_point until)
{
    std::uint64_t n = 0;
    while (clock_type::now() < until) {
        auto q = db.select().from(users);
        std::vector<user> rows = co_await std::move(q)();
        if (rows.size() != users_count) throw std::runtime_error("w3: got " + std::to_string(rows.size()) + " rows");
        n += rows.size();
    }
    co_return n;
}

asio::awaitable<std::uint64_t> run_w4(sleet::database& db, id_source& ids, clock_type::time_point until)
{
    std::uint64_t n = 0;
    while (clock_type::now() < until) {
        auto q = db.insert(events).values(make_rows(ids));
        std::uint64_t inserted = co_await std::move(q)();
        if (inserted != insert_batch) throw std::runtime_error("w4: inserted " + std::to_string(inserted) + " rows");
        n += inserted;
    }
    co_return n;
}

struct measurement {
    std::uint64_t units = 0;
    double wall_s = 0, cpu_user_s = 0, cpu_sys_s = 0;
    std::uint64_t allocs = 0;
    snapshot s0, s1;
    std::string server_version;
};

asio::awaitable<measurement> run_benchmark(const options& o)
{
    auto ex = co_await asio::this_coro::executor;
    id_source ids;
    measurement m;

    const bool pooled = o.workload == "w2" && o.w2_mode == "pool";
    const std::size_t nconn = o.workload == "w2" && !pooled ? o.connections : (pooled ? 0 : 1);
    std::vector<std::unique_ptr<sleet::connection>> conns;
    std::vector<sleet::database> dbs;
    std::optional<sleet::pool> pool;
    for (std::size_t i = 0; i < nconn; ++i) {
        conns.push_back(std::make_unique<sleet::connection>(ex));
        co_await conns.back()->async_connect(o.url);
        dbs.emplace_back(*conns.back());
    }
    if (pooled) {
        sleet::pool_params pp;
        pp.conninfo = o.url;
        pp.min_size = o.connections;
        pp.max_size = o.connections;
        pool.emplace(ex, std::move(pp));
        dbs.emplace_back(*pool);
        auto c = co_await pool->async_acquire();
        m.server_version = std::string(c->server_parameter("server_version"));
    } else {
        m.server_version = std::string(conns.front()->server_parameter("server_version"));
    }

    auto run = [&](clock_type::time_point until) -> asio::awaitable<std::uint64_t> {
        if (o.workload == "w1") co_return co_await run_w1(dbs.front(), ids, until);
        if (o.workload == "w2") co_return co_await run_w2(dbs, o.tasks, ids, until);
        if (o.workload == "w3") co_return co_await run_w3(dbs.front(), until);
        co_return co_await run_w4(dbs.front(), ids, until);
    };
    auto span = [](double s) { return std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s)); };

    if (o.warmup > 0) co_await run(clock_type::now() + span(o.warmup));

    m.s0 = take_snapshot();
    rusage r0{}, r1{};
    getrusage(RUSAGE_SELF, &r0);
    const auto a0 = allocations();
    const auto t0 = clock_type::now();
    m.units = co_await run(t0 + span(o.duration));
    const auto t1 = clock_type::now();
    const auto a1 = allocations();
    getrusage(RUSAGE_SELF, &r1);
    m.s1 = take_snapshot();

    m.wall_s = std::chrono::duration<double>(t1 - t0).count();
    m.cpu_user_s = seconds(r1.ru_utime) - seconds(r0.ru_utime);
    m.cpu_sys_s = seconds(r1.ru_stime) - seconds(r0.ru_stime);
    m.allocs = a1 - a0;

    for (auto& c : conns) co_await c->async_close(asio::as_tuple(asio::use_awaitable));
    if (pool) co_await pool->async_close(asio::as_tuple(asio::use_awaitable));
    co_return m;
}

std::string json_escape(std::string_view s)
{
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) continue;
        out += c;
    }
    return out;
}

std::string num(double v)
{
    char b[64];
    std::snprintf(b, sizeof b, "%.9g", v);
    return b;
}

std::string to_json(const options& o, const measurement& m)
{
    const bool pooled = o.workload == "w2" && o.w2_mode == "pool";
    const bool rows = o.workload == "w3" || o.workload == "w4";
    std::string args;
    if (o.workload == "w2")
        args = pooled ? "sleet::database over sleet::pool (min = max = " + std::to_string(o.connections) + "), " +
                            std::to_string(o.tasks) + " tasks"
                      : std::to_string(o.connections) + " connections x " + std::to_string(o.tasks) +
                            " tasks, round-robin, pipelined";
    else
        args = "1 connection";
    std::string s = "{\"peer\": \"" + std::string(pooled || o.workload != "w2" ? "sleet" : "sleet-conns") + "\", \"workload\": \"" + o.workload +
                    "\", \"unit\": \"" + (rows ? "rows" : "queries") + "\", \"units\": " + std::to_string(m.units) +
                    ", \"wall_s\": " + num(m.wall_s) + ", \"cpu_user_s\": " + num(m.cpu_user_s) + ", \"cpu_sys_s\": " + num(m.cpu_sys_s);
    if (m.s0.host && m.s1.host) {
        const auto& a = *m.s0.host;
        const auto& b = *m.s1.host;
        s += ", \"host\": {\"wall_s\": " + num(std::chrono::duration<double>(b.t - a.t).count()) + ", \"ncpu\": " + std::to_string(b.ncpu) +
             ", \"hz\": " + std::to_string(sysconf(_SC_CLK_TCK)) + ", \"idle_ticks\": " + std::to_string(b.idle - a.idle) +
             ", \"steal_ticks\": " + std::to_string(b.steal - a.steal) + ", \"sampled_busy_ticks\": " + std::to_string(b.busy - a.busy) + "}";
    } else {
        s += ", \"host\": null";
    }
    if (m.s0.server && m.s1.server)
        s += ", \"server_cpu_s\": " + num(static_cast<double>(*m.s1.server - *m.s0.server) / static_cast<double>(sysconf(_SC_CLK_TCK)));
    else
        s += ", \"server_cpu_s\": null";
    s += ", \"allocs_per_unit\": " + num(m.units ? static_cast<double>(m.allocs) / static_cast<double>(m.units) : 0.0);
#ifdef NDEBUG
    const char* build = "release";
#else
    const char* build = "debug";
#endif
    s += ", \"runtime\": \"sleet (C++20, " + json_escape(
#if defined(__clang__)
                                                 std::string("clang++ ") + __clang_version__
#else
                                                 std::string("g++ ") + __VERSION__
#endif
                                                 ) +
         ", " + build + ", Boost " + std::to_string(BOOST_VERSION / 100000) + "." + std::to_string(BOOST_VERSION / 100 % 1000) +
         (m.server_version.empty() ? std::string() : ", server " + json_escape(m.server_version)) + ")\"";
    s += ", \"args\": \"" + json_escape(args) + "\"}";
    return s;
}

} // namespace

int main(int argc, char** argv)
{
    const options o = parse_args(argc, argv);
    asio::io_context ioc(1);
    std::optional<measurement> m;
    std::exception_ptr error;
    asio::co_spawn(ioc, run_benchmark(o), [&](std::exception_ptr e, measurement r) {
        if (e) error = e;
        else m = std::move(r);
    });
    ioc.run();
    if (error) {
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "sleet-bench %s: %s\n", o.workload.c_str(), e.what());
        }
        return 1;
    }
    if (!m) {
        std::fprintf(stderr, "sleet-bench %s: the benchmark did not finish\n", o.workload.c_str());
        return 1;
    }
    std::puts(to_json(o, *m).c_str());
    std::fflush(stdout);
    return 0;
}
