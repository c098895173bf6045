// sleet::connection implementation.
//
// Flow: a connection owns a FIFO of requests. Starting an operation encodes its messages into a
// request (each ends with its own Sync) and appends it to the FIFO; a writer coroutine gathers
// every request not yet written into one write; a reader coroutine splits backend messages and
// hands them to the request at the head of the FIFO, which completes on its ReadyForQuery.
// Both coroutines run only while there is work, so an idle connection holds no pending I/O and
// io_context::run() can return.
#include <sleet/connection.hpp>
#include <sleet/wire/auth.hpp>
#include <sleet/wire/backend.hpp>
#include <sleet/wire/frontend.hpp>

#include "stream.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <list>
#include <set>
#include <unordered_map>

namespace sleet::detail {

namespace {

error_code client_error(diagnostics* diag, errc e, std::string msg)
{
    if (diag) diag->assign_client(std::move(msg));
    return make_error_code(e);
}

bool is_ip_literal(const std::string& host)
{
    boost::system::error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

/// Result formats: binary where the types layer has a binary codec, text otherwise.
wire::format preferred_format(oid_t t) noexcept
{
    return binary_result_supported(t) ? wire::format::binary : wire::format::text;
}

std::vector<column> to_columns(const wire::row_description& rd)
{
    std::vector<column> cols;
    cols.reserve(rd.fields.size());
    for (const auto& f : rd.fields) {
        column c;
        c.name = std::string(f.name);
        c.type_oid = f.type_oid;
        c.table_oid = f.table_oid;
        c.column_attribute = f.column_attribute;
        c.type_size = f.type_size;
        c.type_modifier = f.type_modifier;
        c.format = f.format == 1 ? wire::format::binary : wire::format::text;
        cols.push_back(std::move(c));
    }
    return cols;
}

/// Session state that command tags do not reveal: session advisory locks and set_config()
/// are SELECTs, CREATE TEMP TABLE AS is "SELECT n". A cheap, conservative look at the text.
bool text_touches_session(std::string_view sql) noexcept
{
    auto contains = [&](std::string_view needle) {
        if (sql.size() < needle.size()) return false;
        for (std::size_t i = 0; i + needle.size() <= sql.size(); ++i) {
            std::size_t j = 0;
            while (j < needle.size() && (sql[i + j] | 0x20) == needle[j]) ++j;
            if (j == needle.size()) return true;
        }
        return false;
    };
    return contains("advisory") || contains("set_config") || contains("temp");
}

} // namespace

/// Completes `h` with `args` later (never inline): posted to the connection's executor, then
/// dispatched to the handler's associated executor.
template <class Handler, class... Args> void post_completion(const asio::any_io_executor& ex, Handler h, Args... args)
{
    asio::post(ex, [ex, h = std::move(h), ... args = std::move(args)]() mutable {
        auto hex = asio::get_associated_executor(h, ex);
        asio::dispatch(hex, [h = std::move(h), ... args = std::move(args)]() mutable { std::move(h)(std::move(args)...); });
    });
}

namespace {

} // namespace

/// Bytes read from the server and not yet consumed. Unlike std::string it never zero-fills
/// the space it reads into; consumed bytes are dropped by moving the tail to the front.
class read_buffer {
public:
    std::string_view view() const noexcept { return {data_.get() + start_, end_ - start_}; }
    void consume(std::size_t n) noexcept
    {
        start_ += n;
        if (start_ == end_) start_ = end_ = 0;
    }
    void clear() noexcept { start_ = end_ = 0; }
    /// Room for at least `n` more bytes (compacting or growing as needed).
    std::span<char> prepare(std::size_t n)
    {
        if (cap_ - end_ < n) {
            const std::size_t live = end_ - start_;
            if (live + n <= cap_ && start_ > 0) {
                std::memmove(data_.get(), data_.get() + start_, live);
            } else {
                std::size_t cap = std::max(cap_ * 2, live + n);
                std::unique_ptr<char[]> bigger(new char[cap]);  // default-initialised: not zeroed
                if (live) std::memcpy(bigger.get(), data_.get() + start_, live);
                data_ = std::move(bigger);
                cap_ = cap;
            }
            start_ = 0;
            end_ = live;
        }
        return {data_.get() + end_, cap_ - end_};
    }
    void commit(std::size_t n) noexcept { end_ += n; }

private:
    std::unique_ptr<char[]> data_;
    std::size_t cap_ = 0, start_ = 0, end_ = 0;
};

/// What a prepared statement returns: shared by its cache entry, the requests that execute it
/// and (its columns) every result it produces.
struct statement_shape {
    std::vector<column> columns;      // with the formats we request on Bind
    std::vector<wire::format> result_formats;
    std::size_t rows = 0, bytes = 0;  // the size of its last result: the next one reserves that much
};

/// A statement in the per-connection cache.
struct cached_statement {
    std::string name;                 // "sleet_s<N>"
    std::shared_ptr<statement_shape> shape;  // set once described
    bool ready = false;               // Parse acknowledged and row description known
    bool touches_session = false;     // text_touches_session(sql), computed once
    bool uses_looked_up_types = false;  // prepared with parameter OIDs looked up by name
    std::uint64_t prepared_by = 0;    // id of the request that prepares it (FIFO order)
};

struct request {
    enum class kind { simple, execute, command, copy_in, copy_out };
    kind k = kind::simple;
    std::uint64_t id = 0;
    std::string out;                  // encoded messages, ending with Sync
    bool written = false;
    bool abandoned = false;           // the caller was completed early (cancelled)

    // execute: statement-cache bookkeeping
    std::string cache_key;
    bool first_use = false;           // this request prepares a new cached statement
    // A new cached statement goes in steps, each ending with Flush, and nothing else is written
    // in between: [look up the declared type names of its parameters] -> Parse + Describe
    // (statement) -> [look up result types the connection does not know yet] -> Bind (binary
    // where the types allow) + Execute + Sync.
    enum class step : std::uint8_t { none, lookup_names, describe, lookup_oids };
    step current = step::none;        // the step written (or to be written) and not yet answered
    bool step_done = false;           // the current step is answered (or failed)
    bool step_failed = false;         // an ErrorResponse ended a step: only Sync follows
    std::string statement;            // the cached statement's name
    std::vector<column> described;    // the statement's columns, from its describe step
    std::vector<wire::format> result_formats;
    std::vector<std::string> lookup_names;  // declared type names asked in a lookup_names step
    bool first_step_pending = false;  // the first step is encoded at write time
    bool reencode = false;            // encoded unnamed while its statement was being prepared:
                                      // use the cached statement instead if it is ready by write time
    std::string sql;                  // kept for a transparent re-prepare
    param_list params;
    bool retried = false;
    bool executed = false;            // BindComplete of the statement itself arrived: it may have run
    bool uses_looked_up_types = false;  // Parse sent OIDs the connection looked up by name
    // Close(statement) for statements evicted from the cache, sent in front of this request. Kept
    // as names until written: a request dropped before that gives them back to the connection.
    std::vector<std::string> closes;
    std::string close_out;
    bool touches_session = false;     // the SQL text may leave session state (advisory lock, temp table, set_config)

    // response accumulation
    std::vector<result> results;
    bool in_result = false;           // a RowDescription opened results.back()
    error_code ec;
    server_error_fields server;
    diagnostics* diag = nullptr;

    // COPY
    copy_source source;               // copy_in: pulls chunks
    copy_sink sink;                   // copy_out: receives rows
    bool exclusive = false;           // nothing may be written after it until it finishes (COPY FROM STDIN)
    std::uint64_t copy_rows = 0;
    std::string copy_fail_reason;     // set when the client ended the COPY with CopyFail

    // command: LISTEN / UNLISTEN bookkeeping on success
    std::function<void()> on_success;

    // Sync sharing (see connection_impl::write_next): a read-only statement bound to a ready
    // cached statement may leave its Sync to the next one; it then completes on CommandComplete.
    bool read_only = false;           // the caller's hint (param_list::read_only)
    bool bound_cached = false;        // encoded as Bind + Execute + Sync of a ready cached statement
    bool synced = true;               // its own Sync was written (false: a later statement's Sync covers it)
    bool skipped = false;             // an earlier statement under the same Sync failed: the server skipped it
    bool run_tail = false;            // carries the Sync of a shared run of two or more statements
    std::shared_ptr<statement_shape> shape;  // of the cached statement it executes

    /// Back to a fresh execute request, keeping the capacity of its buffers (requests are reused).
    void reset_for_reuse()
    {
        k = kind::execute;
        id = 0;
        out.clear();
        if (out.capacity() > max_kept_buffer) std::string().swap(out);
        written = abandoned = false;
        cache_key.clear();
        first_use = false;
        current = step::none;
        step_done = step_failed = false;
        statement.clear();
        described.clear();
        result_formats.clear();
        lookup_names.clear();
        first_step_pending = reencode = false;
        sql.clear();
        params.clear();
        retried = executed = uses_looked_up_types = false;
        closes.clear();
        close_out.clear();
        touches_session = false;
        results.clear();
        in_result = false;
        ec = {};
        server = server_error_fields{};
        diag = nullptr;
        exclusive = false;
        copy_rows = 0;
        read_only = bound_cached = skipped = run_tail = false;
        synced = true;
        shape.reset();
    }
    static constexpr std::size_t max_kept_buffer = 64 * 1024;

    simple_query_handler_t simple_h;
    execute_handler_t execute_h;
    connect_handler_t command_h;      // kind::command
    copy_handler_t copy_h;            // kind::copy_in / copy_out
};

class connection_impl : public std::enable_shared_from_this<connection_impl> {
public:
    connection_impl(asio::any_io_executor ex, connection_params p)
        : ex_(std::move(ex)), params_(p), stream_(ex_)
    {
        statement_cache_capacity_ = std::max<std::size_t>(p.statement_cache_size, 1);
    }

    // ----------------------------------------------------------------------------------------
    // Connect
    // ----------------------------------------------------------------------------------------
    void start_connect(connect_options opts, diagnostics* diag, connect_handler_t h)
    {
        auto slot = asio::get_associated_cancellation_slot(h);
        auto self = shared_from_this();
        asio::co_spawn(
            ex_, [self, opts = std::move(opts), diag]() mutable -> asio::awaitable<error_code> {
                co_return co_await self->do_connect(std::move(opts), diag);
            },
            asio::bind_cancellation_slot(slot, [h = std::move(h)](std::exception_ptr ep, error_code ec) mutable {
                if (ep) {
                    try {
                        std::rethrow_exception(ep);
                    } catch (const boost::system::system_error& e) {
                        ec = e.code();
                    } catch (...) {
                        ec = make_error_code(errc::protocol_error);
                    }
                }
                auto ex = asio::get_associated_executor(h);
                asio::dispatch(ex, [h = std::move(h), ec]() mutable { std::move(h)(ec); });
            }));
    }

    asio::awaitable<error_code> do_connect(connect_options opts, diagnostics* diag)
    {
        if (state_ != state::idle) {
            co_return client_error(diag, errc::protocol_error, "async_connect called on a connection that is already connected or closed");
        }
        opts_ = std::move(opts);
        if (opts_.hosts.empty()) opts_.hosts.push_back(host_address{"/var/run/postgresql", 5432});
        error_code last;
        diagnostics last_diag;
        for (const auto& host : opts_.hosts) {
            last_diag.clear();
            last = co_await connect_host(host, &last_diag);
            if (!last) {
                state_ = state::ready;
                co_return error_code{};
            }
            stream_.close();
            stream_ = stream(ex_);
            rbuf_.clear();
            params_status_.clear();
            if (last == asio::error::operation_aborted && cancelled_connect_) break;
        }
        state_ = state::closed;
        if (diag) *diag = std::move(last_diag);
        co_return last;
    }

