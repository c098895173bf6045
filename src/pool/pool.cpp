// sleet::pool implementation.
//
// Threading (see pool.hpp "Threading model"): pool_impl's state is touched only on strand_;
// each node's connection runs on its own strand, and every coroutine that does I/O for the pool
// (connect, check, reset, close) is spawned on that strand and reports back to strand_ through
// bind_executor. Completions to users go through the pool's executor to the handler's own
// executor: never inline, never on strand_.
#include <sleet/detail/pool_node.hpp>
#include <sleet/pool.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <list>
#include <random>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

namespace sleet::detail {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;
using ms = std::chrono::milliseconds;

struct pool_node {
    pool_node(std::uint64_t i, asio::any_io_executor ex, const connection_params& p) : id(i), conn(std::move(ex), p) {}

    const std::uint64_t id;
    connection conn;  // its executor is this node's own strand

    // Pool strand only.
    node_fsm fsm;
    source_location acquired_at;
    bool leak_reported = false;
    bool shared_lease = false;   // held by the pool itself for read-only statements (not a leak)
    unsigned connect_round = 0;  // the pool's failure count when this connection attempt started

    // Written on the connection's strand by the connect coroutine, read on the pool strand after
    // that coroutine's completion was dispatched there (happens-before through the strand hop).
    std::int32_t backend_pid = 0;
};

namespace {

std::string describe_failure(const error_code& ec, const diagnostics& d)
{
    if (d.server_error()) return d.server_error()->to_string();
    if (!d.client_message().empty()) return d.client_message();
    return ec.message();
}

/// A simple query with a timeout (cancelled when it expires). Runs on the connection's strand.
asio::awaitable<error_code> timed_simple_query(connection& c, std::string sql, ms timeout)
{
    auto sig = std::make_shared<asio::cancellation_signal>();
    asio::steady_timer timer(c.get_executor());
    if (timeout > ms::zero()) {
        timer.expires_after(timeout);
        timer.async_wait([sig](error_code ec) {
            if (!ec) sig->emit(asio::cancellation_type::terminal);
        });
    }
    auto token = asio::bind_cancellation_slot(sig->slot(), asio::as_tuple(asio::use_awaitable));
    auto [ec, rs] = co_await c.async_simple_query(sql, token);
    timer.cancel();
    co_return ec;
}

struct connect_outcome {
    error_code ec;
    diagnostics diag;
};

asio::awaitable<connect_outcome> connect_routine(std::shared_ptr<pool_node> n, connect_options opts)
{
    connect_outcome out;
    try {
        co_await n->conn.async_connect(opts);
        n->backend_pid = n->conn.backend_pid();
    } catch (const error_with_diagnostics& e) {
        out.ec = e.code();
        out.diag = e.get_diagnostics();
    } catch (const boost::system::system_error& e) {
        out.ec = e.code();
    }
    co_return out;
}

/// Liveness check: an empty query must come back, leaving an idle, open session.
asio::awaitable<bool> check_routine(std::shared_ptr<pool_node> n, ms timeout)
{
    std::string empty_query;
    auto ec = co_await timed_simple_query(n->conn, std::move(empty_query), timeout);
    co_return !ec && n->conn.is_open() && n->conn.transaction_status() == 'I';
}

enum class reset_verdict { reusable, retire, broken };

/// Observes a returned connection and cleans it per plan_return (all on its strand).
asio::awaitable<reset_verdict> reset_routine(std::shared_ptr<pool_node> n, bool discard, bool expired, bool closing,
                                             std::shared_ptr<const std::string> reset_query, ms timeout)
{
    connection& c = n->conn;
    return_observation o;
    o.open = c.is_open();
    o.transaction_status = c.transaction_status();
    o.session_modified = c.session_modified();
    o.discard = discard;
    const auto plan = plan_return(o, expired, closing);
    if (plan.close) co_return o.open ? reset_verdict::retire : reset_verdict::broken;
    if (plan.rollback) {
        std::string sql = "ROLLBACK";
        if (co_await timed_simple_query(c, std::move(sql), timeout)) co_return reset_verdict::broken;
    }
    if (plan.reset) {
        std::string sql = *reset_query;
        if (co_await timed_simple_query(c, std::move(sql), timeout)) co_return reset_verdict::broken;
    }
    if (!c.is_open() || c.transaction_status() != 'I') co_return reset_verdict::broken;
    if (plan.reset) c.clear_session_modified();
    co_return reset_verdict::reusable;
}

asio::awaitable<void> close_routine(std::shared_ptr<pool_node> n, bool graceful)
{
    if (graceful && n->conn.is_open()) {
        auto token = asio::as_tuple(asio::use_awaitable);
        co_await n->conn.async_close(token);  // Terminate, then close
    }
    n->conn.close();
}

} // namespace

class pool_impl : public std::enable_shared_from_this<pool_impl> {
public:
    pool_impl(asio::any_io_executor ex, pool_params p, connect_options opts)
        : ex_(std::move(ex)),
          strand_(asio::make_strand(ex_)),
          params_(std::move(p)),
          opts_(std::move(opts)),
          reset_query_(std::make_shared<const std::string>(params_.reset_query)),
          acquire_timer_(strand_),
          maintenance_timer_(strand_),
          reconnect_timer_(strand_),
          rng_(std::random_device{}())
    {
        if (params_.liveness_check_after == ms::max()) check_after_ = clock::duration::max();
        else check_after_ = std::chrono::duration_cast<clock::duration>(params_.liveness_check_after);
        if (opts_.connect_timeout.count() == 0 && params_.connect_timeout > ms::zero())
            opts_.connect_timeout = std::chrono::ceil<std::chrono::seconds>(params_.connect_timeout);
    }

