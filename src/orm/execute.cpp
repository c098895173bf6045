// sleet::orm — running built statements on a query_executor: one statement directly, several
// inside one transaction (BEGIN ... COMMIT, or a savepoint inside an open transaction), with the
// logger hook timing each statement.
#include <sleet/query/execute.hpp>
#include <sleet/pool.hpp>
#include <sleet/transaction.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

namespace sleet {

namespace {

class connection_executor final : public query_executor {
public:
    explicit connection_executor(connection& c) : conn_(&c) {}
    boost::asio::any_io_executor get_executor() const override { return conn_->get_executor(); }
    void start_execute(std::string sql, param_list params, diagnostics* diag, detail::execute_handler_t h) override
    {
        detail::connection_access::start_execute(*conn_, std::move(sql), std::move(params), diag, std::move(h));
    }
    char transaction_status() const override { return conn_->transaction_status(); }

private:
    connection* conn_;
};

/// The state of one run of statements; kept alive by the intermediate handlers.
struct batch : std::enable_shared_from_this<batch> {
    std::shared_ptr<query_executor> ex;
    std::shared_ptr<const query_logger> logger;
    std::vector<statement> stmts;
    std::vector<result> results;
    detail::results_handler_t handler;
    diagnostics* diag = nullptr;
    std::size_t next = 0;
    bool wrapped = false;   // several statements: inside BEGIN/COMMIT or a savepoint
    bool savepoint = false; // a transaction was already open
    error_code failure;

    batch(detail::results_handler_t h) : handler(std::move(h)) {}

    auto final_executor() const
    {
        return boost::asio::get_associated_executor(handler, ex->get_executor());
    }

    /// Runs `sql` and continues with `then(ec, result)` on the final handler's executor, with
    /// the final handler's cancellation slot.
    template <class Then>
    void run(std::string sql, param_list params, diagnostics* d, Then then)
    {
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        auto self = shared_from_this();
        ex->start_execute(std::move(sql), std::move(params), d,
                          boost::asio::bind_cancellation_slot(
                              slot, boost::asio::bind_executor(final_executor(), [self, then = std::move(then)](error_code ec, result r) mutable {
                                  then(ec, std::move(r));
                              })));
    }

    void start()
    {
        wrapped = stmts.size() > 1;
        if (!wrapped) {
            step();
            return;
        }
        if (!ex->single_session()) {
            // BEGIN, the chunks and COMMIT must share one session; a pool cannot promise that.
            if (diag)
                diag->assign_client("this insert needs " + std::to_string(stmts.size()) +
                                    " statements in one session (over 65,535 parameters); on a pool, run it inside "
                                    "pool.transaction(...) or on an acquired connection");
            auto self = shared_from_this();
            boost::asio::post(ex->get_executor(), [self] { self->complete(make_error_code(errc::needs_single_session)); });
            return;
        }
        savepoint = ex->transaction_status() != 'I';
        run(savepoint ? "SAVEPOINT sleet_batch" : "BEGIN", {}, diag, [self = shared_from_this()](error_code ec, result) {
            if (ec) return self->complete(ec);
            self->step();
        });
    }

    void step()
    {
        if (next == stmts.size()) {
            if (!wrapped) return complete({});
            run(savepoint ? "RELEASE SAVEPOINT sleet_batch" : "COMMIT", {}, diag,
                [self = shared_from_this()](error_code ec, result) { self->complete(ec); });
            return;
        }
        statement& st = stmts[next++];
        const auto started = std::chrono::steady_clock::now();
        const std::size_t count = st.params.size();
        std::string sql = logger ? st.sql : std::string();
        std::vector<param_value> shown = std::move(st.shown_params);
        run(std::move(st.sql), std::move(st.params), diag,
            [self = shared_from_this(), started, count, sql = std::move(sql), shown = std::move(shown)](error_code ec, result r) {
                if (self->logger && *self->logger) {
                    query_log log;
                    log.sql = sql;
                    log.param_count = count;
                    log.duration = std::chrono::steady_clock::now() - started;
                    log.ec = ec;
                    log.rows = r.affected_rows();
                    log.params = shown;
                    (*self->logger)(log);
                }
                if (ec) return self->fail(ec);
                self->results.push_back(std::move(r));
                self->step();
            });
    }

    void fail(error_code ec)
    {
        if (!wrapped) return complete(ec);
        failure = ec;
        // The statement's diagnostics are already in *diag; the rollback must not replace them.
        if (!savepoint) {
            run("ROLLBACK", {}, nullptr, [self = shared_from_this()](error_code, result) { self->complete(self->failure); });
            return;
        }
        run("ROLLBACK TO SAVEPOINT sleet_batch", {}, nullptr, [self = shared_from_this()](error_code, result) {
            self->run("RELEASE SAVEPOINT sleet_batch", {}, nullptr,
                      [self](error_code, result) { self->complete(self->failure); });
        });
    }

    void complete(error_code ec)
    {
        // We run on the final handler's executor already (bind_executor above).
        auto h = std::move(handler);
        std::move(h)(ec, ec ? std::vector<result>{} : std::move(results));
    }
};

} // namespace

std::shared_ptr<query_executor> make_connection_executor(connection& c) { return std::make_shared<connection_executor>(c); }

namespace {
class pool_executor final : public query_executor {
public:
    explicit pool_executor(pool& p) : pool_(&p) {}
    boost::asio::any_io_executor get_executor() const override { return pool_->get_executor(); }
    void start_execute(std::string sql, param_list params, diagnostics* diag, detail::execute_handler_t h) override
    {
        detail::pool_access::start_execute(*pool_, std::move(sql), std::move(params), diag, std::move(h));
    }
    char transaction_status() const override { return 'I'; }
    bool single_session() const override { return false; }

private:
    pool* pool_;
};
} // namespace

std::shared_ptr<query_executor> make_pool_executor(pool& p) { return std::make_shared<pool_executor>(p); }

database::database(pool& p) : ex_(make_pool_executor(p)) {}
database::database(transaction& tx) : ex_(make_connection_executor(tx.get_connection())) {}

database::database(connection& c) : ex_(make_connection_executor(c)) {}
database::database(std::shared_ptr<query_executor> ex) : ex_(std::move(ex)) {}

database::executor_type database::get_executor() const { return ex_->get_executor(); }

void database::set_logger(query_logger fn, bool log_params)
{
    logger_ = fn ? std::make_shared<const query_logger>(std::move(fn)) : nullptr;
    log_params_ = logger_ && log_params;
}

void database::start_statements(std::vector<statement> stmts, diagnostics* diag, detail::results_handler_t h)
{
    auto b = std::make_shared<batch>(std::move(h));
    b->ex = ex_;
    b->logger = logger_;
    b->stmts = std::move(stmts);
    b->diag = diag;
    b->start();
}

void database::start_one(statement st, diagnostics* diag, detail::execute_handler_t h)
{
    ex_->start_execute(std::move(st.sql), std::move(st.params), diag, std::move(h));
}

void database::fail(error_code ec, detail::results_handler_t h)
{
    // Never complete inline: post to the handler's executor.
    auto io = ex_->get_executor();
    boost::asio::post(io, [io, h = std::move(h), ec]() mutable {
        auto hex = boost::asio::get_associated_executor(h, io);
        boost::asio::dispatch(hex, [h = std::move(h), ec]() mutable { std::move(h)(ec, std::vector<result>{}); });
    });
}

} // namespace sleet