    /// One host: socket, optional TLS, startup, authentication, wait for ReadyForQuery — under
    /// connect_timeout (libpq applies it per host).
    asio::awaitable<error_code> connect_host(const host_address& host, diagnostics* diag)
    {
        std::optional<asio::steady_timer> timer;
        bool timed_out = false;
        if (opts_.connect_timeout.count() > 0) {
            timer.emplace(ex_);
            // libpq treats 1 as 2 seconds: a single second is too easy to miss by rounding.
            auto secs = std::max<std::int64_t>(opts_.connect_timeout.count(), 2);
            timer->expires_after(std::chrono::seconds(secs));
            timer->async_wait([this, &timed_out](boost::system::error_code ec) {
                if (!ec) {
                    timed_out = true;
                    stream_.close();
                    resolver_cancel();
                }
            });
        }
        auto cs = co_await asio::this_coro::cancellation_state;
        if (cs.slot().is_connected()) {
            cs.slot().assign([this](asio::cancellation_type) {
                cancelled_connect_ = true;
                stream_.close();
                resolver_cancel();
            });
        }
        error_code ec = co_await connect_host_inner(host, diag);
        if (cs.slot().is_connected()) cs.slot().clear();
        if (timer) timer->cancel();
        if (ec && timed_out) {
            ec = client_error(diag, errc::connect_timeout,
                              "timed out after " + std::to_string(std::max<std::int64_t>(opts_.connect_timeout.count(), 2)) +
                                  " s (connect_timeout) while connecting to " + describe(host));
        } else if (ec && cancelled_connect_) {
            ec = asio::error::operation_aborted;
            if (diag) diag->assign_client("connect to " + describe(host) + " was cancelled");
        }
        co_return ec;
    }

    static std::string describe(const host_address& h)
    {
        if (h.is_unix_socket()) return "unix socket \"" + h.unix_socket_path() + "\"";
        return "\"" + h.host + "\" port " + std::to_string(h.port);
    }

    void resolver_cancel()
    {
        if (resolver_) resolver_->cancel();
    }

    asio::awaitable<error_code> connect_host_inner(const host_address& host, diagnostics* diag)
    {
        // sslmode=allow: first without TLS; if the server refuses that (pg_hba), again with TLS.
        const bool allow_retry = opts_.sslmode == ssl_mode::allow && !host.is_unix_socket();
        error_code ec = co_await connect_once(host, diag, allow_retry ? tls_choice::none : tls_choice::by_mode);
        if (ec && allow_retry && !cancelled_connect_ && sqlstate_of(ec) == "28000") {
            stream_.close();
            stream_ = stream(ex_);
            rbuf_.clear();
            if (diag) diag->clear();
            ec = co_await connect_once(host, diag, tls_choice::required_unverified);
        }
        co_return ec;
    }

    enum class tls_choice { none, by_mode, required_unverified };

    asio::awaitable<error_code> open_socket(const host_address& host, diagnostics* diag)
    {
        if (host.is_unix_socket()) {
            unix_socket s(ex_);
            auto path = host.unix_socket_path();
            auto [ec] = co_await s.async_connect(asio::local::stream_protocol::endpoint(path), tuple_awaitable);
            if (ec) {
                co_return client_error(diag, errc::connection_closed,
                                       "could not connect to unix socket \"" + path + "\": " + ec.message()) ,
                    ec;
            }
            stream_.set_unix(std::move(s));
            connected_host_ = host;
            co_return error_code{};
        }
        resolver_.emplace(ex_);
        auto [rec, endpoints] = co_await resolver_->async_resolve(host.host, std::to_string(host.port), tuple_awaitable);
        resolver_.reset();
        if (rec) {
            if (diag) diag->assign_client("could not translate host name \"" + host.host + "\" to address: " + rec.message());
            co_return rec;
        }
        // Each resolved address in turn, as libpq does; the last error is reported.
        error_code last = asio::error::host_not_found;
        std::string tried;
        for (const auto& entry : endpoints) {
            tcp::socket s(ex_);
            auto [ec] = co_await s.async_connect(entry.endpoint(), tuple_awaitable);
            if (!ec) {
                s.set_option(tcp::no_delay(true));
                stream_.set_tcp(std::move(s));
                connected_host_ = host;
                connected_endpoint_ = entry.endpoint();
                co_return error_code{};
            }
            last = ec;
            if (!tried.empty()) tried += "; ";
            tried += entry.endpoint().address().to_string() + ": " + ec.message();
            if (cancelled_connect_) break;
        }
        if (diag) diag->assign_client("could not connect to " + describe(host) + " (" + tried + ")");
        co_return last;
    }

    asio::awaitable<error_code> connect_once(const host_address& host, diagnostics* diag, tls_choice tls)
    {
        if (auto ec = co_await open_socket(host, diag)) co_return ec;

        bool want_tls = false, need_tls = false;
        if (!host.is_unix_socket()) {
            switch (tls) {
            case tls_choice::none: break;
            case tls_choice::required_unverified: want_tls = need_tls = true; break;
            case tls_choice::by_mode:
                want_tls = opts_.sslmode != ssl_mode::disable && opts_.sslmode != ssl_mode::allow;
                need_tls = opts_.sslmode == ssl_mode::require || opts_.sslmode == ssl_mode::verify_ca ||
                           opts_.sslmode == ssl_mode::verify_full;
                break;
            }
        } else if (opts_.sslmode == ssl_mode::verify_ca || opts_.sslmode == ssl_mode::verify_full ||
                   opts_.sslmode == ssl_mode::require) {
            // libpq never uses TLS over unix sockets; sslmode=require is ignored there and so
            // are we, but verify-* against a socket cannot be satisfied.
            if (opts_.sslmode != ssl_mode::require)
                co_return client_error(diag, errc::tls_refused_by_server,
                                       "sslmode=" + std::string(opts_.sslmode == ssl_mode::verify_ca ? "verify-ca" : "verify-full") +
                                           " cannot be used with a unix socket (" + describe(host) + ")");
        }
        if (want_tls) {
            if (auto ec = co_await negotiate_tls(host, diag, need_tls, tls == tls_choice::required_unverified)) co_return ec;
        }
        if (opts_.channel_binding_mode == channel_binding::require && !stream_.is_tls()) {
            co_return client_error(diag, errc::channel_binding_required,
                                   "channel binding is required (channel_binding=require), but the connection to " +
                                       describe(host) + " does not use TLS");
        }
        co_return co_await startup(diag);
    }

    asio::awaitable<error_code> negotiate_tls(const host_address& host, diagnostics* diag, bool required, bool unverified)
    {
        std::string out;
        wire::encode_ssl_request(out);
        if (auto [ec, n] = co_await stream_.write(asio::buffer(out)); ec) {
            co_return client_error(diag, errc::server_closed_connection,
                                   "could not send SSL negotiation packet to " + describe(host) + ": " + ec.message()),
                ec;
        }
        char answer = 0;
        // Read exactly one byte: anything the server sends after 'S' before the handshake would be
        // unencrypted data injected by a man in the middle (CVE-2021-23222).
        auto [ec, n] = co_await stream_.read_some(asio::buffer(&answer, 1));
        if (ec) {
            co_return client_error(diag, errc::server_closed_connection,
                                   "server " + describe(host) + " closed the connection during SSL negotiation: " + ec.message());
        }
        if (answer == 'N') {
            if (required)
                co_return client_error(diag, errc::tls_refused_by_server,
                                       "server " + describe(host) + " does not support SSL, but SSL was required (sslmode=" +
                                           mode_name() + ")");
            co_return error_code{};
        }
        if (answer == 'E') {
            // A server too old for SSLRequest answers with an ErrorResponse.
            co_return client_error(diag, errc::unexpected_message, "server " + describe(host) + " rejected the SSL negotiation packet");
        }
        if (answer != 'S') {
            co_return client_error(diag, errc::protocol_error,
                                   "invalid response to SSL negotiation from " + describe(host));
        }

        auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
        ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                         asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
        const bool verify = !unverified && (opts_.sslmode == ssl_mode::verify_ca || opts_.sslmode == ssl_mode::verify_full ||
                                            (opts_.sslmode == ssl_mode::require && !opts_.sslrootcert.empty()));
        boost::system::error_code cec;
        if (verify) {
            if (!opts_.sslrootcert.empty()) ctx->load_verify_file(opts_.sslrootcert, cec);
            else ctx->set_default_verify_paths(cec);
            if (cec) {
                co_return client_error(diag, errc::tls_handshake_failed,
                                       "could not read root certificate file \"" + opts_.sslrootcert + "\": " + cec.message());
            }
            ctx->set_verify_mode(asio::ssl::verify_peer);
        } else {
            ctx->set_verify_mode(asio::ssl::verify_none);
        }
        if (!opts_.sslcert.empty()) {
            ctx->use_certificate_chain_file(opts_.sslcert, cec);
            if (!cec) ctx->use_private_key_file(opts_.sslkey.empty() ? opts_.sslcert : opts_.sslkey, asio::ssl::context::pem, cec);
            if (cec) {
                co_return client_error(diag, errc::tls_handshake_failed,
                                       "could not load client certificate \"" + opts_.sslcert + "\": " + cec.message());
            }
        }
        tls_stream& tls = stream_.upgrade_to_tls(std::move(ctx));
        SSL* ssl = tls.native_handle();
        const bool ip = is_ip_literal(host.host);
        if (opts_.sslsni && !ip) SSL_set_tlsext_host_name(ssl, host.host.c_str());
        if (verify && opts_.sslmode == ssl_mode::verify_full) {
            // OpenSSL's own check (RFC 6125): DNS names against SAN/CN, IP literals against SAN IPs.
            X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            if (ip) X509_VERIFY_PARAM_set1_ip_asc(param, host.host.c_str());
            else X509_VERIFY_PARAM_set1_host(param, host.host.c_str(), 0);
        }
        auto [hec] = co_await tls.async_handshake(asio::ssl::stream_base::client, tuple_awaitable);
        if (hec) {
            std::string why;
            long vr = SSL_get_verify_result(ssl);
            if (verify && vr != X509_V_OK) why = X509_verify_cert_error_string(vr);
            else why = hec.message();
            ERR_clear_error();
            std::string msg = "TLS handshake with " + describe(host) + " failed: " + why;
            if (verify && vr == X509_V_ERR_HOSTNAME_MISMATCH)
                msg += " (sslmode=verify-full: the server certificate does not match host name \"" + host.host + "\")";
            else if (verify && vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
                msg += " (sslmode=verify-full: the server certificate does not match IP address " + host.host + ")";
            co_return client_error(diag, errc::tls_handshake_failed, std::move(msg));
        }
        // Channel binding data (tls-server-end-point) for SCRAM-SHA-256-PLUS.
        if (X509* cert = SSL_get1_peer_certificate(ssl)) {
            unsigned char* der = nullptr;
            int len = i2d_X509(cert, &der);
            if (len > 0) {
                cbind_data_ = wire::tls_server_end_point_hash(std::string_view(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len)));
                OPENSSL_free(der);
            }
            X509_free(cert);
        }
        co_return error_code{};
    }

    std::string mode_name() const
    {
        switch (opts_.sslmode) {
        case ssl_mode::disable: return "disable";
        case ssl_mode::allow: return "allow";
        case ssl_mode::prefer: return "prefer";
        case ssl_mode::require: return "require";
        case ssl_mode::verify_ca: return "verify-ca";
        case ssl_mode::verify_full: return "verify-full";
        }
        return "?";
    }

    bool auth_allowed(std::string_view method) const { return opts_.auth_method_allowed(method); }

    /// Reads one whole backend message during startup (into rbuf_). Notices and parameter
    /// statuses are handled here; anything else is returned.
    asio::awaitable<error_code> read_message(wire::raw_message& msg, diagnostics* diag)
    {
        for (;;) {
            auto r = wire::split_message(rbuf_.view(), params_.max_message_size);
            if (r.status == wire::split_result::status_t::message) {
                msg = r.msg;
                rbuf_.consume(r.consumed);
                co_return error_code{};
            }
            if (r.status == wire::split_result::status_t::error) {
                co_return client_error(diag, static_cast<errc>(r.ec.value()), r.ec.message()), r.ec;
            }
            if (auto ec = co_await fill(r.needed)) {
                if (diag) diag->assign_client(ec == asio::error::eof ? "server closed the connection unexpectedly"
                                                                      : "could not receive data from server: " + ec.message());
                co_return ec == asio::error::eof ? make_error_code(errc::server_closed_connection) : ec;
            }
        }
    }

