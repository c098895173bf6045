// Must not compile: an index of a table naming a column of another table.
// EXPECT: sleet: a table-level constraint or index names a column of another table
#include "compat_schema.hpp"

namespace demo {
namespace pg = sleet::pg;
template <template <class> class C>
struct notes_columns {
    C<pg::serial<"id", pg::primary_key>> id{};
    C<pg::text<"body">> body{};
};
using notes_t = sleet::table<"notes", notes_columns>;
inline auto table_extras(const notes_t&)
{
    return sleet::extras(sleet::index("notes_name_idx").on(compat::users.name)); // users.name is not a column of notes
}
} // namespace demo

void snippet()
{
    auto model = sleet::ddl::describe_table(demo::notes_t{});
}
