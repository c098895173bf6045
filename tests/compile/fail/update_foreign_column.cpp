// Must not compile: update foreign column.
// EXPECT: an assignment to a column of another table than the one updated
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = update(users).set(posts.title = "x");
}