    /// Reads more bytes into rbuf_ (compacting first).
    /// Room in rbuf_ for the next read. Grows with the data that actually arrives (at most 4 MiB
    /// more per read), never by the length a server merely declared.
    asio::mutable_buffer read_space(std::size_t needed)
    {
        auto space = rbuf_.prepare(std::clamp<std::size_t>(needed, 16 * 1024, 4 * 1024 * 1024));
        return asio::buffer(space.data(), space.size());
    }

    asio::awaitable<error_code> fill(std::size_t needed)
    {
        auto [ec, n] = co_await stream_.read_some(read_space(needed));
        rbuf_.commit(n);
        co_return ec;
    }

    asio::awaitable<error_code> send_now(const std::string& bytes, diagnostics* diag)
    {
        auto [ec, n] = co_await stream_.write(asio::buffer(bytes));
        if (ec && diag) diag->assign_client("could not send data to server: " + ec.message());
        co_return ec;
    }

    asio::awaitable<error_code> startup(diagnostics* diag)
    {
        std::vector<std::pair<std::string_view, std::string_view>> sp;
        sp.emplace_back("user", opts_.user);
        if (!opts_.database.empty()) sp.emplace_back("database", opts_.database);
        if (!opts_.application_name.empty()) sp.emplace_back("application_name", opts_.application_name);
        if (!opts_.options.empty()) sp.emplace_back("options", opts_.options);
        sp.emplace_back("client_encoding", "UTF8");
        sp.emplace_back("DateStyle", "ISO");
        std::string out;
        wire::encode_startup(out, sp);
        if (auto ec = co_await send_now(out, diag)) co_return ec;

        std::optional<wire::scram_client> scram;
        bool authenticated_with_plus = false;
        for (;;) {
            wire::raw_message m;
            if (auto ec = co_await read_message(m, diag)) co_return ec;
            switch (m.type) {
            case wire::msg::authentication: {
                wire::authentication a;
                if (auto ec = wire::parse_authentication(m.body, a)) co_return client_error(diag, errc::protocol_error, ec.message()), ec;
                out.clear();
                switch (a.kind) {
                case wire::auth_kind::ok:
                    if (opts_.channel_binding_mode == channel_binding::require && !authenticated_with_plus) {
                        co_return client_error(diag, errc::channel_binding_required,
                                               "channel binding required (channel_binding=require), but the server authenticated the client without channel binding");
                    }
                    if (!opts_.require_auth.empty() && !scram && !used_password_ && !auth_allowed("none")) {
                        co_return client_error(diag, errc::auth_method_not_allowed,
                                               "authentication method requirement \"" + opts_.require_auth +
                                                   "\" failed: server did not complete authentication");
                    }
                    break;
                case wire::auth_kind::cleartext_password:
                case wire::auth_kind::md5_password: {
                    const bool md5 = a.kind == wire::auth_kind::md5_password;
                    const char* method = md5 ? "md5" : "password";
                    if (opts_.channel_binding_mode == channel_binding::require) {
                        co_return client_error(diag, errc::channel_binding_required,
                                               std::string("channel binding required (channel_binding=require), but the server requested ") +
                                                   (md5 ? "MD5" : "cleartext password") + " authentication, which cannot bind");
                    }
                    if (!auth_allowed(method)) {
                        co_return client_error(diag, errc::auth_method_not_allowed,
                                               "authentication method requirement \"" + opts_.require_auth + "\" failed: server requested " +
                                                   (md5 ? "an MD5-hashed password" : "a cleartext password"));
                    }
                    if (opts_.password.empty()) {
                        co_return client_error(diag, errc::password_required,
                                               "the server requested password authentication for user \"" + opts_.user +
                                                   "\", but no password was supplied");
                    }
                    used_password_ = true;
                    if (md5) wire::encode_password(out, wire::md5_password_response(opts_.user, opts_.password.reveal(), a.md5_salt));
                    else wire::encode_password(out, opts_.password.reveal());
                    if (auto ec = co_await send_now(out, diag)) co_return ec;
                    break;
                }
                case wire::auth_kind::sasl: {
                    bool has_plain = false, has_plus = false;
                    for (auto mech : a.mechanisms) {
                        if (mech == "SCRAM-SHA-256") has_plain = true;
                        if (mech == "SCRAM-SHA-256-PLUS") has_plus = true;
                    }
                    if (!auth_allowed("scram-sha-256")) {
                        co_return client_error(diag, errc::auth_method_not_allowed,
                                               "authentication method requirement \"" + opts_.require_auth +
                                                   "\" failed: server requested SASL authentication");
                    }
                    if (opts_.password.empty()) {
                        co_return client_error(diag, errc::password_required,
                                               "the server requested SCRAM authentication for user \"" + opts_.user +
                                                   "\", but no password was supplied");
                    }
                    const bool can_bind = stream_.is_tls() && !cbind_data_.empty();
                    wire::scram_client::binding b = wire::scram_client::binding::none;
                    if (has_plus && can_bind && opts_.channel_binding_mode != channel_binding::disable) b = wire::scram_client::binding::plus;
                    else if (opts_.channel_binding_mode == channel_binding::require) {
                        co_return client_error(diag, errc::channel_binding_required,
                                               "channel binding is required (channel_binding=require), but the server did not offer SCRAM-SHA-256-PLUS");
                    } else if (!has_plain) {
                        co_return client_error(diag, errc::auth_method_unsupported,
                                               "none of the server's SASL authentication mechanisms are supported");
                    } else if (can_bind && opts_.channel_binding_mode != channel_binding::disable) {
                        b = wire::scram_client::binding::supported_not_used;
                    }
                    scram.emplace(opts_.password.reveal(), b, b == wire::scram_client::binding::plus ? cbind_data_ : std::string());
                    authenticated_with_plus = b == wire::scram_client::binding::plus;
                    wire::encode_sasl_initial_response(out, scram->mechanism(), scram->client_first_message());
                    if (auto ec = co_await send_now(out, diag)) co_return ec;
                    break;
                }
                case wire::auth_kind::sasl_continue: {
                    if (!scram) co_return client_error(diag, errc::unexpected_message, "unexpected SASL continue message from the server");
                    diagnostics d;
                    if (auto ec = scram->handle_server_first(a.data, d)) {
                        if (diag) *diag = std::move(d);
                        co_return ec;
                    }
                    wire::encode_sasl_response(out, scram->client_final_message());
                    if (auto ec = co_await send_now(out, diag)) co_return ec;
                    break;
                }
                case wire::auth_kind::sasl_final: {
                    if (!scram) co_return client_error(diag, errc::unexpected_message, "unexpected SASL final message from the server");
                    diagnostics d;
                    if (auto ec = scram->handle_server_final(a.data, d)) {
                        if (diag) *diag = std::move(d);
                        co_return ec;
                    }
                    break;
                }
                default:
                    co_return client_error(diag, errc::auth_method_unsupported,
                                           "the server requested an authentication method sleet does not support (code " +
                                               std::to_string(static_cast<int>(a.kind)) + ")");
                }
                break;
            }
            case wire::msg::backend_key_data: {
                wire::backend_key_data k;
                if (auto ec = wire::parse_backend_key_data(m.body, k)) co_return client_error(diag, errc::protocol_error, ec.message()), ec;
                key_ = k;
                break;
            }
            case wire::msg::parameter_status:
                if (auto ec = on_parameter_status(m.body)) co_return client_error(diag, errc::protocol_error, ec.message()), ec;
                break;
            case wire::msg::notice_response:
                on_notice(m.body);
                break;
            case wire::msg::negotiate_protocol_version:
                break; // we request no protocol options; the server may still report its minor version
            case wire::msg::error_response: {
                server_error_fields f;
                if (auto ec = wire::parse_error_fields(m.body, f)) co_return client_error(diag, errc::protocol_error, ec.message()), ec;
                auto ec = make_sqlstate_error(f.sqlstate);
                if (diag) diag->assign_server(std::move(f));
                co_return ec;
            }
            case wire::msg::ready_for_query: {
                wire::ready_for_query z;
                if (auto ec = wire::parse_ready_for_query(m.body, z)) co_return client_error(diag, errc::protocol_error, ec.message()), ec;
                tx_status_ = static_cast<char>(z.status);
                co_return error_code{};
            }
            default:
                co_return client_error(diag, errc::unexpected_message,
                                       std::string("unexpected message '") + m.type + "' from the server during startup");
            }
        }
    }

    error_code on_parameter_status(std::string_view body)
    {
        wire::parameter_status ps;
        if (auto ec = wire::parse_parameter_status(body, ps)) return ec;
        params_status_[std::string(ps.name)] = std::string(ps.value);
        return {};
    }

    void on_notice(std::string_view body)
    {
        if (!notice_handler_) return;
        server_error_fields f;
        if (!wire::parse_error_fields(body, f)) notice_handler_(f);
    }

    // ----------------------------------------------------------------------------------------
    // Queries
    // ----------------------------------------------------------------------------------------
    template <class H> void fail_now(H h, error_code ec, diagnostics* diag, std::string msg)
    {
        if (diag && !msg.empty()) diag->assign_client(std::move(msg));
        using R = std::conditional_t<std::is_same_v<H, execute_handler_t>, result, std::vector<result>>;
        post_completion(ex_, std::move(h), ec, R{});
    }

    void start_simple_query(std::string sql, diagnostics* diag, simple_query_handler_t h)
    {
        auto req = std::make_shared<request>();
        req->k = request::kind::simple;
        req->diag = diag;
        req->touches_session = text_touches_session(sql);
        enqueue_simple(std::move(req), sql, &request::simple_h, std::move(h), std::vector<result>{});
    }

    void start_execute(std::string sql, param_list params, diagnostics* diag, execute_handler_t h)
    {
        auto req = make_execute_request();
        req->diag = diag;
        req->sql = std::move(sql);
        req->params = std::move(params);
        req->read_only = req->params.read_only();
        req->execute_h.swap(h);  // not operator=: Boost 1.81 any_completion_handler move-assignment recurses
        if (auto ec = encode_execute(*req)) {
            auto hh = std::move(req->execute_h);
            return fail_now(std::move(hh), ec, nullptr, {});
        }
        enqueue(std::move(req));
    }

    /// A request for start_execute: a finished one reused (its buffers keep their capacity), or
    /// a new one.
    std::shared_ptr<request> make_execute_request()
    {
        if (spare_requests_.empty()) {
            auto r = std::make_shared<request>();
            r->k = request::kind::execute;
            return r;
        }
        auto r = std::move(spare_requests_.back());
        spare_requests_.pop_back();
        return r;
    }

    /// A finished request that nobody else holds goes back to the spares.
    void recycle(std::shared_ptr<request> r)
    {
        if (r->k != request::kind::execute || r.use_count() != 1 || spare_requests_.size() >= max_spare_requests) return;
        r->reset_for_reuse();
        spare_requests_.push_back(std::move(r));
    }
    static constexpr std::size_t max_spare_requests = 64;

    /// The statement cache's key of a request: its SQL text and parameter OIDs, built in a buffer
    /// of the connection's (valid until the next call).
    std::string_view key_of(const request& r)
    {
        key_scratch_.assign(r.sql);
        key_scratch_.push_back('\0');
        for (oid_t o : r.params.oids()) key_scratch_.append(reinterpret_cast<const char*>(&o), sizeof o);
        return key_scratch_;
    }

