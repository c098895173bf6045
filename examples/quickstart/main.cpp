// sleet quickstart: connect, create a table through the drizzle/ migrations, insert and query
// with bound parameters, handle a server error, and close.
//
//   DATABASE_URL=postgresql://user:pw@host/db ./sleet-quickstart
// Without DATABASE_URL it starts a throwaway PostgreSQL (sleet::embedded_postgres) and removes
// it afterwards.
#include "schema.hpp"

#include <sleet/connection.hpp>
#include <sleet/embedded_postgres.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace asio = boost::asio;

namespace {

/// Reads the statements of one Drizzle migration file (split on "--> statement-breakpoint").
std::vector<std::string> migration_statements(const std::filesystem::path& file)
{
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    std::vector<std::string> out;
    const std::string marker = "--> statement-breakpoint";
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto next = text.find(marker, pos);
        auto stmt = text.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
        if (stmt.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(stmt);
        if (next == std::string::npos) break;
        pos = next + marker.size();
    }
    return out;
}

/// The "tag" of each journal entry, in order (a small scan; the kit will parse the JSON fully).
std::vector<std::string> journal_tags(const std::filesystem::path& journal)
{
    std::ifstream in(journal);
    if (!in) throw std::runtime_error("cannot read " + journal.string());
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    std::vector<std::string> tags;
    const std::string key = "\"tag\":";
    for (auto pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos + 1)) {
        auto open = text.find('"', pos + key.size());
        auto close = text.find('"', open + 1);
        if (open == std::string::npos || close == std::string::npos) break;
        tags.push_back(text.substr(open + 1, close - open - 1));
    }
    return tags;
}

asio::awaitable<void> quickstart(std::string url, std::filesystem::path migrations)
{
    sleet::connection conn(co_await asio::this_coro::executor);
    co_await conn.async_connect(url);
    std::cout << "connected to PostgreSQL " << conn.server_parameter("server_version") << " (backend pid "
              << conn.backend_pid() << ")\n";

    // Schema: the hand-written migrations in drizzle/, in journal order (sleet-kit will replace
    // this loop with a real migrator that records what it applied).
    for (const auto& tag : journal_tags(migrations / "meta" / "_journal.json")) {
        for (const auto& stmt : migration_statements(migrations / (tag + ".sql"))) co_await conn.async_simple_query(stmt);
        std::cout << "applied " << tag << "\n";
    }

    using namespace sleet;
    using app::users;
    database db(conn);
    db.set_logger([](const query_log& log) {
        std::cout << "  [sql] " << log.sql << "  (" << log.param_count << " params, "
                  << std::chrono::duration_cast<std::chrono::microseconds>(log.duration).count() << " us)\n";
    });

    // Insert (upsert on email) returning typed columns; every value travels as a bound parameter.
    // (Queries holding a braced initializer are built in a named variable first: GCC 12
    // destroys such temporaries twice when they sit in a co_await expression.)
    auto upsert = db.insert(users)
                      .values({.email = "ada@example.org", .name = "Ada"})
                      .on_conflict_do_update(users.email, users.name = excluded(users.name))
                      .returning(users.id, users.created_at);
    auto ada = co_await upsert();
    const std::int32_t ada_id = ada.at(0).get<"id">();
    std::cout << "user id " << ada_id << "\n";

    std::vector<app::new_user> more;
    more.push_back({.email = "grace@example.org"});
    more.push_back({.email = "edsger@example.org", .name = "Edsger"});
    std::uint64_t added = co_await db.insert(users).values(more).on_conflict_do_nothing()();
    std::cout << added << " more users\n";

    // Select: whole rows as the table's model, NULL as std::optional.
    std::vector<app::user> all = co_await db.select().from(users).where(like(users.email, "%@example.org")).order_by(users.id);
    for (const auto& u : all) std::cout << "  " << u.id << "  " << u.email << "  " << u.name.value_or("(no name)") << "\n";

    // Partial select, update, delete, count.
    auto names = co_await db.select(users.id, users.name).from(users).where(is_not_null(users.name)).order_by(desc(users.id)).limit(2);
    for (const auto& r : names) std::cout << "  named: " << r.get<"id">() << " " << *r.get<"name">() << "\n";
    std::uint64_t renamed = co_await db.update(users).set(users.name = "Grace").where(eq(users.email, "grace@example.org"))();
    auto removed = co_await db.delete_(users).where(eq(users.email, "edsger@example.org")).returning(users.email)();
    std::int64_t left = co_await db.count(users)();
    std::cout << renamed << " renamed, " << removed.size() << " removed, " << left << " left\n";

    // The SQL drizzle-orm would render for the same query, with its parameters:
    auto q = sleet::to_sql(db.select().from(users).where(eq(users.id, ada_id)));
    std::cout << "to_sql: " << q.sql << "  (" << q.params.size() << " param)\n";

    // A server error is an exception carrying every field; the connection stays usable.
    try {
        auto dup = db.insert(users).values({.id = ada_id, .email = "dup@example.org"});
        co_await dup();
    } catch (const sleet::error_with_diagnostics& e) {
        std::cout << "expected error: " << e.what() << "\n";
    }
    std::int64_t count = co_await db.count(users)();
    std::cout << count << " users\n";
    co_await conn.async_close();
}

} // namespace

int main(int argc, char** argv)
{
    std::filesystem::path root = argc > 1 ? argv[1] : SLEET_SOURCE_DIR;
    std::optional<sleet::embedded_postgres> embedded;
    std::string url;
    if (const char* env = std::getenv("DATABASE_URL"); env && *env) {
        url = env;
    } else {
        std::cout << "DATABASE_URL is not set: starting a throwaway PostgreSQL...\n";
        embedded.emplace(sleet::embedded_postgres_params{});
        url = embedded->url();
        std::cout << "embedded server on port " << embedded->port() << "\n";
    }
    asio::io_context ioc;
    int rc = 0;
    asio::co_spawn(ioc, quickstart(url, root / "drizzle"), [&](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            std::cerr << "error: " << ex.what() << "\n";
            rc = 1;
        }
    });
    ioc.run();
    if (rc == 0) std::cout << "done\n";
    return rc;
}
