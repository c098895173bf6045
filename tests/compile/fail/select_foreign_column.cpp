// Must not compile: select foreign column.
// EXPECT: a selected column belongs to a table that is not in this query's from()
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = select(users.id, posts.title).from(users);
}
