// Must not compile: in array wrong type.
// EXPECT: in_array(): the list's values have the wrong C++ type
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    std::vector<std::string> v; auto q = select().from(users).where(in_array(users.id, v));
}
