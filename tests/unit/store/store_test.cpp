// The SQLite store: committed writes are visible to readers; each unit of work in a group commit
// stands or falls alone; close() drains the queue; data survives a reopen.
#include "unit/support/temp_dir.hpp"
#include "store/store.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.hpp"
#include "core/tenant.hpp"
#include "support/test_database.hpp"

namespace repute::store {
namespace {

using core::ErrorCode;
using core::Status;

constexpr core::Micros kNow = 1'795'773'600'000'000;  // 2026-11-27T10:00:00Z

using repute::test_support::TempDir;

// Runs work through the writer and waits; a failure says what the unit of work reported.
::testing::AssertionResult commits(Store& store, Work work) {
  const Status status = store.write_and_wait(std::move(work));
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "the unit of work failed: " << status.error().message;
}

// Waits until a number of done callbacks have run, whatever thread they run on.
class Outcomes {
 public:
  explicit Outcomes(std::size_t expected)
      : statuses_(expected, Status(core::Error{ErrorCode::kInternal, "never done"})) {}

  Done done_for(std::size_t index) {
    return [this, index](Status status) {
      std::lock_guard lock(mutex_);
      statuses_[index] = std::move(status);
      ++calls_;
      changed_.notify_all();
    };
  }
  // True when every callback ran within the timeout.
  bool wait(std::chrono::seconds timeout = std::chrono::seconds(30)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return calls_ >= statuses_.size(); });
  }
  std::size_t calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  const Status& operator[](std::size_t index) const { return statuses_[index]; }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Status> statuses_;
  std::size_t calls_ = 0;
};

class StoreTest : public ::testing::Test {
 protected:
  std::string url() const { return repute::testing::database_url((dir_.path() / "repute.db").string()); }

  std::unique_ptr<Store> open(StoreOptions options = {.synchronous_full = false}) {
    auto opened = open_store(url(), options);
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    return opened ? std::move(*opened) : nullptr;
  }

  // One writer: what is queued behind a held unit shares the next commit (PostgreSQL runs several by default).
  std::unique_ptr<Store> open_one_writer() { return open({.synchronous_full = false, .pool_size = 1}); }

  // A tenant made through the writer.
  core::Tenant make_tenant(Store& store, const std::string& name) {
    core::Tenant tenant;
    const Status status = store.write_and_wait([&](WriteTx& tx) -> Status {
      auto made = tx.ensure_tenant(name, kNow);
      if (!made) return made.error();
      tenant = *made;
      return core::ok_status();
    });
    EXPECT_TRUE(status.ok()) << status.error().message;
    return tenant;
  }

  static core::ApiKey make_key(const std::string& tenant_id) {
    core::ApiKey key;
    key.id = core::new_uuid();
    key.tenant_id = tenant_id;
    key.secret_hash = core::hash_key_secret(key.id);
    key.created_at = kNow;
    return key;
  }

  static core::Webhook make_webhook(const std::string& tenant_id, const std::string& name) {
    core::Webhook webhook;
    webhook.id = core::new_uuid();
    webhook.tenant_id = tenant_id;
    webhook.events = {"reputations.added"};
    webhook.name = name;
    webhook.url = "https://example.com/hook";
    webhook.created_at = kNow;
    webhook.updated_at = kNow;
    return webhook;
  }

  // True when a reader connection sees the key.
  static bool key_visible(Store& store, const std::string& key_id) {
    auto found = store.find_api_key(key_id);
    EXPECT_TRUE(found.ok()) << found.error().message;
    return found.ok() && found->has_value();
  }

  TempDir dir_;
};

TEST_F(StoreTest, OpensCreatingMissingFoldersAndAnswersPing) {
  auto opened = open_store("sqlite://" + (dir_.path() / "a" / "b" / "repute.db").string());
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "a" / "b" / "repute.db"));
  const Status pinged = (*opened)->ping();
  EXPECT_TRUE(pinged.ok()) << pinged.error().message;
}

TEST_F(StoreTest, RefusesUrlsItCannotOpen) {
  for (const std::string& bad : {std::string("mysql://localhost/repute"), std::string("sqlite://"),
                                 std::string("/tmp/repute.db"), std::string("")}) {
    auto opened = open_store(bad);
    ASSERT_FALSE(opened.ok()) << bad;
    EXPECT_EQ(opened.error().code, ErrorCode::kInvalid) << bad;
  }
}

