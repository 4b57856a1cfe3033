// The store's delivery statistics (what the console's health columns and overview read): windows by creation
// time, the pending backlog, minutes, endpoint rankings, tenants kept apart; and the rows the console's other
// calls rely on (a rotated secret with its expiry, an attempt's request headers).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/ids.hpp"
#include "store/store.hpp"
#include "unit/support/temp_dir.hpp"

namespace repute::store {
namespace {

using core::Status;

constexpr core::Micros kMinute = 60 * core::kMicrosPerSecond;
constexpr core::Micros kNow = 1'795'773'600'000'000 + 30 * core::kMicrosPerSecond;  // 2026-11-27T10:00:30Z

class StatsRowsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = open_store("sqlite://" + (dir_.path() / "repute.db").string(), {.synchronous_full = false});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
    tenant_ = make_tenant("acme");
    other_ = make_tenant("other");
  }

  std::string make_tenant(const std::string& name) {
    std::string id;
    EXPECT_TRUE(store_
                    ->write_and_wait([&](WriteTx& tx) -> Status {
                      auto made = tx.ensure_tenant(name, kNow);
                      if (!made) return made.error();
                      id = made->id;
                      return core::ok_status();
                    })
                    .ok());
    return id;
  }

  core::Webhook make_webhook(const std::string& tenant) {
    core::Webhook webhook;
    webhook.id = core::new_uuid();
    webhook.tenant_id = tenant;
    webhook.events = {"*"};
    webhook.name = "hook";
    webhook.url = "https://example.com/hook";
    webhook.enabled = false;  // nothing here is sent
    webhook.created_at = kNow;
    webhook.updated_at = kNow;
    EXPECT_TRUE(store_->write_and_wait([&](WriteTx& tx) { return tx.insert_webhook(webhook); }).ok());
    return webhook;
  }

  // A delivery made at `made` in `state` after `attempts` attempts, each taking duration and answered status.
  // Its id.
  std::string add(const core::Webhook& webhook, core::Micros made, core::DeliveryState state, int attempts = 1,
                  int status = 200, core::Micros duration = 1000) {
    core::Delivery delivery;
    delivery.id = core::new_uuid();
    delivery.tenant_id = webhook.tenant_id;
    delivery.event_id = core::new_uuid();
    delivery.webhook_id = webhook.id;
    delivery.event_type = "reputations.added";
    delivery.body = "{}";
    delivery.state = state;
    delivery.attempts = attempts;
    if (state == core::DeliveryState::kPending) delivery.next_attempt_at = kNow + 3600 * core::kMicrosPerSecond;
    delivery.created_at = made;
    delivery.updated_at = made;
    EXPECT_TRUE(store_
                    ->write_and_wait([&](WriteTx& tx) -> Status {
                      if (auto inserted = tx.insert_delivery(delivery); !inserted) return inserted;
                      for (int i = 0; i < attempts; ++i) {
                        core::DeliveryAttempt attempt;
                        attempt.delivery_id = delivery.id;
                        attempt.attempted_at = made + i;
                        attempt.duration = duration;
                        attempt.status_code = status;
                        if (auto inserted = tx.insert_attempt(attempt); !inserted) return inserted;
                      }
                      return core::ok_status();
                    })
                    .ok());
    return delivery.id;
  }

  test_support::TempDir dir_;
  std::unique_ptr<Store> store_;
  std::string tenant_;
  std::string other_;
};

TEST_F(StatsRowsTest, AWebhooksHourAndDayCountWhatWasMadeInThemAndTheBacklogEverythingPending) {
  const core::Webhook hook = make_webhook(tenant_);
  add(hook, kNow - 2 * 24 * 60 * kMinute, core::DeliveryState::kPending, 0);  // too old for either window
  add(hook, kNow - 3 * 60 * kMinute, core::DeliveryState::kDelivered);
  add(hook, kNow - 2 * 60 * kMinute, core::DeliveryState::kFailed, 3, 500);
  add(hook, kNow - 30 * kMinute, core::DeliveryState::kDelivered);
  add(hook, kNow - 20 * kMinute, core::DeliveryState::kPending, 1, 503);  // failing, still retried
  add(hook, kNow - kMinute, core::DeliveryState::kPending, 0);            // waiting for its first attempt

  auto stats = store_->webhook_stats(tenant_, hook.id, kNow);
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(stats->last_hour.total, 3);
  EXPECT_EQ(stats->last_hour.delivered, 1);
  EXPECT_EQ(stats->last_hour.failed, 1);
  EXPECT_EQ(stats->last_hour.waiting, 1);
  EXPECT_EQ(stats->last_day.total, 5);
  EXPECT_EQ(stats->last_day.delivered, 2);
  EXPECT_EQ(stats->last_day.failed, 2);
  EXPECT_EQ(stats->pending, 3);
  EXPECT_EQ(stats->oldest_pending_at, kNow - 2 * 24 * 60 * kMinute);

  auto foreign = store_->webhook_stats(other_, hook.id, kNow);
  ASSERT_TRUE(foreign.ok());
  EXPECT_EQ(foreign->last_day.total, 0) << "another tenant's key counts nothing of this subscription";
  EXPECT_EQ(foreign->pending, 0);
}

