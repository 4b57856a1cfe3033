// The transactional outbox (DESIGN §1 step 5): a scan's reputation change, its event, its deliveries and the
// account's new state commit together or not at all. A second connection to the same SQLite file installs a
// trigger that makes one of the writes fail; nothing of that scan may remain. Dropping the trigger, the next
// scan commits all of it.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "unit/support/temp_dir.hpp"
#include "core/ids.hpp"
#include "scan/apply_scan.hpp"

namespace repute::scan {
namespace {

constexpr core::Micros kNow = 1'795'773'600'000'000;  // 2026-11-27T10:00:00Z
constexpr core::Micros kSecond = core::kMicrosPerSecond;

using repute::test_support::TempDir;

// A connection of the test's own to the store's file, for changing the schema behind the store's back.
class SideConnection {
 public:
  explicit SideConnection(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      throw std::runtime_error("cannot open " + path);
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  SideConnection(const SideConnection&) = delete;
  SideConnection& operator=(const SideConnection&) = delete;
  ~SideConnection() { sqlite3_close(db_); }

  void exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      const std::string text = message ? message : "unknown error";
      sqlite3_free(message);
      throw std::runtime_error(sql + ": " + text);
    }
  }

  // Makes every `operation` on table fail with "injected" until heal().
  void break_writes(const std::string& operation, const std::string& table) {
    exec("CREATE TRIGGER injected_failure BEFORE " + operation + " ON " + table +
         " BEGIN SELECT RAISE(ABORT, 'injected'); END");
  }
  void heal() { exec("DROP TRIGGER injected_failure"); }

  // The number of rows of table.
  std::int64_t count(const std::string& table) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, ("SELECT COUNT(*) FROM " + table).c_str(), -1, &statement, nullptr) != SQLITE_OK) {
      throw std::runtime_error(sqlite3_errmsg(db_));
    }
    sqlite3_step(statement);
    const std::int64_t rows = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    return rows;
  }

 private:
  sqlite3* db_ = nullptr;
};

core::ScanResult content(const char* rating) {
  core::ScanResult result;
  result.rating = rating;
  result.acceptance_rate = "0.91";
  result.ontime_rate = "0.97";
  result.achievements = {{2, "Fast Delivery", "https://badges.example/fast.png", "Quick", 5}};
  return result;
}

ReadSource reads(const core::ScanResult& result) {
  return [result](const core::Account&, const std::optional<core::Reputation>&) { return ScanOutcome{result, "", ""}; };
}

class AtomicityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions options;
    options.synchronous_full = false;
    auto opened = store::open_store("sqlite://" + path_, options);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    side_ = std::make_unique<SideConnection>(path_);
    must(store_->write_and_wait([&](store::WriteTx& tx) -> core::Status {
      auto tenant = tx.ensure_tenant("acme", kNow);
      if (!tenant) return tenant.error();
      tenant_ = tenant->id;
      core::User user{core::new_uuid(), tenant_, std::nullopt, "{}", kNow};
      user_ = user.id;
      if (auto status = tx.insert_user(user); !status) return status;
      for (const std::vector<std::string>& events :
           {std::vector<std::string>{"*"}, std::vector<std::string>{"reputations.added", "reputations.updated"}}) {
        core::Webhook webhook;
        webhook.id = core::new_uuid();
        webhook.tenant_id = tenant_;
        webhook.events = events;
        webhook.name = "hook";
        webhook.url = "https://hooks.example.com/x";
        webhook.created_at = webhook.updated_at = kNow;
        if (auto status = tx.insert_webhook(webhook); !status) return status;
      }
      return core::ok_status();
    }));
    account_ = make_account();
  }

  std::string make_account() {
    core::Account account;
    account.id = core::new_uuid();
    account.tenant_id = tenant_;
    account.user_id = user_;
    account.employer = "uber";
    account.refresh_frequency = 60;
    account.created_at = account.updated_at = account.connection_updated_at = kNow;
    account.next_scan_at = kNow;
    must(store_->write_and_wait([&](store::WriteTx& tx) { return tx.insert_account(account); }));
    return account.id;
  }

  // Runs apply_scan as the engine does: one unit of work; the store's verdict on it.
  core::Status scan(const std::string& account_id, const core::ScanResult& result, core::Micros now) {
    return store_->write_and_wait([&](store::WriteTx& tx) -> core::Status {
      auto applied = apply_scan(tx, tenant_, account_id, reads(result), now, 0.0);
      return applied ? core::ok_status() : core::Status(applied.error());
    });
  }

  core::Account account(const std::string& id) {
    auto found = store_->find_account(tenant_, id);
    if (!found || !*found) throw std::runtime_error("no account " + id);
    return **found;
  }

  std::vector<core::Reputation> reputations() {
    auto page = store_->list_reputations(tenant_, {}, {200, std::nullopt});
    if (!page) throw std::runtime_error(page.error().message);
    return page->items;
  }

  std::vector<core::Event> events() {
    auto page = store_->list_events(tenant_, {}, {200, std::nullopt});
    if (!page) throw std::runtime_error(page.error().message);
    return page->items;
  }

  // The account exactly as it was created: never scanned.
  void expect_never_scanned(const std::string& id) {
    const core::Account untouched = account(id);
    EXPECT_EQ(untouched.scan_count, 0);
    EXPECT_EQ(untouched.scanned_at, std::nullopt);
    EXPECT_EQ(untouched.connection_status, "connecting");
    EXPECT_EQ(untouched.connection_updated_at, kNow);
    EXPECT_EQ(untouched.next_scan_at, kNow);
    EXPECT_EQ(untouched.updated_at, kNow);
  }

  // Everything a successful first scan commits.
  void expect_first_scan_committed(const std::string& id, core::Micros at) {
    const auto stored = reputations();
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0].account_id, id);
    const auto emitted = events();
    ASSERT_EQ(emitted.size(), 1u);
    EXPECT_EQ(emitted[0].type, "reputations.added");
    EXPECT_EQ(emitted[0].reputation_id, stored[0].id);
    auto counts = store_->count_deliveries(emitted[0].id);
    ASSERT_TRUE(counts);
    EXPECT_EQ(counts->pending, 2);
    EXPECT_EQ(side_->count("deliveries"), 2);
    const core::Account scanned = account(id);
    EXPECT_EQ(scanned.scan_count, 1);
    EXPECT_EQ(scanned.scanned_at, at);
    EXPECT_EQ(scanned.connection_status, "connected");
    EXPECT_EQ(scanned.next_scan_at, at + 60 * kSecond);
  }

  static void must(const core::Status& status) {
    if (!status) throw std::runtime_error(status.error().message);
  }

  TempDir dir_;
  std::string path_ = (dir_.path() / "repute.db").string();
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<SideConnection> side_;
  std::string tenant_;
  std::string user_;
  std::string account_;
};

// Each place a first scan can fail: after the reputation (events), after the event (deliveries), and after
// the deliveries, at the account's own update.
struct Injection {
  const char* operation;
  const char* table;
};

class AtomicityOfTheFirstScan : public AtomicityTest, public ::testing::WithParamInterface<Injection> {};

TEST_P(AtomicityOfTheFirstScan, FailureBetweenTheWritesCommitsNoneOfThem) {
  side_->break_writes(GetParam().operation, GetParam().table);
  const core::Status status = scan(account_, content("4.9"), kNow + kSecond);
  ASSERT_FALSE(status) << "the injected failure must fail the unit of work";
  EXPECT_NE(status.error().message.find("injected"), std::string::npos) << status.error().message;

  EXPECT_TRUE(reputations().empty());
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(side_->count("reputations"), 0);
  EXPECT_EQ(side_->count("events"), 0);
  EXPECT_EQ(side_->count("deliveries"), 0);
  expect_never_scanned(account_);

  side_->heal();
  const core::Status retried = scan(account_, content("4.9"), kNow + 2 * kSecond);
  ASSERT_TRUE(retried) << retried.error().message;
  expect_first_scan_committed(account_, kNow + 2 * kSecond);
}