TEST_F(StoreTest, RefusesAPostgresUrlItCannotParse) {
  auto opened = open_store("postgres://user@[bad/repute");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kInvalid) << opened.error().message;
}

TEST_F(StoreTest, RefusesAPathWhoseFolderIsAFile) {
  const auto file = dir_.path() / "plain-file";
  { std::ofstream(file) << "x"; }
  auto opened = open_store("sqlite://" + (file / "repute.db").string());
  EXPECT_FALSE(opened.ok());
}

TEST_F(StoreTest, ACommittedWriteIsVisibleToReaders) {
  auto store = open();
  ASSERT_TRUE(store);
  const core::Tenant tenant = make_tenant(*store, "acme");
  EXPECT_TRUE(core::is_uuid(tenant.id)) << tenant.id;

  const core::ApiKey key = make_key(tenant.id);
  const Status inserted = store->write_and_wait([&](WriteTx& tx) { return tx.insert_api_key(key); });
  ASSERT_TRUE(inserted.ok()) << inserted.error().message;

  auto found = store->find_api_key(key.id);
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, key.id);
  EXPECT_EQ((*found)->tenant_id, tenant.id);
  EXPECT_EQ((*found)->secret_hash, key.secret_hash);
  EXPECT_EQ((*found)->created_at, kNow);
  EXPECT_FALSE((*found)->revoked_at.has_value());

  auto found_tenant = store->find_tenant(tenant.id);
  ASSERT_TRUE(found_tenant.ok()) << found_tenant.error().message;
  ASSERT_TRUE(found_tenant->has_value());
  EXPECT_EQ((*found_tenant)->name, "acme");
  EXPECT_EQ((*found_tenant)->created_at, kNow);

  auto keys = store->list_api_keys();
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].id, key.id);
}

TEST_F(StoreTest, ReadersSeeTheWriteByTheTimeDoneIsCalled) {
  auto store = open();
  ASSERT_TRUE(store);
  const core::Tenant tenant = make_tenant(*store, "acme");
  for (int i = 0; i < 20; ++i) {
    const core::ApiKey key = make_key(tenant.id);
    std::promise<Status> outcome;
    store->write([&](WriteTx& tx) { return tx.insert_api_key(key); },
                 [&](Status status) { outcome.set_value(std::move(status)); });
    const Status status = outcome.get_future().get();
    ASSERT_TRUE(status.ok()) << status.error().message;
    EXPECT_TRUE(key_visible(*store, key.id)) << "write " << i;
  }
}

TEST_F(StoreTest, UnknownThingsAreAbsentNotErrors) {
  auto store = open();
  ASSERT_TRUE(store);
  auto key = store->find_api_key("no-such-key");
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_FALSE(key->has_value());
  auto tenant = store->find_tenant("no-such-tenant");
  ASSERT_TRUE(tenant.ok()) << tenant.error().message;
  EXPECT_FALSE(tenant->has_value());
  auto webhook = store->find_webhook("no-such-tenant", core::new_uuid());
  ASSERT_TRUE(webhook.ok()) << webhook.error().message;
  EXPECT_FALSE(webhook->has_value());
  auto keys = store->list_api_keys();
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_TRUE(keys->empty());
}

TEST_F(StoreTest, WriteAndWaitReturnsTheUnitsOwnError) {
  auto store = open();
  ASSERT_TRUE(store);
  const Status status = store->write_and_wait([](WriteTx&) -> Status { return core::not_found("no such webhook"); });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(status.error().message, "no such webhook");
}

