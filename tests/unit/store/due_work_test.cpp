// Due work in the SQLite store: scans found with or without a lease and recorded by seq, deliveries leased in
// one statement and updated by seq, new deliveries handed to a DeliveryHandoff at commit, and WAL checkpoints
// made beside the writer.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.hpp"
#include "store/store.hpp"
#include "unit/support/temp_dir.hpp"
#include "support/test_database.hpp"

namespace repute::store {
namespace {

using core::Status;
using repute::test_support::TempDir;

constexpr core::Micros kNow = 1'795'773'600'000'000;  // 2026-11-27T10:00:00Z
constexpr core::Micros kSecond = 1'000'000;

// A handoff that takes what the test allows and remembers every call.
class RecordingHandoff final : public DeliveryHandoff {
 public:
  explicit RecordingHandoff(std::string takes) : takes_(std::move(takes)) {}

  std::optional<core::Micros> reserve(const std::string& webhook_id, core::Micros now) override {
    std::lock_guard lock(mutex_);
    calls_.push_back("reserve");
    if (webhook_id != takes_) return std::nullopt;
    return now + 30 * kSecond;
  }
  void adopt(std::vector<core::Delivery> deliveries, const std::vector<std::string>& reserved_for) override {
    std::lock_guard lock(mutex_);
    calls_.push_back("adopt");
    for (auto& delivery : deliveries) adopted_.push_back(std::move(delivery));
    for (const auto& webhook_id : reserved_for) {
      EXPECT_EQ(webhook_id, takes_) << "a reservation is returned for the subscription it was taken for";
      ++returned_;
    }
  }
  void forget_subscriptions() override {
    std::lock_guard lock(mutex_);
    calls_.push_back("forget");
  }

  std::vector<core::Delivery> adopted() {
    std::lock_guard lock(mutex_);
    return adopted_;
  }
  int returned() {
    std::lock_guard lock(mutex_);
    return returned_;
  }
  std::vector<std::string> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  std::mutex mutex_;
  std::string takes_;
  std::vector<core::Delivery> adopted_;
  int returned_ = 0;
  std::vector<std::string> calls_;
};

class DueWorkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = open_store(repute::testing::database_url((dir_.path() / "repute.db").string()), {.synchronous_full = false});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
    ASSERT_TRUE(commit([&](WriteTx& tx) -> Status {
                  auto tenant = tx.ensure_tenant("t", kNow);
                  if (!tenant) return tenant.error();
                  tenant_ = tenant->id;
                  core::User user{core::new_uuid(), tenant_, std::nullopt, "{}", kNow};
                  user_ = user.id;
                  return tx.insert_user(user);
                }).ok());
  }
  void TearDown() override {
    if (store_) store_->close();
  }

  Status commit(Work work) { return store_->write_and_wait(std::move(work)); }

  // An account (sandbox unless told) whose next scan is at next_scan_at.
  core::Account add_account(std::optional<core::Micros> next_scan_at,
                            core::Source::Type type = core::Source::Type::kSandbox) {
    core::Account account;
    account.id = core::new_uuid();
    account.tenant_id = tenant_;
    account.user_id = user_;
    account.employer = "uber";
    account.source.type = type;
    account.next_scan_at = next_scan_at;
    account.created_at = account.updated_at = account.connection_updated_at = kNow;
    EXPECT_TRUE(commit([&](WriteTx& tx) { return tx.insert_account(account); }).ok());
    return **store_->find_account(tenant_, account.id);
  }

  core::Webhook add_webhook(const std::string& url, bool enabled = true) {
    core::Webhook webhook;
    webhook.id = core::new_uuid();
    webhook.tenant_id = tenant_;
    webhook.events = {"*"};
    webhook.name = "hook";
    webhook.url = url;
    webhook.secret = "s3cret";
    webhook.enabled = enabled;
    webhook.created_at = webhook.updated_at = kNow;
    EXPECT_TRUE(commit([&](WriteTx& tx) { return tx.insert_webhook(webhook); }).ok());
    return webhook;
  }

  core::Delivery make_delivery(const std::string& webhook_id, core::Micros due) {
    core::Delivery delivery;
    delivery.id = core::new_uuid();
    delivery.tenant_id = tenant_;
    delivery.event_id = core::new_uuid();
    delivery.webhook_id = webhook_id;
    delivery.event_type = "reputations.added";
    delivery.body = R"({"event":"reputations.added"})";
    delivery.next_attempt_at = due;
    delivery.created_at = delivery.updated_at = due;
    return delivery;
  }

