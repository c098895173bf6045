// Must not compile: array op on scalar.
// EXPECT: apply to array columns
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    std::vector<std::string> v; auto q = select().from(users).where(array_contains(users.name, v));
}
