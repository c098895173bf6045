// Must not compile: assign wrong type.
// EXPECT: the value assigned to this column has the wrong C++ type
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = update(users).set(users.email = 42);
}
