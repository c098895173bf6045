// Must not compile: where twice.
// EXPECT: where() is given twice
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = select().from(users).where(eq(users.id, 1)).where(eq(users.id, 2));
}
