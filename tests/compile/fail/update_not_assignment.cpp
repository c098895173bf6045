// Must not compile: update not assignment.
// EXPECT: update().set() takes assignments
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = update(users).set(users.name);
}
