// Must not compile: a table whose extra config declares two primary keys.
// EXPECT: sleet: table_extras() declares more than one primary_key
#include "compat_schema.hpp"

namespace demo {
namespace pg = sleet::pg;
template <template <class> class C>
struct pairs_columns {
    C<pg::integer<"a", pg::not_null>> a{};
    C<pg::integer<"b", pg::not_null>> b{};
};
using pairs_t = sleet::table<"pairs", pairs_columns>;
inline auto table_extras(const pairs_t& t)
{
    return sleet::extras(sleet::primary_key(t.a, t.b), sleet::primary_key(t.b).name("pairs_b_pk"));
}
} // namespace demo

void snippet()
{
    auto model = sleet::ddl::describe_table(demo::pairs_t{});
}
