// sleet::detail::node_fsm — the lifecycle of one pooled connection, without I/O.
//
// The pool drives one node_fsm per connection. The state machine decides; the pool performs the
// I/O (connect, liveness check, rollback/reset, close) and reports back. Clock readings and
// random numbers are inputs, so every decision is testable without a server or a timer
// (tests/unit/pool).
//
//                 on_connected                 on_borrow: hand_out
//   connecting ───────────────► idle ─────────────────────────────────► in_use
//       │                      ▲  │ on_borrow: check      ▲                 │ on_release
//       │ on_connect_failed    │  ▼                       │                 ▼
//       │        on_check_done(ok)  checking              │             resetting
//       │                      │  │ on_check_done(!ok)    └── on_reset_done(ok) → idle
//       ▼                         ▼                           on_reset_done(!ok) → closing
//     closed ◄──── on_closed ── closing ◄── on_retire (idle: lifetime or idle timeout, shutdown)
//
// This header is Asio-free.
#pragma once

#include <chrono>
#include <cstdint>

namespace sleet::detail {

enum class node_state : std::uint8_t { connecting, idle, checking, in_use, resetting, closing, closed };

const char* to_string(node_state s) noexcept;

/// What the pool saw about a connection when its borrower gave it back.
struct return_observation {
    bool open = true;               ///< connection::is_open()
    char transaction_status = 'I';  ///< connection::transaction_status()
    bool session_modified = false;  ///< connection::session_modified()
    bool discard = false;           ///< the borrower called pooled_connection::discard()
};

/// What must happen to a returned connection before the next borrower gets it.
struct return_plan {
    bool close = false;     ///< not reusable: close it (nothing else is done)
    bool rollback = false;  ///< in a (possibly failed) transaction block: send ROLLBACK first
    bool reset = false;     ///< session state changed: run the reset query, then clear the flag

    friend bool operator==(const return_plan&, const return_plan&) = default;
};

/// The return policy. `expired`: the connection outlived its (jittered) lifetime;
/// `pool_closing`: the pool is shutting down. Either means close rather than clean up.
return_plan plan_return(const return_observation& o, bool expired, bool pool_closing) noexcept;

/// Delay before a reconnect after `failures` consecutive failed connection attempts (>= 1):
/// initial * 2^(failures-1), capped at `max`, then scaled by a factor in [1 - jitter, 1] chosen by
/// `unit` in [0, 1). `jitter` is clamped to [0, 1]. failures == 0 gives zero.
std::chrono::milliseconds reconnect_delay(unsigned failures, std::chrono::milliseconds initial,
                                          std::chrono::milliseconds max, double jitter, double unit) noexcept;

/// A connection's lifetime shortened by up to `jitter` (fraction, clamped to [0, 1]) of itself,
/// chosen by `unit` in [0, 1), so that connections opened together do not all retire together.
/// A zero lifetime means unlimited and stays zero.
std::chrono::milliseconds jittered_lifetime(std::chrono::milliseconds lifetime, double jitter, double unit) noexcept;

enum class borrow_decision : std::uint8_t {
    hand_out,  ///< give it to the waiter now (state: in_use)
    check,     ///< idle too long: run a liveness check first (state: checking)
    retire,    ///< past its lifetime: close it and borrow another (state: closing)
    invalid,   ///< not idle: nothing changed
};

class node_fsm {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;
    using duration = clock::duration;

    node_state state() const noexcept { return state_; }
    /// When the connection became idle (last return or successful check).
    time_point idle_since() const noexcept { return idle_since_; }
    /// When the current borrower took it (valid in in_use).
    time_point borrowed_at() const noexcept { return borrowed_at_; }
    /// True when a lifetime was set and `now` is past it.
    bool expired(time_point now) const noexcept { return has_deadline_ && now >= expires_at_; }

    // Each event returns false (and changes nothing) when it is not valid in the current state.

    /// connecting → idle. `lifetime` (already jittered) of zero means unlimited.
    bool on_connected(time_point now, std::chrono::milliseconds lifetime) noexcept;
    /// connecting → closed.
    bool on_connect_failed() noexcept;
    /// idle → in_use, checking or closing. A `check_after` of duration::max() never checks.
    borrow_decision on_borrow(time_point now, duration check_after) noexcept;
    /// checking → idle (ok, idle_since = now) or closing.
    bool on_check_done(bool ok, time_point now) noexcept;
    /// in_use → resetting.
    bool on_release() noexcept;
    /// resetting → idle (reusable, idle_since = now) or closing.
    bool on_reset_done(bool reusable, time_point now) noexcept;
    /// True for an idle connection that should be closed now: past its lifetime, or idle longer
    /// than `idle_timeout` (non-zero) while the pool holds more than its minimum.
    bool should_retire(time_point now, duration idle_timeout, bool above_min) const noexcept;
    /// idle → closing (retired by maintenance or shutdown).
    bool on_retire() noexcept;
    /// closing → closed.
    bool on_closed() noexcept;

private:
    node_state state_ = node_state::connecting;
    bool has_deadline_ = false;
    time_point expires_at_{};
    time_point idle_since_{};
    time_point borrowed_at_{};
};

} // namespace sleet::detail
