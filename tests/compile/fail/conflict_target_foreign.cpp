// Must not compile: conflict target foreign.
// EXPECT: on_conflict_do_update(): a target column of another table
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = insert(users).values({.email = "a"}).on_conflict_do_update(posts.slug, users.name = "x");
}