TEST_F(StatsRowsTest, TheOverviewCountsByMinuteAndRanksEndpoints) {
  const core::Webhook fast = make_webhook(tenant_);
  const core::Webhook slow = make_webhook(tenant_);
  const core::Webhook failing = make_webhook(tenant_);
  const core::Webhook elsewhere = make_webhook(other_);
  const core::Micros minute = kNow / kMinute * kMinute;
  add(fast, minute - 2 * kMinute + 5, core::DeliveryState::kDelivered, 1, 200, 1000);
  add(fast, minute - 2 * kMinute + 9, core::DeliveryState::kDelivered, 1, 200, 1000);
  add(slow, minute + 1, core::DeliveryState::kDelivered, 1, 200, 90'000);
  add(failing, minute + 2, core::DeliveryState::kFailed, 2, 500, 2000);
  add(failing, minute - 90 * kMinute, core::DeliveryState::kPending, 0);  // before the span, still queued
  add(elsewhere, minute, core::DeliveryState::kFailed, 5, 500, 500'000);

  auto overview = store_->delivery_overview(tenant_, minute - 59 * kMinute);
  ASSERT_TRUE(overview.ok()) << overview.error().message;
  ASSERT_EQ(overview->minutes.size(), 2u);
  EXPECT_EQ(overview->minutes[0].minute, minute - 2 * kMinute);
  EXPECT_EQ(overview->minutes[0].tally.total, 2);
  EXPECT_EQ(overview->minutes[0].tally.delivered, 2);
  EXPECT_EQ(overview->minutes[1].minute, minute);
  EXPECT_EQ(overview->minutes[1].tally.total, 2);
  EXPECT_EQ(overview->minutes[1].tally.failed, 1);
  EXPECT_EQ(overview->pending, 1);
  EXPECT_EQ(overview->oldest_pending_at, minute - 90 * kMinute);

  ASSERT_EQ(overview->most_failing.size(), 1u);
  EXPECT_EQ(overview->most_failing[0].webhook_id, failing.id);
  EXPECT_EQ(overview->most_failing[0].failed, 2);
  EXPECT_EQ(overview->most_failing[0].attempts, 2);
  ASSERT_EQ(overview->slowest.size(), 3u) << "every endpoint with attempts, and none of the other tenant's";
  EXPECT_EQ(overview->slowest[0].webhook_id, slow.id);
  EXPECT_DOUBLE_EQ(overview->slowest[0].mean_duration_ms, 90.0);
  EXPECT_EQ(overview->slowest[2].webhook_id, fast.id);
}

TEST_F(StatsRowsTest, ARotatedSecretAndAnAttemptsHeadersAreStoredAsGiven) {
  core::Webhook hook = make_webhook(tenant_);
  hook.secret = "whsec_new";
  hook.previous_secret = "whsec_old";
  hook.previous_secret_expires_at = kNow + 3600;
  ASSERT_TRUE(store_->write_and_wait([&](WriteTx& tx) { return tx.update_webhook(hook); }).ok());
  auto found = store_->find_webhook(tenant_, hook.id);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->previous_secret, "whsec_old");
  EXPECT_EQ((*found)->previous_secret_expires_at, kNow + 3600);

  core::DeliveryAttempt attempt;
  attempt.delivery_id = add(hook, kNow, core::DeliveryState::kPending, 0);
  attempt.attempted_at = kNow;
  attempt.request_headers = core::header_lines({{"webhook-id", "x"}, {"webhook-signature", "v1,a= v1,b="}});
  core::DeliveryAttempt old_style = attempt;
  old_style.request_headers.clear();
  ASSERT_TRUE(store_
                  ->write_and_wait([&](WriteTx& tx) -> Status {
                    if (auto inserted = tx.insert_attempt(attempt); !inserted) return inserted;
                    return tx.insert_attempt(old_style);
                  })
                  .ok());
  auto attempts = store_->list_attempts(attempt.delivery_id);
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 2u);
  EXPECT_EQ((*attempts)[0].request_headers, attempt.request_headers);
  EXPECT_EQ((*attempts)[1].request_headers, "") << "none kept reads as none";
}

}  // namespace
}  // namespace repute::store
