// sleet quickstart: connect, create a table through the drizzle/ migrations, insert and query
// with bound parameters, handle a server error, and close.
//
//   DATABASE_URL=postgresql://user:pw@host/db ./sleet-quickstart
// Without DATABASE_URL it starts a throwaway PostgreSQL (sleet::embedded_postgres) and removes
// it afterwards.
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
    sleet::connection db(co_await asio::this_coro::executor);
    co_await db.async_connect(url);
    std::cout << "connected to PostgreSQL " << db.server_parameter("server_version") << " (backend pid "
              << db.backend_pid() << ")\n";

    // Schema: the hand-written migrations in drizzle/, in journal order (sleet-kit will replace
    // this loop with a real migrator that records what it applied).
    for (const auto& tag : journal_tags(migrations / "meta" / "_journal.json")) {
        for (const auto& stmt : migration_statements(migrations / (tag + ".sql"))) co_await db.async_simple_query(stmt);
        std::cout << "applied " << tag << "\n";
    }

    // Insert with bound parameters; RETURNING gives typed values back.
    auto inserted = co_await db.async_execute(
        "insert into users (email, name) values ($1, $2) on conflict (email) do update set name = excluded.name "
        "returning id, created_at",
        sleet::make_params(std::string("ada@example.org"), std::string("Ada")));
    std::cout << "user id " << inserted[0].get<std::int32_t>("id") << "\n";

    co_await db.async_execute("insert into users (email, name) values ($1, $2) on conflict do nothing",
                              sleet::make_params(std::string("grace@example.org"), std::optional<std::string>{}));

    // Query: typed rows, NULL as std::optional.
    auto rows = co_await db.async_execute("select id, email, name from users where email like $1 order by id",
                                          sleet::make_params(std::string("%@example.org")));
    for (auto row : rows) {
        auto [id, email, name] = row.as<std::int32_t, std::string, std::optional<std::string>>();
        std::cout << "  " << id << "  " << email << "  " << name.value_or("(no name)") << "\n";
    }

    // A server error is an exception carrying every field; the connection stays usable.
    try {
        co_await db.async_execute("insert into users (id, email) values ($1, $2)",
                                  sleet::make_params(inserted[0].get<std::int32_t>("id"), std::string("dup@example.org")));
    } catch (const sleet::error_with_diagnostics& e) {
        std::cout << "expected error: " << e.what() << "\n";
    }
    auto count = co_await db.async_execute("select count(*) from users");
    std::cout << count[0].get<std::int64_t>(0) << " users\n";
    co_await db.async_close();
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