    // ----------------------------------------------------------------------------------------
    // Entry points (any thread): each hops onto strand_.
    // ----------------------------------------------------------------------------------------
    void start()
    {
        auto self = shared_from_this();
        asio::post(strand_, [self] {
            self->arm_maintenance();
            self->serve();
        });
    }

    void acquire(diagnostics* diag, source_location where, acquire_handler_t h)
    {
        auto self = shared_from_this();
        asio::post(strand_, [self, diag, where, h = std::move(h)]() mutable { self->do_acquire(diag, where, std::move(h)); });
    }

    void release(std::shared_ptr<pool_node> n, bool discard)
    {
        auto self = shared_from_this();
        asio::post(strand_, [self, n = std::move(n), discard]() mutable { self->on_released(std::move(n), discard); });
    }

    void close(close_handler_t h)
    {
        auto self = shared_from_this();
        asio::post(strand_, [self, h = std::move(h)]() mutable {
            self->begin_shutdown();
            self->close_handlers_.push_back(std::move(h));
            self->maybe_finish_close();
        });
    }

    void shutdown()
    {
        auto self = shared_from_this();
        asio::post(strand_, [self] { self->begin_shutdown(); });
    }

    pool_stats stats() const noexcept
    {
        pool_stats s;
        s.size = s_size_.load(std::memory_order_relaxed);
        s.idle = s_idle_.load(std::memory_order_relaxed);
        s.in_use = s_in_use_.load(std::memory_order_relaxed);
        s.waiters = s_waiters_.load(std::memory_order_relaxed);
        s.acquisitions = s_acquisitions_.load(std::memory_order_relaxed);
        s.timeouts = s_timeouts_.load(std::memory_order_relaxed);
        s.errors = s_errors_.load(std::memory_order_relaxed);
        s.created = s_created_.load(std::memory_order_relaxed);
        s.closed = s_closed_.load(std::memory_order_relaxed);
        return s;
    }

    /// Runs a read-only statement on a shared lease (see pool.hpp, "Shared connections").
    void execute_shared(std::string sql, param_list params, diagnostics* diag, execute_handler_t h)
    {
        auto self = shared_from_this();
        asio::post(strand_, [self, job = shared_job{0, std::move(sql), std::move(params), diag, std::move(h), clock::time_point::max(), nullptr}]() mutable {
            self->on_shared_job(std::move(job));
        });
    }

    /// Borrows for one operation (pool::async_execute and friends). Runs on the pool's executor.
    asio::awaitable<std::tuple<error_code, pooled_connection>> acquire_awaitable(diagnostics* diag, source_location where)
    {
        auto self = shared_from_this();
        auto token = asio::as_tuple(asio::use_awaitable);
        auto init = [self, diag, where](auto h) { self->acquire(diag, where, acquire_handler_t(std::move(h))); };
        co_return co_await asio::async_initiate<decltype(token), void(error_code, pooled_connection)>(init, token);
    }

    const asio::any_io_executor ex_;
    const asio::strand<asio::any_io_executor> strand_;
    const pool_params params_;

private:
    struct waiter {
        std::uint64_t id;
        acquire_handler_t h;
        diagnostics* diag;
        source_location where;
        clock::time_point deadline;
    };

    // ----------------------------------------------------------------------------------------
    // Everything below runs on strand_.
    // ----------------------------------------------------------------------------------------
    void publish() noexcept
    {
        s_size_.store(nodes_.size(), std::memory_order_relaxed);
        s_idle_.store(idle_.size(), std::memory_order_relaxed);
        s_in_use_.store(in_use_, std::memory_order_relaxed);
        s_waiters_.store(waiters_.size(), std::memory_order_relaxed);
    }

    double unit() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }

    /// Completes an acquire later on the handler's executor (via the pool's executor, so never
    /// inline and never on strand_).
    void complete(acquire_handler_t h, error_code ec, pooled_connection pc)
    {
        asio::post(ex_, [ex = ex_, h = std::move(h), ec, pc = std::move(pc)]() mutable {
            auto hex = asio::get_associated_executor(h, ex);
            asio::dispatch(hex, [h = std::move(h), ec, pc = std::move(pc)]() mutable {
                auto slot = asio::get_associated_cancellation_slot(h);
                if (slot.is_connected()) slot.clear();
                std::move(h)(ec, std::move(pc));
            });
        });
    }

    void fail(acquire_handler_t h, diagnostics* diag, error_code ec, std::string msg)
    {
        if (diag) diag->assign_client(std::move(msg));
        complete(std::move(h), ec, pooled_connection());
    }

    /// Removes a waiter from the queue and returns its handler.
    waiter take_waiter(std::list<waiter>::iterator it)
    {
        waiter w{it->id, std::move(it->h), it->diag, it->where, it->deadline};  // move-construct, never move-assign
        if (w.diag == &lease_diag_) --lease_waiters_;
        waiter_index_.erase(it->id);
        waiters_.erase(it);
        return w;
    }