TEST_F(StoreTest, AFailingUnitLeavesNothingBehind) {
  auto store = open();
  ASSERT_TRUE(store);
  const core::Tenant tenant = make_tenant(*store, "acme");
  const core::ApiKey key = make_key(tenant.id);
  const Status status = store->write_and_wait([&](WriteTx& tx) -> Status {
    if (auto inserted = tx.insert_api_key(key); !inserted) return inserted;
    if (auto put = tx.put_setting("k", "v"); !put) return put;
    return core::invalid("changed my mind");
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kInvalid);
  EXPECT_FALSE(key_visible(*store, key.id));
  std::optional<std::string> setting = "unread";
  ASSERT_TRUE(commits(*store, [&](WriteTx& tx) -> Status {
    auto got = tx.get_setting("k");
    if (!got) return got.error();
    setting = *got;
    return core::ok_status();
  }));
  EXPECT_EQ(setting, std::nullopt);
}

// What each queued unit of work does, so the test knows what to expect of it.
enum class Kind { kCommits, kReturnsError, kViolatesConstraint, kThrows };

Kind kind_of(std::size_t index) {
  switch (index % 7) {
    case 2:
      return Kind::kReturnsError;
    case 4:
      return Kind::kViolatesConstraint;
    case 6:
      return Kind::kThrows;
    default:
      return Kind::kCommits;
  }
}

// A unit that inserts its own key and then, depending on its kind, commits or fails after that insert.
Work unit_of_kind(Kind kind, core::ApiKey own_key, core::ApiKey existing_key) {
  return [kind, own_key = std::move(own_key), existing_key = std::move(existing_key)](WriteTx& tx) -> Status {
    if (auto inserted = tx.insert_api_key(own_key); !inserted) return inserted;
    switch (kind) {
      case Kind::kCommits:
        return core::ok_status();
      case Kind::kReturnsError:
        return core::invalid("unit refuses");
      case Kind::kViolatesConstraint:
        return tx.insert_api_key(existing_key);  // same primary key: SQLite refuses it
      case Kind::kThrows:
        throw std::runtime_error("unit exploded");
    }
    return core::ok_status();
  };
}

void expect_outcome(Kind kind, const Status& status, std::size_t index) {
  switch (kind) {
    case Kind::kCommits:
      EXPECT_TRUE(status.ok()) << "unit " << index << ": " << status.error().message;
      break;
    case Kind::kReturnsError:
      ASSERT_FALSE(status.ok()) << "unit " << index;
      EXPECT_EQ(status.error().code, ErrorCode::kInvalid) << "unit " << index;
      EXPECT_EQ(status.error().message, "unit refuses") << "unit " << index;
      break;
    case Kind::kViolatesConstraint:
      ASSERT_FALSE(status.ok()) << "unit " << index;
      EXPECT_EQ(status.error().code, ErrorCode::kInternal) << "unit " << index << ": " << status.error().message;
      break;
    case Kind::kThrows:
      ASSERT_FALSE(status.ok()) << "unit " << index;
      EXPECT_EQ(status.error().code, ErrorCode::kInternal) << "unit " << index;
      EXPECT_NE(status.error().message.find("unit exploded"), std::string::npos) << status.error().message;
      break;
  }
}

// Holds the writer thread inside a unit of work until released, so that everything queued meanwhile
// is committed together in the next batch.
class WriterGate {
 public:
  void hold(Store& store) {
    store.write(
        [this](WriteTx&) -> Status {
          entered_.set_value();
          release_.get_future().wait();
          return core::ok_status();
        },
        [](Status) {});
    entered_.get_future().wait();
  }
  void release() { release_.set_value(); }

 private:
  std::promise<void> entered_;
  std::promise<void> release_;
};

TEST_F(StoreTest, EachUnitInABatchStandsOrFallsAlone) {
  constexpr std::size_t kThreads = 6;
  constexpr std::size_t kPerThread = 35;
  constexpr std::size_t kUnits = kThreads * kPerThread;
  Outcomes outcomes(kUnits);  // outlives the store, whose thread calls it
  auto store = open_one_writer();
  ASSERT_TRUE(store);
  const core::Tenant tenant = make_tenant(*store, "acme");
  const core::ApiKey existing = make_key(tenant.id);
  ASSERT_TRUE(commits(*store, [&](WriteTx& tx) { return tx.insert_api_key(existing); }));

  std::vector<core::ApiKey> keys;
  for (std::size_t i = 0; i < kUnits; ++i) keys.push_back(make_key(tenant.id));

  WriterGate gate;
  gate.hold(*store);
  std::vector<std::thread> writers;
  for (std::size_t t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (std::size_t i = t; i < kUnits; i += kThreads) {
        store->write(unit_of_kind(kind_of(i), keys[i], existing), outcomes.done_for(i));
      }
    });
  }
  for (auto& writer : writers) writer.join();
  EXPECT_EQ(outcomes.calls(), 0u) << "units ran before the writer was released";
  gate.release();
  ASSERT_TRUE(outcomes.wait()) << "only " << outcomes.calls() << " of " << kUnits << " units were done";

  for (std::size_t i = 0; i < kUnits; ++i) {
    expect_outcome(kind_of(i), outcomes[i], i);
    EXPECT_EQ(key_visible(*store, keys[i].id), kind_of(i) == Kind::kCommits) << "unit " << i;
  }
  auto all = store->list_api_keys();
  ASSERT_TRUE(all.ok()) << all.error().message;
  std::size_t committed = 0;
  for (std::size_t i = 0; i < kUnits; ++i) committed += kind_of(i) == Kind::kCommits;
  EXPECT_EQ(all->size(), committed + 1);
}

