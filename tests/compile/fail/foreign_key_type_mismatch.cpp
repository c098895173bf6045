// Must not compile: a foreign key from a text column to an integer column.
// EXPECT: sleet: foreign_key(): a column and the column it references have different types
#include "compat_schema.hpp"

namespace demo {
namespace pg = sleet::pg;
template <template <class> class C>
struct notes_columns {
    C<pg::serial<"id", pg::primary_key>> id{};
    C<pg::text<"author">> author{};
};
using notes_t = sleet::table<"notes", notes_columns>;
inline auto table_extras(const notes_t& t)
{
    return sleet::extras(sleet::foreign_key(sleet::columns(t.author), sleet::columns(compat::users.id)));
}
} // namespace demo

void snippet()
{
    auto model = sleet::ddl::describe_table(demo::notes_t{});
}