    /// Encodes an execute request using the statement cache: a known statement costs
    /// Bind/Execute/Sync; a new one is prepared in steps (see request::step).
    error_code encode_execute(request& r)
    {
        r.out.clear();
        r.first_use = false;
        r.bound_cached = false;
        r.current = request::step::none;
        const std::string_view key = params_.statement_cache ? key_of(r) : std::string_view();
        try {
            cached_statement* st = nullptr;
            if (params_.statement_cache) {
                auto it = cache_index_.find(key);
                if (it != cache_index_.end()) {
                    lru_.splice(lru_.begin(), lru_, it->second);  // most recently used first
                    st = &*it->second;
                    r.touches_session = st->touches_session;
                    if (!st->ready) {
                        // Being prepared by a request in flight: encode unnamed now, and use the
                        // statement at write time if it is ready by then (it usually is: nothing
                        // is written behind a describing request until its columns are known).
                        st = nullptr;
                        r.reencode = true;
                    }
                } else {
                    // New statement: prepared by this request.
                    evict_if_full();
                    lru_.emplace_front();
                    lru_.front().name = "sleet_s" + std::to_string(++statement_counter_);
                    lru_.front().touches_session = r.touches_session = text_touches_session(r.sql);
                    r.cache_key.assign(key);
                    cache_index_.emplace(r.cache_key, lru_.begin());
                    r.first_use = true;
                }
            }
            if (!params_.statement_cache) r.touches_session = text_touches_session(r.sql);
            take_pending_closes(r);
            if (st) {
                r.uses_looked_up_types = st->uses_looked_up_types;
                bind_and_execute(r, st->name, st->shape->result_formats);
                bind_to_shape(r, st->shape);
                r.bound_cached = true;
            } else if (r.first_use) {
                // Describe first, so that even the first execution gets binary results.
                r.statement = lru_.front().name;
                // The first step is encoded when the request is written: type names resolved by
                // a request ahead of it (nothing is written behind a preparing request) are
                // known by then, so each type is looked up once.
                r.first_step_pending = true;
                r.current = request::step::describe;
            } else {
                // Unnamed statement (no cache, or the statement is still being prepared): one
                // round trip, so the result types are unknown when binding: text results.
                wire::encode_parse(r.out, "", r.sql, r.params.oids());
                bind_and_execute(r, "", {}, /*describe=*/true);
            }
        } catch (const error_with_diagnostics& e) {
            give_back_closes(r);
            if (r.first_use) forget_statement(r.cache_key);
            if (r.diag) *r.diag = e.get_diagnostics();
            return e.code();
        }
        return {};
    }

    /// `r` executes a ready cached statement: its result shares the statement's columns and
    /// reserves the size of the statement's last result.
    void bind_to_shape(request& r, std::shared_ptr<statement_shape> shape)
    {
        r.results.clear();
        r.results.emplace_back();
        result& res = r.results.back();
        res.set_columns(std::shared_ptr<const std::vector<column>>(shape, &shape->columns));
        // (Not for big results: every request queued for the statement would hold that much.)
        if (shape->rows && shape->bytes <= max_reserved_result) res.reserve(shape->rows, shape->bytes);
        r.shape = std::move(shape);
        r.in_result = true;
    }

    // ---- the steps of a new cached statement -------------------------------------------------

    void encode_first_step(request& r)
    {
        r.first_step_pending = false;
        r.out.clear();
        if (has_unresolved_type_names(r.params)) encode_lookup(r, {}, r.params.type_names());
        else encode_describe_step(r);
    }

    /// Parse with the parameter OIDs, user types' names resolved, + Describe(statement) + Flush.
    void encode_describe_step(request& r)
    {
        std::vector<oid_t> oids(r.params.oids().begin(), r.params.oids().end());
        const auto names = r.params.type_names();
        for (std::size_t i = 0; i < names.size(); ++i) {
            if (names[i].empty() || oids[i] != 0) continue;
            auto it = type_oids_by_name_.find(names[i]);
            if (it != type_oids_by_name_.end()) oids[i] = it->second;  // 0 if the type does not exist
            if (oids[i] != 0) r.uses_looked_up_types = true;
        }
        wire::encode_parse(r.out, r.statement, r.sql, oids);
        wire::encode_describe(r.out, wire::describe_target::statement, r.statement);
        wire::encode_flush(r.out);
        r.current = request::step::describe;
    }

    bool has_unresolved_type_names(const param_list& p) const
    {
        for (auto n : p.type_names())
            if (!n.empty() && !type_oids_by_name_.contains(n)) return true;
        return false;
    }

    /// One catalog query (unnamed statement, text results) that names the given type OIDs and
    /// resolves the given declared type names; answered by rows of (oid, qualified name, the
    /// declared name it resolves or NULL). Runs between the steps of a new statement, once per
    /// connection for each type.
    void encode_lookup(request& r, std::span<const oid_t> oids, std::span<const std::string_view> names)
    {
        static constexpr std::string_view sql =
            "select t.oid, case when e.oid is null then tn.nspname || '.' || t.typname "
            "else en.nspname || '.' || e.typname || '[]' end, q.n "
            "from pg_catalog.pg_type t join pg_catalog.pg_namespace tn on tn.oid = t.typnamespace "
            "left join pg_catalog.pg_type e on e.oid = t.typelem and t.typcategory = 'A' "
            "left join pg_catalog.pg_namespace en on en.oid = e.typnamespace "
            "left join (select u.n, pg_catalog.to_regtype(u.n) as o from pg_catalog.unnest($2::text[]) as u(n)) q "
            "on q.o = t.oid where t.oid = any($1::oid[]) or q.n is not null";
        std::string oid_list = "{", name_list = "{";
        for (oid_t o : oids) {
            if (oid_list.size() > 1) oid_list += ',';
            oid_list += std::to_string(o);
        }
        r.lookup_names.clear();
        for (auto n : names) {
            if (n.empty() || type_oids_by_name_.contains(n)) continue;
            r.lookup_names.emplace_back(n);
            if (name_list.size() > 1) name_list += ',';
            name_list += '"';
            for (char c : n) {
                if (c == '"' || c == '\\') name_list += '\\';
                name_list += c;
            }
            name_list += '"';
        }
        oid_list += '}';
        name_list += '}';
        static constexpr oid_t param_oids[] = {1028 /* oid[] */, 1009 /* text[] */};
        static constexpr wire::format text_formats[] = {wire::format::text, wire::format::text};
        wire::encode_parse(r.out, "", sql, param_oids);
        wire::bind_writer b(r.out, "", "", text_formats, 2);
        b.value(oid_list);
        b.value(name_list);
        b.finish({});
        wire::encode_execute(r.out, "", 0);
        wire::encode_flush(r.out);
        r.current = oids.empty() ? request::step::lookup_names : request::step::lookup_oids;
        ++type_lookups_;
    }

    /// A catalog row: (oid, "schema.name" or "schema.elem[]", declared name or NULL).
    error_code on_lookup_row(std::string_view body)
    {
        wire::data_row_view row;
        if (auto ec = wire::parse_data_row(body, row)) return ec;
        std::vector<std::optional<std::string_view>> v;
        if (auto ec = row.values(v)) return ec;
        if (v.size() != 3 || !v[0] || !v[1]) return make_error_code(errc::unexpected_message);
        oid_t o = 0;
        for (char c : *v[0]) o = o * 10 + static_cast<oid_t>(c - '0');
        type_names_by_oid_[o] = std::string(*v[1]);
        if (v[2]) type_oids_by_name_[std::string(*v[2])] = o;
        return {};
    }

    /// The next step once the current one is answered. Returns false when the request has no
    /// more steps (Bind + Execute + Sync, or only Sync after a failure or when the caller left).
    bool encode_next_step(request& r)
    {
        r.out.clear();
        r.step_done = false;
        const auto done = r.current;
        r.current = request::step::none;
        if (r.step_failed || r.abandoned) {
            wire::encode_sync(r.out);
            return false;
        }
        if (done == request::step::lookup_names) {
            for (const auto& n : r.lookup_names) type_oids_by_name_.try_emplace(n, 0);  // not in this database
            encode_describe_step(r);
            return true;
        }
        if (done == request::step::describe) {
            std::vector<oid_t> unknown;
            for (const auto& c : r.described)
                if (!type_names_by_oid_.contains(c.type_oid) && type_name_of(c.type_oid).starts_with("oid ") &&
                    std::find(unknown.begin(), unknown.end(), c.type_oid) == unknown.end())
                    unknown.push_back(c.type_oid);
            if (!unknown.empty()) {
                for (oid_t o : unknown) type_names_by_oid_.try_emplace(o);  // asked once, even if not found
                encode_lookup(r, unknown, {});
                return true;
            }
        }
        on_described(r);
        try {
            bind_and_execute(r, r.statement, r.result_formats);
        } catch (const error_with_diagnostics& e) {
            // The Bind cannot be sent (e.g. larger than a protocol message may be): the caller
            // gets that error; the statement stays prepared, nothing ran.
            r.ec = e.code();
            if (r.diag) *r.diag = e.get_diagnostics();
            r.out.clear();
            wire::encode_sync(r.out);
        }
        return false;
    }

    /// Write time: a request encoded unnamed while its statement was being prepared uses the
    /// cached statement if it is ready now (Bind only, binary results).
    void reencode_if_ready(request& r)
    {
        r.reencode = false;
        if (!params_.statement_cache) return;
        auto it = cache_index_.find(key_of(r));
        if (it == cache_index_.end() || !it->second->ready) return;  // keep the unnamed encoding
        const cached_statement& st = *it->second;
        r.uses_looked_up_types = st.uses_looked_up_types;
        lru_.splice(lru_.begin(), lru_, it->second);
        std::string saved;
        saved.swap(r.out);
        try {
            bind_and_execute(r, st.name, st.shape->result_formats);
        } catch (const error_with_diagnostics&) {
            r.out.swap(saved);  // cannot happen (the same Bind encoded before); keep the unnamed form
            return;
        }
        bind_to_shape(r, st.shape);
        r.bound_cached = true;
    }

    void bind_and_execute(request& r, std::string_view statement, std::span<const wire::format> result_formats, bool describe = false)
    {
        const auto& p = r.params;
        wire::bind_writer b(r.out, "", statement, p.formats(), static_cast<std::int16_t>(p.size()));
        for (std::size_t i = 0; i < p.size(); ++i) {
            auto v = p.value(i);
            if (v) b.value(*v);
            else b.null();
        }
        b.finish(result_formats);
        if (describe) wire::encode_describe(r.out, wire::describe_target::portal, "");
        wire::encode_execute(r.out, "", 0);
        wire::encode_sync(r.out);
    }

    void evict_if_full()
    {
        while (!lru_.empty() && lru_.size() >= statement_cache_capacity_) {
            auto& victim = lru_.back();
            if (!victim.ready) break;  // still being prepared; keep it
            pending_closes_.push_back(victim.name);
            for (auto it = cache_index_.begin(); it != cache_index_.end(); ++it) {
                if (&*it->second == &victim) {
                    cache_index_.erase(it);
                    break;
                }
            }
            lru_.pop_back();
        }
    }

    /// A request that prepares a new cached statement is recorded on the entry once it has its id.
    void note_preparer(const request& r)
    {
        if (!r.first_use) return;
        auto it = cache_index_.find(r.cache_key);
        if (it != cache_index_.end()) it->second->prepared_by = r.id;
    }

    void take_pending_closes(request& r)
    {
        if (pending_closes_.empty()) return;
        r.closes.insert(r.closes.end(), std::make_move_iterator(pending_closes_.begin()), std::make_move_iterator(pending_closes_.end()));
        pending_closes_.clear();
    }

    /// A request that will not be written: its Closes go with the next request (which is queued
    /// behind every request that could still Bind those statements).
    void give_back_closes(request& r)
    {
        pending_closes_.insert(pending_closes_.end(), std::make_move_iterator(r.closes.begin()), std::make_move_iterator(r.closes.end()));
        r.closes.clear();
    }

    void forget_statement(std::string_view key)
    {
        auto it = cache_index_.find(key);
        if (it == cache_index_.end()) return;
        lru_.erase(it->second);
        cache_index_.erase(it);
    }

