// Must not compile: row get ambiguous.
// EXPECT: two selected fields have this name
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    decltype(select(users.id, named<"id">(count())).from(users))::row_type r; auto v = r.get<"id">(); (void)v;
}
