// Must not compile: like on integer.
// EXPECT: like()/ilike() apply to text columns
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = select().from(users).where(like(users.age, "1%"));
}
