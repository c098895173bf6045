// Rendering beyond the parity corpus: every operator, aggregate, insert/update/delete shape,
// pg schemas, raw fragments; plus compile-time checks of the models' types, and the property that
// no user value's bytes ever reach the SQL text.
#include "compat_schema.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

namespace {
std::vector<std::string> shown(const sql_query& q)
{
    std::vector<std::string> out;
    for (const auto& p : q.params) out.push_back(to_string(p));
    return out;
}

template <template <class> class C>
struct events_columns {
    C<pg::bigserial<"id", pg::primary_key>> id{};
    C<pg::text<"kind", pg::not_null>> kind{};
};
using events_t = sleet::table<"events", events_columns, "audit">;
inline constexpr events_t events{};
} // namespace

// --- compile-time shape of the models ------------------------------------------------------
static_assert(std::is_same_v<decltype(select_model<users_t>{}.id), std::int32_t>);
static_assert(std::is_same_v<decltype(select_model<users_t>{}.name), std::optional<std::string>>);
static_assert(std::is_same_v<decltype(select_model<users_t>{}.role), user_role>);
static_assert(std::is_same_v<decltype(select_model<users_t>{}.created_at), sleet::timestamptz_t>);
static_assert(std::is_same_v<decltype(select_model<posts_t>{}.tags), std::vector<std::string>>);
static_assert(std::is_same_v<decltype(select_model<products_t>{}.price), sleet::numeric>);
static_assert(std::is_same_v<decltype(select_model<products_t>{}.labels), std::optional<std::vector<std::string>>>);
static_assert(std::is_same_v<decltype(insert_model<users_t>{.email = "x"}.email), required<std::string, "email">>);
static_assert(std::is_same_v<decltype(insert_model<users_t>{.email = "x"}.id), std::optional<std::int32_t>>);
static_assert(std::is_same_v<decltype(insert_model<products_t>{.sku = "x", .name = "n", .price = numeric(1)}.id), not_insertable>);
static_assert(std::is_same_v<decltype(select(users.id, users.name).from(users))::row_type,
                             row<field<"id", std::int32_t>, field<"name", std::optional<std::string>>>>);
static_assert(std::is_same_v<decltype(select(named<"n">(count()), named<"s">(sum(users.age))).from(users))::row_type,
                             row<field<"n", std::int64_t>, field<"s", std::optional<std::int64_t>>>>);
static_assert(std::is_same_v<decltype(insert(users).values({.email = "a"}))::result_type, std::uint64_t>);
static_assert(std::is_same_v<decltype(delete_(tags).returning())::result_type, std::vector<select_model<tags_t>>>);
// Builders without a database render but cannot run: no call operator.
static_assert(!std::is_invocable_v<decltype(select().from(users))>);
// Shapes known at compile time are rendered once per type; in_array lists and insert values are not.
static_assert(decltype(select().from(users).where(eq(users.id, 1)).limit(3))::static_shape);
static_assert(!decltype(select().from(users).where(in_array(users.id, std::vector<int>{})))::static_shape);

TEST(render, comparison_and_logical_operators)
{
    auto q = to_sql(select(users.id).from(users).where(
        or_(ne(users.id, 1), gte(users.age, 2), lt(users.age, 3), lte(users.age, 4), not_(is_not_null(users.name)))));
    EXPECT_EQ(q.sql, "select \"id\" from \"users\" where (\"users\".\"id\" <> $1 or \"users\".\"age\" >= $2 or \"users\".\"age\" < $3 or "
                     "\"users\".\"age\" <= $4 or not \"users\".\"name\" is not null)");
    EXPECT_EQ(shown(q), (std::vector<std::string>{"1", "2", "3", "4"}));

    auto r = to_sql(select(users.id).from(users).where(and_(between(users.age, 1, 9), not_between(users.id, 5, 6),
                                                            ilike(users.email, "%A"), not_like(users.email, "b%"),
                                                            not_ilike(users.email, "c%"))));
    EXPECT_EQ(r.sql, "select \"id\" from \"users\" where (\"users\".\"age\" between $1 and $2 and \"users\".\"id\" not between $3 and $4 "
                     "and \"users\".\"email\" ilike $5 and \"users\".\"email\" not like $6 and \"users\".\"email\" not ilike $7)");
    EXPECT_EQ(r.params.size(), 7u);

    // and_ of one condition is the condition itself (drizzle).
    EXPECT_EQ(to_sql(select(users.id).from(users).where(and_(eq(users.id, 1)))).sql,
              "select \"id\" from \"users\" where \"users\".\"id\" = $1");
    // A column compared with a column.
    EXPECT_EQ(to_sql(select(posts.id).from(posts).where(eq(posts.id, posts.author_id))).sql,
              "select \"id\" from \"posts\" where \"posts\".\"id\" = \"posts\".\"author_id\"");
}

