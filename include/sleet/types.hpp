// sleet::types — every built-in C++ ⇄ PostgreSQL mapping, decode_field and param_list.
// (Parsed JSON through taoJSON is opt-in: include <sleet/types/tao_json.hpp>.)
#pragma once

#include <sleet/types/pg_type.hpp>
#include <sleet/types/field.hpp>
#include <sleet/types/params.hpp>

#include <sleet/types/bool.hpp>
#include <sleet/types/bytea.hpp>
#include <sleet/types/datetime.hpp>
#include <sleet/types/float.hpp>
#include <sleet/types/integer.hpp>
#include <sleet/types/json.hpp>
#include <sleet/types/text.hpp>
#include <sleet/types/uuid.hpp>
#include <sleet/types/array.hpp>
#include <sleet/types/enum.hpp>
#include <sleet/types/money.hpp>
#include <sleet/types/network.hpp>
#include <sleet/types/numeric.hpp>