    void enqueue(std::shared_ptr<request> req)
    {
        if (state_ != state::ready) {
            const char* why = state_ == state::idle ? "the connection is not connected (call async_connect first)"
                                                    : "the connection is closed";
            if (req->k == request::kind::execute && req->first_use) forget_statement(req->cache_key);
            if (req->diag) req->diag->assign_client(why);
            req->ec = make_error_code(errc::connection_closed);
            auto self = shared_from_this();
            // Never inline: deliver from a posted function.
            asio::post(ex_, [self, req] { self->deliver(*req); });
            return;
        }
        req->id = ++request_counter_;
        note_preparer(*req);
        install_cancellation(*req);
        pending_.push_back(std::move(req));
        pending_count_.store(pending_.size(), std::memory_order_release);
        kick();
    }

    template <class H> void install_cancellation_on(H& h, std::uint64_t id)
    {
        auto slot = asio::get_associated_cancellation_slot(h);
        if (!slot.is_connected()) return;
        std::weak_ptr<connection_impl> weak = shared_from_this();
        slot.assign([weak, id](asio::cancellation_type) {
            if (auto self = weak.lock()) {
                asio::dispatch(self->ex_, [self, id] { self->cancel_request(id); });
            }
        });
    }

    void install_cancellation(request& r)
    {
        switch (r.k) {
        case request::kind::execute: install_cancellation_on(r.execute_h, r.id); break;
        case request::kind::simple: install_cancellation_on(r.simple_h, r.id); break;
        case request::kind::command: install_cancellation_on(r.command_h, r.id); break;
        case request::kind::copy_in:
        case request::kind::copy_out: install_cancellation_on(r.copy_h, r.id); break;
        }
    }

    template <class H> static void clear_slot(H& h)
    {
        auto slot = asio::get_associated_cancellation_slot(h);
        if (slot.is_connected()) slot.clear();
    }

    /// Delivers a request's outcome to its caller (once).
    void deliver(request& r)
    {
        if (r.abandoned) return;
        r.abandoned = true;
        error_code ec = r.ec;
        if (ec && r.diag && !r.server.sqlstate.empty() && ec.category() == sqlstate_category()) r.diag->assign_server(std::move(r.server));
        if (r.k == request::kind::command) {
            clear_slot(r.command_h);
            if (!ec && r.on_success) r.on_success();
            auto h = std::move(r.command_h);
            auto ex = asio::get_associated_executor(h, ex_);
            asio::dispatch(ex, [h = std::move(h), ec]() mutable { std::move(h)(ec); });
        } else if (r.k == request::kind::copy_in || r.k == request::kind::copy_out) {
            clear_slot(r.copy_h);
            std::uint64_t rows = ec ? 0 : r.copy_rows;
            auto h = std::move(r.copy_h);
            auto ex = asio::get_associated_executor(h, ex_);
            asio::dispatch(ex, [h = std::move(h), ec, rows]() mutable { std::move(h)(ec, rows); });
        } else if (r.k == request::kind::execute) {
            clear_slot(r.execute_h);
            result res;
            if (!ec && !r.results.empty()) res = std::move(r.results.back());
            auto h = std::move(r.execute_h);
            auto ex = asio::get_associated_executor(h, ex_);
            asio::dispatch(ex, [h = std::move(h), ec, res = std::move(res)]() mutable { std::move(h)(ec, std::move(res)); });
        } else {
            clear_slot(r.simple_h);
            std::vector<result> res;
            if (!ec) res = std::move(r.results);
            auto h = std::move(r.simple_h);
            auto ex = asio::get_associated_executor(h, ex_);
            asio::dispatch(ex, [h = std::move(h), ec, res = std::move(res)]() mutable { std::move(h)(ec, std::move(res)); });
        }
    }

    void cancel_request(std::uint64_t id)
    {
        auto it = std::find_if(pending_.begin(), pending_.end(), [id](const auto& r) { return r->id == id; });
        if (it == pending_.end()) return;
        auto req = *it;
        if (req->abandoned) return;
        if (!req->written) {
            // Never reached the server: just drop it.
            if (req->first_use) forget_statement(req->cache_key);
            give_back_closes(*req);
            req->ec = asio::error::operation_aborted;
            if (req->diag) req->diag->assign_client("the query was cancelled before it was sent");
            deliver(*req);
            pending_.erase(it);
            pending_count_.store(pending_.size(), std::memory_order_release);
            return;
        }
        // On the wire: the caller gets its answer now, the results are drained and discarded.
        // Whatever happens next, the request must finish within cancel_drain_timeout or the
        // connection is closed (a dead network never leaves the connection hanging).
        const bool is_head = it == pending_.begin();
        const bool last_written = std::next(it) == pending_.end() || !(*std::next(it))->written;
        // (A request between its steps gets one too: Parse can wait on a lock. Its remaining step
        // is then only Sync, which may be written while other writes are held.)
        const bool send_cancel = is_head && last_written && !cancel_in_progress_;
        req->ec = asio::error::operation_aborted;
        if (req->diag)
            req->diag->assign_client(send_cancel ? "the query was cancelled; a cancel request was sent to the server"
                                                 : "the query was cancelled; its results will be discarded");
        deliver(*req);
        draining_.insert(id);
        arm_drain_timer();
        if (send_cancel) {
            // Hold further writes until the server has answered this request, so the
            // CancelRequest can only hit the cancelled query (or an idle backend, which ignores it).
            cancel_in_progress_ = true;
            cancel_target_ = id;
            hold_writes_ = true;
            send_cancel_request();
        } else {
            // Other requests are queued behind it on the wire: a CancelRequest could hit one of
            // them, so let the server finish this one and discard its results.
        }
    }

    void send_cancel_request()
    {
        auto self = shared_from_this();
        cancel_conn_done_ = false;
        asio::co_spawn(
            ex_,
            [self]() -> asio::awaitable<void> {
                // The side connection lives in the impl so that closing the connection (or the
                // drain deadline) also ends it: no coroutine waits forever on a dead network.
                self->cancel_side_ = std::make_shared<stream>(self->ex_);
                auto side_ptr = self->cancel_side_;
                stream& side = *side_ptr;
                const auto& host = self->connected_host_;
                error_code ec;
                if (host.is_unix_socket()) {
                    unix_socket s(self->ex_);
                    std::tie(ec) = co_await s.async_connect(asio::local::stream_protocol::endpoint(host.unix_socket_path()), tuple_awaitable);
                    if (!ec) side.set_unix(std::move(s));
                } else {
                    tcp::socket s(self->ex_);
                    std::tie(ec) = co_await s.async_connect(self->connected_endpoint_, tuple_awaitable);
                    if (!ec) side.set_tcp(std::move(s));
                }
                if (!ec) {
                    std::string out;
                    wire::encode_cancel_request(out, self->key_.process_id, self->key_.secret_key);
                    std::tie(ec, std::ignore) = co_await side.write(asio::buffer(out));
                    // Wait for the server to close the side connection: then the signal has
                    // been delivered to the backend and cannot arrive later.
                    char b;
                    if (!ec) co_await side.read_some(asio::buffer(&b, 1));
                }
                side.close();
                if (self->cancel_side_ == side_ptr) self->cancel_side_.reset();
                self->cancel_conn_done_ = true;
                self->maybe_release_hold();
            },
            asio::detached);
    }

    void stop_drain_timer()
    {
        if (drain_timer_) drain_timer_->cancel();
        drain_armed_ = false;
        ++drain_gen_;
    }

    void arm_drain_timer()
    {
        if (drain_armed_) return;
        drain_armed_ = true;
        const auto gen = ++drain_gen_;  // a timer cancelled but not yet run must not disarm a newer one
        drain_timer_.emplace(ex_);
        drain_timer_->expires_after(params_.cancel_drain_timeout);
        std::weak_ptr<connection_impl> weak = shared_from_this();
        drain_timer_->async_wait([weak, gen](boost::system::error_code ec) {
            auto me = weak.lock();
            if (!me || me->drain_gen_ != gen) return;
            me->drain_armed_ = false;
            if (ec) return;
            if (auto self = weak.lock()) {
                if (self->cancel_in_progress_ || !self->draining_.empty()) {
                    diagnostics d;
                    d.assign_client("the server did not answer a cancelled query within cancel_drain_timeout; the connection was closed");
                    self->fail_all(make_error_code(errc::connection_closed), &d);
                }
            }
        });
    }

    void maybe_release_hold()
    {
        if (cancel_in_progress_ && cancel_target_done_ && cancel_conn_done_) {
            cancel_in_progress_ = false;
            cancel_target_done_ = false;
            hold_writes_ = false;
            if (draining_.empty()) stop_drain_timer();
            kick();
        }
    }

    // ----------------------------------------------------------------------------------------
    // Commands, COPY, notifications
    // ----------------------------------------------------------------------------------------
    /// Encodes `sql` as one simple-protocol Query into `req` and enqueues it, the handler kept
    /// in `member`; an encoding failure (NUL byte, size) completes `h` later with that error and
    /// `defaults` for the other arguments.
    template <class H, class... Defaults>
    void enqueue_simple(std::shared_ptr<request> req, const std::string& sql, H request::*member, H h, Defaults... defaults)
    {
        try {
            wire::encode_query(req->out, sql);
        } catch (const error_with_diagnostics& e) {
            if (req->diag) *req->diag = e.get_diagnostics();
            return post_completion(ex_, std::move(h), e.code(), std::move(defaults)...);
        }
        ((*req).*member).swap(h);  // not operator=: Boost 1.81 any_completion_handler move-assignment recurses
        enqueue(std::move(req));
    }

    void start_command(std::string sql, std::function<void()> on_success, diagnostics* diag, connect_handler_t h)
    {
        auto req = std::make_shared<request>();
        req->k = request::kind::command;
        req->diag = diag;
        req->on_success = std::move(on_success);
        req->touches_session = true;
        enqueue_simple(std::move(req), sql, &request::command_h, std::move(h));
    }

    void start_copy_in(std::string sql, copy_source src, diagnostics* diag, copy_handler_t h)
    {
        auto req = std::make_shared<request>();
        req->k = request::kind::copy_in;
        req->diag = diag;
        req->source = std::move(src);
        req->exclusive = true;
        enqueue_simple(std::move(req), sql, &request::copy_h, std::move(h), std::uint64_t{0});
    }

    void start_copy_out(std::string sql, copy_sink sink, diagnostics* diag, copy_handler_t h)
    {
        auto req = std::make_shared<request>();
        req->k = request::kind::copy_out;
        req->diag = diag;
        req->sink = std::move(sink);
        enqueue_simple(std::move(req), sql, &request::copy_h, std::move(h), std::uint64_t{0});
    }

    /// Feeds a COPY FROM STDIN: pulls chunks from the source, sends them in ~256 KiB writes,
    /// ends with CopyDone — or with CopyFail when the source throws or the caller cancelled,
    /// which makes the server end the COPY with an error and keeps the session usable.
    asio::awaitable<void> copy_pump(std::shared_ptr<request> req)
    {
        // The batch that carried the COPY query may still be completing.
        while (writing_) co_await asio::post(ex_, asio::use_awaitable);
        writing_ = true;
        std::string buf, chunk;
        bool more = true;
        while (more && state_ == state::ready) {
            buf.clear();
            std::string fail;
            while (buf.size() < 256 * 1024) {
                chunk.clear();
                try {
                    more = req->source(chunk);
                } catch (const std::exception& e) {
                    fail = std::string("COPY source failed: ") + e.what();
                    more = false;
                } catch (...) {
                    fail = "COPY source failed";
                    more = false;
                }
                if (!more) break;
                try {
                    wire::encode_copy_data(buf, chunk);
                } catch (const error_with_diagnostics& e) {
                    fail = e.what();
                    more = false;
                    break;
                }
            }
            if (fail.empty() && req->abandoned) fail = "COPY cancelled by the client";
            if (!fail.empty()) {
                req->copy_fail_reason = fail;
                wire::encode_copy_fail(buf, fail);
                more = false;
            } else if (!more) {
                wire::encode_copy_done(buf);
            }
            auto [ec, n] = co_await stream_.write(asio::buffer(buf));
            if (ec) {
                writing_ = false;
                diagnostics d;
                d.assign_client("could not send COPY data to server: " + ec.message());
                fail_all(ec, &d);
                co_return;
            }
            if (req->ec) break;  // the server already failed the COPY; it drops whatever follows
        }
        writing_ = false;
    }

