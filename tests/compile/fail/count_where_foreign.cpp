// Must not compile: count where foreign.
// EXPECT: count(table, condition): the condition uses a column of another table
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = sleet::count(users, eq(posts.id, 1));
}
