// Must not compile: insert omits required.
// EXPECT: omits a NOT NULL column that has no default
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = insert(users).values({.name = "no email"});
}