  core::Delivery add_delivery(const std::string& webhook_id, core::Micros due) {
    core::Delivery delivery = make_delivery(webhook_id, due);
    EXPECT_TRUE(commit([&](WriteTx& tx) { return tx.insert_delivery(delivery); }).ok());
    return delivery;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::string tenant_;
  std::string user_;
};

TEST_F(DueWorkTest, FindDueScansTakesNoLeaseAndKeepsDueOrder) {
  const core::Account later = add_account(kNow - 1 * kSecond);
  const core::Account earlier = add_account(kNow - 5 * kSecond);
  add_account(kNow + 60 * kSecond);  // not due
  add_account(std::nullopt);         // never scheduled
  std::vector<core::Account> due;
  ASSERT_TRUE(commit([&](WriteTx& tx) -> Status {
                auto found = tx.find_due_scans(kNow, 10);
                if (!found) return found.error();
                due = *found;
                return core::ok_status();
              }).ok());
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].id, earlier.id);
  EXPECT_EQ(due[1].id, later.id);
  EXPECT_GT(due[0].seq, 0);
  // Nothing was written: both are still due at the same time.
  EXPECT_EQ((*store_->find_account(tenant_, earlier.id))->next_scan_at, kNow - 5 * kSecond);
  EXPECT_EQ(*store_->next_scan_due(), kNow - 5 * kSecond);
}

TEST_F(DueWorkTest, ClaimingLeasesEveryDueScanInOneGo) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(add_account(kNow - (i + 1) * kSecond).id);
  std::vector<core::Account> claimed;
  ASSERT_TRUE(commit([&](WriteTx& tx) -> Status {
                auto found = tx.claim_due_scans(kNow, kNow + 60 * kSecond, 3);
                if (!found) return found.error();
                claimed = *found;
                return core::ok_status();
              }).ok());
  ASSERT_EQ(claimed.size(), 3u);
  // The three oldest due, each leased.
  std::vector<std::string> expected = {ids[4], ids[3], ids[2]};
  std::vector<std::string> got;
  for (const auto& account : claimed) {
    got.push_back(account.id);
    EXPECT_EQ(account.next_scan_at, kNow + 60 * kSecond);
    EXPECT_EQ((*store_->find_account(tenant_, account.id))->next_scan_at, kNow + 60 * kSecond);
  }
  std::sort(got.begin(), got.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(got, expected);
  // A second claim finds only the two left.
  ASSERT_TRUE(commit([&](WriteTx& tx) -> Status {
                auto found = tx.claim_due_scans(kNow, kNow + 60 * kSecond, 10);
                if (!found) return found.error();
                EXPECT_EQ(found->size(), 2u);
                return core::ok_status();
              }).ok());
}

TEST_F(DueWorkTest, RecordScanWritesOnlyWhatAScanChanges) {
  core::Account account = add_account(kNow);
  account.employer = "not written";
  account.refresh_frequency = 1;
  account.connection_status = core::kConnectionError;
  account.connection_error_code = "source_http_status";
  account.connection_error_message = "the source answered HTTP 500";
  account.connection_updated_at = kNow + kSecond;
  account.scanned_at = kNow + kSecond;
  account.next_scan_at = kNow + 3600 * kSecond;
  account.scan_count = 7;
  account.updated_at = kNow + kSecond;
  ASSERT_TRUE(commit([&](WriteTx& tx) { return tx.record_scan(account); }).ok());
  const core::Account stored = **store_->find_account(tenant_, account.id);
  EXPECT_EQ(stored.employer, "uber");
  EXPECT_EQ(stored.refresh_frequency, core::kDefaultRefreshSeconds);
  EXPECT_EQ(stored.connection_status, core::kConnectionError);
  EXPECT_EQ(stored.connection_error_code, "source_http_status");
  EXPECT_EQ(stored.connection_error_message, "the source answered HTTP 500");
  EXPECT_EQ(stored.scanned_at, kNow + kSecond);
  EXPECT_EQ(stored.next_scan_at, kNow + 3600 * kSecond);
  EXPECT_EQ(stored.scan_count, 7);
  EXPECT_EQ(stored.updated_at, kNow + kSecond);

  ASSERT_TRUE(commit([&](WriteTx& tx) { return tx.lease_scan(account, kNow + 90 * kSecond); }).ok());
  EXPECT_EQ((*store_->find_account(tenant_, account.id))->next_scan_at, kNow + 90 * kSecond);
}

