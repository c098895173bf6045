// The compat schema (../shared/compat/migrations/step1/schema.ts) in sleet's DSL: the schema
// every entry of queries.json is rendered against.
#pragma once

#include <sleet/query/builders.hpp>

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

template <template <class> class C>
struct tags_columns {
    C<pg::serial<"id", pg::primary_key>> id{};
    C<pg::varchar<"name", 64, pg::not_null>> name{};
};
using tags_t = sleet::table<"tags", tags_columns>;
inline constexpr tags_t tags{};

template <template <class> class C>
struct post_tags_columns {
    C<pg::integer<"post_id", pg::not_null, pg::references<"posts", "id", pg::on_delete::cascade>>> post_id{};
    C<pg::integer<"tag_id", pg::not_null, pg::references<"tags", "id", pg::on_delete::cascade>>> tag_id{};
    C<pg::timestamp<"added_at", pg::not_null, pg::default_now>> added_at{};
};
using post_tags_t = sleet::table<"post_tags", post_tags_columns>;
inline constexpr post_tags_t post_tags{};

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

} // namespace compat
