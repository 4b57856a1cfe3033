#pragma once
// The database a test runs on. One suite serves both back ends: REPUTE_TEST_BACKEND=postgres runs it on the
// PostgreSQL server at REPUTE_TEST_POSTGRES (a fresh database per test, dropped at the end of the test
// program); anything else runs it on SQLite files. Without a server the PostgreSQL run is skipped with one
// line, unless REPUTE_REQUIRE_POSTGRES=1 (CI), where it fails.
#include <string>

namespace repute::testing {

// True when this run is the PostgreSQL one.
bool on_postgres();

// The URL of the test's database whose SQLite file would be `sqlite_path`. The same path gives the same
// database for the whole test program (so a test can reopen it); on PostgreSQL each new path is a new,
// empty database.
std::string database_url(const std::string& sqlite_path);

}  // namespace repute::testing