    void do_acquire(diagnostics* diag, source_location where, acquire_handler_t h)
    {
        if (closed_) {
            fail(std::move(h), diag, make_error_code(errc::pool_closed),
                 "the pool is closed: it hands out no connections after async_close() or its destruction");
            return;
        }
        const auto id = ++waiter_ids_;
        const auto deadline = params_.acquire_timeout > ms::zero() ? clock::now() + params_.acquire_timeout : clock::time_point::max();
        waiters_.push_back(waiter{id, std::move(h), diag, where, deadline});
        waiter_index_.emplace(id, std::prev(waiters_.end()));
        auto slot = asio::get_associated_cancellation_slot(waiters_.back().h);
        if (slot.is_connected()) {
            std::weak_ptr<pool_impl> weak = shared_from_this();
            slot.assign([weak, id](asio::cancellation_type) {
                if (auto self = weak.lock()) asio::post(self->strand_, [self, id] { self->cancel_waiter(id); });
            });
        }
        arm_acquire_timer();
        serve();
    }

    void cancel_waiter(std::uint64_t id)
    {
        auto it = waiter_index_.find(id);
        if (it == waiter_index_.end()) return;  // already served or failed
        auto w = take_waiter(it->second);
        fail(std::move(w.h), w.diag, asio::error::operation_aborted, "acquiring a connection from the pool was cancelled");
        publish();
    }

    /// Hands idle connections to waiters (FIFO), starting liveness checks where needed, and
    /// opens connections for the remaining demand.
    void serve()
    {
        if (exclusive_waiters() > 0) release_idle_leases();
        const auto now = clock::now();
        while (!waiters_.empty() && !idle_.empty()) {
            auto n = std::move(idle_.back());  // most recently used first: the others may idle out
            idle_.pop_back();
            auto decision = n->fsm.on_borrow(now, check_after_);
            // A backend terminated while idle has already sent its FATAL error and closed:
            // one non-blocking peek finds it, and the connection is checked (and replaced), not
            // handed to a caller.
            if (decision == borrow_decision::hand_out && n->conn.idle_input_pending())
                decision = borrow_decision::check;
            switch (decision) {
            case borrow_decision::hand_out: hand_out(std::move(n)); break;
            case borrow_decision::check: start_check(std::move(n)); break;
            case borrow_decision::retire: start_close(std::move(n), true); break;
            case borrow_decision::invalid: break;  // not reachable: idle_ holds idle nodes only
            }
        }
        grow();
        dispatch_shared();
        publish();
        maybe_finish_close();
    }

    void hand_out(std::shared_ptr<pool_node> n)
    {
        auto w = take_waiter(waiters_.begin());
        n->acquired_at = w.where;
        n->leak_reported = false;
        ++in_use_;
        s_acquisitions_.fetch_add(1, std::memory_order_relaxed);
        complete(std::move(w.h), {}, pooled_connection(shared_from_this(), std::move(n)));
    }

    std::size_t live_nodes() const noexcept { return nodes_.size() - closing_; }

    /// Connections to open now: for waiters not already covered by a connect or a check in
    /// progress, and up to min_size; never past max_size.
    std::size_t wanted_connections() const noexcept
    {
        if (closed_) return 0;
        // Connections being opened, checked or cleaned up will serve waiters soon.
        const std::size_t pending = connecting_ + checking_ + resetting_;
        std::size_t need = waiters_.size() > pending ? waiters_.size() - pending : 0;
        if (live_nodes() < params_.min_size) need = std::max(need, params_.min_size - live_nodes());
        const std::size_t room = params_.max_size > nodes_.size() ? params_.max_size - nodes_.size() : 0;
        return std::min(need, room);
    }

    void grow()
    {
        std::size_t n = wanted_connections();
        if (n == 0) return;
        if (connect_failures_ == 0) {
            while (n-- > 0) start_connect();
            return;
        }
        // After a failure: one attempt at a time, spaced by exponential backoff with jitter.
        if (connecting_ > 0 || reconnect_scheduled_) return;
        reconnect_scheduled_ = true;
        reconnect_timer_.expires_after(reconnect_delay(connect_failures_, params_.reconnect_backoff_initial,
                                                       params_.reconnect_backoff_max, params_.backoff_jitter, unit()));
        auto self = shared_from_this();
        reconnect_timer_.async_wait([self](error_code ec) {
            self->reconnect_scheduled_ = false;
            if (!ec && self->wanted_connections() > 0) self->start_connect();
            self->publish();
            self->maybe_finish_close();
        });
    }

    void start_connect()
    {
        auto n = std::make_shared<pool_node>(++node_ids_, asio::make_strand(ex_), params_.connection);
        n->connect_round = connect_failures_;
        nodes_.push_back(n);
        ++connecting_;
        auto self = shared_from_this();
        asio::co_spawn(n->conn.get_executor(), connect_routine(n, opts_),
                       asio::bind_executor(strand_, [self, n](std::exception_ptr ep, connect_outcome out) {
                           if (ep && !out.ec) out.ec = make_error_code(boost::system::errc::not_enough_memory);
                           self->on_connected(n, std::move(out));
                       }));
    }

