// Must not compile: update returning foreign.
// EXPECT: returning(): a column of another table
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = update(users).set(users.name = "a").returning(tags.name);
}
