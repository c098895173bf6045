// Must not compile: group by foreign column.
// EXPECT: group_by(): a column of a table that is not in this query's from()
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = select(users.id).from(users).group_by(posts.id);
}
