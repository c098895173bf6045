// sleet::detail — `co_await <builder>` (without a call) that throws error_with_diagnostics.
//
// `co_await q` hands the builder to asio's awaitable as an *async operation*: Asio asks it for its
// completion signature (with a probe token) and then starts it with an internal handler,
// awaitable_async_op_handler<Signature>. With `void(error_code, R)` that handler throws a plain
// system_error: the server's message, detail and hint are lost. So for those tokens the query
// reports `void(std::exception_ptr, R)` (its failure as error_with_diagnostics, as the default
// token does). Boost 1.81's handler for that signature does not compile (its resume() tests the
// result struct instead of the exception pointer; fixed in later Asio), so this header provides
// the working specialisation for sleet's result types only — the same handler with the test
// corrected. Pinned to Boost 1.81 (the version sleet builds with); other versions keep the
// error-code signature.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/version.hpp>

#include <cstdint>
#include <exception>
#include <type_traits>
#include <utility>
#include <vector>

#if BOOST_VERSION == 108100
#define SLEET_AWAIT_OPERATION_THROWS_DIAGNOSTICS 1
#else
#define SLEET_AWAIT_OPERATION_THROWS_DIAGNOSTICS 0
#endif

namespace sleet::detail {

/// The result types of sleet's queries: rows, rows affected, a count.
template <class T> struct is_query_result : std::bool_constant<std::is_same_v<T, std::uint64_t> || std::is_same_v<T, std::int64_t>> {};
template <class T, class A> struct is_query_result<std::vector<T, A>> : std::true_type {};

/// True for the tokens Asio uses when a query object itself is co_awaited (no call).
template <class Token> struct is_await_operation_token : std::false_type {};
template <> struct is_await_operation_token<boost::asio::detail::async_operation_probe> : std::true_type {};
template <> struct is_await_operation_token<boost::asio::detail::completion_signature_probe> : std::true_type {};
template <class Signature, class Executor>
struct is_await_operation_token<boost::asio::detail::awaitable_async_op_handler<Signature, Executor>> : std::true_type {};

template <class Token>
inline constexpr bool await_operation_token_v =
    SLEET_AWAIT_OPERATION_THROWS_DIAGNOSTICS && is_await_operation_token<std::decay_t<Token>>::value;

} // namespace sleet::detail

#if SLEET_AWAIT_OPERATION_THROWS_DIAGNOSTICS
namespace boost::asio::detail {

/// Boost 1.81's awaitable_async_op_handler<R(std::exception_ptr, T)> with resume() corrected,
/// for sleet's query results (a more constrained partial specialisation than Asio's).
template <typename R, typename T, typename Executor>
    requires sleet::detail::is_query_result<T>::value
class awaitable_async_op_handler<R(std::exception_ptr, T), Executor> : public awaitable_thread<Executor> {
public:
    struct result_type {
        std::exception_ptr* ex_;
        T* value_;
    };

    awaitable_async_op_handler(awaitable_thread<Executor>* h, result_type& result)
        : awaitable_thread<Executor>(std::move(*h)), result_(result)
    {
    }

    void operator()(std::exception_ptr ex, T value)
    {
        result_.ex_ = &ex;
        result_.value_ = &value;
        this->entry_point()->top_of_stack_->attach_thread(this);
        this->entry_point()->top_of_stack_->clear_cancellation_slot();
        this->pump();
    }

    static T resume(result_type& result)
    {
        if (*result.ex_) std::rethrow_exception(std::exchange(*result.ex_, nullptr));
        return std::move(*result.value_);
    }

private:
    result_type& result_;
};

} // namespace boost::asio::detail
#endif
