// sleet::query — every Asio-free part of the ORM: schema DSL, expressions, select / insert /
// update / delete builders, to_sql(). (<sleet/orm.hpp> adds sleet::database, which runs them.)
#pragma once

#include <sleet/query/clause.hpp>
#include <sleet/query/common.hpp>
#include <sleet/query/insert.hpp>
#include <sleet/query/operators.hpp>
#include <sleet/query/row.hpp>
#include <sleet/query/select.hpp>
#include <sleet/query/update.hpp>
#include <sleet/schema/column.hpp>
#include <sleet/schema/table.hpp>
#include <sleet/sql/expression.hpp>
#include <sleet/sql/fixed_string.hpp>
#include <sleet/sql/render.hpp>
