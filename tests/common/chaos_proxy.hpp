// Test-only TCP proxy that injects network faults between a client and a real server.
//
// The proxy listens on 127.0.0.1:<ephemeral port> and forwards every accepted connection to a
// target host:port. It runs on its own thread and io_context, so the code under test can run
// its own io_context to completion (and a test can check that nothing is left pending there).
// Every control function is thread-safe and synchronous: it takes effect before it returns.
//
// Faults apply to the connections that exist and to those accepted later, until switched off.
// Byte offsets and counts are per connection and per direction, counted from the first byte
// of the connection (the proxy sees TLS records, not PostgreSQL messages, once TLS is on).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sleet::test {

class chaos_proxy {
public:
    enum class direction { to_server, to_client };

    struct statistics {
        std::uint64_t accepted = 0;         ///< connections accepted so far
        std::uint64_t active = 0;           ///< connections currently open (client side)
        std::uint64_t bytes_to_server = 0;  ///< forwarded client → server, all connections
        std::uint64_t bytes_to_client = 0;  ///< forwarded server → client (incl. injected)
    };

    /// Starts listening at once; connects to the target per accepted connection.
    chaos_proxy(std::string target_host, std::uint16_t target_port);
    /// Closes everything and joins the thread.
    ~chaos_proxy();
    chaos_proxy(const chaos_proxy&) = delete;
    chaos_proxy& operator=(const chaos_proxy&) = delete;

    const std::string& host() const noexcept;  ///< "127.0.0.1"
    std::uint16_t port() const noexcept;

    /// true: close the listening socket, so connects are refused (ECONNREFUSED); false: listen
    /// again on the same port.
    void refuse_accepts(bool on);
    /// true: accept but forward nothing in either direction (a silent network: data is read
    /// into the proxy and held, never delivered). false: deliver what was held and resume.
    void stall(bool on);
    /// true: stop reading from clients (their writes block once the socket buffers are full);
    /// the server → client direction keeps flowing.
    void stop_reading_from_client(bool on);
    /// Holds every chunk for `d` before forwarding it in direction `dir` (0 = off).
    void delay(direction dir, std::chrono::milliseconds d);
    /// Limits each connection's throughput per direction (0 = unlimited).
    void limit_rate(std::size_t bytes_per_second);
    /// Closes every open connection now (both sides). `reset`: abortive close (RST) instead of FIN.
    void cut_all(bool reset = false);
    /// Forwards at most `n` bytes in `dir` per connection, then closes the connection (both
    /// sides, with RST). std::nullopt switches it off.
    void drop_after(std::optional<std::uint64_t> n, direction dir = direction::to_client);
    /// XORs the byte at server → client offset `offset` with `mask` (once per connection that
    /// has not passed the offset yet). std::nullopt switches it off.
    void corrupt_to_client(std::optional<std::uint64_t> offset, std::uint8_t mask = 0xff);
    /// Sends `bytes` to every open client now, as if the server had sent them (between two
    /// forwarded chunks, never inside one).
    void inject_to_client(std::string bytes);

    statistics stats() const;
    /// One open connection, in accept order (the newest last).
    struct connection_info {
        std::uint64_t id = 0;  ///< 1 for the first connection accepted, then 2, ...
        std::uint64_t bytes_to_server = 0;
        std::uint64_t bytes_to_client = 0;
    };
    std::vector<connection_info> connections() const;
    /// Everything forwarded client → server / server → client so far, over all connections
    /// (the first 8 MiB per direction), for leak checks such as "the password never crossed
    /// the wire".
    std::string captured_to_server() const;
    std::string captured_to_client() const;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

} // namespace sleet::test
