// sleet::with_diagnostics — the default completion token adapter.
//
// sleet's operations complete with `void(error_code, T...)`. Wrapped in with_diagnostics, a token
// sees `void(std::exception_ptr, T...)` instead, where the exception is an
// error_with_diagnostics carrying the server's ErrorResponse fields or the client's message. So
//   co_await conn.async_execute(...)                                   // default: throws rich errors
//   co_await conn.async_execute(..., asio::as_tuple(asio::use_awaitable)) // [ec, r], no throw
// and a `diagnostics&` overload gives the words on the error-code path.
#pragma once

#include <sleet/error.hpp>

#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

namespace sleet {

template <class Token> struct with_diagnostics_t {
    Token token;
};

/// Wraps `token` so that failures arrive as error_with_diagnostics exceptions.
template <class Token> with_diagnostics_t<std::decay_t<Token>> with_diagnostics(Token&& t)
{
    return {std::forward<Token>(t)};
}

/// The default token of every sleet operation: `co_await op(...)` inside an
/// `asio::awaitable<T>` (any_io_executor) throws error_with_diagnostics on failure.
/// (Boost 1.81's awaitable cannot co_await a *deferred* operation whose signature starts with
/// std::exception_ptr and carries a value — a bug fixed in later Asio — so the default is
/// use_awaitable rather than deferred. Pass `with_diagnostics(asio::deferred)` explicitly for a
/// deferred operation to be launched later with a callback.)
using default_token = with_diagnostics_t<boost::asio::use_awaitable_t<>>;

namespace detail {

/// Handler adapter: owns the diagnostics the operation fills, converts error codes into
/// exceptions for the wrapped handler.
template <class Handler> class diag_handler {
public:
    explicit diag_handler(Handler h) : inner_(std::move(h)), diag_(std::make_unique<diagnostics>()) {}

    diagnostics* diag() const noexcept { return diag_.get(); }

    template <class... Args> void operator()(error_code ec, Args&&... args)
    {
        std::exception_ptr ep;
        if (ec) ep = std::make_exception_ptr(error_with_diagnostics(ec, std::move(*diag_)));
        std::move(inner_)(ep, std::forward<Args>(args)...);
    }

    Handler inner_;

private:
    std::unique_ptr<diagnostics> diag_;
};

template <class T> struct is_diag_handler : std::false_type {};
template <class H> struct is_diag_handler<diag_handler<H>> : std::true_type {};

/// Where an operation should write its diagnostics: the adapter's own, the user's, or nowhere.
template <class Handler> diagnostics* diag_target(Handler& h, diagnostics* user) noexcept
{
    if constexpr (is_diag_handler<std::decay_t<Handler>>::value) return h.diag();
    else return user;
}

template <class Initiation> struct diag_initiation {
    Initiation init;
    template <class Handler, class... Args> void operator()(Handler&& h, Args&&... args)
    {
        std::move(init)(diag_handler<std::decay_t<Handler>>(std::forward<Handler>(h)), std::forward<Args>(args)...);
    }
};

} // namespace detail
} // namespace sleet

namespace boost::asio {

template <class Token, class... Args>
class async_result<sleet::with_diagnostics_t<Token>, void(sleet::error_code, Args...)> {
public:
    template <class Initiation, class RawToken, class... InitArgs>
    static auto initiate(Initiation&& init, RawToken&& token, InitArgs&&... args)
    {
        return boost::asio::async_initiate<Token, void(std::exception_ptr, Args...)>(
            sleet::detail::diag_initiation<std::decay_t<Initiation>>{std::forward<Initiation>(init)},
            token.token, std::forward<InitArgs>(args)...);
    }
};

template <template <class, class> class Associator, class Handler, class Default>
struct associator<Associator, sleet::detail::diag_handler<Handler>, Default> : Associator<Handler, Default> {
    static typename Associator<Handler, Default>::type get(const sleet::detail::diag_handler<Handler>& h) noexcept
    {
        return Associator<Handler, Default>::get(h.inner_);
    }
    static auto get(const sleet::detail::diag_handler<Handler>& h, const Default& d) noexcept
        -> decltype(Associator<Handler, Default>::get(h.inner_, d))
    {
        return Associator<Handler, Default>::get(h.inner_, d);
    }
};

} // namespace boost::asio
