// Must not compile: order by foreign column.
// EXPECT: order_by(): a column of a table that is not in this query's from()
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = select().from(users).order_by(desc(posts.id));
}
