// Must not compile: sum of text.
// EXPECT: sum()/avg() apply to numeric expressions
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = select(named<"s">(sum(users.email))).from(users);
}
