// The compat schema (../shared/compat/migrations/step1/schema.ts) in sleet's DSL: the schema
// every entry of queries.json is rendered against, with its table-level constraints and indexes
// (each table's `table_extras`, drizzle's third argument of pgTable), its sequence and its
// views. The tables step 2 adds (bookmarks, audit.events) are declared at the end; step 2's
// users.bio is not.
#pragma once

#include <sleet/query/builders.hpp>
#include <sleet/schema/constraints.hpp>
#include <sleet/schema/ddl.hpp>

#include <string_view>
#include <utility>

namespace compat {

enum class user_role { admin, editor, viewer };
enum class post_status { draft, published };

} // namespace compat

template <> struct sleet::pg_enum<compat::user_role> {
    static constexpr std::string_view type_name = "user_role";
    static constexpr std::pair<compat::user_role, std::string_view> labels[] = {
        {compat::user_role::admin, "admin"}, {compat::user_role::editor, "editor"}, {compat::user_role::viewer, "viewer"}};
};
template <> struct sleet::pg_enum<compat::post_status> {
    static constexpr std::string_view type_name = "post_status";
    static constexpr std::pair<compat::post_status, std::string_view> labels[] = {
        {compat::post_status::draft, "draft"}, {compat::post_status::published, "published"}};
};

