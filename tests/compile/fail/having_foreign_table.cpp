// Must not compile: having foreign table.
// EXPECT: having(): the condition uses a column of a table that is not in this query's from()
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = select(users.id).from(users).group_by(users.id).having(gt(posts.id, 1));
}