    void start_wait_notification(diagnostics* diag, notification_handler_t h)
    {
        if (notify_waiter_active_) {
            if (diag) diag->assign_client("another coroutine is already waiting for notifications on this connection");
            return post_completion(ex_, std::move(h), make_error_code(errc::protocol_error), notification{});
        }
        if (state_ != state::ready && notifications_.empty()) {
            if (diag) diag->assign_client("the connection is closed");
            return post_completion(ex_, std::move(h), make_error_code(errc::connection_closed), notification{});
        }
        notify_waiter_.swap(h);
        notify_waiter_active_ = true;
        notify_diag_ = diag;
        auto slot = asio::get_associated_cancellation_slot(notify_waiter_);
        if (slot.is_connected()) {
            std::weak_ptr<connection_impl> weak = shared_from_this();
            slot.assign([weak](asio::cancellation_type) {
                if (auto self = weak.lock()) asio::dispatch(self->ex_, [self] { self->cancel_notification_wait(); });
            });
        }
        if (!notifications_.empty()) {
            // Already queued: complete without I/O, but never inline.
            auto self = shared_from_this();
            asio::post(ex_, [self] { self->deliver_notification(); });
            return;
        }
        kick();
    }

    void deliver_notification()
    {
        if (!notify_waiter_active_ || notifications_.empty()) return;
        notify_waiter_active_ = false;
        clear_slot(notify_waiter_);
        auto n = std::move(notifications_.front());
        notifications_.pop_front();
        auto h = std::move(notify_waiter_);
        auto ex = asio::get_associated_executor(h, ex_);
        asio::dispatch(ex, [h = std::move(h), n = std::move(n)]() mutable { std::move(h)(error_code{}, std::move(n)); });
    }

    void cancel_notification_wait()
    {
        if (!notify_waiter_active_) return;
        notify_waiter_active_ = false;
        clear_slot(notify_waiter_);
        if (notify_diag_) notify_diag_->assign_client("waiting for a notification was cancelled");
        auto h = std::move(notify_waiter_);
        post_completion(ex_, std::move(h), error_code(asio::error::operation_aborted), notification{});
        if (reading_ && !has_written()) {
            // Only the waiter kept the read going: stop it so the connection holds no pending I/O.
            idle_read_cancelled_ = true;
            stream_.cancel();
        }
    }

    static std::string quote_ident(std::string_view name)
    {
        std::string out = "\"";
        for (char c : name) {
            if (c == '"') out += '"';
            out += c;
        }
        out += '"';
        return out;
    }

    /// Starts the writer and the reader when there is work for them. Both start from a posted
    /// function, never inside the caller's initiating function: requests started in the same
    /// turn of the event loop go out in one write, and no handler runs inside its initiation.
    void kick()
    {
        if (state_ != state::ready) return;
        if (!writing_ && can_write_now()) {
            writing_ = true;
            asio::post(ex_, [self = shared_from_this()] { self->write_next(); });
        }
        if (!reading_ && (has_written() || notify_waiter_active_)) start_reading();
    }

    void start_reading()
    {
        reading_ = true;
        asio::post(ex_, [self = shared_from_this()] { self->read_next(); });
    }

    bool has_unwritten() const noexcept { return !pending_.empty() && !pending_.back()->written; }
    /// Something to write: an unwritten request, or the second step of a described request.
    bool has_writable() const noexcept { return has_unwritten() || (describing_ && describing_->step_done); }
    /// Writes held for a CancelRequest still let a preparing request send its next step (only
    /// Sync once cancelled): its ReadyForQuery is what releases the hold.
    bool can_write_now() const noexcept
    {
        if (describing_ && describing_->step_done) return true;
        return !hold_writes_ && has_unwritten();
    }
    bool has_written() const noexcept { return !pending_.empty() && pending_.front()->written; }

    /// May share a Sync with the statements written next to it: a read-only statement bound to a
    /// ready cached statement, with nothing else in its messages.
    static bool can_share_sync(const request& r) noexcept
    {
        return r.k == request::kind::execute && r.read_only && r.bound_cached && r.current == request::step::none &&
               !r.first_step_pending && r.closes.empty() && !r.touches_session && !r.exclusive;
    }
    /// Cannot open a transaction block (so statements behind it may still share Syncs).
    static bool keeps_idle(const request& r) noexcept { return r.k == request::kind::execute && r.read_only; }

    /// Writes every request not yet written in one gather write, then the next ones. Read-only
    /// statements written one after another outside a transaction block share one Sync (at most
    /// max_shared_sync): the server then answers them with one ReadyForQuery and one send()
    /// instead of one each. They run in one implicit transaction, which changes nothing for
    /// statements that only read; if one fails, the server skips the rest up to the Sync, and
    /// those are sent again (on_skipped_ready), so an error still fails only its own statement.
    /// The writer is a chain of callbacks (write_next -> on_written -> write_next ...) while
    /// writing_ is set.
    void write_next()
    {
        auto self = shared_from_this();  // fail_all may complete handlers that drop the connection
        auto& batch = write_batch_;
        auto& bufs = write_bufs_;
        batch.clear();
        bufs.clear();
        if (state_ == state::ready && can_write_now()) gather_writes();
        if (batch.empty()) {
            writing_ = false;
            return;
        }
        // Start reading as soon as something is on its way.
        if (!reading_) start_reading();
        stream_.async_write(bufs, [self](const boost::system::error_code& ec, std::size_t) { self->on_written(ec); });
    }

    void on_written(const boost::system::error_code& ec)
    {
        if (ec) {
            write_batch_.clear();
            write_bufs_.clear();
            diagnostics d;
            d.assign_client("could not send data to server: " + ec.message());
            fail_all(ec, &d);
            writing_ = false;
            return;
        }
        for (auto& r : write_batch_) {
            // (describing_: its next step is encoded into out later; not written any more: skipped
            // in a shared run meanwhile and encoded again, to be sent anew)
            if (r.get() == describing_ || !r->written) continue;
            r->out.clear();
            if (r->out.capacity() > request::max_kept_buffer) r->out.shrink_to_fit();
        }
        write_next();
    }

    /// Fills write_batch_/write_bufs_ with the requests to write now.
    void gather_writes()
    {
        auto& batch = write_batch_;
        auto& bufs = write_bufs_;
        // Sharing needs an idle session, and nothing on the wire that could open a block.
        bool may_share = params_.shared_sync && tx_status_ == 'I';
        request* open_tail = nullptr;  // the last statement of the run that leaves its Sync off
        std::size_t open_buf = 0, open_len = 0;
        auto close_run = [&] {
            if (!open_tail) return;
            open_tail->synced = true;  // the run's last statement carries the Sync after all
            bufs[open_buf] = asio::buffer(open_tail->out);
            if (open_len > 1) {
                open_tail->run_tail = true;
                ++shared_runs_in_flight_;
            }
            open_tail = nullptr;
            open_len = 0;
        };
        for (auto& r : pending_) {
            if (r->written) {
                if (!keeps_idle(*r)) may_share = false;
                if (r.get() == describing_) {
                    // Its columns are needed for the Bind: nothing goes behind it until then.
                    if (!r->step_done) break;
                    const bool more = encode_next_step(*r);
                    bufs.push_back(asio::buffer(r->out));
                    batch.push_back(r);
                    if (more) break;
                    describing_ = nullptr;
                    if (hold_writes_) break;
                    continue;
                }
                if (r->exclusive) break;  // a COPY FROM STDIN in progress owns the wire
                continue;
            }
            if (hold_writes_) break;
            // Behind a shared run on the wire only read-only statements may go, until its
            // ReadyForQuery: if one of its statements fails, the ones the server skipped are sent
            // again, and must still run before anything that could change what they read.
            if (!keeps_idle(*r) && (shared_runs_in_flight_ > 0 || (open_tail && open_len > 1))) break;
            if (r->reencode) reencode_if_ready(*r);
            if (r->first_step_pending) encode_first_step(*r);
            r->written = true;
            if (may_share && can_share_sync(*r) && open_len < max_shared_sync) {
                // Leave its Sync off: the next statement of the run carries it.
                r->synced = false;
                open_tail = r.get();
                open_buf = bufs.size();
                ++open_len;
                bufs.push_back(asio::buffer(r->out.data(), r->out.size() - wire::sync_message_size));
                batch.push_back(r);
                continue;
            }
            close_run();
            if (!keeps_idle(*r)) may_share = false;
            if (!r->closes.empty()) {
                r->close_out.clear();
                for (const auto& n : r->closes) wire::encode_close(r->close_out, wire::describe_target::statement, n);
                r->closes.clear();
                bufs.push_back(asio::buffer(r->close_out));
            }
            bufs.push_back(asio::buffer(r->out));
            batch.push_back(r);
            if (r->current != request::step::none) {
                describing_ = r.get();
                break;
            }
            if (r->exclusive) break;
        }
        close_run();
    }
    static constexpr std::size_t max_shared_sync = 64;
    static constexpr std::size_t max_reserved_result = 1024 * 1024;

    /// The reader: handles every whole message in the buffer, then reads more while requests
    /// are on the wire (or a notification waiter listens). A chain of callbacks while reading_
    /// is set.
    void read_next()
    {
        auto self = shared_from_this();  // handlers completed below may drop the connection
        while (state_ == state::ready && (has_written() || notify_waiter_active_)) {
            auto r = wire::split_message(rbuf_.view(), params_.max_message_size);
            if (r.status == wire::split_result::status_t::message) {
                rbuf_.consume(r.consumed);
                if (auto ec = on_message(r.msg)) {
                    diagnostics d;
                    d.assign_client(ec.message() + "; the connection was closed");
                    fail_all(ec, &d);
                    break;
                }
                continue;
            }
            if (r.status == wire::split_result::status_t::error) {
                diagnostics d;
                d.assign_client(r.ec.message() + "; the connection was closed");
                fail_all(r.ec, &d);
                break;
            }
            stream_.async_read_some(read_space(r.needed),
                                    [self](const boost::system::error_code& ec, std::size_t n) { self->on_read(ec, n); });
            return;
        }
        reading_ = false;
    }

    void on_read(const boost::system::error_code& ec, std::size_t n)
    {
        rbuf_.commit(n);
        if (!ec) return read_next();
        if (state_ != state::ready) {
            reading_ = false;
            return;
        }
        if (ec == asio::error::operation_aborted && idle_read_cancelled_) {
            // The notification waiter went away while nothing else was outstanding.
            idle_read_cancelled_ = false;
            return read_next();
        }
        diagnostics d;
        error_code out = ec;
        if (ec == asio::error::eof) {
            out = make_error_code(errc::server_closed_connection);
            d.assign_client("the server closed the connection unexpectedly (it may have terminated abnormally before or while processing the request)");
        } else {
            d.assign_client("could not receive data from server: " + ec.message());
        }
        fail_all(out, &d);
        reading_ = false;
    }

