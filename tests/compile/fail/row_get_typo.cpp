// Must not compile: row get typo.
// EXPECT: the row has no field with this name
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    decltype(select(users.id, users.email).from(users))::row_type r; auto v = r.get<"emial">(); (void)v;
}
