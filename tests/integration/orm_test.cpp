// The ORM against the real server: every query kind built with the compat schema
// (tests/common/compat_schema.hpp) and run through sleet::database on one connection, checking
// the typed results. Each test works in its own PostgreSQL schema (search_path), so tables from
// parallel tests never meet.
#include "compat_schema.hpp"
#include "fixture.hpp"

#include <sleet/orm.hpp>
#include <sleet/pool.hpp>
#include <sleet/transaction.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <string>
#include <vector>

using namespace sleet;
using namespace sleet::test;
using namespace compat;

namespace {

/// The part of ../shared/compat/migrations/step1/drizzle/0000_init.sql these tests use.
constexpr const char* compat_ddl = R"sql(
CREATE TYPE post_status AS ENUM('draft', 'published');
CREATE TYPE user_role AS ENUM('admin', 'editor', 'viewer');
CREATE TABLE users (
  "id" serial PRIMARY KEY NOT NULL,
  "email" varchar(255) NOT NULL,
  "name" text,
  "is_active" boolean DEFAULT true NOT NULL,
  "age" integer,
  "role" "user_role" DEFAULT 'viewer' NOT NULL,
  "public_id" uuid DEFAULT gen_random_uuid() NOT NULL,
  "settings" jsonb DEFAULT '{"theme":"light","notifications":true}'::jsonb,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "updated_at" timestamp,
  CONSTRAINT "users_email_unique" UNIQUE("email"),
  CONSTRAINT "users_age_check" CHECK ("users"."age" IS NULL OR "users"."age" >= 0)
);
CREATE TABLE posts (
  "id" serial PRIMARY KEY NOT NULL,
  "author_id" integer NOT NULL REFERENCES users(id) ON DELETE cascade,
  "title" varchar(200) NOT NULL,
  "slug" varchar(200) NOT NULL,
  "body" text,
  "status" "post_status" DEFAULT 'draft' NOT NULL,
  "tags" text[] DEFAULT '{}'::text[] NOT NULL,
  "view_count" bigint DEFAULT 0 NOT NULL,
  "rating" real,
  "published_at" timestamp,
  CONSTRAINT "posts_author_slug_unique" UNIQUE("author_id","slug")
);
CREATE TABLE tags (
  "id" serial PRIMARY KEY NOT NULL,
  "name" varchar(64) NOT NULL
);
)sql";

/// A connection whose search_path is a fresh schema holding the compat tables.
asio::awaitable<connection> compat_connection(std::string schema)
{
    auto c = co_await connect_super();
    std::string setup = "DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema + "; SET search_path TO " +
                        schema + ";" + compat_ddl;
    co_await c.async_simple_query(setup);
    co_return c;
}

asio::awaitable<void> seed(database& db)
{
    std::vector<insert_model<users_t>> people;
    people.push_back({.email = "ann@example.com", .name = "Ann", .age = 31, .role = user_role::editor});
    people.push_back({.email = "bob@example.com", .name = "Bob", .age = 25});
    people.push_back({.email = "cy@example.com", .age = 40, .role = user_role::admin});
    auto q = db.insert(users).values(people);
    std::uint64_t n = co_await q();
    EXPECT_EQ(n, 3u);
    std::vector<insert_model<posts_t>> ps;
    ps.push_back({.author_id = 1, .title = "One", .slug = "one", .view_count = 10});
    ps.push_back({.author_id = 1, .title = "Two", .slug = "two", .view_count = 5});
    ps.push_back({.author_id = 2, .title = "Three", .slug = "three", .tags = std::vector<std::string>{"a", "b"}});
    auto q2 = db.insert(posts).values(ps);
    n = co_await q2();
    EXPECT_EQ(n, 3u);
}

} // namespace