    void on_connected(const std::shared_ptr<pool_node>& n, connect_outcome out)
    {
        --connecting_;
        if (out.ec) {
            n->fsm.on_connect_failed();
            remove_node(n);
            // Attempts started together (a burst for many waiters) count as one failure, so
            // that the backoff grows per round of attempts, not per connection.
            if (n->connect_round == connect_failures_) ++connect_failures_;
            last_connect_error_ = describe_failure(out.ec, out.diag);
            s_errors_.fetch_add(1, std::memory_order_relaxed);
        } else {
            connect_failures_ = 0;
            last_connect_error_.clear();
            s_created_.fetch_add(1, std::memory_order_relaxed);
            n->fsm.on_connected(clock::now(), jittered_lifetime(params_.max_lifetime, params_.lifetime_jitter, unit()));
            if (closed_) {
                n->fsm.on_retire();
                start_close(n, true);
            } else {
                idle_.push_back(n);
            }
        }
        serve();
    }

    void start_check(std::shared_ptr<pool_node> n)
    {
        ++checking_;
        auto self = shared_from_this();
        asio::co_spawn(n->conn.get_executor(), check_routine(n, params_.check_timeout),
                       asio::bind_executor(strand_, [self, n](std::exception_ptr ep, bool ok) {
                           self->on_checked(n, !ep && ok);
                       }));
    }

    void on_checked(const std::shared_ptr<pool_node>& n, bool ok)
    {
        --checking_;
        n->fsm.on_check_done(ok, clock::now());
        if (!ok) {
            s_errors_.fetch_add(1, std::memory_order_relaxed);
            start_close(n, false);
        } else if (closed_) {
            n->fsm.on_retire();
            start_close(n, true);
        } else {
            idle_.push_back(n);
        }
        serve();
    }

    void on_released(std::shared_ptr<pool_node> n, bool discard)
    {
        --in_use_;
        ++resetting_;
        n->fsm.on_release();
        const bool expired = n->fsm.expired(clock::now());
        auto self = shared_from_this();
        asio::co_spawn(n->conn.get_executor(),
                       reset_routine(n, discard, expired, closed_, reset_query_, params_.check_timeout),
                       asio::bind_executor(strand_, [self, n](std::exception_ptr ep, reset_verdict v) {
                           self->on_reset(n, ep ? reset_verdict::broken : v);
                       }));
        publish();
    }

    void on_reset(const std::shared_ptr<pool_node>& n, reset_verdict v)
    {
        --resetting_;
        const bool reusable = v == reset_verdict::reusable;
        n->fsm.on_reset_done(reusable, clock::now());
        if (!reusable) {
            if (v == reset_verdict::broken) s_errors_.fetch_add(1, std::memory_order_relaxed);
            start_close(n, v == reset_verdict::retire);
        } else if (closed_) {
            n->fsm.on_retire();
            start_close(n, true);
        } else {
            idle_.push_back(n);
        }
        serve();
    }

    /// Precondition: the node's state machine is in `closing`.
    void start_close(std::shared_ptr<pool_node> n, bool graceful)
    {
        ++closing_;
        auto self = shared_from_this();
        asio::co_spawn(n->conn.get_executor(), close_routine(n, graceful),
                       asio::bind_executor(strand_, [self, n](std::exception_ptr) { self->on_node_closed(n); }));
    }

    void on_node_closed(const std::shared_ptr<pool_node>& n)
    {
        --closing_;
        n->fsm.on_closed();
        remove_node(n);
        s_closed_.fetch_add(1, std::memory_order_relaxed);
        serve();  // a replacement may be wanted; a shutdown may be complete
    }

    void remove_node(const std::shared_ptr<pool_node>& n)
    {
        auto it = std::find(nodes_.begin(), nodes_.end(), n);
        if (it != nodes_.end()) nodes_.erase(it);
    }

    // --- acquire timeout: one timer for the queue head (deadlines grow along the FIFO) -------
    void arm_acquire_timer()
    {
        if (acquire_timer_armed_ || waiters_.empty() || params_.acquire_timeout <= ms::zero()) return;
        acquire_timer_armed_ = true;
        acquire_timer_.expires_at(waiters_.front().deadline);
        auto self = shared_from_this();
        acquire_timer_.async_wait([self](error_code) { self->on_acquire_timer(); });
    }

    void on_acquire_timer()
    {
        acquire_timer_armed_ = false;
        const auto now = clock::now();
        while (!waiters_.empty() && waiters_.front().deadline <= now) {
            auto w = take_waiter(waiters_.begin());
            s_timeouts_.fetch_add(1, std::memory_order_relaxed);
            std::string msg = "timed out after " + std::to_string(params_.acquire_timeout.count()) +
                              " ms waiting for a connection from the pool (" + std::to_string(in_use_) + " of " +
                              std::to_string(params_.max_size) + " connections in use, " +
                              std::to_string(waiters_.size()) + " other waiters)";
            if (!last_connect_error_.empty()) msg += "; the last connection attempt failed: " + last_connect_error_;
            fail(std::move(w.h), w.diag, make_error_code(errc::pool_acquire_timeout), std::move(msg));
        }
        arm_acquire_timer();
        publish();
    }

    // --- maintenance: idle timeout, lifetime, leaks, min_size --------------------------------
    clock::duration maintenance_period() const noexcept
    {
        ms p{1000};
        for (ms d : {params_.idle_timeout, params_.leak_threshold, params_.max_lifetime})
            if (d > ms::zero()) p = std::min(p, d / 2);
        return std::max(p, ms(10));
    }

    void arm_maintenance()
    {
        if (closed_) return;
        maintenance_timer_.expires_after(maintenance_period());
        auto self = shared_from_this();
        maintenance_timer_.async_wait([self](error_code ec) {
            if (ec || self->closed_) return;
            self->maintain();
            self->arm_maintenance();
        });
    }

