// sleet ORM umbrella: schema DSL, query builders and sleet::database (which runs them on a
// connection). Translation units that only build or render queries can include the Asio-free
// <sleet/query/builders.hpp> instead.
#pragma once

#include <sleet/query/builders.hpp>
#include <sleet/query/execute.hpp>
#include <sleet/schema/constraints.hpp>
#include <sleet/schema/ddl.hpp>
