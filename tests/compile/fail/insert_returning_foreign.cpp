// Must not compile: insert returning foreign.
// EXPECT: returning(): a column of another table
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = insert(users).values({.email = "a"}).returning(posts.id);
}