    void maintain()
    {
        rotate_leases();
        const auto now = clock::now();
        const auto idle_timeout = std::chrono::duration_cast<clock::duration>(params_.idle_timeout);
        std::size_t live = live_nodes();
        for (auto it = idle_.begin(); it != idle_.end();) {
            auto& n = *it;
            if (n->fsm.should_retire(now, idle_timeout, live > params_.min_size)) {
                n->fsm.on_retire();
                start_close(n, true);
                --live;
                it = idle_.erase(it);
            } else {
                ++it;
            }
        }
        if (params_.leak_threshold > ms::zero()) {
            for (auto& n : nodes_) {
                if (n->fsm.state() != node_state::in_use || n->leak_reported || n->shared_lease) continue;
                const auto held = now - n->fsm.borrowed_at();
                if (held < params_.leak_threshold) continue;
                n->leak_reported = true;
                report_leak(leak_info{n->acquired_at, std::chrono::duration_cast<ms>(held), n->backend_pid});
            }
        }
        serve();
    }

    void report_leak(const leak_info& info) noexcept
    {
        try {
            if (params_.leak_handler) {
                params_.leak_handler(info);
                return;
            }
            std::fprintf(stderr,
                         "sleet::pool: a connection (backend pid %d) acquired at %s:%u in %s has been held for %lld ms; "
                         "was it leaked?\n",
                         static_cast<int>(info.backend_pid), info.acquired_at.file_name(),
                         static_cast<unsigned>(info.acquired_at.line()), info.acquired_at.function_name(),
                         static_cast<long long>(info.held.count()));
        } catch (...) {
            // a throwing user callback must not take the pool down
        }
    }

    // --- shutdown ------------------------------------------------------------------------------
    void begin_shutdown()
    {
        if (!closed_) {
            closed_ = true;
            while (!waiters_.empty()) {
                auto w = take_waiter(waiters_.begin());
                fail(std::move(w.h), w.diag, make_error_code(errc::pool_closed), "the pool was closed while waiting for a connection");
            }
            acquire_timer_.cancel();
            maintenance_timer_.cancel();
            reconnect_timer_.cancel();
            while (!shared_queue_.empty()) {
                auto job = std::move(shared_queue_.front());
                shared_queue_.pop_front();
                fail_job(std::move(job), make_error_code(errc::pool_closed), "the pool was closed while the statement waited for a connection");
            }
            release_idle_leases();
            for (auto& n : idle_) {
                n->fsm.on_retire();
                start_close(n, true);
            }
            idle_.clear();
        }
        publish();
    }

    void maybe_finish_close()
    {
        if (!closed_ || !nodes_.empty() || close_handlers_.empty() || reconnect_scheduled_) return;
        std::vector<close_handler_t> hs;
        hs.swap(close_handlers_);
        for (auto& h : hs) {
            asio::post(ex_, [ex = ex_, h = std::move(h)]() mutable {
                auto hex = asio::get_associated_executor(h, ex);
                asio::dispatch(hex, [h = std::move(h)]() mutable { std::move(h)(error_code{}); });
            });
        }
    }

    // ---- shared leases (read-only statements) --------------------------------------------------
    /// A queued job's cancellation: the caller's slot handler (installed while the job waits)
    /// stays in place while it runs and forwards to `signal`, whose slot the connection uses,
    /// emitted on the connection's strand (so it cannot overtake the connection's own install).
    struct job_cancel {
        std::uint64_t id = 0;
        bool running = false;              // pool strand only
        asio::any_io_executor conn_ex;     // set when it runs (pool strand)
        asio::cancellation_signal signal;  // emitted on conn_ex only
    };
    struct shared_job {
        std::uint64_t id;
        std::string sql;
        param_list params;
        diagnostics* diag;
        execute_handler_t h;
        clock::time_point deadline = clock::time_point::max();
        std::shared_ptr<job_cancel> cancel;  // null when the caller's handler has no slot
    };
    struct lease {
        pooled_connection pc;
        std::size_t in_flight = 0;
        bool broken = false;     // a statement failed fatally: no new ones; retired when drained
        bool retiring = false;   // rotated out at a maintenance tick: no new ones; returned when drained
    };

    /// Completes a job's handler: bookkeeping on the pool's strand first, then the caller's
    /// handler (which the connection has already dispatched to its associated executor).
    struct lease_done {
        execute_handler_t inner;
        std::shared_ptr<pool_impl> pool;
        lease* l;
        std::shared_ptr<job_cancel> cancel;
        using cancellation_slot_type = asio::cancellation_slot;
        cancellation_slot_type get_cancellation_slot() const noexcept
        {
            return cancel ? cancel->signal.slot() : cancellation_slot_type();
        }
        using executor_type = asio::any_completion_executor;
        executor_type get_executor() const noexcept { return asio::get_associated_executor(inner, pool->ex_); }
        void operator()(error_code ec, result r)
        {
            const bool fatal = ec && ec != asio::error::operation_aborted && is_fatal(ec);
            asio::post(pool->strand_, [p = pool, l = l, fatal] { p->on_shared_done(l, fatal); });
            auto slot = asio::get_associated_cancellation_slot(inner);
            if (slot.is_connected()) slot.clear();
            std::move(inner)(ec, std::move(r));
        }
    };

