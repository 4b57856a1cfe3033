#pragma once
// The SQLite schema, as numbered migrations applied in order at open.
#include "store/sqlite/connection.hpp"

namespace repute::store::sqlite {

// Applies every migration the database has not seen, each in its own transaction.
Status migrate(Connection& connection);

}  // namespace repute::store::sqlite
