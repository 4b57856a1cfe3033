#pragma once
// Numbered schema migrations, applied in order, each in its own transaction, once: the runner both back ends share
// (each has its own list, under the same numbers).
#include <span>
#include <string>

#include "store/sql/connection.hpp"

namespace repute::store::sql {

// One step of a schema; a released migration never changes.
struct Migration {
  int version;
  const char* sql;
};

// Applies every migration the database has not recorded in schema_migrations; begin opens each one's transaction.
Status apply_migrations(Connection& connection, std::span<const Migration> migrations, const std::string& begin);

}  // namespace repute::store::sql
