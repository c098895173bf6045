// Must not compile: update twice same column.
// EXPECT: a column is assigned twice
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = update(users).set(users.name = "a", users.name = "b");
}