TEST_F(DueWorkTest, AnAccountNeverStoredCannotBeRecorded) {
  core::Account account;
  account.id = core::new_uuid();
  const Status status = commit([&](WriteTx& tx) { return tx.record_scan(account); });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, core::ErrorCode::kInternal);
}

TEST_F(DueWorkTest, DeliveriesAreLeasedInOneGoAndUpdatedBySeq) {
  const core::Webhook hook = add_webhook("http://127.0.0.1:9/a");
  const core::Webhook skipped = add_webhook("http://127.0.0.1:9/b");
  const core::Webhook off = add_webhook("http://127.0.0.1:9/c", false);
  const core::Delivery first = add_delivery(hook.id, kNow - 3 * kSecond);
  const core::Delivery second = add_delivery(hook.id, kNow - 2 * kSecond);
  add_delivery(hook.id, kNow + 60 * kSecond);    // not due
  add_delivery(skipped.id, kNow - 5 * kSecond);  // left out by the caller
  add_delivery(off.id, kNow - 5 * kSecond);      // its subscription is disabled
  EXPECT_GT(first.seq, 0);
  EXPECT_GT(second.seq, first.seq);

  std::vector<core::Delivery> claimed;
  ASSERT_TRUE(commit([&](WriteTx& tx) -> Status {
                auto found = tx.claim_due_deliveries(kNow, kNow + 30 * kSecond, 10, {skipped.id});
                if (!found) return found.error();
                claimed = *found;
                return core::ok_status();
              }).ok());
  ASSERT_EQ(claimed.size(), 2u);
  EXPECT_EQ(claimed[0].id, first.id);
  EXPECT_EQ(claimed[1].id, second.id);
  EXPECT_EQ(claimed[0].seq, first.seq);
  EXPECT_EQ(claimed[0].body, first.body);
  EXPECT_EQ(claimed[0].next_attempt_at, kNow + 30 * kSecond);
  EXPECT_EQ((*store_->find_delivery(tenant_, first.id))->next_attempt_at, kNow + 30 * kSecond);

  core::Delivery done = claimed[0];
  done.state = core::DeliveryState::kDelivered;
  done.attempts = 1;
  done.next_attempt_at.reset();
  done.last_status = 200;
  done.delivered_at = done.updated_at = kNow + kSecond;
  ASSERT_TRUE(commit([&](WriteTx& tx) { return tx.update_delivery(done); }).ok());
  const core::Delivery stored = **store_->find_delivery(tenant_, first.id);
  EXPECT_EQ(stored.state, core::DeliveryState::kDelivered);
  EXPECT_EQ(stored.last_status, 200);
  EXPECT_EQ(stored.delivered_at, kNow + kSecond);
  EXPECT_EQ((*store_->find_delivery(tenant_, second.id))->state, core::DeliveryState::kPending);

  core::Delivery never_stored = make_delivery(hook.id, kNow);
  EXPECT_FALSE(commit([&](WriteTx& tx) { return tx.update_delivery(never_stored); }).ok());
}

TEST_F(DueWorkTest, NewDeliveriesGoToTheHandoffLeasedWhenItHasRoom) {
  const core::Webhook taken = add_webhook("http://127.0.0.1:9/taken");
  const core::Webhook other = add_webhook("http://127.0.0.1:9/other");
  auto handoff = std::make_shared<RecordingHandoff>(taken.id);
  store_->set_delivery_handoff(handoff);

  core::Delivery to_taken = make_delivery(taken.id, kNow);
  core::Delivery to_other = make_delivery(other.id, kNow);
  ASSERT_TRUE(commit([&](WriteTx& tx) -> Status {
                if (auto status = tx.insert_delivery(to_taken); !status) return status;
                return tx.insert_delivery(to_other);
              }).ok());

  const auto adopted = handoff->adopted();
  ASSERT_EQ(adopted.size(), 1u);
  EXPECT_EQ(adopted[0].id, to_taken.id);
  EXPECT_EQ(adopted[0].seq, to_taken.seq);
  EXPECT_EQ(adopted[0].body, to_taken.body);
  EXPECT_EQ(adopted[0].next_attempt_at, kNow + 30 * kSecond);
  EXPECT_EQ(handoff->returned(), 1);
  // The handed-over one is stored leased (no claim takes it); the other is due as usual.
  EXPECT_EQ((*store_->find_delivery(tenant_, to_taken.id))->next_attempt_at, kNow + 30 * kSecond);
  EXPECT_EQ((*store_->find_delivery(tenant_, to_other.id))->next_attempt_at, kNow);
  ASSERT_TRUE(commit([&](WriteTx& tx) -> Status {
                auto found = tx.claim_due_deliveries(kNow, kNow + 30 * kSecond, 10, {});
                if (!found) return found.error();
                EXPECT_EQ(found->size(), 1u);
                if (!found->empty()) {
                  EXPECT_EQ((*found)[0].id, to_other.id);
                }
                return core::ok_status();
              }).ok());
}

