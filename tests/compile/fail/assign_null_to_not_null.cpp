// Must not compile: assign null to not null.
// EXPECT: NULL assigned to a NOT NULL column
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = update(users).set(users.email = std::nullopt);
}