TEST(render, in_array_and_array_operators)
{
    EXPECT_EQ(to_sql(select(users.id).from(users).where(in_array(users.id, std::vector<int>{}))).sql,
              "select \"id\" from \"users\" where false");
    auto q = to_sql(select(users.id).from(users).where(not_in_array(users.id, {7, 8})));
    EXPECT_EQ(q.sql, "select \"id\" from \"users\" where \"users\".\"id\" not in ($1, $2)");
    std::vector<std::string> tags_wanted{"a", "b c"};
    auto a = to_sql(select(posts.id).from(posts).where(and_(array_contains(posts.tags, tags_wanted),
                                                            array_contained(posts.tags, tags_wanted),
                                                            array_overlaps(posts.tags, tags_wanted))));
    EXPECT_EQ(a.sql, "select \"id\" from \"posts\" where (\"posts\".\"tags\" @> $1 and \"posts\".\"tags\" <@ $2 and \"posts\".\"tags\" && $3)");
    ASSERT_EQ(a.params.size(), 3u);
    EXPECT_EQ(std::get<std::string>(a.params[0]), "{\"a\",\"b c\"}"); // drizzle's array literal
}

TEST(render, aggregates_distinct_and_locks)
{
    auto q = to_sql(select(named<"c">(count(users.age)), named<"d">(count_distinct(users.age)), named<"s">(sum_distinct(users.age)),
                           named<"a">(avg(users.age)), named<"ad">(avg_distinct(users.age)), named<"mn">(min(users.age)),
                           named<"mx">(max(users.age)))
                        .from(users));
    EXPECT_EQ(q.sql, "select count(\"users\".\"age\"), count(distinct \"users\".\"age\"), sum(distinct \"users\".\"age\"), "
                     "avg(\"users\".\"age\"), avg(distinct \"users\".\"age\"), min(\"users\".\"age\"), max(\"users\".\"age\") from \"users\"");
    EXPECT_EQ(to_sql(select_distinct(users.name).from(users)).sql, "select distinct \"name\" from \"users\"");
    EXPECT_EQ(to_sql(select(tags.id).from(tags).for_update()).sql, "select \"id\" from \"tags\" for update");
    EXPECT_EQ(to_sql(select(tags.id).from(tags).for_no_key_update()).sql, "select \"id\" from \"tags\" for no key update");
    EXPECT_EQ(to_sql(select(tags.id).from(tags).for_share()).sql, "select \"id\" from \"tags\" for share");
    EXPECT_EQ(to_sql(sleet::count(users)).sql, "select count(*) from \"users\"");
    auto c = to_sql(sleet::count(users, eq(users.is_active, true)));
    EXPECT_EQ(c.sql, "select count(*) from \"users\" where \"users\".\"is_active\" = $1");
    EXPECT_EQ(shown(c), std::vector<std::string>{"true"});
}

TEST(render, insert_many_conflict_and_excluded_helper)
{
    std::vector<insert_model<tags_t>> rows{{.name = "a"}, {.id = 9, .name = "b"}};
    auto q = to_sql(insert(tags).values(rows).on_conflict_do_nothing());
    EXPECT_EQ(q.sql, "insert into \"tags\" (\"id\", \"name\") values (default, $1), ($2, $3) on conflict do nothing");
    EXPECT_EQ(shown(q), (std::vector<std::string>{"\"a\"", "9", "\"b\""}));

    auto t = to_sql(insert(post_tags).values({.post_id = 1, .tag_id = 2}).on_conflict_do_nothing(post_tags.post_id, post_tags.tag_id));
    EXPECT_EQ(t.sql, "insert into \"post_tags\" (\"post_id\", \"tag_id\", \"added_at\") values ($1, $2, default) "
                     "on conflict (\"post_id\",\"tag_id\") do nothing");

    auto e = to_sql(insert(users).values({.email = "a"}).on_conflict_do_update(users.email, excluded(users)));
    EXPECT_EQ(e.sql, "insert into \"users\" (\"id\", \"email\", \"name\", \"is_active\", \"age\", \"role\", \"public_id\", \"settings\", "
                     "\"created_at\", \"updated_at\") values (default, $1, default, default, default, default, default, default, default, now()) "
                     "on conflict (\"email\") do update set \"name\" = excluded.\"name\", \"is_active\" = excluded.\"is_active\", "
                     "\"age\" = excluded.\"age\", \"role\" = excluded.\"role\", \"public_id\" = excluded.\"public_id\", "
                     "\"settings\" = excluded.\"settings\", \"created_at\" = excluded.\"created_at\", \"updated_at\" = excluded.\"updated_at\"");

    // Generated columns are left out of the column list (drizzle's shouldDisableInsert).
    auto p = to_sql(insert(products).values({.sku = "S", .name = "N", .price = numeric(5)}));
    EXPECT_EQ(p.sql.find("\"id\""), std::string::npos);
    EXPECT_EQ(p.sql.find("price_with_tax"), std::string::npos);
    EXPECT_EQ(p.params.size(), 3u);
}