TEST_F(StoreTest, ManyWritersWithSmallBatchesKeepEveryOutcome) {
  constexpr std::size_t kThreads = 8;
  constexpr std::size_t kPerThread = 60;
  constexpr std::size_t kUnits = kThreads * kPerThread;
  Outcomes outcomes(kUnits);
  auto store = open({.synchronous_full = false, .max_batch = 5});
  ASSERT_TRUE(store);
  const core::Tenant tenant = make_tenant(*store, "acme");
  const core::ApiKey existing = make_key(tenant.id);
  ASSERT_TRUE(commits(*store, [&](WriteTx& tx) { return tx.insert_api_key(existing); }));

  std::vector<core::ApiKey> keys;
  for (std::size_t i = 0; i < kUnits; ++i) keys.push_back(make_key(tenant.id));
  std::atomic<bool> go{false};
  std::vector<std::thread> writers;
  for (std::size_t t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (std::size_t i = t * kPerThread; i < (t + 1) * kPerThread; ++i) {
        store->write(unit_of_kind(kind_of(i), keys[i], existing), outcomes.done_for(i));
      }
    });
  }
  go.store(true);
  for (auto& writer : writers) writer.join();
  ASSERT_TRUE(outcomes.wait()) << "only " << outcomes.calls() << " of " << kUnits << " units were done";
  EXPECT_EQ(outcomes.calls(), kUnits);

  for (std::size_t i = 0; i < kUnits; ++i) {
    expect_outcome(kind_of(i), outcomes[i], i);
    EXPECT_EQ(key_visible(*store, keys[i].id), kind_of(i) == Kind::kCommits) << "unit " << i;
  }
}

TEST_F(StoreTest, LaterUnitsInABatchSeeEarlierOnesButNotFailedOnes) {
  Outcomes outcomes(3);
  std::optional<std::string> seen_by_third;
  auto store = open_one_writer();
  ASSERT_TRUE(store);
  WriterGate gate;
  gate.hold(*store);
  store->write([](WriteTx& tx) { return tx.put_setting("first", "1"); }, outcomes.done_for(0));
  store->write(
      [](WriteTx& tx) -> Status {
        if (auto put = tx.put_setting("first", "overwritten"); !put) return put;
        return core::invalid("no");
      },
      outcomes.done_for(1));
  store->write(
      [&](WriteTx& tx) -> Status {
        auto got = tx.get_setting("first");
        if (!got) return got.error();
        seen_by_third = *got;
        return core::ok_status();
      },
      outcomes.done_for(2));
  gate.release();
  ASSERT_TRUE(outcomes.wait());
  EXPECT_TRUE(outcomes[0].ok());
  EXPECT_FALSE(outcomes[1].ok());
  EXPECT_TRUE(outcomes[2].ok());
  EXPECT_EQ(seen_by_third, std::optional<std::string>("1"));
}