    std::size_t exclusive_waiters() const noexcept { return waiters_.size() - lease_waiters_; }

    void on_shared_job(shared_job job)
    {
        if (closed_) {
            fail_job(std::move(job), make_error_code(errc::pool_closed),
                     "the pool is closed: it hands out no connections after async_close() or its destruction");
            return;
        }
        job.id = ++job_ids_;
        if (params_.acquire_timeout > ms::zero()) job.deadline = clock::now() + params_.acquire_timeout;
        auto slot = asio::get_associated_cancellation_slot(job.h);
        if (slot.is_connected()) {
            job.cancel = std::make_shared<job_cancel>();
            job.cancel->id = job.id;
            std::weak_ptr<pool_impl> weak = shared_from_this();
            slot.assign([weak, c = job.cancel](asio::cancellation_type type) {
                auto self = weak.lock();
                if (!self) return;
                asio::post(self->strand_, [self, c, type] {
                    if (!c->running) return self->cancel_job(c->id);
                    asio::dispatch(c->conn_ex, [c, type] { c->signal.emit(type); });
                });
            });
        }
        shared_queue_.push_back(std::move(job));
        dispatch_shared();
        publish();
    }

    void cancel_job(std::uint64_t id)
    {
        auto it = std::find_if(shared_queue_.begin(), shared_queue_.end(), [id](const shared_job& j) { return j.id == id; });
        if (it == shared_queue_.end()) return;  // running already: the connection handles it
        auto job = std::move(*it);
        shared_queue_.erase(it);
        fail_job(std::move(job), asio::error::operation_aborted, "the query was cancelled while it waited for a connection");
    }

    void fail_job(shared_job job, error_code ec, std::string msg)
    {
        if (job.diag) job.diag->assign_client(std::move(msg));
        auto h = std::move(job.h);
        asio::post(ex_, [ex = ex_, h = std::move(h), ec]() mutable {
            auto hex = asio::get_associated_executor(h, ex);
            asio::dispatch(hex, [h = std::move(h), ec]() mutable {
                auto slot = asio::get_associated_cancellation_slot(h);
                if (slot.is_connected()) slot.clear();
                std::move(h)(ec, result{});
            });
        });
    }

    /// The lease with the fewest statements in flight that takes more; null if none does.
    lease* least_loaded()
    {
        lease* best = nullptr;
        for (auto& l : leases_)
            if (!l.broken && !l.retiring && l.in_flight < params_.shared_depth && (!best || l.in_flight < best->in_flight))
                best = &l;
        return best;
    }

    /// Runs queued read-only statements on leases, borrowing another lease while every lease
    /// is busy and the pool has room (one borrow at a time). Nothing goes to a lease while a
    /// borrower waits: the leases drain and go back to the pool, first come first served.
    void dispatch_shared()
    {
        while (!shared_queue_.empty() && !closed_) {
            lease* best = exclusive_waiters() == 0 ? least_loaded() : nullptr;
            const bool room = !idle_.empty() || live_nodes() < params_.max_size;
            const bool want_lease = lease_requests_ == 0 &&
                                    (leases_.empty() || (exclusive_waiters() == 0 && room && (!best || best->in_flight > 0)));
            if (want_lease) {
                open_lease();  // (its borrow may run serve() and so this function: look again)
                continue;
            }
            if (!best) break;
            auto job = std::move(shared_queue_.front());
            shared_queue_.pop_front();
            run_on(*best, std::move(job));
        }
    }

    void open_lease()
    {
        ++lease_requests_;
        ++lease_waiters_;
        auto self = shared_from_this();
        lease_diag_.clear();
        do_acquire(&lease_diag_, source_location::current(),
                   acquire_handler_t(asio::bind_executor(strand_, [self](error_code ec, pooled_connection pc) {
                       self->on_lease(ec, std::move(pc));
                   })));
    }

    void on_lease(error_code ec, pooled_connection pc)
    {
        --lease_requests_;
        if (!ec && closed_) return;  // pc goes back to the pool as it is destroyed
        if (ec) {
            // No connection (timeout, pool closed, server down): with no lease to wait for,
            // the queued statements fail with the borrow's error.
            if (leases_.empty()) {
                const std::string why = lease_diag_.client_message().empty() ? ec.message() : lease_diag_.client_message();
                while (!shared_queue_.empty()) {
                    auto job = std::move(shared_queue_.front());
                    shared_queue_.pop_front();
                    fail_job(std::move(job), ec, why);
                }
            }
            dispatch_shared();
            publish();
            return;
        }
        pc.node_->shared_lease = true;
        leases_.push_back(lease{std::move(pc)});
        // A borrower queued behind this lease's own borrow: it takes no statements, so it goes
        // straight back to serve that borrower.
        if (exclusive_waiters() > 0) release_idle_leases();
        dispatch_shared();
        publish();
    }

    void run_on(lease& l, shared_job job)
    {
        ++l.in_flight;
        connection& c = l.pc.get();
        if (job.cancel) {
            job.cancel->running = true;
            job.cancel->conn_ex = c.get_executor();
        }
        detail::connection_access::start_execute(c, std::move(job.sql), std::move(job.params), job.diag,
                                                 execute_handler_t(lease_done{std::move(job.h), shared_from_this(), &l, std::move(job.cancel)}));
    }

