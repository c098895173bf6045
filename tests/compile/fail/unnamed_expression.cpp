// Must not compile: unnamed expression.
// EXPECT: a selected expression needs a field name
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = select(count()).from(users);
}
