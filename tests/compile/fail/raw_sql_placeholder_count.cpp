// Must not compile: raw sql placeholder count.
// EXPECT: the number of {} placeholders differs
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto f = sql<"{} = {}", bool>(users.id); (void)f;
}
