// Must not compile: where not boolean.
// EXPECT: where() takes a boolean condition
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = select().from(users).where(users.name);
}
