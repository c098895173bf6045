// The pooled-connection state machine (see include/sleet/detail/pool_node.hpp).
#include <sleet/detail/pool_node.hpp>

#include <algorithm>
#include <cmath>

namespace sleet::detail {

const char* to_string(node_state s) noexcept
{
    switch (s) {
    case node_state::connecting: return "connecting";
    case node_state::idle: return "idle";
    case node_state::checking: return "checking";
    case node_state::in_use: return "in_use";
    case node_state::resetting: return "resetting";
    case node_state::closing: return "closing";
    case node_state::closed: return "closed";
    }
    return "?";
}

return_plan plan_return(const return_observation& o, bool expired, bool pool_closing) noexcept
{
    return_plan p;
    if (!o.open || o.discard || expired || pool_closing) {
        p.close = true;
        return p;
    }
    p.rollback = o.transaction_status != 'I';
    p.reset = o.session_modified;
    return p;
}

namespace {
double clamp01(double v) noexcept { return std::isnan(v) ? 0.0 : std::clamp(v, 0.0, 1.0); }
} // namespace

std::chrono::milliseconds reconnect_delay(unsigned failures, std::chrono::milliseconds initial,
                                          std::chrono::milliseconds max, double jitter, double unit) noexcept
{
    using ms = std::chrono::milliseconds;
    if (failures == 0 || initial <= ms::zero() || max <= ms::zero()) return ms::zero();
    // Doubling stops at the cap; 62 doublings would overflow, 40 is plenty for any sane initial.
    ms d = initial;
    for (unsigned i = 1; i < failures && d < max && i < 40; ++i) d *= 2;
    d = std::min(d, max);
    const double factor = 1.0 - clamp01(jitter) * clamp01(unit);
    return ms(static_cast<ms::rep>(static_cast<double>(d.count()) * factor));
}

std::chrono::milliseconds jittered_lifetime(std::chrono::milliseconds lifetime, double jitter, double unit) noexcept
{
    using ms = std::chrono::milliseconds;
    if (lifetime <= ms::zero()) return ms::zero();
    const double cut = static_cast<double>(lifetime.count()) * clamp01(jitter) * clamp01(unit);
    return std::max(ms(1), lifetime - ms(static_cast<ms::rep>(cut)));
}

bool node_fsm::on_connected(time_point now, std::chrono::milliseconds lifetime) noexcept
{
    if (state_ != node_state::connecting) return false;
    state_ = node_state::idle;
    idle_since_ = now;
    has_deadline_ = lifetime > std::chrono::milliseconds::zero();
    if (has_deadline_) expires_at_ = now + lifetime;
    return true;
}

bool node_fsm::on_connect_failed() noexcept
{
    if (state_ != node_state::connecting) return false;
    state_ = node_state::closed;
    return true;
}

borrow_decision node_fsm::on_borrow(time_point now, duration check_after) noexcept
{
    if (state_ != node_state::idle) return borrow_decision::invalid;
    if (expired(now)) {
        state_ = node_state::closing;
        return borrow_decision::retire;
    }
    if (check_after != duration::max() && now - idle_since_ >= check_after) {
        state_ = node_state::checking;
        return borrow_decision::check;
    }
    state_ = node_state::in_use;
    borrowed_at_ = now;
    return borrow_decision::hand_out;
}

bool node_fsm::on_check_done(bool ok, time_point now) noexcept
{
    if (state_ != node_state::checking) return false;
    state_ = ok ? node_state::idle : node_state::closing;
    if (ok) idle_since_ = now;
    return true;
}

bool node_fsm::on_release() noexcept
{
    if (state_ != node_state::in_use) return false;
    state_ = node_state::resetting;
    return true;
}

bool node_fsm::on_reset_done(bool reusable, time_point now) noexcept
{
    if (state_ != node_state::resetting) return false;
    state_ = reusable ? node_state::idle : node_state::closing;
    if (reusable) idle_since_ = now;
    return true;
}

bool node_fsm::should_retire(time_point now, duration idle_timeout, bool above_min) const noexcept
{
    if (state_ != node_state::idle) return false;
    if (expired(now)) return true;
    return above_min && idle_timeout > duration::zero() && now - idle_since_ >= idle_timeout;
}

bool node_fsm::on_retire() noexcept
{
    if (state_ != node_state::idle) return false;
    state_ = node_state::closing;
    return true;
}

bool node_fsm::on_closed() noexcept
{
    if (state_ != node_state::closing) return false;
    state_ = node_state::closed;
    return true;
}

} // namespace sleet::detail
