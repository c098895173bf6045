// The pooled-connection state machine and the pool's pure policies, without I/O: clock readings
// and random numbers are passed in.
#include <sleet/detail/pool_node.hpp>

#include <gtest/gtest.h>

using namespace sleet::detail;
using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;
using tp = node_fsm::time_point;

namespace {
const tp t0 = tp{} + 1000h;
constexpr auto never = node_fsm::duration::max();

node_fsm idle_node(tp at, ms lifetime = ms::zero())
{
    node_fsm f;
    EXPECT_TRUE(f.on_connected(at, lifetime));
    return f;
}
} // namespace

TEST(node_fsm, connect_then_borrow_release_reset_returns_to_idle)
{
    node_fsm f;
    EXPECT_EQ(f.state(), node_state::connecting);
    EXPECT_TRUE(f.on_connected(t0, ms::zero()));
    EXPECT_EQ(f.state(), node_state::idle);
    EXPECT_EQ(f.idle_since(), t0);

    EXPECT_EQ(f.on_borrow(t0 + 10ms, 1s), borrow_decision::hand_out);
    EXPECT_EQ(f.state(), node_state::in_use);
    EXPECT_EQ(f.borrowed_at(), t0 + 10ms);

    EXPECT_TRUE(f.on_release());
    EXPECT_EQ(f.state(), node_state::resetting);
    EXPECT_TRUE(f.on_reset_done(true, t0 + 20ms));
    EXPECT_EQ(f.state(), node_state::idle);
    EXPECT_EQ(f.idle_since(), t0 + 20ms);
}

TEST(node_fsm, failed_connect_is_closed)
{
    node_fsm f;
    EXPECT_TRUE(f.on_connect_failed());
    EXPECT_EQ(f.state(), node_state::closed);
    EXPECT_FALSE(f.on_connected(t0, ms::zero()));
    EXPECT_EQ(f.state(), node_state::closed);
}

TEST(node_fsm, borrow_after_long_idle_requires_a_liveness_check)
{
    auto f = idle_node(t0);
    EXPECT_EQ(f.on_borrow(t0 + 1s, 1s), borrow_decision::check);
    EXPECT_EQ(f.state(), node_state::checking);
    // A passed check makes it idle again, freshly: the next borrow needs no check.
    EXPECT_TRUE(f.on_check_done(true, t0 + 1001ms));
    EXPECT_EQ(f.state(), node_state::idle);
    EXPECT_EQ(f.on_borrow(t0 + 1001ms, 1s), borrow_decision::hand_out);
}

TEST(node_fsm, failed_liveness_check_closes)
{
    auto f = idle_node(t0);
    EXPECT_EQ(f.on_borrow(t0 + 5s, 1s), borrow_decision::check);
    EXPECT_TRUE(f.on_check_done(false, t0 + 5s));
    EXPECT_EQ(f.state(), node_state::closing);
    EXPECT_TRUE(f.on_closed());
    EXPECT_EQ(f.state(), node_state::closed);
}

TEST(node_fsm, check_threshold_zero_checks_always_and_max_never)
{
    auto a = idle_node(t0);
    EXPECT_EQ(a.on_borrow(t0, node_fsm::duration::zero()), borrow_decision::check);
    auto b = idle_node(t0);
    EXPECT_EQ(b.on_borrow(t0 + 1000h, never), borrow_decision::hand_out);
}

TEST(node_fsm, expired_connection_is_retired_on_borrow)
{
    auto f = idle_node(t0, 60s);
    EXPECT_FALSE(f.expired(t0 + 59s));
    EXPECT_TRUE(f.expired(t0 + 60s));
    EXPECT_EQ(f.on_borrow(t0 + 61s, never), borrow_decision::retire);
    EXPECT_EQ(f.state(), node_state::closing);
}

TEST(node_fsm, zero_lifetime_never_expires)
{
    auto f = idle_node(t0, ms::zero());
    EXPECT_FALSE(f.expired(t0 + 100000h));
}

TEST(node_fsm, failed_reset_closes)
{
    auto f = idle_node(t0);
    ASSERT_EQ(f.on_borrow(t0, never), borrow_decision::hand_out);
    ASSERT_TRUE(f.on_release());
    EXPECT_TRUE(f.on_reset_done(false, t0));
    EXPECT_EQ(f.state(), node_state::closing);
}

TEST(node_fsm, invalid_events_change_nothing)
{
    auto f = idle_node(t0);
    EXPECT_FALSE(f.on_release());            // not in use
    EXPECT_FALSE(f.on_reset_done(true, t0)); // not resetting
    EXPECT_FALSE(f.on_check_done(true, t0)); // not checking
    EXPECT_FALSE(f.on_closed());             // not closing
    EXPECT_FALSE(f.on_connect_failed());     // not connecting
    EXPECT_EQ(f.state(), node_state::idle);
    ASSERT_EQ(f.on_borrow(t0, never), borrow_decision::hand_out);
    EXPECT_EQ(f.on_borrow(t0, never), borrow_decision::invalid);  // a borrowed node cannot be borrowed again
    EXPECT_FALSE(f.on_retire());                                   // nor retired under its borrower
    EXPECT_EQ(f.state(), node_state::in_use);
    EXPECT_STREQ(to_string(f.state()), "in_use");
}

