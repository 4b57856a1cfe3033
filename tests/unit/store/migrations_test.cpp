// Schema migrations: applied once, recorded in schema_migrations, all or nothing, idempotent on reopen.
#include "unit/support/temp_dir.hpp"
#include "store/sqlite/migrations.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/time.hpp"
#include "store/store.hpp"

namespace repute::store::sqlite {
namespace {

using repute::test_support::TempDir;

class MigrationsTest : public ::testing::Test {
 protected:
  std::string path() const { return (dir_.path() / "repute.db").string(); }

  std::unique_ptr<Connection> connect() {
    auto opened = Connection::open(path(), true, false);
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    return opened ? std::move(*opened) : nullptr;
  }

  // (version, applied_at) rows of schema_migrations, by version.
  static std::vector<std::pair<std::int64_t, std::int64_t>> recorded(Connection& db) {
    std::vector<std::pair<std::int64_t, std::int64_t>> rows;
    auto statement = db.prepare("SELECT version, applied_at FROM schema_migrations ORDER BY version");
    EXPECT_TRUE(statement.ok()) << statement.error().message;
    if (!statement) return rows;
    for (;;) {
      auto row = statement->step();
      EXPECT_TRUE(row.ok()) << row.error().message;
      if (!row.ok() || !*row) return rows;
      rows.emplace_back(statement->integer(0), statement->integer(1));
    }
  }

  static std::set<std::string> tables(Connection& db) {
    std::set<std::string> names;
    auto statement = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'");
    EXPECT_TRUE(statement.ok()) << statement.error().message;
    if (!statement) return names;
    for (;;) {
      auto row = statement->step();
      if (!row.ok() || !*row) return names;
      names.insert(statement->text(0));
    }
  }

  TempDir dir_;
};

TEST_F(MigrationsTest, CreatesTheSchemaAndRecordsEachVersion) {
  auto db = connect();
  ASSERT_TRUE(db);
  const core::Micros before = core::system_clock().now();
  const Status migrated = migrate(*db);
  ASSERT_TRUE(migrated.ok()) << migrated.error().message;
  const core::Micros after = core::system_clock().now();

  const std::set<std::string> names = tables(*db);
  for (const char* table : {"schema_migrations", "tenants", "api_keys", "settings", "webhooks"}) {
    EXPECT_EQ(names.count(table), 1u) << table;
  }
  const auto rows = recorded(*db);
  ASSERT_FALSE(rows.empty());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].first, static_cast<std::int64_t>(i + 1)) << "versions are numbered 1, 2, 3...";
    EXPECT_GE(rows[i].second, before);
    EXPECT_LE(rows[i].second, after);
  }
}

TEST_F(MigrationsTest, RunningTwiceChangesNothing) {
  auto db = connect();
  ASSERT_TRUE(db);
  ASSERT_TRUE(migrate(*db).ok());
  ASSERT_TRUE(db->exec("INSERT INTO tenants(id, name, created_at) VALUES ('t1', 'acme', 1)").ok());
  const auto first = recorded(*db);
  const auto schema = tables(*db);

  const Status again = migrate(*db);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(recorded(*db), first) << "a migration was applied or recorded a second time";
  EXPECT_EQ(tables(*db), schema);
  auto count = db->prepare("SELECT COUNT(*) FROM tenants");
  ASSERT_TRUE(count.ok());
  ASSERT_TRUE(count->step().ok());
  EXPECT_EQ(count->integer(0), 1) << "migrating again lost data";
}

TEST_F(MigrationsTest, OpeningTheStoreAgainDoesNotReapplyMigrations) {
  std::vector<std::pair<std::int64_t, std::int64_t>> first;
  for (int i = 0; i < 3; ++i) {
    auto store = open_store("sqlite://" + path(), {.synchronous_full = false});
    ASSERT_TRUE(store.ok()) << "open " << i << ": " << store.error().message;
    ASSERT_TRUE((*store)->ping().ok());
    (*store)->close();
    auto db = connect();
    ASSERT_TRUE(db);
    if (i == 0) first = recorded(*db);
    EXPECT_EQ(recorded(*db), first) << "open " << i;
  }
  EXPECT_FALSE(first.empty());
}

TEST_F(MigrationsTest, AFailedMigrationLeavesNoPartOfItBehind) {
  auto db = connect();
  ASSERT_TRUE(db);
  // A table in the way of migration 1's last CREATE TABLE: its earlier tables must be rolled back.
  ASSERT_TRUE(db->exec("CREATE TABLE webhooks (x INTEGER)").ok());
  const Status failed = migrate(*db);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("migration 1 failed"), std::string::npos) << failed.error().message;
  const auto names = tables(*db);
  EXPECT_EQ(names.count("tenants"), 0u);
  EXPECT_EQ(names.count("api_keys"), 0u);
  EXPECT_EQ(names.count("settings"), 0u);
  EXPECT_TRUE(recorded(*db).empty());

  // Once the obstacle is gone, the same database migrates.
  ASSERT_TRUE(db->exec("DROP TABLE webhooks").ok());
  const Status retried = migrate(*db);
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_FALSE(recorded(*db).empty());
  EXPECT_EQ(tables(*db).count("tenants"), 1u);
}

TEST_F(MigrationsTest, TheStoreRefusesADatabaseItCannotMigrate) {
  {
    auto db = connect();
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("CREATE TABLE webhooks (x INTEGER)").ok());
  }
  auto store = open_store("sqlite://" + path(), {.synchronous_full = false});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("migration 1 failed"), std::string::npos) << store.error().message;
}

}  // namespace
}  // namespace repute::store::sqlite
