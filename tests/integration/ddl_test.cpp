// The DDL renderer against the real server: the compat schema (step 1 plus step 2's new tables,
// tests/common/compat_schema.hpp) rendered by sleet::ddl, applied statement by statement to a
// fresh database, and then read back from pg_catalog: every constraint, index, the sequence, the
// identity and generated columns exist as declared, and the constraints do their job.
#include "compat_schema.hpp"
#include "fixture.hpp"

#include <sleet/orm.hpp>

#include <set>
#include <string>
#include <vector>

using namespace sleet;
using namespace sleet::test;
using namespace compat;

namespace {

/// One column of text per row, joined by '|', all rows of a result.
std::vector<std::string> text_rows(const result& r)
{
    std::vector<std::string> out;
    for (auto row : r) {
        std::string line;
        for (std::size_t i = 0; i < r.columns().size(); ++i) {
            if (i) line += '|';
            line += row.get<std::string>(i);
        }
        out.push_back(std::move(line));
    }
    return out;
}

} // namespace

TEST(orm_ddl, compat_schema_applies_and_the_catalog_has_every_constraint_and_index)
{
    run([]() -> asio::awaitable<void> {
        {
            auto admin = co_await connect_super();
            const std::string drop = "DROP DATABASE IF EXISTS sleet_ddl_compat";
            co_await admin.async_simple_query(drop);
            const std::string create = "CREATE DATABASE sleet_ddl_compat";
            co_await admin.async_simple_query(create);
        }
        auto c = co_await connect_super("sslmode=disable&dbname=sleet_ddl_compat");

        const std::string migration = ddl::create_migration(users, posts, comments, tags, post_tags, products,
                                                            invoice_number_seq(), bookmarks, audit_events, active_users_view(),
                                                            post_stats_view());
        const auto statements = ddl::split_statements(migration);
        // 1 schema, 2 enums, 1 sequence, 8 tables, 9 foreign keys, 7 indexes, 2 views.
        CO_ASSERT_EQ(statements.size(), 30u);
        for (const auto& s : statements) co_await c.async_simple_query(s);

        // Constraints: table | name | kind (p/u/c/f) | on delete | on update (a = no action,
        // c = cascade, n = set null; blank for other kinds).
        const std::string constraints_sql =
            "select conrelid::regclass::text, conname::text, contype::text, confdeltype::text, confupdtype::text "
            "from pg_constraint where connamespace::regnamespace::text in ('public', 'audit') order by 1, 2";
        auto cons = co_await c.async_execute(constraints_sql);
        const std::vector<std::string> expected_constraints = {
            "audit.events|events_actor_id_users_id_fk|f|n|a",
            "audit.events|events_pkey|p| | ",
            "bookmarks|bookmarks_pk|p| | ",
            "bookmarks|bookmarks_post_id_posts_id_fk|f|c|a",
            "bookmarks|bookmarks_user_id_users_id_fk|f|c|a",
            "comments|comments_author_id_users_id_fk|f|n|c",
            "comments|comments_parent_id_fk|f|c|a",
            "comments|comments_pkey|p| | ",
            "comments|comments_post_id_posts_id_fk|f|c|a",
            "post_tags|post_tags_post_id_posts_id_fk|f|c|a",
            "post_tags|post_tags_post_id_tag_id_pk|p| | ",
            "post_tags|post_tags_tag_id_tags_id_fk|f|c|a",
            "posts|posts_author_id_users_id_fk|f|c|a",
            "posts|posts_author_slug_unique|u| | ",
            "posts|posts_pkey|p| | ",
            "products|products_pkey|p| | ",
            "products|products_price_positive|c| | ",
            "products|products_sku_unique|u| | ",
            "products|products_stock_nonnegative|c| | ",
            "tags|tags_pkey|p| | ",
            "users|users_age_check|c| | ",
            "users|users_email_unique|u| | ",
            "users|users_pkey|p| | ",
        };
        EXPECT_EQ(text_rows(cons), expected_constraints);

        // Composite keys keep their column order.
        const std::string pk_sql = "select pg_get_constraintdef(oid) from pg_constraint where conname in "
                                   "('bookmarks_pk', 'post_tags_post_id_tag_id_pk', 'posts_author_slug_unique') order by conname";
        auto pks = co_await c.async_execute(pk_sql);
        EXPECT_EQ(text_rows(pks), (std::vector<std::string>{"PRIMARY KEY (user_id, post_id)", "PRIMARY KEY (post_id, tag_id)",
                                                             "UNIQUE (author_id, slug)"}));

        // Indexes as PostgreSQL describes them: method, key order, NULLS, expression, partial where.
        const std::string index_sql = "select indexdef from pg_indexes where schemaname in ('public', 'audit') "
                                      "and indexname like '%\\_idx' order by indexname";
        auto idx = co_await c.async_execute(index_sql);
        const std::vector<std::string> expected_indexes = {
            "CREATE INDEX bookmarks_post_idx ON public.bookmarks USING btree (post_id)",
            "CREATE INDEX comments_post_created_idx ON public.comments USING btree (post_id, created_at DESC NULLS LAST)",
            "CREATE INDEX posts_author_idx ON public.posts USING btree (author_id)",
            "CREATE INDEX posts_published_idx ON public.posts USING btree (published_at DESC NULLS LAST) WHERE (status = "
            "'published'::post_status)",
            "CREATE INDEX posts_tags_gin_idx ON public.posts USING gin (tags)",
            "CREATE UNIQUE INDEX tags_name_lower_idx ON public.tags USING btree (lower((name)::text))",
            "CREATE INDEX users_role_idx ON public.users USING btree (role)",
        };
        EXPECT_EQ(text_rows(idx), expected_indexes);

        // The sequence, the identity column and the generated column.
        const std::string seq_sql = "select start_value::text, min_value::text, max_value::text, increment_by::text, cache_size::text "
                                    "from pg_sequences where sequencename = 'invoice_number_seq'";
        auto seq = co_await c.async_execute(seq_sql);
        EXPECT_EQ(text_rows(seq), (std::vector<std::string>{"1000|1000|999999|1|1"}));
        const std::string cols_sql =
            "select table_name::text, column_name::text, is_identity::text, coalesce(identity_generation::text, ''), "
            "is_generated::text, coalesce(generation_expression::text, '') from information_schema.columns "
            "where table_name = 'products' and column_name in ('id', 'price_with_tax') order by column_name";
        auto cols = co_await c.async_execute(cols_sql);
        EXPECT_EQ(text_rows(cols), (std::vector<std::string>{"products|id|YES|ALWAYS|NEVER|",
                                                              "products|price_with_tax|NO||ALWAYS|(price * 1.2)"}));
        const std::string at_sql = "select format_type(atttypid, atttypmod) from pg_attribute "
                                   "where attrelid = 'audit.events'::regclass and attname = 'at'";
        auto at = co_await c.async_execute(at_sql);
        EXPECT_EQ(text_rows(at), (std::vector<std::string>{"timestamp(3) with time zone"}));

        // The views.
        const std::string views_sql = "select 'view|' || viewname from pg_views where schemaname = 'public' union all "
                                      "select 'materialized|' || matviewname from pg_matviews where schemaname = 'public' order by 1";
        auto views = co_await c.async_execute(views_sql);
        EXPECT_EQ(text_rows(views), (std::vector<std::string>{"materialized|post_stats", "view|active_users"}));

        // The constraints work. What the user sees:
        //   ERROR 23514: new row for relation "users" violates check constraint "users_age_check"
        std::string what, state;
        try {
            const std::string bad = "insert into users (email, age) values ('a@example.com', -1)";
            co_await c.async_simple_query(bad);
        } catch (const error_with_diagnostics& e) {
            what = e.what();
            state = e.sqlstate();
        }
        EXPECT_EQ(state, "23514");
        EXPECT_NE(what.find("new row for relation \"users\" violates check constraint \"users_age_check\""), std::string::npos)
            << what;
        //   ERROR 23505: duplicate key value violates unique constraint "tags_name_lower_idx"
        what.clear();
        state.clear();
        try {
            const std::string dup = "insert into tags (name) values ('Rust'), ('rust')";
            co_await c.async_simple_query(dup);
        } catch (const error_with_diagnostics& e) {
            what = e.what();
            state = e.sqlstate();
        }
        EXPECT_EQ(state, "23505");
        EXPECT_NE(what.find("duplicate key value violates unique constraint \"tags_name_lower_idx\""), std::string::npos) << what;
        //   ERROR 23503: ... violates foreign key constraint "comments_parent_id_fk"
        what.clear();
        state.clear();
        try {
            const std::string orphan = "insert into users (email) values ('b@example.com');"
                                       "insert into posts (author_id, title, slug) select id, 't', 's' from users;"
                                       "insert into comments (post_id, parent_id, body) select id, 999, 'x' from posts";
            co_await c.async_simple_query(orphan);
        } catch (const error_with_diagnostics& e) {
            what = e.what();
            state = e.sqlstate();
        }
        EXPECT_EQ(state, "23503");
        EXPECT_NE(what.find("violates foreign key constraint \"comments_parent_id_fk\""), std::string::npos) << what;
    });
}