TEST(node_fsm, idle_retirement_respects_min_size_but_not_for_expiry)
{
    auto f = idle_node(t0, 1h);
    EXPECT_FALSE(f.should_retire(t0 + 5min, 10min, true));   // not idle long enough
    EXPECT_TRUE(f.should_retire(t0 + 10min, 10min, true));   // idle timeout, above min
    EXPECT_FALSE(f.should_retire(t0 + 10min, 10min, false)); // at min: kept
    EXPECT_FALSE(f.should_retire(t0 + 10min, node_fsm::duration::zero(), true)); // idle timeout off
    EXPECT_TRUE(f.should_retire(t0 + 1h, node_fsm::duration::zero(), false));    // expired: even at min
    EXPECT_TRUE(f.on_retire());
    EXPECT_EQ(f.state(), node_state::closing);
    EXPECT_FALSE(f.should_retire(t0 + 2h, 10min, true));  // only idle nodes retire
}

// --- return policy ------------------------------------------------------------------------------

TEST(plan_return, clean_connection_needs_nothing)
{
    EXPECT_EQ(plan_return({true, 'I', false, false}, false, false), (return_plan{false, false, false}));
}

TEST(plan_return, transaction_block_is_rolled_back_and_failed_block_too)
{
    EXPECT_EQ(plan_return({true, 'T', false, false}, false, false), (return_plan{false, true, false}));
    EXPECT_EQ(plan_return({true, 'E', false, false}, false, false), (return_plan{false, true, false}));
}

TEST(plan_return, modified_session_is_reset_after_rollback)
{
    EXPECT_EQ(plan_return({true, 'I', true, false}, false, false), (return_plan{false, false, true}));
    EXPECT_EQ(plan_return({true, 'T', true, false}, false, false), (return_plan{false, true, true}));
}

TEST(plan_return, closed_discarded_expired_or_shutting_down_is_closed)
{
    const return_plan close{true, false, false};
    EXPECT_EQ(plan_return({false, 'I', false, false}, false, false), close);
    EXPECT_EQ(plan_return({true, 'T', true, true}, false, false), close);
    EXPECT_EQ(plan_return({true, 'I', false, false}, true, false), close);
    EXPECT_EQ(plan_return({true, 'I', false, false}, false, true), close);
}

// --- backoff and lifetime jitter -----------------------------------------------------------------

TEST(reconnect_delay, doubles_from_initial_up_to_the_cap)
{
    EXPECT_EQ(reconnect_delay(0, 100ms, 10s, 0.0, 0.0), ms(0));
    EXPECT_EQ(reconnect_delay(1, 100ms, 10s, 0.0, 0.0), ms(100));
    EXPECT_EQ(reconnect_delay(2, 100ms, 10s, 0.0, 0.0), ms(200));
    EXPECT_EQ(reconnect_delay(5, 100ms, 10s, 0.0, 0.0), ms(1600));
    EXPECT_EQ(reconnect_delay(8, 100ms, 10s, 0.0, 0.0), ms(10000));
    EXPECT_EQ(reconnect_delay(1000, 100ms, 10s, 0.0, 0.0), ms(10000));  // no overflow
}

TEST(reconnect_delay, jitter_only_shortens_within_its_fraction)
{
    EXPECT_EQ(reconnect_delay(3, 100ms, 10s, 0.5, 0.0), ms(400));
    EXPECT_EQ(reconnect_delay(3, 100ms, 10s, 0.5, 0.5), ms(300));
    EXPECT_EQ(reconnect_delay(3, 100ms, 10s, 0.5, 0.999), ms(200));  // 400 * (1 - 0.4995) = 200.2
    EXPECT_EQ(reconnect_delay(3, 100ms, 10s, 7.0, 0.5), ms(200));    // jitter clamped to 1
    for (double u = 0.0; u < 1.0; u += 0.01) {
        const auto d = reconnect_delay(4, 100ms, 10s, 0.5, u);
        EXPECT_GE(d, ms(400));
        EXPECT_LE(d, ms(800));
    }
}

TEST(jittered_lifetime, shortens_by_at_most_the_jitter_fraction)
{
    EXPECT_EQ(jittered_lifetime(ms::zero(), 0.1, 0.5), ms::zero());  // unlimited stays unlimited
    EXPECT_EQ(jittered_lifetime(1000s, 0.0, 0.9), ms(1000s));
    EXPECT_EQ(jittered_lifetime(1000s, 0.1, 0.0), ms(1000s));
    EXPECT_EQ(jittered_lifetime(1000s, 0.1, 0.5), ms(950s));
    for (double u = 0.0; u < 1.0; u += 0.05) {
        const auto l = jittered_lifetime(1000s, 0.1, u);
        EXPECT_GT(l, ms(900s));
        EXPECT_LE(l, ms(1000s));
    }
    EXPECT_EQ(jittered_lifetime(ms(1), 1.0, 0.99), ms(1));  // never zero (zero would mean unlimited)
}
