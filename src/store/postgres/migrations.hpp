#pragma once
// The PostgreSQL schema, as numbered migrations (the same numbers as SQLite's), applied at open under an advisory
// lock so that nodes starting together migrate once.
#include "store/postgres/pg_connection.hpp"

namespace repute::store::postgres {

// Applies every migration the database has not seen, each in its own transaction.
Status migrate(PgConnection& connection);

}  // namespace repute::store::postgres
