// Must not compile: gt int with double.
// EXPECT: comparing a column (or expression) with a value of the wrong C++ type
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = select().from(users).where(gt(users.age, 2.5));
}