TEST(orm, select_all_partial_where_order_limit_offset)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await compat_connection("orm_select");
        database db(c);
        co_await seed(db);

        // Whole-table select: the table's select model, defaults filled by the server.
        std::vector<select_model<users_t>> all = co_await db.select().from(users).order_by(users.id);
        CO_ASSERT_EQ(all.size(), 3u);
        EXPECT_EQ(all[0].id, 1);
        EXPECT_EQ(all[0].email, "ann@example.com");
        EXPECT_EQ(all[0].name, std::optional<std::string>("Ann"));
        EXPECT_TRUE(all[0].is_active);
        EXPECT_EQ(all[0].age, std::optional<std::int32_t>(31));
        EXPECT_EQ(all[0].role, user_role::editor);
        EXPECT_EQ(all[1].role, user_role::viewer); // DEFAULT 'viewer'
        EXPECT_EQ(all[2].name, std::nullopt);
        EXPECT_TRUE(all[0].settings.has_value());
        EXPECT_TRUE(all[0].updated_at.has_value()); // $onUpdate(now()) fills inserts too (drizzle does)
        EXPECT_NE(all[0].public_id, all[1].public_id);

        // Partial select with where, order by, limit, offset: row<field<"id">, field<"name">>.
        auto cond = and_(gt(users.age, 20), is_not_null(users.name));
        auto rows = co_await db.select(users.id, users.name).from(users).where(cond).order_by(desc(users.age)).limit(1).offset(1);
        CO_ASSERT_EQ(rows.size(), 1u);
        std::int32_t id = rows[0].get<"id">();
        EXPECT_EQ(id, 2);
        EXPECT_EQ(rows[0].get<"name">(), std::optional<std::string>("Bob"));

        // in_array, like, between, or_, not_
        std::vector<int> ids{1, 3};
        auto r2 = co_await db.select(users.email).from(users).where(in_array(users.id, ids)).order_by(users.id);
        CO_ASSERT_EQ(r2.size(), 2u);
        EXPECT_EQ(r2[1].get<"email">(), "cy@example.com");
        auto r3 = co_await db.select(users.id).from(users).where(or_(like(users.email, "b%"), between(users.age, 35, 45)));
        EXPECT_EQ(r3.size(), 2u);
        auto r4 = co_await db.select(users.id).from(users).where(not_(ilike(users.email, "ANN%")));
        EXPECT_EQ(r4.size(), 2u);
        auto r5 = co_await db.select_distinct(users.is_active).from(users);
        EXPECT_EQ(r5.size(), 1u);
        std::vector<std::string> wanted{"a"};
        auto r6 = co_await db.select(posts.slug).from(posts).where(array_contains(posts.tags, wanted));
        CO_ASSERT_EQ(r6.size(), 1u);
        EXPECT_EQ(r6[0].get<"slug">(), "three");
        auto r7 = co_await db.select(users.id).from(users).where(eq(users.id, 1)).for_update();
        EXPECT_EQ(r7.size(), 1u);
    });
}

TEST(orm, group_by_having_aggregates_and_count)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await compat_connection("orm_agg");
        database db(c);
        co_await seed(db);

        auto rows = co_await db.select(posts.author_id, named<"n">(count()), named<"views">(sum(posts.view_count)),
                                       named<"best">(max(posts.view_count)))
                        .from(posts)
                        .group_by(posts.author_id)
                        .having(gt(count(), 1));
        CO_ASSERT_EQ(rows.size(), 1u);
        EXPECT_EQ(rows[0].get<"author_id">(), 1);
        EXPECT_EQ(rows[0].get<"n">(), 2);
        CO_ASSERT_TRUE(rows[0].get<"views">().has_value());
        EXPECT_EQ(rows[0].get<"views">()->to_string(), "15"); // sum(bigint) is numeric
        EXPECT_EQ(rows[0].get<"best">(), std::optional<std::int64_t>(10));

        auto avgs = co_await db.select(named<"avg_age">(avg(users.age)), named<"youngest">(min(users.age))).from(users);
        CO_ASSERT_EQ(avgs.size(), 1u);
        EXPECT_EQ(avgs[0].get<"youngest">(), std::optional<std::int32_t>(25));
        CO_ASSERT_TRUE(avgs[0].get<"avg_age">().has_value());

        std::int64_t n = co_await db.count(users);
        EXPECT_EQ(n, 3);
        std::int64_t m = co_await db.count(users, gt(users.age, 30));
        EXPECT_EQ(m, 2);
    });
}