INSTANTIATE_TEST_SUITE_P(Writes, AtomicityOfTheFirstScan,
                         ::testing::Values(Injection{"INSERT", "events"}, Injection{"INSERT", "deliveries"},
                                           Injection{"UPDATE", "accounts"}),
                         [](const ::testing::TestParamInfo<Injection>& info) {
                           return std::string(info.param.operation) + "_" + info.param.table;
                         });

TEST_F(AtomicityTest, FailedUpdateKeepsTheOldReputationAndEmitsNothing) {
  ASSERT_TRUE(scan(account_, content("4.9"), kNow + kSecond));
  const core::Reputation before = reputations().at(0);

  side_->break_writes("INSERT", "deliveries");
  ASSERT_FALSE(scan(account_, content("4.2"), kNow + 2 * kSecond));
  const core::Reputation kept = reputations().at(0);
  EXPECT_EQ(kept.content, before.content);
  EXPECT_EQ(kept.updated_at, before.updated_at);
  EXPECT_EQ(events().size(), 1u);
  EXPECT_EQ(side_->count("deliveries"), 2);
  EXPECT_EQ(account(account_).scan_count, 1);
  EXPECT_EQ(account(account_).scanned_at, kNow + kSecond);

  side_->heal();
  ASSERT_TRUE(scan(account_, content("4.2"), kNow + 3 * kSecond));
  const core::Reputation updated = reputations().at(0);
  EXPECT_EQ(updated.id, before.id);
  EXPECT_EQ(updated.content.rating, "4.2");
  EXPECT_EQ(updated.updated_at, kNow + 3 * kSecond);
  const auto emitted = events();
  ASSERT_EQ(emitted.size(), 2u);
  EXPECT_EQ(emitted[0].type, "reputations.updated");
  auto counts = store_->count_deliveries(emitted[0].id);
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->pending, 2);
  EXPECT_EQ(side_->count("deliveries"), 4);
  EXPECT_EQ(account(account_).scan_count, 2);
}

// Group commit puts many units of work in one transaction: the failing one must take only itself down.
TEST_F(AtomicityTest, AFailingScanInAGroupCommitDoesNotTakeItsNeighboursDown) {
  const std::string neighbour = make_account();
  side_->break_writes("INSERT", "events");

  // Hold the writer so that both scans queue behind it and are committed in the same batch.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<core::Status> blocker_done;
  store_->write(
      [released](store::WriteTx&) {
        released.wait();
        return core::ok_status();
      },
      [&](core::Status status) { blocker_done.set_value(std::move(status)); });

  std::promise<core::Status> failing_done;
  store_->write(
      [&](store::WriteTx& tx) -> core::Status {
        auto applied = apply_scan(tx, tenant_, account_, reads(content("4.9")), kNow + kSecond, 0.0);
        return applied ? core::ok_status() : core::Status(applied.error());
      },
      [&](core::Status status) { failing_done.set_value(std::move(status)); });
  // The neighbour's unit of work emits no event (a failure outcome), so the trigger does not touch it.
  std::promise<core::Status> neighbour_done;
  store_->write(
      [&](store::WriteTx& tx) -> core::Status {
        auto applied = apply_scan(
            tx, tenant_, neighbour,
            [](const core::Account&, const std::optional<core::Reputation>&) {
              return ScanOutcome{std::nullopt, "source_http_status", "the source answered HTTP 502"};
            },
            kNow + kSecond, 0.0);
        return applied ? core::ok_status() : core::Status(applied.error());
      },
      [&](core::Status status) { neighbour_done.set_value(std::move(status)); });
  release.set_value();

  EXPECT_TRUE(blocker_done.get_future().get());
  EXPECT_FALSE(failing_done.get_future().get());
  EXPECT_TRUE(neighbour_done.get_future().get());
  expect_never_scanned(account_);
  EXPECT_TRUE(reputations().empty());
  const core::Account scanned = account(neighbour);
  EXPECT_EQ(scanned.scan_count, 1);
  EXPECT_EQ(scanned.connection_status, "error");
  EXPECT_EQ(scanned.connection_error_code, "source_http_status");
}

}  // namespace
}  // namespace repute::scan
