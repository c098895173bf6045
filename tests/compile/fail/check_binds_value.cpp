// Must not compile: a check constraint whose fragment would bind a value (DDL has no parameters).
// EXPECT: sleet: a check, index expression or index where cannot bind values
#include "compat_schema.hpp"

void snippet()
{
    int limit = 18;
    auto c = sleet::check("users_adult", sleet::sql<"{} >= {}">(compat::users.age, limit));
}
