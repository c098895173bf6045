// Test-only scripted PostgreSQL server, for edge cases a real server never produces (a
// malformed SCRAM server-final, messages out of order, ...).
//
// It listens on 127.0.0.1:<ephemeral port> and runs a script (a coroutine) for each accepted
// connection, on its own thread and io_context. The session gives the script the frontend
// messages (framed with sleet::wire::split_message) and encoders for the backend messages it
// needs. It speaks just enough protocol: SSLRequest is answered 'N' (no TLS).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sleet::test {

/// One frontend message: its type byte and body.
struct frontend_message {
    char type = 0;
    std::string body;
};

class fake_session {
public:
    explicit fake_session(boost::asio::ip::tcp::socket s) : socket_(std::move(s)) {}

    /// Reads the StartupMessage (answering SSLRequest with 'N' first) and returns its
    /// parameters. Throws on EOF or a malformed packet.
    boost::asio::awaitable<std::vector<std::pair<std::string, std::string>>> read_startup();
    /// Reads one typed frontend message. Throws on EOF or a framing error.
    boost::asio::awaitable<frontend_message> read_message();
    /// Sends raw bytes (one or more encoded backend messages).
    boost::asio::awaitable<void> send(std::string bytes);
    /// Waits until the client closes the connection (or sends Terminate); returns the types of
    /// the messages it sent meanwhile.
    boost::asio::awaitable<std::string> wait_for_close();

    // --- backend message encoders ---
    static std::string authentication_ok();
    static std::string authentication_cleartext();
    static std::string authentication_sasl(const std::vector<std::string>& mechanisms);
    static std::string authentication_sasl_continue(std::string_view data);
    static std::string authentication_sasl_final(std::string_view data);
    /// An ErrorResponse with severity, SQLSTATE and message.
    static std::string error_response(std::string_view severity, std::string_view sqlstate, std::string_view message);
    static std::string backend_key_data(std::int32_t pid, std::int32_t key);
    static std::string ready_for_query(char status = 'I');
    /// Any message: type byte, big-endian length, body.
    static std::string message(char type, std::string_view body);

private:
    boost::asio::awaitable<void> fill();
    boost::asio::ip::tcp::socket socket_;
    std::string buf_;
};

class fake_server {
public:
    using script = std::function<boost::asio::awaitable<void>(fake_session&)>;

    /// Starts listening at once; runs `s` for each accepted connection (a script that throws
    /// or returns closes its connection).
    explicit fake_server(script s);
    ~fake_server();
    fake_server(const fake_server&) = delete;
    fake_server& operator=(const fake_server&) = delete;

    std::uint16_t port() const noexcept;
    /// Connections accepted so far.
    std::size_t sessions() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// SCRAM helpers for scripts: the client nonce from a client-first message ("n,,n=,r=<nonce>"),
/// empty if there is none.
std::string scram_client_nonce(std::string_view client_first);

} // namespace sleet::test
