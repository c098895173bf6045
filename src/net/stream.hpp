// Internal: the byte stream under a connection — TCP, TLS over TCP, or a unix socket.
// The only place that knows which; everything above reads and writes bytes.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <memory>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

namespace sleet::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using unix_socket = asio::local::stream_protocol::socket;
using tls_stream = asio::ssl::stream<tcp::socket>;
inline constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

class stream {
public:
    explicit stream(asio::any_io_executor ex) : ex_(std::move(ex)) {}

    void set_tcp(tcp::socket s) { v_.emplace<tcp::socket>(std::move(s)); }
    void set_unix(unix_socket s) { v_.emplace<unix_socket>(std::move(s)); }
    /// Wraps the current TCP socket in TLS with the given context (kept alive by the stream).
    tls_stream& upgrade_to_tls(std::shared_ptr<asio::ssl::context> ctx)
    {
        ctx_ = std::move(ctx);
        tcp::socket s = std::move(std::get<tcp::socket>(v_));
        return v_.emplace<tls_stream>(std::move(s), *ctx_);
    }
    bool is_tls() const noexcept { return std::holds_alternative<tls_stream>(v_); }
    bool is_tcp_plain() const noexcept { return std::holds_alternative<tcp::socket>(v_); }
    tls_stream* tls() noexcept { return std::get_if<tls_stream>(&v_); }
    bool is_open() const noexcept
    {
        return std::visit(
            [](const auto& s) -> bool {
                using S = std::decay_t<decltype(s)>;
                if constexpr (std::is_same_v<S, std::monostate>) return false;
                else if constexpr (std::is_same_v<S, tls_stream>) return s.next_layer().is_open();
                else return s.is_open();
            },
            v_);
    }

    /// Reads some bytes / writes all of them, on whichever stream this is. Any completion token:
    /// the connection's hot path passes plain callbacks (no coroutine frame per operation);
    /// read_some()/write() below are the awaitable forms used while connecting.
    template <class Token> auto async_read_some(asio::mutable_buffer b, Token&& token)
    {
        return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this](auto h, asio::mutable_buffer buf) {
                switch (v_.index()) {
                case 1: std::get<1>(v_).async_read_some(buf, std::move(h)); return;
                case 2: std::get<2>(v_).async_read_some(buf, std::move(h)); return;
                case 3: std::get<3>(v_).async_read_some(buf, std::move(h)); return;
                default: not_connected(std::move(h)); return;
                }
            },
            token, b);
    }
    template <class Buffers, class Token> auto async_write(const Buffers& b, Token&& token)
    {
        return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this](auto h, const Buffers& bufs) {
                switch (v_.index()) {
                case 1: asio::async_write(std::get<1>(v_), bufs, std::move(h)); return;
                case 2: asio::async_write(std::get<2>(v_), bufs, std::move(h)); return;
                case 3: asio::async_write(std::get<3>(v_), bufs, std::move(h)); return;
                default: not_connected(std::move(h)); return;
                }
            },
            token, b);
    }

    auto read_some(asio::mutable_buffer b) { return async_read_some(b, tuple_awaitable); }
    template <class Buffers> auto write(const Buffers& b) { return async_write(b, tuple_awaitable); }

    /// Non-blocking look at the socket: true when bytes (or EOF, or an error) are waiting to be
    /// read. Used on idle connections, where nothing should be waiting.
    bool input_pending() const noexcept
    {
        int fd = -1;
        switch (v_.index()) {
        case 1: fd = const_cast<tcp::socket&>(std::get<1>(v_)).native_handle(); break;
        case 2: fd = const_cast<unix_socket&>(std::get<2>(v_)).native_handle(); break;
        case 3: fd = const_cast<tls_stream&>(std::get<3>(v_)).next_layer().native_handle(); break;
        default: return true;
        }
        char b;
        const auto n = ::recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n > 0 || n == 0) return true;  // data, or EOF
        return !(errno == EAGAIN || errno == EWOULDBLOCK);
    }

    /// Cancels pending reads and writes (operation_aborted); the stream stays open.
    void cancel() noexcept
    {
        boost::system::error_code ignored;
        switch (v_.index()) {
        case 1: std::get<1>(v_).cancel(ignored); break;
        case 2: std::get<2>(v_).cancel(ignored); break;
        case 3: std::get<3>(v_).next_layer().cancel(ignored); break;
        default: break;
        }
    }

    template <class Handler> void not_connected(Handler&& h)
    {
        asio::post(ex_, [h = std::forward<Handler>(h)]() mutable {
            std::move(h)(boost::system::error_code(asio::error::not_connected), std::size_t{0});
        });
    }

    /// Hard close: pending reads and writes complete with operation_aborted.
    void close() noexcept
    {
        boost::system::error_code ignored;
        switch (v_.index()) {
        case 1: std::get<1>(v_).close(ignored); break;
        case 2: std::get<2>(v_).close(ignored); break;
        case 3: std::get<3>(v_).next_layer().close(ignored); break;
        default: break;
        }
    }

    const asio::any_io_executor& executor() const noexcept { return ex_; }

private:
    asio::any_io_executor ex_;
    std::shared_ptr<asio::ssl::context> ctx_;
    std::variant<std::monostate, tcp::socket, unix_socket, tls_stream> v_;
};

} // namespace sleet::detail