    /// One backend message for the request at the head of the queue.
    error_code on_message(const wire::raw_message& m)
    {
        switch (m.type) {
        case wire::msg::parameter_status: return on_parameter_status(m.body);
        case wire::msg::notice_response: on_notice(m.body); return {};
        case wire::msg::notification_response: {
            wire::notification n;
            if (auto ec = wire::parse_notification(m.body, n)) return ec;
            notifications_.push_back(notification{n.process_id, std::string(n.channel), std::string(n.payload)});
            deliver_notification();
            return {};
        }
        default: break;
        }
        if (pending_.empty() || !pending_.front()->written) return make_error_code(errc::unexpected_message);
        request& r = *pending_.front();
        if (&r == describing_ && !r.step_done &&
            (r.current == request::step::lookup_names || r.current == request::step::lookup_oids)) {
            if (m.type == wire::msg::data_row) return on_lookup_row(m.body);
            if (m.type == wire::msg::command_complete) {
                step_answered(r);
                return {};
            }
        }
        switch (m.type) {
        case wire::msg::no_data:
            if (&r == describing_ && r.current == request::step::describe && !r.step_done) {
                if (auto ec = wire::parse_empty(m.body)) return ec;
                r.described.clear();
                step_answered(r);
                return {};
            }
            [[fallthrough]];
        case wire::msg::bind_complete:
            // The statement itself is bound (not a catalog lookup's Bind): from here on it may run.
            if (r.current == request::step::none) r.executed = true;
            return wire::parse_empty(m.body);
        case wire::msg::parse_complete:
        case wire::msg::close_complete:
        case wire::msg::portal_suspended:
            return wire::parse_empty(m.body);
        case wire::msg::parameter_description: {
            wire::parameter_description pd;
            return wire::parse_parameter_description(m.body, pd);
        }
        case wire::msg::row_description: {
            wire::row_description rd;
            if (auto ec = wire::parse_row_description(m.body, rd)) return ec;
            if (&r == describing_ && r.current == request::step::describe && !r.step_done) {
                r.described = to_columns(rd);
                step_answered(r);
                return {};
            }
            if (r.k == request::kind::simple || r.results.empty()) r.results.emplace_back();
            r.results.back().set_columns(name_types(to_columns(rd)));
            r.in_result = true;
            return {};
        }
        case wire::msg::data_row: {
            if (!r.in_result || r.results.empty()) return make_error_code(errc::unexpected_message);
            if (m.body.size() < 2) return make_error_code(errc::truncated_message);
            auto count = static_cast<std::int16_t>((static_cast<unsigned char>(m.body[0]) << 8) | static_cast<unsigned char>(m.body[1]));
            if (r.abandoned) return {};
            return r.results.back().append_row(m.body.substr(2), count);
        }
        case wire::msg::command_complete: {
            wire::command_complete cc;
            if (auto ec = wire::parse_command_complete(m.body, cc)) return ec;
            if (!r.in_result) r.results.emplace_back();
            r.results.back().set_command_tag(cc.tag);
            r.in_result = false;
            if ((r.k == request::kind::copy_in || r.k == request::kind::copy_out) && cc.rows()) r.copy_rows = *cc.rows();
            if (!r.synced) complete_unsynced();  // a later statement's Sync covers it: done now
            return {};
        }
        case wire::msg::empty_query_response:
            if (auto ec = wire::parse_empty(m.body)) return ec;
            if (!r.in_result) r.results.emplace_back();
            r.in_result = false;
            if (!r.synced) complete_unsynced();
            return {};
        case wire::msg::error_response: {
            server_error_fields f;
            if (auto ec = wire::parse_error_fields(m.body, f)) return ec;
            if (!r.ec) {
                r.ec = make_sqlstate_error(f.sqlstate);
                r.server = std::move(f);
            }
            r.in_result = false;
            if (&r == describing_ && !r.step_done) {
                // A step failed (Parse, or the catalog lookup): the server skips everything up
                // to Sync, which is all we send next.
                r.step_failed = true;
                step_answered(r);
            }
            if (!r.synced) {
                // The server skips the statements after it up to the shared Sync: they did not
                // run and go out again when its ReadyForQuery comes (on_skipped_ready).
                for (std::size_t i = 1; i < pending_.size(); ++i) {
                    pending_[i]->skipped = true;
                    if (pending_[i]->synced) break;
                }
                complete_unsynced();
            }
            return {};
        }
        case wire::msg::copy_in_response: {
            wire::copy_response cr;
            if (auto ec = wire::parse_copy_response(m.body, cr)) return ec;
            if (r.k == request::kind::copy_in) {
                auto self = shared_from_this();
                auto req = pending_.front();
                asio::co_spawn(ex_, [self, req]() { return self->copy_pump(req); }, asio::detached);
                return {};
            }
            // COPY FROM STDIN through a plain query: refuse it so the protocol stays in step.
            std::string out;
            wire::encode_copy_fail(out, "COPY FROM STDIN is not supported through query functions");
            auto self = shared_from_this();
            auto buf = std::make_shared<std::string>(std::move(out));
            asio::co_spawn(ex_, [self, buf]() -> asio::awaitable<void> { co_await self->stream_.write(asio::buffer(*buf)); }, asio::detached);
            return {};
        }
        case wire::msg::copy_out_response: {
            wire::copy_response cr;
            return wire::parse_copy_response(m.body, cr);
        }
        case wire::msg::copy_data:
            if (r.k == request::kind::copy_out && !r.abandoned && r.sink) {
                ++r.copy_rows;
                r.sink(m.body);
            }
            return {};
        case wire::msg::copy_done: return wire::parse_empty(m.body);
        case wire::msg::ready_for_query: {
            wire::ready_for_query z;
            if (auto ec = wire::parse_ready_for_query(m.body, z)) return ec;
            tx_status_ = static_cast<char>(z.status);
            if (pending_.front()->skipped) {
                on_skipped_ready();
                return {};
            }
            auto req = std::move(pending_.front());
            pending_.pop_front();
            pending_count_.store(pending_.size(), std::memory_order_release);
            const bool ended_run = req->run_tail;
            finish(req);
            recycle(std::move(req));
            if (ended_run) end_shared_run();
            return {};
        }
        default:
            return make_error_code(errc::unexpected_message);
        }
    }

    /// A shared run's ReadyForQuery arrived: requests held behind it may go.
    void end_shared_run()
    {
        if (shared_runs_in_flight_ > 0 && --shared_runs_in_flight_ == 0) kick();
    }

    /// The head request's statement completed under a Sync still to come.
    void complete_unsynced()
    {
        auto req = std::move(pending_.front());
        pending_.pop_front();
        pending_count_.store(pending_.size(), std::memory_order_release);
        finish(req);
        recycle(std::move(req));
    }

    /// ReadyForQuery of a shared Sync after one of its statements failed: the statements behind
    /// the failed one were skipped by the server. They are sent again, in their order, ahead of
    /// the requests not written yet (behind those already on the wire, so they complete after
    /// them); cancelled ones just end.
    void on_skipped_ready()
    {
        std::vector<std::shared_ptr<request>> again, failed;
        bool ended_run = false;
        while (!pending_.empty() && pending_.front()->skipped) {
            auto q = std::move(pending_.front());
            pending_.pop_front();
            q->skipped = false;
            const bool last = q->synced;
            ended_run = ended_run || q->run_tail;
            q->run_tail = false;
            if (q->abandoned) finish(q);
            else again.push_back(std::move(q));
            if (last) break;
        }
        auto pos = std::find_if(pending_.begin(), pending_.end(), [](const auto& p) { return !p->written; });
        for (auto& q : again) {
            q->written = false;
            q->synced = true;
            q->executed = false;
            q->in_result = false;
            q->results.clear();
            if (auto ec = encode_execute(*q)) {
                q->ec = ec;
                failed.push_back(std::move(q));
                continue;
            }
            note_preparer(*q);
            pos = std::next(pending_.insert(pos, std::move(q)));
        }
        pending_count_.store(pending_.size(), std::memory_order_release);
        // (Delivered last: a handler that runs inline may start or close operations.)
        for (auto& q : failed) deliver(*q);
        if (ended_run) end_shared_run();
        kick();
    }

    void forget_types()
    {
        type_names_by_oid_.clear();
        type_oids_by_name_.clear();
    }

    void step_answered(request& r)
    {
        r.step_done = true;
        kick();
    }

    /// Column types outside the built-in table get the names the connection has looked up.
    std::vector<column> name_types(std::vector<column> cols) const
    {
        if (type_names_by_oid_.empty()) return cols;
        for (auto& c : cols) {
            auto it = type_names_by_oid_.find(c.type_oid);
            if (it != type_names_by_oid_.end()) c.type_name = it->second;
        }
        return cols;
    }

    /// The statement of `r` is described (and its types named): its columns, with the formats
    /// we ask for, go into the cache (the statement is ready for others) and into r's result.
    void on_described(request& r)
    {
        std::vector<column> cols = name_types(std::move(r.described));
        r.result_formats.clear();
        r.result_formats.reserve(cols.size());
        for (auto& c : cols) {
            c.format = preferred_format(c.type_oid);
            r.result_formats.push_back(c.format);
        }
        auto shape = std::make_shared<statement_shape>();
        shape->columns = std::move(cols);
        shape->result_formats = r.result_formats;
        auto it = cache_index_.find(r.cache_key);
        if (it != cache_index_.end()) {
            auto& st = *it->second;
            st.shape = shape;
            st.uses_looked_up_types = r.uses_looked_up_types;
            st.ready = true;
        }
        bind_to_shape(r, std::move(shape));
    }

    void finish(const std::shared_ptr<request>& req)
    {
        request& r = *req;
        if (r.shape && !r.ec && !r.results.empty()) {
            // The next execution of the statement reserves room for a result of this size.
            r.shape->rows = r.results.back().size();
            r.shape->bytes = r.results.back().byte_size();
        }
        if (draining_.erase(r.id) && draining_.empty() && !cancel_in_progress_) stop_drain_timer();
        if (cancel_in_progress_ && r.id == cancel_target_) {
            cancel_target_done_ = true;
            maybe_release_hold();
        }
        const std::string sqlstate = r.ec ? sqlstate_of(r.ec) : std::string();
        // A type looked up earlier may be gone (dropped, or created again with a new OID): the
        // server says 42704, or XX000 "cache lookup failed for type n" for an OID in Parse.
        // (42704 is any undefined object: it counts only for a statement sent with looked-up OIDs.)
        const bool stale_type = (sqlstate == "42704" && r.uses_looked_up_types) ||
                                (sqlstate == "XX000" && r.server.message.starts_with("cache lookup failed for type"));
        if (stale_type) forget_types();
        if (r.k == request::kind::execute) {
            bool retry = false;
            if (r.first_use) {
                // Described: the statement was made ready then (an error while executing it
                // keeps it). Not described: Parse failed, or the connection broke first.
                auto it = cache_index_.find(r.cache_key);
                if (it != cache_index_.end() && !it->second->ready) {
                    pending_closes_.push_back(it->second->name);  // harmless if Parse failed
                    forget_statement(r.cache_key);
                }
                retry = stale_type && r.step_failed;  // failed before executing: nothing ran
            } else if (sqlstate == "0A000" || sqlstate == "26000" || stale_type) {
                // The cached plan changed result type (DDL), the statement is gone
                // (DISCARD/DEALLOCATE) or was built on a type that is gone: forget it.
                invalidate_statement_for(r);
                retry = true;
            }
            // Outside a transaction block, run it again once, transparently — only if it cannot
            // have run (the error came before its BindComplete).
            if (retry) {
                if (tx_status_ == 'I' && !r.retried && !r.abandoned && !r.executed) {
                    auto again = std::make_shared<request>();
                    again->k = request::kind::execute;
                    again->diag = r.diag;
                    again->sql = std::move(r.sql);
                    again->params = std::move(r.params);
                    again->execute_h.swap(r.execute_h);  // not operator=: Boost 1.81 any_completion_handler move-assignment recurses
                    again->retried = true;
                    again->read_only = r.read_only;
                    if (!encode_execute(*again)) {
                        again->id = ++request_counter_;
                        note_preparer(*again);
                        install_cancellation(*again);
                        pending_.push_back(std::move(again));
                        pending_count_.store(pending_.size(), std::memory_order_release);
                        kick();
                        return;
                    }
                    r.execute_h.swap(again->execute_h);  // not operator=: Boost 1.81 any_completion_handler move-assignment recurses
                }
            }
        }
        if (r.touches_session) session_modified_ = true;
        for (const auto& res : r.results) {
            if (tag_changes_session(res.command_tag())) session_modified_ = true;
        }
        if (!r.ec && r.k == request::kind::simple) {
            // DISCARD ALL / DEALLOCATE ALL run by the user drop every statement prepared before
            // them; statements prepared by requests pipelined behind them survive. (Pending
            // Closes stay: closing a statement that is gone is not an error.)
            for (const auto& res : r.results) {
                if (res.command_tag() == "DISCARD ALL" || res.command_tag() == "DEALLOCATE ALL") {
                    for (auto it = cache_index_.begin(); it != cache_index_.end();) {
                        if (it->second->prepared_by < r.id) {
                            lru_.erase(it->second);
                            it = cache_index_.erase(it);
                        } else {
                            ++it;
                        }
                    }
                }
                if (res.command_tag() == "DISCARD ALL") forget_types();
            }
        }
        deliver(r);
        if (r.exclusive) kick();  // requests held behind a COPY FROM STDIN may go now
    }

