// Must not compile: delete returning foreign.
// EXPECT: returning(): a column of another table
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = delete_(users).returning(users.id, tags.id);
}