TEST_F(DueWorkTest, ARolledBackUnitHandsNothingOverButGivesItsReservationBack) {
  const core::Webhook taken = add_webhook("http://127.0.0.1:9/taken");
  auto handoff = std::make_shared<RecordingHandoff>(taken.id);
  store_->set_delivery_handoff(handoff);
  core::Delivery lost = make_delivery(taken.id, kNow);
  const Status status = commit([&](WriteTx& tx) -> Status {
    if (auto inserted = tx.insert_delivery(lost); !inserted) return inserted;
    return core::invalid("changed my mind");
  });
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(handoff->adopted().empty());
  EXPECT_EQ(handoff->returned(), 1);
  EXPECT_FALSE(*store_->find_delivery(tenant_, lost.id));
}

TEST_F(DueWorkTest, AChangedSubscriptionIsForgottenBeforeItsDeliveriesAreHandedOver) {
  core::Webhook taken = add_webhook("http://127.0.0.1:9/taken");
  auto handoff = std::make_shared<RecordingHandoff>(taken.id);
  store_->set_delivery_handoff(handoff);

  // Only last_sent_at: what the engine knows stays good.
  taken.last_sent_at = kNow;
  ASSERT_TRUE(commit([&](WriteTx& tx) { return tx.update_webhook(taken); }).ok());
  EXPECT_TRUE(handoff->calls().empty());

  // A new URL, then a delivery in the same batch: the taker forgets, and the delivery is stored due, not handed.
  taken.url = "http://127.0.0.1:9/moved";
  core::Delivery after = make_delivery(taken.id, kNow);
  ASSERT_TRUE(commit([&](WriteTx& tx) -> Status {
                if (auto status = tx.update_webhook(taken); !status) return status;
                return tx.insert_delivery(after);
              }).ok());
  EXPECT_EQ(handoff->calls(), std::vector<std::string>{"forget"});
  EXPECT_EQ((*store_->find_delivery(tenant_, after.id))->next_attempt_at, kNow);

  // Taken off the store: nothing more reaches it.
  store_->set_delivery_handoff(nullptr);
  add_delivery(taken.id, kNow);
  EXPECT_EQ(handoff->calls(), std::vector<std::string>{"forget"});
}

TEST_F(DueWorkTest, CheckpointsCopyTheWalIntoTheDatabaseBesideTheWriter) {
  const std::filesystem::path db = dir_.path() / "repute.db";
  const auto before = std::filesystem::file_size(db);
  // ~80 MB of settings in 2,000 commits: some 20,000 WAL pages, twenty checkpoints' worth.
  const std::string value(40 * 1024, 'x');
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(commit([&](WriteTx& tx) { return tx.put_setting("key" + std::to_string(i), value); }).ok());
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::filesystem::file_size(db) < before + 16 * 1024 * 1024 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // The database file grew while the store stayed open: pages were checkpointed out of the WAL.
  EXPECT_GE(std::filesystem::file_size(db), before + 16 * 1024 * 1024);
  // ... and the WAL was started over rather than left to grow with every commit (how often depends on how the
  // checkpoint thread keeps up, so only "well below everything written" is asserted).
  EXPECT_LT(std::filesystem::file_size(dir_.path() / "repute.db-wal"), 40u * 1024 * 1024);
  auto value_back = commit([&](WriteTx& tx) -> Status {
    auto got = tx.get_setting("key1999");
    if (!got) return got.error();
    return *got == value ? core::ok_status() : core::invalid("the last value is not what was written");
  });
  EXPECT_TRUE(value_back.ok()) << value_back.error().message;
}

}  // namespace
}  // namespace repute::store