// Only std::exception was considered: a unit that throws anything else must still be an error, not
// the end of the writer thread (and of the process).
TEST_F(StoreTest, AUnitThrowingANonStandardExceptionIsAnError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string url = this->url();
  EXPECT_EXIT(
      {
        auto opened = open_store(url, {.synchronous_full = false});
        if (!opened) std::_Exit(2);
        const Status status = (*opened)->write_and_wait([](WriteTx&) -> Status { throw 42; });
        std::_Exit(status.ok() ? 3 : 0);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST_F(StoreTest, CloseCommitsWhatIsQueued) {
  constexpr std::size_t kUnits = 100;
  std::vector<core::ApiKey> keys;
  Outcomes outcomes(kUnits);
  {
    auto store = open_one_writer();
    ASSERT_TRUE(store);
    const core::Tenant tenant = make_tenant(*store, "acme");
    for (std::size_t i = 0; i < kUnits; ++i) keys.push_back(make_key(tenant.id));
    WriterGate gate;
    gate.hold(*store);
    for (std::size_t i = 0; i < kUnits; ++i) {
      store->write([key = keys[i]](WriteTx& tx) { return tx.insert_api_key(key); }, outcomes.done_for(i));
    }
    std::thread releaser([&gate] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      gate.release();
    });
    store->close();
    releaser.join();
    EXPECT_EQ(outcomes.calls(), kUnits) << "close() returned before every queued unit was done";
  }
  ASSERT_TRUE(outcomes.wait(std::chrono::seconds(1)));
  for (std::size_t i = 0; i < kUnits; ++i) EXPECT_TRUE(outcomes[i].ok()) << "unit " << i;
  auto reopened = open();
  ASSERT_TRUE(reopened);
  for (std::size_t i = 0; i < kUnits; ++i) EXPECT_TRUE(key_visible(*reopened, keys[i].id)) << "unit " << i;
}

TEST_F(StoreTest, WritesAfterCloseFailAsUnavailable) {
  auto store = open();
  ASSERT_TRUE(store);
  store->close();
  bool ran = false;
  std::optional<Status> outcome;
  store->write(
      [&](WriteTx&) {
        ran = true;
        return core::ok_status();
      },
      [&](Status status) { outcome = std::move(status); });
  ASSERT_TRUE(outcome.has_value()) << "done was not called";
  ASSERT_FALSE(outcome->ok());
  EXPECT_EQ(outcome->error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(ran);

  const Status waited = store->write_and_wait([](WriteTx&) { return core::ok_status(); });
  ASSERT_FALSE(waited.ok());
  EXPECT_EQ(waited.error().code, ErrorCode::kUnavailable);

  store->close();  // a second close is harmless
}

TEST_F(StoreTest, ReopeningKeepsEverything) {
  core::Tenant tenant;
  core::ApiKey key;
  core::Webhook webhook;
  {
    auto store = open(StoreOptions{});  // durable commits, as in production
    ASSERT_TRUE(store);
    tenant = make_tenant(*store, "acme");
    key = make_key(tenant.id);
    webhook = make_webhook(tenant.id, "kept");
    ASSERT_TRUE(commits(*store, [&](WriteTx& tx) -> Status {
      if (auto inserted = tx.insert_api_key(key); !inserted) return inserted;
      if (auto put = tx.put_setting("signing-key", "s3cret"); !put) return put;
      return tx.insert_webhook(webhook);
    }));
  }
  auto store = open();
  ASSERT_TRUE(store);
  EXPECT_TRUE(key_visible(*store, key.id));
  auto found_tenant = store->find_tenant(tenant.id);
  ASSERT_TRUE(found_tenant.ok() && found_tenant->has_value());
  EXPECT_EQ((*found_tenant)->name, "acme");
  auto found_webhook = store->find_webhook(tenant.id, webhook.id);
  ASSERT_TRUE(found_webhook.ok() && found_webhook->has_value());
  EXPECT_EQ((*found_webhook)->name, "kept");
  std::optional<std::string> setting;
  ASSERT_TRUE(commits(*store, [&](WriteTx& tx) -> Status {
    auto got = tx.get_setting("signing-key");
    if (!got) return got.error();
    setting = *got;
    return core::ok_status();
  }));
  EXPECT_EQ(setting, std::optional<std::string>("s3cret"));
  // ensure_tenant finds the tenant made before the reopen rather than making another.
  EXPECT_EQ(make_tenant(*store, "acme").id, tenant.id);
}

TEST_F(StoreTest, EnsureTenantIsIdempotentAndNamesAreDistinct) {
  auto store = open();
  ASSERT_TRUE(store);
  const core::Tenant first = make_tenant(*store, "acme");
  const core::Tenant again = make_tenant(*store, "acme");
  const core::Tenant other = make_tenant(*store, "globex");
  EXPECT_EQ(first.id, again.id);
  EXPECT_NE(first.id, other.id);
}

TEST_F(StoreTest, SettingsAreUpserted) {
  auto store = open();
  ASSERT_TRUE(store);
  std::vector<std::optional<std::string>> seen;
  ASSERT_TRUE(commits(*store, [&](WriteTx& tx) -> Status {
    for (const char* value : {"one", "two"}) {
      auto before = tx.get_setting("key");
      if (!before) return before.error();
      seen.push_back(*before);
      if (auto put = tx.put_setting("key", value); !put) return put;
    }
    auto after = tx.get_setting("key");
    if (!after) return after.error();
    seen.push_back(*after);
    return core::ok_status();
  }));
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0], std::nullopt);
  EXPECT_EQ(seen[1], std::optional<std::string>("one"));
  EXPECT_EQ(seen[2], std::optional<std::string>("two"));
}

TEST_F(StoreTest, RevokingAKeyMarksItOnce) {
  auto store = open();
  ASSERT_TRUE(store);
  const core::Tenant tenant = make_tenant(*store, "acme");
  const core::ApiKey key = make_key(tenant.id);
  ASSERT_TRUE(commits(*store, [&](WriteTx& tx) { return tx.insert_api_key(key); }));

  std::vector<bool> revoked;
  auto revoke = [&](const std::string& id) {
    return store->write_and_wait([&](WriteTx& tx) -> Status {
      auto done = tx.revoke_api_key(id, kNow + 5);
      if (!done) return done.error();
      revoked.push_back(*done);
      return core::ok_status();
    });
  };
  ASSERT_TRUE(revoke(key.id).ok());
  ASSERT_TRUE(revoke(key.id).ok());
  ASSERT_TRUE(revoke("no-such-key").ok());
  EXPECT_EQ(revoked, (std::vector<bool>{true, false, false}));

  auto found = store->find_api_key(key.id);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->revoked_at, std::optional<core::Micros>(kNow + 5));
}

