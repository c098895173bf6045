// DDL parity: the compat schema declared in sleet's DSL (tests/common/compat_schema.hpp) must
// render exactly the migrations the real drizzle-kit 0.31.6 wrote for it
// (../shared/compat/migrations), byte for byte.
#include "compat_schema.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

namespace {

std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << "cannot open " << path;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

const std::string migrations = SLEET_COMPAT_MIGRATIONS;

/// drizzle-kit's statements, split at the breakpoint marker as it joined them.
std::vector<std::string> oracle_statements(const std::string& file)
{
    std::vector<std::string> out;
    const std::string text = read_file(migrations + "/" + file);
    const std::string marker = std::string(ddl::statement_breakpoint) + "\n";
    std::size_t start = 0;
    for (;;) {
        auto pos = text.find(marker, start);
        out.push_back(text.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
        if (pos == std::string::npos) break;
        start = pos + marker.size();
    }
    return out;
}

bool starts_with(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }

} // namespace

// THE DDL PARITY TEST: step1/drizzle/0000_init.sql, every statement (2 enums, 1 sequence,
// 6 tables, 6 foreign keys, 6 indexes, 1 view, 1 materialized view), byte for byte.
TEST(DdlParity, Step1InitMigrationByteForByte)
{
    const std::string expected = read_file(migrations + "/step1/drizzle/0000_init.sql");
    ASSERT_FALSE(expected.empty());

    const std::string rendered = ddl::create_migration(users, posts, comments, tags, post_tags, products, invoice_number_seq(),
                                                       active_users_view(), post_stats_view());
    EXPECT_EQ(rendered, expected);

    // The same, statement by statement (a readable diff when one differs).
    auto want = ddl::split_statements(expected);
    auto got = ddl::split_statements(rendered);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << "statement " << i;
    EXPECT_EQ(want.size(), 23u);
}

TEST(DdlParity, ViewsInlineTheirValues)
{
    auto v = active_users_view();
    EXPECT_EQ(v.query, "select \"id\", \"email\", \"name\" from \"users\" where \"users\".\"is_active\" = true");
    auto named = ddl::view("named", select(users.id).from(users).where(eq(users.email, "o'neil@example.com")), "extra");
    EXPECT_EQ(ddl::create_view_statement(named),
              "CREATE VIEW \"extra\".\"named\" AS (select \"id\" from \"users\" where \"users\".\"email\" = 'o''neil@example.com');");
    // An in_array list is always `$n`: a view cannot hold it. What the user sees:
    //   ddl::view("ids"): the view's query has a parameter that cannot be written as a literal (an in_array list)
    std::vector<int> ids{1, 2};
    std::string what;
    try {
        ddl::view("ids", select(users.id).from(users).where(in_array(users.id, ids)));
    } catch (const error_with_diagnostics& e) {
        what = e.get_diagnostics().client_message();
    }
    EXPECT_EQ(what, "ddl::view(\"ids\"): the view's query has a parameter that cannot be written as a literal (an in_array list)");
    // The same query run as a query keeps its value bound.
    EXPECT_EQ(to_sql(select(users.id).from(users).where(eq(users.email, "o'neil@example.com"))).sql,
              "select \"id\" from \"users\" where \"users\".\"email\" = $1");
}

// The order of declaration does not matter: drizzle-kit sorts enums, sequences and tables by
// "schema.name"; foreign keys and indexes follow their table, in declaration order.
TEST(DdlParity, DeclarationOrderDoesNotMatter)
{
    EXPECT_EQ(ddl::create_migration(post_stats_view(), products, post_tags, tags, users, active_users_view(), comments, posts,
                                    invoice_number_seq()),
              ddl::create_migration(users, posts, comments, tags, post_tags, products, invoice_number_seq(), active_users_view(),
                                    post_stats_view()));
}

// Step 2's new tables: the statements of 0001_add_bio_bookmarks_audit.sql that create them
// (CREATE SCHEMA, both CREATE TABLEs, their foreign keys and index). Not compared: the
// `ALTER TABLE "users" ADD COLUMN "bio"` and the `users_name_idx` index, which are changes to
// an existing table (the migration kit's diff, not the create renderer).
TEST(DdlParity, Step2NewTablesMatchDrizzleKit)
{
    auto oracle = oracle_statements("step2/drizzle/0001_add_bio_bookmarks_audit.sql");
    std::vector<std::string> expected;
    for (const auto& s : oracle)
        if (!starts_with(s, "ALTER TABLE \"users\" ADD COLUMN") && s.find("users_name_idx") == std::string::npos)
            expected.push_back(s);
    ASSERT_EQ(expected.size(), 7u);

    auto model = ddl::describe(bookmarks, audit_events);
    // The references name "users" and "posts", which live in public.
    auto got = ddl::create_statements(model);
    EXPECT_EQ(got, expected);
    EXPECT_EQ(ddl::join_statements(got), ddl::join_statements(expected));
}

TEST(DdlModel, DescribesConstraintsAndIndexes)
{
    auto t = ddl::describe_table(posts);
    EXPECT_EQ(t.name, "posts");
    ASSERT_EQ(t.uniques.size(), 1u);
    EXPECT_EQ(t.uniques[0].name, "posts_author_slug_unique");
    EXPECT_EQ(t.uniques[0].columns, (std::vector<std::string>{"author_id", "slug"}));
    ASSERT_EQ(t.indexes.size(), 3u);
    EXPECT_EQ(t.indexes[1].method, "gin");
    EXPECT_FALSE(t.indexes[2].keys[0].ascending);
    EXPECT_EQ(t.indexes[2].keys[0].nulls, nulls_order::last);
    EXPECT_EQ(t.indexes[2].where, "\"posts\".\"status\" = 'published'");
    ASSERT_EQ(t.foreign_keys.size(), 1u);
    EXPECT_EQ(t.foreign_keys[0].name, "posts_author_id_users_id_fk");

    auto pt = ddl::describe_table(post_tags);
    ASSERT_TRUE(pt.primary_key);
    EXPECT_EQ(pt.primary_key->name, "post_tags_post_id_tag_id_pk");
    auto e = ddl::describe_table(audit_events);
    EXPECT_EQ(e.schema, "audit");
    EXPECT_EQ(e.columns[4].type, "timestamp (3) with time zone");
}

// Kinds the compat schema does not use, in drizzle-kit's spelling.
namespace {
template <template <class> class C>
struct misc_columns {
    C<pg::bigint<"id", pg::primary_key, pg::identity_by_default, pg::identity_options<pg::sequence_options{.start_with = 10, .increment = 5, .cache = 20}>>> id{};
    C<pg::smallint<"n", pg::identity_always>> n{};
    C<pg::varchar<"code", 10, pg::not_null>> code{};
    C<pg::integer<"owner", pg::not_null>> owner{};
    C<pg::integer<"owner_alt">> owner_alt{};
    C<pg::timestamp<"at", pg::precision<6>>> at{};
    C<pg::interval<"span", pg::precision<2>>> span{};
    C<pg::text<"note", pg::default_text<"it's">>> note{};
    C<pg::enum_<"role", user_role, pg::default_value<user_role::editor>>> role{};
};
using misc_t = sleet::table<"misc", misc_columns, "extra">;
constexpr misc_t misc{};
auto table_extras(const misc_t& t)
{
    return sleet::extras(
        sleet::unique().on(t.code, t.owner).nulls_not_distinct(),
        sleet::foreign_key(sleet::columns(t.owner, t.owner_alt), sleet::columns(post_tags.post_id, post_tags.tag_id))
            .on_update(pg::action::restrict),
        sleet::index("misc_code_idx").on(sleet::nulls_first(t.code), sleet::nulls_first(sleet::desc(t.at)), sleet::asc(t.owner)).concurrently(),
        sleet::unique_index("misc_lower_idx").using_("hash", sleet::sql<"lower({})">(t.code)).where(sleet::sql<"{} IS NOT NULL">(t.code)));
}
} // namespace

TEST(DdlRender, OtherKinds)
{
    auto model = ddl::describe(misc);
    auto got = ddl::create_statements(model);
    ASSERT_EQ(got.size(), 6u);
    EXPECT_EQ(got[0], "CREATE SCHEMA \"extra\";\n");
    EXPECT_EQ(got[1], "CREATE TYPE \"public\".\"user_role\" AS ENUM('admin', 'editor', 'viewer');");
    EXPECT_EQ(got[2],
              "CREATE TABLE \"extra\".\"misc\" (\n"
              "\t\"id\" bigint PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY (sequence name \"extra\".\"misc_id_seq\" INCREMENT BY 5 "
              "MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 10 CACHE 20),\n"
              "\t\"n\" smallint GENERATED ALWAYS AS IDENTITY (sequence name \"extra\".\"misc_n_seq\" INCREMENT BY 1 MINVALUE 1 "
              "MAXVALUE 32767 START WITH 1 CACHE 1),\n"
              "\t\"code\" varchar(10) NOT NULL,\n"
              "\t\"owner\" integer NOT NULL,\n"
              "\t\"owner_alt\" integer,\n"
              "\t\"at\" timestamp (6),\n"
              "\t\"span\" interval(2),\n"
              "\t\"note\" text DEFAULT 'it''s',\n"
              "\t\"role\" \"user_role\" DEFAULT 'editor',\n"
              "\tCONSTRAINT \"misc_code_owner_unique\" UNIQUE NULLS NOT DISTINCT(\"code\",\"owner\")\n"
              ");\n");
    EXPECT_EQ(got[3], "ALTER TABLE \"extra\".\"misc\" ADD CONSTRAINT \"misc_owner_owner_alt_post_tags_post_id_tag_id_fk\" FOREIGN KEY "
                      "(\"owner\",\"owner_alt\") REFERENCES \"public\".\"post_tags\"(\"post_id\",\"tag_id\") ON DELETE no action ON "
                      "UPDATE restrict;");
    EXPECT_EQ(got[4], "CREATE INDEX CONCURRENTLY \"misc_code_idx\" ON \"extra\".\"misc\" USING btree (\"code\" NULLS FIRST,\"at\" DESC "
                      "NULLS FIRST,\"owner\");");
    EXPECT_EQ(got[5], "CREATE UNIQUE INDEX \"misc_lower_idx\" ON \"extra\".\"misc\" USING hash (lower(\"code\")) WHERE "
                      "\"extra\".\"misc\".\"code\" IS NOT NULL;");
}

TEST(DdlRender, SplitStatements)
{
    auto parts = ddl::split_statements("CREATE SCHEMA \"a\";\n--> statement-breakpoint\nCREATE TYPE x;--> statement-breakpoint\nSELECT 1;");
    EXPECT_EQ(parts, (std::vector<std::string>{"CREATE SCHEMA \"a\";", "CREATE TYPE x;", "SELECT 1;"}));
}
