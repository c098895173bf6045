// Must not compile: insert generated column.
// EXPECT: this column is GENERATED ALWAYS
#include "compat_schema.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace sleet;
using namespace compat;

void snippet()
{
    auto q = insert(products).values({.id = 5, .sku = "x", .name = "n", .price = sleet::numeric(1)});
}