TEST_F(StoreTest, AKeyForAnUnknownTenantIsRefused) {
  auto store = open();
  ASSERT_TRUE(store);
  const core::ApiKey orphan = make_key("no-such-tenant");
  const Status status = store->write_and_wait([&](WriteTx& tx) { return tx.insert_api_key(orphan); });
  EXPECT_FALSE(status.ok());
  EXPECT_FALSE(key_visible(*store, orphan.id));
}

TEST_F(StoreTest, WebhooksRoundTripEveryField) {
  auto store = open();
  ASSERT_TRUE(store);
  const core::Tenant tenant = make_tenant(*store, "acme");
  core::Webhook full = make_webhook(tenant.id, "full");
  full.events = {"reputations.added", "reputations.updated"};
  full.secret = "whsec_abc";
  full.include_resource = true;
  full.enabled = false;
  full.disabled_reason = "failing";
  full.last_sent_at = kNow + 7;
  full.failing_since = kNow + 3;
  full.updated_at = kNow + 9;
  core::Webhook bare = make_webhook(tenant.id, "bare");
  bare.events = {"*"};
  ASSERT_TRUE(commits(*store, [&](WriteTx& tx) -> Status {
    if (auto inserted = tx.insert_webhook(full); !inserted) return inserted;
    return tx.insert_webhook(bare);
  }));

  auto found = store->find_webhook(tenant.id, full.id);
  ASSERT_TRUE(found.ok() && found->has_value());
  const core::Webhook& got = **found;
  EXPECT_EQ(got.id, full.id);
  EXPECT_EQ(got.tenant_id, tenant.id);
  EXPECT_EQ(got.events, full.events);
  EXPECT_EQ(got.name, "full");
  EXPECT_EQ(got.url, full.url);
  EXPECT_EQ(got.secret, full.secret);
  EXPECT_TRUE(got.include_resource);
  EXPECT_FALSE(got.enabled);
  EXPECT_EQ(got.disabled_reason, full.disabled_reason);
  EXPECT_EQ(got.last_sent_at, full.last_sent_at);
  EXPECT_EQ(got.failing_since, full.failing_since);
  EXPECT_EQ(got.created_at, kNow);
  EXPECT_EQ(got.updated_at, kNow + 9);

  auto found_bare = store->find_webhook(tenant.id, bare.id);
  ASSERT_TRUE(found_bare.ok() && found_bare->has_value());
  EXPECT_EQ((*found_bare)->events, std::vector<std::string>{"*"});
  EXPECT_EQ((*found_bare)->secret, std::nullopt);
  EXPECT_TRUE((*found_bare)->enabled);
  EXPECT_EQ((*found_bare)->disabled_reason, std::nullopt);
  EXPECT_EQ((*found_bare)->last_sent_at, std::nullopt);
  EXPECT_EQ((*found_bare)->failing_since, std::nullopt);
}