TEST(render, insert_is_split_under_the_parameter_limit)
{
    std::vector<insert_model<tags_t>> rows;
    for (int i = 0; i < 5; ++i) rows.push_back({.id = i, .name = "n"});
    auto q = insert(tags).values(rows);
    auto stmts = q.statements(false, 4); // 2 parameters per row, at most 4 per statement
    ASSERT_EQ(stmts.size(), 3u);
    EXPECT_EQ(stmts[0].sql, "insert into \"tags\" (\"id\", \"name\") values ($1, $2), ($3, $4)");
    EXPECT_EQ(stmts[2].sql, "insert into \"tags\" (\"id\", \"name\") values ($1, $2)");
    EXPECT_EQ(stmts[0].params.size(), 4u);
    EXPECT_EQ(stmts[2].params.size(), 2u);
    EXPECT_EQ(q.statements(false).size(), 1u);
    // No rows: a clear error, not invalid SQL. What the user sees: "insert(): values() was given no rows".
    std::vector<insert_model<tags_t>> none;
    try {
        (void)insert(tags).values(none).statements(false);
        ADD_FAILURE() << "no exception";
    } catch (const error_with_diagnostics& e) {
        EXPECT_EQ(e.get_diagnostics().client_message(), "insert(): values() was given no rows");
    }
}

TEST(render, update_delete_and_pg_schema)
{
    auto u = to_sql(update(posts).set(posts.view_count = 5, posts.body = std::nullopt).where(eq(posts.id, 3)).returning());
    EXPECT_EQ(u.sql, "update \"posts\" set \"body\" = $1, \"view_count\" = $2 where \"posts\".\"id\" = $3 returning \"id\", \"author_id\", "
                     "\"title\", \"slug\", \"body\", \"status\", \"tags\", \"view_count\", \"rating\", \"published_at\"");
    EXPECT_EQ(shown(u), (std::vector<std::string>{"null", "5", "3"}));
    EXPECT_EQ(to_sql(delete_(tags)).sql, "delete from \"tags\"");
    auto s = to_sql(select().from(events).where(eq(events.kind, "login")));
    EXPECT_EQ(s.sql, "select \"id\", \"kind\" from \"audit\".\"events\" where \"audit\".\"events\".\"kind\" = $1");
    EXPECT_EQ(to_sql(insert(events).values({.kind = "x"})).sql, "insert into \"audit\".\"events\" (\"id\", \"kind\") values (default, $1)");
}

TEST(render, raw_sql_fragments_bind_their_values)
{
    auto q = to_sql(select(users.id, named<"lower_name">(sql<"lower({})", std::optional<std::string>>(users.name)))
                        .from(users)
                        .where(sql<"{} IS NULL OR {} >= {}">(users.age, users.age, 18)));
    EXPECT_EQ(q.sql, "select \"id\", lower(\"users\".\"name\") from \"users\" where \"users\".\"age\" IS NULL OR \"users\".\"age\" >= $1");
    EXPECT_EQ(shown(q), std::vector<std::string>{"18"});
    // The explicit escape for run-time text is spliced as is: its name says so.
    EXPECT_EQ(to_sql(select(users.id).from(users).where(unsafe_raw("true"))).sql, "select \"id\" from \"users\" where true");
}

TEST(render, identifiers_are_quoted_and_quotes_doubled)
{
    std::string out;
    quote_identifier(out, "we\"ird");
    EXPECT_EQ(out, "\"we\"\"ird\"");
}

