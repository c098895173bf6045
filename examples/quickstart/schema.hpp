// The quickstart's schema, declared once in C++ (it matches drizzle/0000_quickstart.sql).
#pragma once

#include <sleet/orm.hpp>

namespace app {
namespace pg = sleet::pg;

template <template <class> class C>
struct users_columns {
    C<pg::serial<"id", pg::primary_key>> id{};
    C<pg::varchar<"email", 255, pg::not_null, pg::unique>> email{};
    C<pg::text<"name">> name{};
    C<pg::timestamp<"created_at", pg::not_null, pg::default_now>> created_at{};
};
using users_t = sleet::table<"users", users_columns>;
inline constexpr users_t users{};

using user = sleet::select_model<users_t>;      // id, email, optional name, created_at
using new_user = sleet::insert_model<users_t>;  // email required; the rest optional

} // namespace app