    /// Command tags of statements that leave state in the session (the pool resets it).
    static bool tag_changes_session(std::string_view tag) noexcept
    {
        return tag == "SET" || tag == "RESET" || tag == "LISTEN" || tag == "CREATE TABLE" || tag == "DECLARE CURSOR" ||
               tag == "PREPARE" || tag == "LOAD";
    }

    void invalidate_statement_for(const request& r)
    {
        const std::string_view key = key_of(r);
        auto it = cache_index_.find(key);
        if (it != cache_index_.end()) {
            pending_closes_.push_back(it->second->name);
            forget_statement(key);
        }
    }

    /// Fatal: close the socket and fail every outstanding request. A request that already holds
    /// a server error (e.g. FATAL 57P01 before the socket closed) keeps it.
    void fail_all(error_code ec, const diagnostics* diag)
    {
        if (state_ == state::closed) return;
        state_ = state::closed;
        stream_.close();
        if (cancel_side_) cancel_side_->close();
        draining_.clear();
        stop_drain_timer();
        describing_ = nullptr;
        shared_runs_in_flight_ = 0;
        auto pending = std::move(pending_);
        pending_.clear();
        pending_count_.store(pending_.size(), std::memory_order_release);
        for (auto& r : pending) {
            if (!r->ec) {
                r->ec = ec;
                if (r->diag && diag) *r->diag = *diag;
            }
            deliver(*r);
        }
        lru_.clear();
        cache_index_.clear();
        if (notify_waiter_active_ && notifications_.empty()) {
            notify_waiter_active_ = false;
            clear_slot(notify_waiter_);
            if (notify_diag_ && diag) *notify_diag_ = *diag;
            auto h = std::move(notify_waiter_);
            post_completion(ex_, std::move(h), ec, notification{});
        }
    }

    void close() noexcept
    {
        diagnostics d;
        d.assign_client("the connection was closed");
        try {
            fail_all(make_error_code(errc::connection_closed), &d);
        } catch (...) {
        }
        state_ = state::closed;
    }

    void start_close(connect_handler_t h)
    {
        auto self = shared_from_this();
        asio::co_spawn(
            ex_,
            [self]() -> asio::awaitable<error_code> {
                if (self->state_ == state::ready) {
                    std::string out;
                    wire::encode_terminate(out);
                    // Terminate goes after everything already queued.
                    while (self->writing_) {
                        asio::steady_timer t(self->ex_);
                        t.expires_after(std::chrono::milliseconds(1));
                        co_await t.async_wait(tuple_awaitable);
                    }
                    co_await self->stream_.write(asio::buffer(out));
                }
                self->close();
                co_return error_code{};
            },
            [h = std::move(h)](std::exception_ptr, error_code ec) mutable {
                auto ex = asio::get_associated_executor(h);
                asio::dispatch(ex, [h = std::move(h), ec]() mutable { std::move(h)(ec); });
            });
    }

    enum class state { idle, ready, closed };

    asio::any_io_executor ex_;
    connection_params params_;
    stream stream_;
    state state_ = state::idle;
    connect_options opts_;
    host_address connected_host_;
    tcp::endpoint connected_endpoint_;
    std::optional<tcp::resolver> resolver_;
    bool cancelled_connect_ = false;
    bool used_password_ = false;
    std::string cbind_data_;

    read_buffer rbuf_;

    std::map<std::string, std::string, std::less<>> params_status_;
    wire::backend_key_data key_{};
    char tx_status_ = 'I';
    notice_handler notice_handler_;

    std::deque<std::shared_ptr<request>> pending_;
    std::atomic<std::size_t> pending_count_{0};  // pending_.size(), readable from other threads (pool)
    std::uint64_t request_counter_ = 0;
    bool writing_ = false;
    bool reading_ = false;
    bool hold_writes_ = false;
    request* describing_ = nullptr;  // a new statement's request between its steps (see request::step)
    std::size_t shared_runs_in_flight_ = 0;  // shared runs written whose ReadyForQuery has not come
    std::vector<std::shared_ptr<request>> write_batch_;  // the writer's, kept for their capacity
    std::vector<asio::const_buffer> write_bufs_;
    // User and extension types, looked up once per connection (request::step).
    std::unordered_map<oid_t, std::string> type_names_by_oid_;  // "public.mood"; "" = not found
    struct name_hash {
        using is_transparent = void;  // lookups by the declared string_view, no copy
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, oid_t, name_hash, std::equal_to<>> type_oids_by_name_;  // declared name -> OID; 0 = not found
    std::size_t type_lookups_ = 0;
    bool cancel_in_progress_ = false;
    bool cancel_target_done_ = false;
    bool cancel_conn_done_ = false;
    std::uint64_t cancel_target_ = 0;
    std::optional<asio::steady_timer> drain_timer_;
    bool drain_armed_ = false;
    std::uint64_t drain_gen_ = 0;
    std::set<std::uint64_t> draining_;        // cancelled requests still on the wire
    std::shared_ptr<stream> cancel_side_;     // the CancelRequest connection, while it runs

    std::list<cached_statement> lru_;
    std::unordered_map<std::string, std::list<cached_statement>::iterator, name_hash, std::equal_to<>> cache_index_;
    std::string key_scratch_;  // key_of()
    std::vector<std::shared_ptr<request>> spare_requests_;  // finished execute requests, for reuse
    std::vector<std::string> pending_closes_;
    std::size_t statement_cache_capacity_ = 256;
    std::uint64_t statement_counter_ = 0;
    bool session_modified_ = false;

    std::deque<notification> notifications_;
    notification_handler_t notify_waiter_;
    bool notify_waiter_active_ = false;
    bool idle_read_cancelled_ = false;
    diagnostics* notify_diag_ = nullptr;
    std::set<std::string, std::less<>> channels_;
};

} // namespace sleet::detail

// ---------------------------------------------------------------------------------------------
// Public surface
// ---------------------------------------------------------------------------------------------
namespace sleet {

connection::connection(executor_type ex, connection_params params)
    : impl_(std::make_shared<detail::connection_impl>(std::move(ex), params))
{
}
connection::connection(connection&&) noexcept = default;
connection& connection::operator=(connection&& o) noexcept
{
    if (this != &o) {
        if (impl_) impl_->close();
        impl_ = std::move(o.impl_);
    }
    return *this;
}
connection::~connection()
{
    if (impl_) impl_->close();
}

connection::executor_type connection::get_executor() const noexcept { return impl_->ex_; }

void connection::start_connect(connect_options opts, diagnostics* diag, detail::connect_handler_t h)
{
    impl_->start_connect(std::move(opts), diag, std::move(h));
}

void connection::start_connect_string(std::string conninfo, diagnostics* diag, detail::connect_handler_t h)
{
    connect_options opts;
    diagnostics d;
    if (auto ec = parse_connect_options(conninfo, opts, d)) {
        if (diag) *diag = std::move(d);
        detail::post_completion(impl_->ex_, std::move(h), ec);
        return;
    }
    impl_->start_connect(std::move(opts), diag, std::move(h));
}

void connection::start_simple_query(std::string sql, diagnostics* diag, detail::simple_query_handler_t h)
{
    auto impl = impl_;
    boost::asio::dispatch(impl->ex_, [impl, sql = std::move(sql), diag, h = std::move(h)]() mutable {
        impl->start_simple_query(std::move(sql), diag, std::move(h));
    });
}

void connection::start_execute(std::string sql, param_list params, diagnostics* diag, detail::execute_handler_t h)
{
    auto impl = impl_;
    boost::asio::dispatch(impl->ex_, [impl, sql = std::move(sql), params = std::move(params), diag, h = std::move(h)]() mutable {
        impl->start_execute(std::move(sql), std::move(params), diag, std::move(h));
    });
}

void detail::connection_access::start_execute(connection& c, std::string sql, param_list params, diagnostics* diag, execute_handler_t h)
{
    c.start_execute(std::move(sql), std::move(params), diag, std::move(h));
}

void connection::start_close(detail::connect_handler_t h) { impl_->start_close(std::move(h)); }

void connection::close() noexcept
{
    if (impl_) impl_->close();
}
bool connection::is_open() const noexcept { return impl_ && impl_->state_ == detail::connection_impl::state::ready; }
const std::map<std::string, std::string, std::less<>>& connection::server_parameters() const noexcept { return impl_->params_status_; }
std::string_view connection::server_parameter(std::string_view name) const noexcept
{
    auto it = impl_->params_status_.find(name);
    return it == impl_->params_status_.end() ? std::string_view() : std::string_view(it->second);
}
std::int32_t connection::backend_pid() const noexcept { return impl_->key_.process_id; }
char connection::transaction_status() const noexcept { return impl_->tx_status_; }
void connection::set_notice_handler(notice_handler h) { impl_->notice_handler_ = std::move(h); }
std::size_t connection::cached_statements() const noexcept { return impl_->lru_.size(); }
std::size_t connection::type_lookups() const noexcept { return impl_->type_lookups_; }
bool connection::session_modified() const noexcept { return impl_->session_modified_; }

void connection::start_listen(std::string channel, bool listen, diagnostics* diag, detail::connect_handler_t h)
{
    auto impl = impl_;
    boost::asio::dispatch(impl->ex_, [impl, channel = std::move(channel), listen, diag, h = std::move(h)]() mutable {
        std::string sql = (listen ? "LISTEN " : "UNLISTEN ") + (channel == "*" && !listen ? std::string("*") : detail::connection_impl::quote_ident(channel));
        std::weak_ptr<detail::connection_impl> weak = impl;
        auto on_success = [weak, channel, listen] {
            if (auto self = weak.lock()) {
                if (listen) self->channels_.insert(channel);
                else if (channel == "*") self->channels_.clear();
                else self->channels_.erase(channel);
            }
        };
        impl->start_command(std::move(sql), std::move(on_success), diag, std::move(h));
    });
}

void connection::start_wait_notification(diagnostics* diag, detail::notification_handler_t h)
{
    auto impl = impl_;
    boost::asio::dispatch(impl->ex_, [impl, diag, h = std::move(h)]() mutable { impl->start_wait_notification(diag, std::move(h)); });
}

void connection::start_copy_in(std::string sql, copy_source src, diagnostics* diag, detail::copy_handler_t h)
{
    auto impl = impl_;
    boost::asio::dispatch(impl->ex_, [impl, sql = std::move(sql), src = std::move(src), diag, h = std::move(h)]() mutable {
        impl->start_copy_in(std::move(sql), std::move(src), diag, std::move(h));
    });
}

void connection::start_copy_out(std::string sql, copy_sink sink, diagnostics* diag, detail::copy_handler_t h)
{
    auto impl = impl_;
    boost::asio::dispatch(impl->ex_, [impl, sql = std::move(sql), sink = std::move(sink), diag, h = std::move(h)]() mutable {
        impl->start_copy_out(std::move(sql), std::move(sink), diag, std::move(h));
    });
}

std::vector<std::string> connection::listening_channels() const
{
    return {impl_->channels_.begin(), impl_->channels_.end()};
}
std::size_t connection::queued_notifications() const noexcept { return impl_->notifications_.size(); }
void connection::clear_session_modified() noexcept { impl_->session_modified_ = false; }
bool connection::has_pending_requests() const noexcept
{
    return impl_->pending_count_.load(std::memory_order_acquire) != 0;
}
bool connection::idle_input_pending() const noexcept
{
    // The atomic count comes first: while requests are outstanding (a cancelled one may still
    // drain on the connection's strand) nothing else is touched from this thread.
    if (impl_->pending_count_.load(std::memory_order_acquire) != 0) return false;
    if (impl_->state_ != detail::connection_impl::state::ready) return true;
    return !impl_->rbuf_.view().empty() || impl_->stream_.input_pending();
}

} // namespace sleet