TEST(render, shape_known_at_compile_time_is_rendered_once)
{
    auto a = to_sql(select(users.id).from(users).where(eq(users.id, 1)));
    auto b = to_sql(select(users.id).from(users).where(eq(users.id, 2)));
    EXPECT_EQ(a.sql, b.sql);
    EXPECT_EQ(shown(b), std::vector<std::string>{"2"});
}

// Property: whatever a user value contains, its bytes travel only as parameters.
TEST(render, no_user_value_bytes_ever_appear_in_sql_text)
{
    const std::vector<std::string> hostile = {
        "'; drop table users; --", "\" or 1=1 --", "$1", "$$ dollar $$", "$tag$ x $tag$", "\\x41\\", "/* c */", "\n;\r\t",
        "Robert'); DROP TABLE students;--", "\xe2\x80\x8b unicode", "%_like_%", "excluded.name", "users\".\"id"};
    std::mt19937 rng(12345);
    const std::string alphabet = "'\"$\\;-/*%_(){}[]\n abcXYZ0129";
    std::vector<std::string> values = hostile;
    for (int i = 0; i < 300; ++i) {
        std::string s = "Q";
        std::uniform_int_distribution<std::size_t> len(1, 24), pick(0, alphabet.size() - 1);
        for (std::size_t n = len(rng); n; --n) s += alphabet[pick(rng)];
        values.push_back(s + "Z");
    }
    for (const auto& v : values) {
        const std::string marker = "\x01" "MARK" + v; // a byte sequence no SQL text of ours contains
        std::vector<sql_query> qs{
            to_sql(select().from(users).where(eq(users.email, marker))),
            to_sql(select(users.id).from(users).where(or_(like(users.email, marker), ilike(users.name, marker)))),
            to_sql(select(users.id).from(users).where(in_array(users.email, std::vector<std::string>{marker, marker}))),
            to_sql(insert(users).values({.email = marker, .name = marker}).on_conflict_do_update(users.email, users.name = marker)),
            to_sql(update(users).set(users.name = marker).where(eq(users.email, marker))),
            to_sql(delete_(tags).where(eq(tags.name, marker))),
            to_sql(select(users.id).from(users).where(sql<"{} = {}">(users.name, marker))),
        };
        for (const auto& q : qs) {
            EXPECT_EQ(q.sql.find("\x01" "MARK"), std::string::npos) << q.sql;
            EXPECT_EQ(q.sql.find(v), v.size() > 3 ? std::string::npos : q.sql.find(v)) << q.sql;
            bool found = false;
            for (const auto& p : q.params)
                if (const auto* s = std::get_if<std::string>(&p); s && *s == marker) found = true;
            EXPECT_TRUE(found) << "the value must travel as a parameter";
        }
    }
}

// The builder tells the connection which statements only read (param_list::read_only): those
// may share one Sync with their pipelined neighbours. Row locks, raw SQL and writes never do.
TEST(render, selects_without_locks_or_raw_sql_are_read_only)
{
    EXPECT_TRUE(select().from(users).where(eq(users.id, 1)).to_statement(false).params.read_only());
    EXPECT_TRUE(select(users.id, users.email).from(users).order_by(desc(users.id)).limit(3).to_statement(false).params.read_only());
    EXPECT_TRUE(count(users, gt(users.age, 30)).to_statement(false).params.read_only());

    EXPECT_FALSE(select().from(users).where(eq(users.id, 1)).for_update().to_statement(false).params.read_only());
    EXPECT_FALSE(select().from(users).for_share().to_statement(false).params.read_only());
    // sql<> may call a function with side effects: not read-only, wherever it appears.
    EXPECT_FALSE(select().from(users).where(sql<"{} = nextval('s')", bool>(users.id)).to_statement(false).params.read_only());
    EXPECT_FALSE(select(named<"x">(sql<"audit_touch({})", int>(users.id))).from(users).to_statement(false).params.read_only());
    EXPECT_FALSE(select().from(users).where(unsafe_raw("true")).to_statement(false).params.read_only());

    EXPECT_FALSE(update(users).set(users.name = std::string("n")).where(eq(users.id, 1)).to_statement(false).params.read_only());
    EXPECT_FALSE(delete_(users).where(eq(users.id, 1)).to_statement(false).params.read_only());
    auto ins = insert(users).values({.email = std::string("a@b.c")}).statements(false);
    ASSERT_EQ(ins.size(), 1u);
    EXPECT_FALSE(ins.front().params.read_only());
}
