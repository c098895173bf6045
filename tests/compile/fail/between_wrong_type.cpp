// Must not compile: between wrong type.
// EXPECT: between(): the bounds have the wrong C++ type
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = select().from(users).where(between(users.age, "a", "b"));
}