TEST(orm, insert_returning_and_on_conflict)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await compat_connection("orm_insert");
        database db(c);

        // One row, returning every column: a select model.
        auto q1 = db.insert(users).values({.email = "new@example.com", .name = "New"}).returning();
        std::vector<select_model<users_t>> made = co_await q1();
        CO_ASSERT_EQ(made.size(), 1u);
        EXPECT_EQ(made[0].id, 1);
        EXPECT_EQ(made[0].role, user_role::viewer);
        EXPECT_TRUE(made[0].updated_at.has_value()); // $onUpdate(now()) also fills the insert

        // Returning some columns.
        auto q2 = db.insert(posts).values({.author_id = 1, .title = "Hello", .slug = "hello"}).returning(posts.id, posts.slug);
        auto ids = co_await q2();
        CO_ASSERT_EQ(ids.size(), 1u);
        EXPECT_EQ(ids[0].get<"id">(), 1);
        EXPECT_EQ(ids[0].get<"slug">(), "hello");

        // on conflict do nothing: no row affected.
        auto q3 = db.insert(users).values({.email = "new@example.com"}).on_conflict_do_nothing(users.email);
        std::uint64_t n = co_await q3();
        EXPECT_EQ(n, 0u);
        auto q3b = db.insert(users).values({.email = "new@example.com"}).on_conflict_do_nothing();
        n = co_await q3b();
        EXPECT_EQ(n, 0u);

        // on conflict do update with excluded values (one column, and the whole table).
        auto q4 = db.insert(users)
                      .values({.email = "new@example.com", .name = "Newer", .age = 50})
                      .on_conflict_do_update(users.email, users.name = excluded(users.name), users.age = 41)
                      .returning(users.id, users.name, users.age);
        auto up = co_await q4();
        CO_ASSERT_EQ(up.size(), 1u);
        EXPECT_EQ(up[0].get<"id">(), 1);
        EXPECT_EQ(up[0].get<"name">(), std::optional<std::string>("Newer"));
        EXPECT_EQ(up[0].get<"age">(), std::optional<std::int32_t>(41));

        std::vector<insert_model<users_t>> batch;
        batch.push_back({.email = "new@example.com", .name = "Bulk", .age = 7});
        batch.push_back({.email = "other@example.com", .name = "Other", .age = 8});
        auto q5 = db.insert(users).values(batch).on_conflict_do_update(users.email, excluded(users)).returning(users.email, users.name);
        auto bulk = co_await q5();
        CO_ASSERT_EQ(bulk.size(), 2u);
        EXPECT_EQ(bulk[0].get<"name">(), std::optional<std::string>("Bulk"));
        std::int64_t total = co_await db.count(users);
        EXPECT_EQ(total, 2);
    });
}

TEST(orm, update_and_delete_returning)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await compat_connection("orm_update");
        database db(c);
        co_await seed(db);

        std::uint64_t n = co_await db.update(users).set(users.name = "Renamed").where(eq(users.id, 1));
        EXPECT_EQ(n, 1u);
        auto upd = co_await db.update(posts).set(posts.title = "New title", posts.view_count = 99)
                       .where(and_(eq(posts.author_id, 1), eq(posts.slug, "one")))
                       .returning(posts.id, posts.title, posts.view_count);
        CO_ASSERT_EQ(upd.size(), 1u);
        EXPECT_EQ(upd[0].get<"title">(), "New title");
        EXPECT_EQ(upd[0].get<"view_count">(), 99);
        auto renamed = co_await db.select().from(users).where(eq(users.id, 1));
        CO_ASSERT_EQ(renamed.size(), 1u);
        EXPECT_EQ(renamed[0].name, std::optional<std::string>("Renamed"));
        EXPECT_TRUE(renamed[0].updated_at.has_value()); // set by $onUpdate

        auto gone = co_await db.delete_(posts).where(eq(posts.author_id, 1)).returning();
        EXPECT_EQ(gone.size(), 2u);
        auto gone2 = co_await db.delete_(users).where(is_null(users.name)).returning(users.email);
        CO_ASSERT_EQ(gone2.size(), 1u);
        EXPECT_EQ(gone2[0].get<"email">(), "cy@example.com");
        std::uint64_t d = co_await db.delete_(tags);
        EXPECT_EQ(d, 0u);
    });
}

