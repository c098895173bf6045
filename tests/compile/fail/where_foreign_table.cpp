// Must not compile: where foreign table.
// EXPECT: where(): the condition uses a column of a table that is not in this query's from()
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = select().from(users).where(eq(posts.id, 1));
}
