// Must compile: the correct spellings of the compile-fail snippets (a control for the harness).
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto a = select().from(users).where(eq(users.id, 42));
    auto b = select(users.id, users.email).from(users).order_by(desc(users.id)).group_by(users.id, users.email);
    auto c = insert(users).values({.email = "a"}).returning(users.id);
    auto d = update(users).set(users.name = "x", users.age = std::nullopt).returning(users.name);
    auto e = delete_(users).where(like(users.email, "%x")).returning();
    decltype(select(users.id, users.email).from(users))::row_type r;
    auto v = r.get<"email">();
    std::vector<int> ids;
    auto f = select(named<"s">(sum(users.age))).from(users).where(in_array(users.id, ids));
    auto g = sql<"{} = {}", bool>(users.id, 1);
    (void)a; (void)b; (void)c; (void)d; (void)e; (void)v; (void)f; (void)g;
}