TEST(orm, errors_carry_diagnostics_and_tokens_work)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await compat_connection("orm_errors");
        database db(c);
        co_await seed(db);

        // co_await without a token: error_with_diagnostics with the server's words.
        // What the user sees: ERROR 23505: duplicate key value violates unique constraint "users_email_unique"
        std::string what, state;
        try {
            auto q = db.insert(users).values({.email = "ann@example.com"});
            co_await q();
        } catch (const error_with_diagnostics& e) {
            what = e.what();
            state = e.sqlstate();
        }
        EXPECT_EQ(state, "23505");
        EXPECT_NE(what.find("users_email_unique"), std::string::npos) << what;

        // co_await on the builder itself (no call): the same error_with_diagnostics, with the
        // server's message and detail — for an insert, a select (rows) and a count.
        {
            std::string msg, detail;
            try {
                auto dup = db.insert(users).values({.email = "ann@example.com"});
                co_await std::move(dup);
                ADD_FAILURE() << "duplicate insert succeeded";
            } catch (const error_with_diagnostics& e) {
                EXPECT_EQ(e.sqlstate(), "23505");
                CO_ASSERT_TRUE(e.get_diagnostics().server_error().has_value());
                msg = e.get_diagnostics().server_error()->message;
                detail = e.get_diagnostics().server_error()->detail;
            }
            EXPECT_EQ(msg, "duplicate key value violates unique constraint \"users_email_unique\"");
            EXPECT_EQ(detail, "Key (email)=(ann@example.com) already exists.");
            try {
                (void)co_await db.select(users.id).from(users).where(sql<"1/0 = 1">());
                ADD_FAILURE() << "division by zero succeeded";
            } catch (const error_with_diagnostics& e) {
                EXPECT_EQ(e.sqlstate(), "22012");
                EXPECT_NE(std::string(e.what()).find("division by zero"), std::string::npos) << e.what();
            }
            // Success on that path returns the typed value.
            const std::int64_t n = co_await db.count(users);
            EXPECT_EQ(n, 3);
            auto ids = co_await db.select(users.id).from(users).order_by(users.id);
            EXPECT_EQ(ids.size(), 3u);
        }

        // as_tuple: the error code, no exception.
        auto q = db.insert(users).values({.email = "bob@example.com"});
        auto [ec, n] = co_await q(asio::as_tuple(asio::use_awaitable));
        EXPECT_TRUE(ec);
        EXPECT_EQ(n, 0u);

        // The connection is still usable; the with_diagnostics token works too.
        auto rows = co_await db.select(users.id).from(users)(with_diagnostics(asio::use_awaitable));
        EXPECT_EQ(rows.size(), 3u);
    });
}

TEST(orm, large_insert_is_split_inside_one_transaction)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await compat_connection("orm_big");
        database db(c);
        std::vector<std::size_t> params_per_statement;
        db.set_logger([&](const query_log& log) { params_per_statement.push_back(log.param_count); });

        // 40,000 rows x 2 parameters = 80,000 > 65,535: two statements, one transaction.
        std::vector<insert_model<tags_t>> rows;
        for (int i = 0; i < 40000; ++i) rows.push_back({.id = i + 1, .name = "t" + std::to_string(i)});
        auto q = db.insert(tags).values(rows);
        std::uint64_t n = co_await q();
        EXPECT_EQ(n, 40000u);
        CO_ASSERT_EQ(params_per_statement.size(), 2u);
        EXPECT_LE(params_per_statement[0], 65535u);
        EXPECT_EQ(params_per_statement[0] + params_per_statement[1], 80000u);
        EXPECT_EQ(c.transaction_status(), 'I');
        std::int64_t count = co_await db.count(tags);
        EXPECT_EQ(count, 40000);

        // A failure in the second statement rolls back the first too.
        rows.clear();
        for (int i = 0; i < 40000; ++i) rows.push_back({.id = 100000 + i, .name = "u"});
        rows.back().id = 1; // duplicate primary key in the last chunk
        auto q2 = db.insert(tags).values(rows);
        auto [ec, n2] = co_await q2(asio::as_tuple(asio::use_awaitable));
        EXPECT_TRUE(ec);
        EXPECT_EQ(n2, 0u);
        count = co_await db.count(tags);
        EXPECT_EQ(count, 40000);
        EXPECT_EQ(c.transaction_status(), 'I');

        // Inside an open transaction a savepoint is used, and the transaction stays open.
        co_await c.async_simple_query("BEGIN");
        rows.clear();
        for (int i = 0; i < 40000; ++i) rows.push_back({.id = 200000 + i, .name = "v"});
        auto q3 = db.insert(tags).values(rows);
        n = co_await q3();
        EXPECT_EQ(n, 40000u);
        EXPECT_EQ(c.transaction_status(), 'T');
        co_await c.async_simple_query("ROLLBACK");
        count = co_await db.count(tags);
        EXPECT_EQ(count, 40000);
    });
}