TEST_F(StoreTest, WebhooksAreInvisibleToOtherTenants) {
  auto store = open();
  ASSERT_TRUE(store);
  const core::Tenant acme = make_tenant(*store, "acme");
  const core::Tenant globex = make_tenant(*store, "globex");
  core::Webhook webhook = make_webhook(acme.id, "acme's");
  ASSERT_TRUE(commits(*store, [&](WriteTx& tx) { return tx.insert_webhook(webhook); }));

  auto foreign = store->find_webhook(globex.id, webhook.id);
  ASSERT_TRUE(foreign.ok());
  EXPECT_FALSE(foreign->has_value());

  // Another tenant can neither change nor delete it.
  core::Webhook hijack = webhook;
  hijack.tenant_id = globex.id;
  hijack.url = "https://attacker.example/";
  std::optional<bool> deleted;
  ASSERT_TRUE(commits(*store, [&](WriteTx& tx) -> Status {
    if (auto updated = tx.update_webhook(hijack); !updated) return updated;
    auto removed = tx.delete_webhook(globex.id, webhook.id);
    if (!removed) return removed.error();
    deleted = *removed;
    return core::ok_status();
  }));
  EXPECT_EQ(deleted, std::optional<bool>(false));
  auto still = store->find_webhook(acme.id, webhook.id);
  ASSERT_TRUE(still.ok() && still->has_value());
  EXPECT_EQ((*still)->url, "https://example.com/hook");
}

TEST_F(StoreTest, WebhooksAreUpdatedAndDeleted) {
  auto store = open();
  ASSERT_TRUE(store);
  const core::Tenant tenant = make_tenant(*store, "acme");
  core::Webhook webhook = make_webhook(tenant.id, "before");
  ASSERT_TRUE(commits(*store, [&](WriteTx& tx) { return tx.insert_webhook(webhook); }));

  ASSERT_TRUE(commits(*store, [&](WriteTx& tx) -> Status {
    auto found = tx.find_webhook(tenant.id, webhook.id);
    if (!found) return found.error();
    if (!*found) return core::not_found("gone");
    core::Webhook changed = **found;
    changed.name = "after";
    changed.secret = "new-secret";
    changed.updated_at = kNow + 1;
    return tx.update_webhook(changed);
  }));
  auto updated = store->find_webhook(tenant.id, webhook.id);
  ASSERT_TRUE(updated.ok() && updated->has_value());
  EXPECT_EQ((*updated)->name, "after");
  EXPECT_EQ((*updated)->secret, std::optional<std::string>("new-secret"));
  EXPECT_EQ((*updated)->created_at, kNow);
  EXPECT_EQ((*updated)->updated_at, kNow + 1);

  std::vector<bool> deleted;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(commits(*store, [&](WriteTx& tx) -> Status {
      auto removed = tx.delete_webhook(tenant.id, webhook.id);
      if (!removed) return removed.error();
      deleted.push_back(*removed);
      return core::ok_status();
    }));
  }
  EXPECT_EQ(deleted, (std::vector<bool>{true, false}));
  auto gone = store->find_webhook(tenant.id, webhook.id);
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
}

TEST_F(StoreTest, ReadersWorkFromManyThreadsWhileWritesCommit) {
  auto store = open();
  ASSERT_TRUE(store);
  const core::Tenant tenant = make_tenant(*store, "acme");
  const core::ApiKey key = make_key(tenant.id);
  ASSERT_TRUE(commits(*store, [&](WriteTx& tx) { return tx.insert_api_key(key); }));

  std::atomic<int> failures{0};
  std::vector<std::jthread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&](std::stop_token stop) {
      while (!stop.stop_requested()) {
        auto found = store->find_api_key(key.id);
        if (!found.ok() || !found->has_value()) ++failures;
        if (!store->ping().ok()) ++failures;
        if (!store->list_webhooks(tenant.id, {}).ok()) ++failures;
      }
    });
  }
  for (int i = 0; i < 100; ++i) {
    const core::Webhook webhook = make_webhook(tenant.id, "w" + std::to_string(i));
    ASSERT_TRUE(commits(*store, [&](WriteTx& tx) { return tx.insert_webhook(webhook); }));
  }
  for (auto& reader : readers) reader.request_stop();
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace repute::store
