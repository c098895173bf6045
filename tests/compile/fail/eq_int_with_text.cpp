// Must not compile: eq int with text.
// EXPECT: comparing a column (or expression) with a value of the wrong C++ type
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = select().from(users).where(eq(users.id, "42"));
}