namespace compat {
namespace pg = sleet::pg;

template <template <class> class C>
struct users_columns {
    C<pg::serial<"id", pg::primary_key>> id{};
    C<pg::varchar<"email", 255, pg::not_null, pg::unique>> email{};
    C<pg::text<"name">> name{};
    C<pg::boolean<"is_active", pg::not_null, pg::default_value<true>>> is_active{};
    C<pg::integer<"age">> age{};
    C<pg::enum_<"role", user_role, pg::not_null, pg::default_text<"viewer">>> role{};
    C<pg::uuid<"public_id", pg::not_null, pg::default_random>> public_id{};
    C<pg::jsonb<"settings", pg::default_sql<"'{\"theme\":\"light\",\"notifications\":true}'::jsonb">>> settings{};
    C<pg::timestamptz<"created_at", pg::not_null, pg::default_now>> created_at{};
    C<pg::timestamp<"updated_at", pg::on_update_sql<"now()">>> updated_at{};
};
using users_t = sleet::table<"users", users_columns>;
inline constexpr users_t users{};
// (t) => [index('users_role_idx').on(t.role), check('users_age_check', sql`${t.age} IS NULL OR ${t.age} >= 0`)]
inline auto table_extras(const users_t& t)
{
    return sleet::extras(sleet::index("users_role_idx").on(t.role),
                         sleet::check("users_age_check", sleet::sql<"{} IS NULL OR {} >= 0">(t.age, t.age)));
}

template <template <class> class C>
struct posts_columns {
    C<pg::serial<"id", pg::primary_key>> id{};
    C<pg::integer<"author_id", pg::not_null, pg::references<"users", "id", pg::on_delete::cascade>>> author_id{};
    C<pg::varchar<"title", 200, pg::not_null>> title{};
    C<pg::varchar<"slug", 200, pg::not_null>> slug{};
    C<pg::text<"body">> body{};
    C<pg::enum_<"status", post_status, pg::not_null, pg::default_text<"draft">>> status{};
    C<pg::text<"tags", pg::array, pg::not_null, pg::default_sql<"'{}'::text[]">>> tags{};
    C<pg::bigint<"view_count", pg::not_null, pg::default_value<0>>> view_count{};
    C<pg::real<"rating">> rating{};
    C<pg::timestamp<"published_at">> published_at{};
};
using posts_t = sleet::table<"posts", posts_columns>;
inline constexpr posts_t posts{};
inline auto table_extras(const posts_t& t)
{
    return sleet::extras(
        sleet::index("posts_author_idx").on(t.author_id),
        sleet::index("posts_tags_gin_idx").using_("gin", t.tags),
        // index('posts_published_idx').on(t.publishedAt.desc().nullsLast()).where(sql`${t.status} = 'published'`)
        sleet::index("posts_published_idx")
            .on(sleet::nulls_last(sleet::desc(t.published_at)))
            .where(sleet::sql<"{} = 'published'">(t.status)),
        sleet::unique("posts_author_slug_unique").on(t.author_id, t.slug));
}

template <template <class> class C>
struct comments_columns {
    C<pg::bigserial<"id", pg::primary_key>> id{};
    C<pg::integer<"post_id", pg::not_null, pg::references<"posts", "id", pg::on_delete::cascade>>> post_id{};
    C<pg::integer<"author_id", pg::references<"users", "id", pg::on_delete::set_null, pg::on_update::cascade>>> author_id{};
    C<pg::bigint<"parent_id">> parent_id{};
    C<pg::text<"body", pg::not_null>> body{};
    C<pg::timestamp<"created_at", pg::not_null, pg::default_now>> created_at{};
};
using comments_t = sleet::table<"comments", comments_columns>;
inline constexpr comments_t comments{};
inline auto table_extras(const comments_t& t)
{
    return sleet::extras(
        // foreignKey({ columns: [t.parentId], foreignColumns: [t.id], name: 'comments_parent_id_fk' }).onDelete('cascade')
        sleet::foreign_key(sleet::columns(t.parent_id), sleet::columns(t.id))
            .name("comments_parent_id_fk")
            .on_delete(pg::action::cascade),
        sleet::index("comments_post_created_idx").on(t.post_id, sleet::desc(t.created_at)));
}

template <template <class> class C>
struct tags_columns {
    C<pg::serial<"id", pg::primary_key>> id{};
    C<pg::varchar<"name", 64, pg::not_null>> name{};
};
using tags_t = sleet::table<"tags", tags_columns>;
inline constexpr tags_t tags{};
inline auto table_extras(const tags_t& t)
{
    return sleet::extras(sleet::unique_index("tags_name_lower_idx").on(sleet::sql<"lower({})">(t.name)));
}

template <template <class> class C>
struct post_tags_columns {
    C<pg::integer<"post_id", pg::not_null, pg::references<"posts", "id", pg::on_delete::cascade>>> post_id{};
    C<pg::integer<"tag_id", pg::not_null, pg::references<"tags", "id", pg::on_delete::cascade>>> tag_id{};
    C<pg::timestamp<"added_at", pg::not_null, pg::default_now>> added_at{};
};
using post_tags_t = sleet::table<"post_tags", post_tags_columns>;
inline constexpr post_tags_t post_tags{};
inline auto table_extras(const post_tags_t& t)
{
    return sleet::extras(sleet::primary_key(t.post_id, t.tag_id)); // primaryKey({ columns: [t.postId, t.tagId] })
}

template <template <class> class C>
struct products_columns {
    C<pg::integer<"id", pg::primary_key, pg::identity_always>> id{};
    C<pg::char_<"sku", 12, pg::not_null, pg::unique_named<"products_sku_unique">>> sku{};
    C<pg::text<"name", pg::not_null>> name{};
    C<pg::numeric<"price", 10, 2, pg::not_null>> price{};
    C<pg::numeric<"cost", 10, 2>> cost{};
    C<pg::bigint<"stock", pg::not_null, pg::default_sql<"0">>> stock{};
    C<pg::real<"weight_kg">> weight_kg{};
    C<pg::double_precision<"score">> score{};
    C<pg::smallint<"min_order", pg::not_null, pg::default_value<1>>> min_order{};
    C<pg::date<"release_date">> release_date{};
    C<pg::date<"discontinued_on">> discontinued_on{};
    C<pg::interval<"warranty", pg::fields<"month">>> warranty{};
    C<pg::text<"labels", pg::array>> labels{};
    C<pg::json<"metadata">> metadata{};
    C<pg::numeric<"price_with_tax", 12, 2, pg::generated_always_as<"price * 1.2">>> price_with_tax{};
};
using products_t = sleet::table<"products", products_columns>;
inline constexpr products_t products{};
inline auto table_extras(const products_t& t)
{
    return sleet::extras(sleet::check("products_price_positive", sleet::sql<"{} > 0">(t.price)),
                         sleet::check("products_stock_nonnegative", sleet::sql<"{} >= 0">(t.stock)));
}

/// pgSequence('invoice_number_seq', { startWith: 1000, increment: 1, minValue: 1000, maxValue: 999999, cache: 1 })
inline sleet::ddl::sequence invoice_number_seq()
{
    sleet::ddl::sequence s;
    s.name = "invoice_number_seq";
    s.start_with = 1000;
    s.increment = 1;
    s.min_value = 1000;
    s.max_value = 999999;
    s.cache = 1;
    return s;
}

// pgView('active_users').as((qb) => qb.select({ id: users.id, email: users.email, name: users.name })
//     .from(users).where(eq(users.isActive, true)))
inline sleet::ddl::view_def active_users_view()
{
    return sleet::ddl::view("active_users",
                            sleet::select(users.id, users.email, users.name).from(users).where(sleet::eq(users.is_active, true)));
}
// pgMaterializedView('post_stats').as((qb) => qb.select({ authorId: posts.authorId,
//     postCount: sql<number>`count(*)`.as('post_count') }).from(posts).groupBy(posts.authorId))
// (sleet has no `.as(alias)` yet: the alias is written in the fragment's text.)
inline sleet::ddl::view_def post_stats_view()
{
    return sleet::ddl::materialized_view(
        "post_stats", sleet::select(posts.author_id, sleet::named<"post_count">(sleet::sql<"count(*) as \"post_count\"", std::int64_t>()))
                          .from(posts)
                          .group_by(posts.author_id));
}

// ---- step 2 (../shared/compat/migrations/step2/schema.ts): the new tables -------------------

template <template <class> class C>
struct bookmarks_columns {
    C<pg::integer<"user_id", pg::not_null, pg::references<"users", "id", pg::on_delete::cascade>>> user_id{};
    C<pg::integer<"post_id", pg::not_null, pg::references<"posts", "id", pg::on_delete::cascade>>> post_id{};
    C<pg::varchar<"note", 500>> note{};
    C<pg::timestamptz<"created_at", pg::not_null, pg::default_now>> created_at{};
};
using bookmarks_t = sleet::table<"bookmarks", bookmarks_columns>;
inline constexpr bookmarks_t bookmarks{};
inline auto table_extras(const bookmarks_t& t)
{
    return sleet::extras(sleet::primary_key(t.user_id, t.post_id).name("bookmarks_pk"), // primaryKey({ name, columns })
                         sleet::index("bookmarks_post_idx").on(t.post_id));
}

// pgSchema('audit').table('events', {...})
template <template <class> class C>
struct audit_events_columns {
    C<pg::bigserial<"id", pg::primary_key>> id{};
    C<pg::integer<"actor_id", pg::references<"users", "id", pg::on_delete::set_null>>> actor_id{};
    C<pg::text<"action", pg::not_null>> action{};
    C<pg::jsonb<"payload", pg::not_null, pg::default_sql<"'{}'::jsonb">>> payload{};
    C<pg::timestamptz<"at", pg::precision<3>, pg::not_null, pg::default_now>> at{};
};
using audit_events_t = sleet::table<"events", audit_events_columns, "audit">;
inline constexpr audit_events_t audit_events{};

} // namespace compat