    void on_shared_done(lease* l, bool fatal)
    {
        --l->in_flight;
        if (fatal) l->broken = true;
        if (l->in_flight == 0 && (l->broken || l->retiring || exclusive_waiters() > 0 || closed_)) return_lease(l);
        dispatch_shared();
        publish();
    }

    void return_lease(lease* l)
    {
        auto it = std::find_if(leases_.begin(), leases_.end(), [l](const lease& x) { return &x == l; });
        if (it == leases_.end()) return;
        if (it->broken) it->pc.discard();
        it->pc.node_->shared_lease = false;
        it->pc.release();
        leases_.erase(it);
    }

    /// Leases with nothing in flight go back to the pool.
    void release_idle_leases()
    {
        for (auto it = leases_.begin(); it != leases_.end();) {
            auto next = std::next(it);
            if (it->in_flight == 0) return_lease(&*it);
            it = next;
        }
    }

    /// At each maintenance tick: idle leases go back to the pool, and the oldest busy one stops
    /// taking statements and goes back when drained (a new one is borrowed as needed), so every
    /// lease's connection passes through the pool's return and borrow checks (reset,
    /// max_lifetime, liveness) like any borrow, one at a time; queued statements past
    /// acquire_timeout fail.
    void rotate_leases()
    {
        release_idle_leases();
        for (auto& l : leases_) {
            if (l.retiring || l.broken) continue;
            l.retiring = true;
            break;
        }
        const auto now = clock::now();
        for (auto it = shared_queue_.begin(); it != shared_queue_.end();) {
            if (it->deadline > now) {
                ++it;
                continue;
            }
            auto job = std::move(*it);
            it = shared_queue_.erase(it);
            s_timeouts_.fetch_add(1, std::memory_order_relaxed);
            fail_job(std::move(job), make_error_code(errc::pool_acquire_timeout),
                     "no pooled connection had room for this read-only statement within acquire_timeout (" +
                         std::to_string(params_.acquire_timeout.count()) + " ms)");
        }
        dispatch_shared();
    }

    std::list<lease> leases_;             // stable addresses: handlers point at their lease
    // Waiting for room on a lease. A list: erasing from the middle (cancel, timeout) must not
    // move-assign the others (Boost 1.81 any_completion_handler move-assignment recurses).
    std::list<shared_job> shared_queue_;
    std::size_t lease_requests_ = 0;      // borrows in progress for new leases
    std::size_t lease_waiters_ = 0;       // of those, the ones still in waiters_
    std::uint64_t job_ids_ = 0;
    diagnostics lease_diag_;

    connect_options opts_;
    std::shared_ptr<const std::string> reset_query_;
    clock::duration check_after_{};

    std::list<std::shared_ptr<pool_node>> nodes_;  // every node not yet closed
    std::vector<std::shared_ptr<pool_node>> idle_; // a stack: back() was returned last
    std::list<waiter> waiters_;                    // FIFO
    std::unordered_map<std::uint64_t, std::list<waiter>::iterator> waiter_index_;
    std::uint64_t waiter_ids_ = 0;
    std::uint64_t node_ids_ = 0;
    std::size_t in_use_ = 0;
    std::size_t connecting_ = 0;
    std::size_t checking_ = 0;
    std::size_t resetting_ = 0;
    std::size_t closing_ = 0;
    unsigned connect_failures_ = 0;
    std::string last_connect_error_;
    bool reconnect_scheduled_ = false;
    bool acquire_timer_armed_ = false;
    bool closed_ = false;
    std::vector<close_handler_t> close_handlers_;

    asio::steady_timer acquire_timer_;
    asio::steady_timer maintenance_timer_;
    asio::steady_timer reconnect_timer_;
    std::mt19937_64 rng_;

    // Published for stats() (any thread).
    std::atomic<std::size_t> s_size_{0}, s_idle_{0}, s_in_use_{0}, s_waiters_{0};
    std::atomic<std::uint64_t> s_acquisitions_{0}, s_timeouts_{0}, s_errors_{0}, s_created_{0}, s_closed_{0};
};

} // namespace sleet::detail