TEST(orm, logger_reports_sql_count_duration_and_values_only_on_opt_in)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await compat_connection("orm_log");
        database db(c);
        std::vector<query_log> seen;
        std::vector<std::vector<std::string>> values;
        std::vector<std::string> sqls;
        auto hook = [&](const query_log& log) {
            seen.push_back(log);
            sqls.emplace_back(log.sql);
            std::vector<std::string> v;
            for (const auto& p : log.params) v.push_back(to_string(p));
            values.push_back(v);
        };
        db.set_logger(hook);
        auto r = co_await db.select(users.id).from(users).where(eq(users.email, "secret@example.com"));
        EXPECT_TRUE(r.empty());
        CO_ASSERT_EQ(seen.size(), 1u);
        EXPECT_EQ(sqls[0], "select \"id\" from \"users\" where \"users\".\"email\" = $1");
        EXPECT_EQ(seen[0].param_count, 1u);
        EXPECT_TRUE(values[0].empty()); // values are not logged by default
        EXPECT_GT(seen[0].duration.count(), 0);

        db.set_logger(hook, true);
        r = co_await db.select(users.id).from(users).where(eq(users.email, "secret@example.com"));
        CO_ASSERT_EQ(values.size(), 2u);
        EXPECT_EQ(values[1], std::vector<std::string>{"\"secret@example.com\""});
    });
}

TEST(orm, the_same_query_runs_on_a_connection_a_pool_and_a_transaction)
{
    run([]() -> asio::awaitable<void> {
        auto c = co_await compat_connection("orm_everywhere");
        database on_conn(c);
        co_await seed(on_conn);

        pool_params pp;
        pp.conninfo = url("", "", "sslmode=disable&options=-c%20search_path%3Dorm_everywhere");
        pp.max_size = 2;
        pool p(co_await asio::this_coro::executor, pp);
        database on_pool(p);
        auto q1 = on_pool.select(users.email).from(users).where(eq(users.id, 2));
        auto via_pool = co_await q1();
        CO_ASSERT_EQ(via_pool.size(), 1u);
        EXPECT_EQ(via_pool[0].get<"email">(), "bob@example.com");

        // In a transaction: the update is visible inside and rolled back after.
        std::string inside;
        try {
            co_await p.transaction([&](transaction& tx) -> asio::awaitable<void> {
                database in_tx(tx);
                auto upd = in_tx.update(users).set(users.email = "robert@example.com").where(eq(users.id, 2));
                co_await upd();
                auto q2 = in_tx.select(users.email).from(users).where(eq(users.id, 2));
                auto rows = co_await q2();
                inside = rows.at(0).get<"email">();
                throw std::runtime_error("roll it back");
            });
        } catch (const std::runtime_error&) {
        }
        EXPECT_EQ(inside, "robert@example.com");
        auto q3 = on_pool.select(users.email).from(users).where(eq(users.id, 2));
        auto after = co_await q3();
        EXPECT_EQ(after.at(0).get<"email">(), "bob@example.com");

        // A split insert needs one session: on a pool it is refused with a clear error, not
        // spread over several connections.
        std::vector<insert_model<tags_t>> many;
        for (int i = 0; i < 40000; ++i) many.push_back({.id = i + 1, .name = "t"});
        diagnostics diag;
        auto big = on_pool.insert(tags).values(many);
        auto [ec, n] = co_await big(asio::as_tuple(asio::use_awaitable));
        EXPECT_EQ(ec, make_error_code(errc::needs_single_session));
        std::int64_t none = co_await on_conn.count(tags)();
        EXPECT_EQ(none, 0);
        co_await p.async_close();
    });
}
