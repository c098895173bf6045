// Must not compile: conflict set foreign.
// EXPECT: on_conflict_do_update(): an assignment to a column of another table
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = insert(users).values({.email = "a"}).on_conflict_do_update(users.email, posts.title = "x");
}