namespace sleet {

namespace asio = boost::asio;

// ---------------------------------------------------------------------------------------------
// pooled_connection
// ---------------------------------------------------------------------------------------------
pooled_connection::pooled_connection(std::shared_ptr<detail::pool_impl> p, std::shared_ptr<detail::pool_node> n) noexcept
    : pool_(std::move(p)), node_(std::move(n))
{
}

pooled_connection::pooled_connection(pooled_connection&& o) noexcept
    : pool_(std::move(o.pool_)), node_(std::move(o.node_)), discard_(o.discard_)
{
    o.discard_ = false;
}

pooled_connection& pooled_connection::operator=(pooled_connection&& o) noexcept
{
    if (this != &o) {
        release();
        pool_ = std::move(o.pool_);
        node_ = std::move(o.node_);
        discard_ = o.discard_;
        o.discard_ = false;
    }
    return *this;
}

pooled_connection::~pooled_connection() { release(); }

connection& pooled_connection::get() const noexcept { return node_->conn; }

void pooled_connection::release() noexcept
{
    if (!node_) return;
    auto p = std::move(pool_);
    auto n = std::move(node_);
    const bool discard = discard_;
    discard_ = false;
    try {
        p->release(std::move(n), discard);
    } catch (...) {
        // Out of memory while posting: the node is dropped (its connection closes when the
        // last reference goes); the pool's count of in-use connections stays off by one.
    }
}

// ---------------------------------------------------------------------------------------------
// pool
// ---------------------------------------------------------------------------------------------
pool::pool(executor_type ex, pool_params params)
{
    if (params.max_size == 0) throw std::invalid_argument("sleet::pool: max_size must be at least 1");
    if (params.min_size > params.max_size) throw std::invalid_argument("sleet::pool: min_size must not exceed max_size");
    connect_options opts;
    diagnostics d;
    if (auto ec = parse_connect_options(params.conninfo, opts, d)) throw error_with_diagnostics(ec, std::move(d));
    impl_ = std::make_shared<detail::pool_impl>(std::move(ex), std::move(params), std::move(opts));
    impl_->start();
}

pool::~pool()
{
    if (impl_) {
        try {
            impl_->shutdown();
        } catch (...) {
        }
    }
}

pool::executor_type pool::get_executor() const noexcept { return impl_->ex_; }
const pool_params& pool::params() const noexcept { return impl_->params_; }
pool_stats pool::stats() const noexcept { return impl_->stats(); }

void pool::start_acquire(diagnostics* diag, source_location where, detail::acquire_handler_t h)
{
    impl_->acquire(diag, where, std::move(h));
}

namespace {

/// The error code of an exception that left a pool-level routine. The routine's co_awaits throw
/// system_error(operation_aborted) when the caller's cancellation arrived between two of them
/// (e.g. after the acquire completed, before the query started): that is a cancellation, not
/// an allocation failure.
error_code exception_code(std::exception_ptr ep) noexcept
{
    try {
        std::rethrow_exception(ep);
    } catch (const boost::system::system_error& e) {
        return e.code();
    } catch (...) {
        return make_error_code(boost::system::errc::not_enough_memory);
    }
}

/// Completes a pool-level query handler on its own executor.
template <class Handler, class R> auto finish_with(Handler h, asio::any_io_executor ex)
{
    return [h = std::move(h), ex](std::exception_ptr ep, std::tuple<error_code, R> t) mutable {
        error_code ec = std::get<0>(t);  // not a structured binding: clang 14 cannot capture those
        R r = std::move(std::get<1>(t));
        if (ep && !ec) ec = exception_code(ep);
        auto hex = asio::get_associated_executor(h, ex);
        asio::dispatch(hex, [h = std::move(h), ec, r = std::move(r)]() mutable { std::move(h)(ec, std::move(r)); });
    };
}

/// Connections whose query failed fatally are not reused (cancellation is not fatal: the
/// connection drains itself).
void discard_if_fatal(pooled_connection& pc, const error_code& ec)
{
    if (ec && ec != asio::error::operation_aborted && is_fatal(ec)) pc.discard();
}

asio::awaitable<std::tuple<error_code, result>> execute_routine(std::shared_ptr<detail::pool_impl> impl, std::string sql,
                                                               param_list params, diagnostics* diag, source_location where)
{
    auto [ec, pc] = co_await impl->acquire_awaitable(diag, where);
    if (ec) co_return std::tuple<error_code, result>{ec, result{}};
    auto token = asio::as_tuple(asio::use_awaitable);
    auto [qec, r] = co_await pc->async_execute(sql, std::move(params), diag, token);
    discard_if_fatal(pc, qec);
    co_return std::tuple<error_code, result>{qec, std::move(r)};
}

asio::awaitable<std::tuple<error_code, std::vector<result>>> simple_query_routine(std::shared_ptr<detail::pool_impl> impl,
                                                                                 std::string sql, diagnostics* diag,
                                                                                 source_location where)
{
    auto [ec, pc] = co_await impl->acquire_awaitable(diag, where);
    if (ec) co_return std::tuple<error_code, std::vector<result>>{ec, std::vector<result>{}};
    auto token = asio::as_tuple(asio::use_awaitable);
    auto [qec, rs] = co_await pc->async_simple_query(sql, diag, token);
    discard_if_fatal(pc, qec);
    co_return std::tuple<error_code, std::vector<result>>{qec, std::move(rs)};
}

} // namespace

void detail::pool_access::start_execute(pool& p, std::string sql, param_list params, diagnostics* diag, execute_handler_t h)
{
    p.start_execute(std::move(sql), std::move(params), diag, std::move(h));
}

void pool::start_execute(std::string sql, param_list params, diagnostics* diag, detail::execute_handler_t h)
{
    if (params.read_only() && impl_->params_.shared_depth > 0) {
        impl_->execute_shared(std::move(sql), std::move(params), diag, std::move(h));
        return;
    }
    auto slot = asio::get_associated_cancellation_slot(h);
    auto ex = impl_->ex_;
    asio::co_spawn(ex, execute_routine(impl_, std::move(sql), std::move(params), diag, source_location::current()),
                   asio::bind_cancellation_slot(slot, finish_with<detail::execute_handler_t, result>(std::move(h), ex)));
}

void pool::start_simple_query(std::string sql, diagnostics* diag, detail::simple_query_handler_t h)
{
    auto slot = asio::get_associated_cancellation_slot(h);
    auto ex = impl_->ex_;
    asio::co_spawn(ex, simple_query_routine(impl_, std::move(sql), diag, source_location::current()),
                   asio::bind_cancellation_slot(slot, finish_with<detail::simple_query_handler_t, std::vector<result>>(std::move(h), ex)));
}

void pool::start_close(detail::close_handler_t h) { impl_->close(std::move(h)); }

} // namespace sleet
