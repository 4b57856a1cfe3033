// The engine end to end inside one process: a real SQLite store, the real HTTP client, and a loopback receiver.
// Retries run on a scaled schedule so that nothing waits for real hours.
#include "delivery/delivery.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/ids.hpp"
#include "delivery/signing.hpp"
#include "unit/delivery/loopback_server.hpp"
#include "support/test_database.hpp"

namespace repute::delivery {
namespace {

using testing::http_reply;
using testing::LoopbackServer;
using testing::ReceivedRequest;
using testing::Reply;
using namespace std::chrono_literals;

constexpr core::Micros kMillis = 1000;

// Polls condition every 10 ms; false if it is still false after timeout.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "repute-dispatch-XXXXXX").string();
    ASSERT_TRUE(mkdtemp(pattern.data()));
    folder_ = pattern;
    auto opened = store::open_store(repute::testing::database_url(folder_ + "/test.db"));
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
    ASSERT_TRUE(store_
                    ->write_and_wait([this](store::WriteTx& tx) -> core::Status {
                      auto tenant = tx.ensure_tenant("test", core::system_clock().now());
                      if (!tenant) return tenant.error();
                      tenant_id_ = tenant->id;
                      return core::ok_status();
                    })
                    .ok());
  }

  void TearDown() override {
    if (dispatcher_) dispatcher_->stop();
    dispatcher_.reset();
    store_->set_work_listener(nullptr);
    store_->close();
    std::error_code ignored;
    std::filesystem::remove_all(folder_, ignored);
  }

  DeliveryOptions options() {
    DeliveryOptions options;
    options.address_policy = core::AddressPolicy({}, true);
    options.retry.time_scale = 0.001;
    options.attempt_timeout = 2 * core::kMicrosPerSecond;
    options.lease = 4 * core::kMicrosPerSecond;
    return options;
  }

  void start(DeliveryOptions options) {
    auto started = start_dispatcher(*store_, std::move(options));
    ASSERT_TRUE(started.ok()) << started.error().message;
    dispatcher_ = std::move(*started);
    store_->set_work_listener([this](store::WorkKind kind) {
      if (kind == store::WorkKind::kDeliveries) dispatcher_->wake();
    });
  }

  std::string add_webhook(const std::string& url, std::optional<std::string> secret = "s3cret", bool enabled = true) {
    core::Webhook webhook;
    webhook.id = core::new_uuid();
    webhook.tenant_id = tenant_id_;
    webhook.events = {"*"};
    webhook.name = "hook";
    webhook.url = url;
    webhook.secret = std::move(secret);
    webhook.enabled = enabled;
    webhook.created_at = webhook.updated_at = core::system_clock().now();
    EXPECT_TRUE(store_->write_and_wait([&](store::WriteTx& tx) { return tx.insert_webhook(webhook); }).ok());
    return webhook.id;
  }

  // A pending delivery to webhook_id, due now, not stored yet.
  core::Delivery new_delivery(const std::string& webhook_id, std::string body) {
    core::Delivery delivery;
    delivery.id = core::new_uuid();
    delivery.tenant_id = tenant_id_;
    delivery.event_id = core::new_uuid();
    delivery.webhook_id = webhook_id;
    delivery.event_type = "reputations.added";
    delivery.body = std::move(body);
    delivery.created_at = delivery.updated_at = core::system_clock().now();
    delivery.next_attempt_at = delivery.created_at;
    return delivery;
  }

  std::vector<std::string> add_deliveries(const std::string& webhook_id, int count) {
    std::vector<std::string> ids;
    EXPECT_TRUE(store_
                    ->write_and_wait([&](store::WriteTx& tx) -> core::Status {
                      for (int i = 0; i < count; ++i) {
                        core::Delivery delivery =
                            new_delivery(webhook_id, R"({"event":"reputations.added","name":"hook","data":{"n":)" +
                                                         std::to_string(i) + "}}");
                        if (auto status = tx.insert_delivery(delivery); !status) return status;
                        ids.push_back(delivery.id);
                      }
                      return core::ok_status();
                    })
                    .ok());
    return ids;
  }

  core::Delivery delivery(const std::string& id) { return **store_->find_delivery(tenant_id_, id); }
  core::Webhook webhook(const std::string& id) { return **store_->find_webhook(tenant_id_, id); }
  bool delivered(const std::string& id) { return delivery(id).state == core::DeliveryState::kDelivered; }

  std::string folder_;
  std::string tenant_id_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(DispatcherTest, RefusesALeaseNoLongerThanTheAttempt) {
  DeliveryOptions bad = options();
  bad.lease = bad.attempt_timeout;
  EXPECT_FALSE(start_dispatcher(*store_, bad).ok());
  bad = options();
  bad.max_in_flight_per_webhook = 0;
  EXPECT_FALSE(start_dispatcher(*store_, bad).ok());
}

TEST_F(DispatcherTest, DeliversSignedBodiesAndRecordsEachAttempt) {
  LoopbackServer receiver([](const ReceivedRequest&) { return http_reply(200, "received"); });
  const std::string hook = add_webhook(receiver.url("/hook"));
  const auto ids = add_deliveries(hook, 3);
  start(options());

  ASSERT_TRUE(receiver.wait_for_requests(3));
  for (const ReceivedRequest& request : receiver.requests()) {
    const std::string id = *request.header("webhook-id");
    const core::Delivery stored = delivery(id);
    EXPECT_EQ(request.body, stored.body);
    EXPECT_EQ(request.target, "/hook");
    EXPECT_EQ(request.header("content-type"), "application/json");
    const std::int64_t timestamp = std::stoll(*request.header("webhook-timestamp"));
    EXPECT_NEAR(static_cast<double>(timestamp), static_cast<double>(core::system_clock().now() / 1'000'000), 5);
    EXPECT_EQ(request.header("x-argyle-signature"), argyle_signature("s3cret", request.body));
    EXPECT_EQ(request.header("webhook-signature"), standard_webhooks_signature("s3cret", id, timestamp, request.body));
  }
  ASSERT_TRUE(eventually([&] { return delivered(ids[0]) && delivered(ids[1]) && delivered(ids[2]); }));
  const auto attempts = *store_->list_attempts(ids[0]);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].status_code, 200);
  EXPECT_EQ(attempts[0].response_excerpt, "received");
  EXPECT_GT(attempts[0].duration, 0);
  EXPECT_TRUE(webhook(hook).last_sent_at);
}

TEST_F(DispatcherTest, NoSecretMeansNoSignatureHeaders) {
  LoopbackServer receiver([](const ReceivedRequest&) { return http_reply(204); });
  add_deliveries(add_webhook(receiver.url(), std::nullopt), 1);
  start(options());
  ASSERT_TRUE(receiver.wait_for_requests(1));
  const ReceivedRequest request = receiver.requests().at(0);
  EXPECT_FALSE(request.header("x-argyle-signature"));
  EXPECT_FALSE(request.header("webhook-signature"));
  EXPECT_TRUE(request.header("webhook-id"));
}

TEST_F(DispatcherTest, NewWorkIsSentAtOnce) {
  LoopbackServer receiver([](const ReceivedRequest&) { return http_reply(200); });
  const std::string hook = add_webhook(receiver.url());
  start(options());
  std::this_thread::sleep_for(100ms);  // idle now
  const auto started = std::chrono::steady_clock::now();
  add_deliveries(hook, 1);
  ASSERT_TRUE(receiver.wait_for_requests(1));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 300ms);  // woken by the commit, not by a poll
}

// Once the engine knows a subscription (from a claim), a new delivery to it is stored already leased to the engine
// and sent when its commit is done, with no claim of its own; a changed URL is never used stale.
TEST_F(DispatcherTest, NewDeliveriesAreHandedToTheEngineAtCommitAndFollowAChangedUrl) {
  LoopbackServer receiver([](const ReceivedRequest&) { return http_reply(200); });
  const std::string hook = add_webhook(receiver.url("/a"));
  start(options());
  // Inserts one delivery and says whether it was stored leased (handed over) rather than due now.
  const auto add_one = [&]() {
    bool handed = false;
    EXPECT_TRUE(store_
                    ->write_and_wait([&](store::WriteTx& tx) -> core::Status {
                      core::Delivery delivery = new_delivery(hook, R"({"event":"reputations.added"})");
                      if (auto status = tx.insert_delivery(delivery); !status) return status;
                      handed = *delivery.next_attempt_at > delivery.created_at + core::kMicrosPerSecond;
                      return core::ok_status();
                    })
                    .ok());
    return handed;
  };
  const auto arrivals = [&](const std::string& path) {
    std::size_t count = 0;
    for (const ReceivedRequest& request : receiver.requests()) count += request.target == path;
    return count;
  };

  EXPECT_FALSE(add_one()) << "unknown to the engine yet: stored due, claimed";
  ASSERT_TRUE(eventually([&] { return arrivals("/a") == 1; }));
  EXPECT_TRUE(add_one()) << "known now: handed over";
  ASSERT_TRUE(eventually([&] { return arrivals("/a") == 2; }));

  core::Webhook moved = webhook(hook);
  moved.url = receiver.url("/b");
  ASSERT_TRUE(store_->write_and_wait([&](store::WriteTx& tx) { return tx.update_webhook(moved); }).ok());
  EXPECT_FALSE(add_one()) << "its subscription changed: claimed again, with the new URL";
  ASSERT_TRUE(eventually([&] { return arrivals("/b") == 1; }));
  EXPECT_TRUE(add_one());
  ASSERT_TRUE(eventually([&] { return arrivals("/b") == 2; }));
  EXPECT_EQ(arrivals("/a"), 2u);
  auto delivered_count = [&] {
    store::DeliveryFilter delivered;
    delivered.state = core::DeliveryState::kDelivered;
    auto page = store_->list_deliveries(tenant_id_, hook, delivered, {200, std::nullopt});
    return page ? page->items.size() : 0u;
  };
  EXPECT_TRUE(eventually([&] { return delivered_count() == 4; })) << "every outcome recorded";
}

// A claim and a URL change committed together (the claim first): what the claim read must not be learnt, or every
// later handed-over delivery would go to the old URL. The claimed delivery itself goes back and out to the new URL.
TEST_F(DispatcherTest, AClaimCommittedWithAUrlChangeTeachesNoStaleAddress) {
  // One writer, so that holding it holds every write (PostgreSQL runs several by default, each its own commit).
  store_->close();
  auto reopened = store::open_store(repute::testing::database_url(folder_ + "/test.db"), {.pool_size = 1});
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  store_ = std::move(*reopened);
  LoopbackServer receiver([](const ReceivedRequest&) { return http_reply(200); });
  const std::string hook = add_webhook(receiver.url("/a"));
  start(options());
  const auto arrivals = [&](const std::string& path) {
    std::size_t count = 0;
    for (const ReceivedRequest& request : receiver.requests()) count += request.target == path;
    return count;
  };
  // A delivery due now that the engine does not take at birth (stored failed, then made pending: never reserved).
  const auto add_due = [&](store::WriteTx& tx) -> core::Status {
    core::Delivery delivery = new_delivery(hook, "{}");
    delivery.state = core::DeliveryState::kFailed;
    if (auto status = tx.insert_delivery(delivery); !status) return status;
    delivery.state = core::DeliveryState::kPending;
    return tx.update_delivery(delivery);
  };
  add_deliveries(hook, 1);
  ASSERT_TRUE(eventually([&] { return arrivals("/a") == 1; }));  // the engine knows /a now
  std::this_thread::sleep_for(200ms);

  // Hold the writer so that [a due delivery, the claim, the URL change] share one commit.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> holding;
  store_->write(
      [&holding, released](store::WriteTx&) {
        holding.set_value();
        released.wait();
        return core::ok_status();
      },
      nullptr);
  holding.get_future().wait();
  store_->write(add_due, nullptr);
  dispatcher_->wake();  // queues a claim behind it
  core::Webhook moved = webhook(hook);
  moved.url = receiver.url("/b");
  std::promise<void> updated;
  store_->write([&](store::WriteTx& tx) { return tx.update_webhook(moved); },
                [&updated](core::Status) { updated.set_value(); });
  release.set_value();
  updated.get_future().wait();

  add_deliveries(hook, 1);  // made after the change
  ASSERT_TRUE(eventually([&] { return arrivals("/b") == 2; })) << "the claimed and the new delivery, at the new URL (sent to the old one: " << arrivals("/a") << ")";
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(arrivals("/a"), 1u) << "nothing went to the old URL after the change";
}

TEST_F(DispatcherTest, RetriesOnTheScheduleWithTheSameIdAndBody) {
  std::atomic<int> calls{0};
  LoopbackServer receiver([&calls](const ReceivedRequest&) { return http_reply(++calls <= 2 ? 500 : 200, "nope"); });
  const auto ids = add_deliveries(add_webhook(receiver.url()), 1);
  start(options());
  ASSERT_TRUE(receiver.wait_for_requests(3));
  ASSERT_TRUE(eventually([&] { return delivered(ids[0]); }));
  const auto requests = receiver.requests();
  for (const ReceivedRequest& request : requests) {
    EXPECT_EQ(request.header("webhook-id"), ids[0]);
    EXPECT_EQ(request.body, requests[0].body);
  }
  EXPECT_EQ(delivery(ids[0]).attempts, 3);
  const auto attempts = *store_->list_attempts(ids[0]);
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_EQ(attempts[0].status_code, 500);
  EXPECT_EQ(attempts[2].status_code, 200);
  EXPECT_FALSE(webhook(delivery(ids[0]).webhook_id).failing_since);
}

TEST_F(DispatcherTest, GivesUpWhenTheScheduleIsUsedUp) {
  LoopbackServer receiver([](const ReceivedRequest&) { return http_reply(500); });
  DeliveryOptions short_schedule = options();
  short_schedule.retry.delays = {10 * kMillis, 10 * kMillis};
  short_schedule.retry.time_scale = 1;
  const std::string hook = add_webhook(receiver.url());
  const auto ids = add_deliveries(hook, 1);
  start(short_schedule);
  ASSERT_TRUE(eventually([&] { return delivery(ids[0]).state == core::DeliveryState::kFailed; }));
  EXPECT_EQ(delivery(ids[0]).attempts, 3);
  EXPECT_EQ(receiver.requests().size(), 3u);
  EXPECT_TRUE(webhook(hook).failing_since);
  EXPECT_TRUE(webhook(hook).enabled);
}

TEST_F(DispatcherTest, GoneDisablesTheSubscription) {
  LoopbackServer receiver([](const ReceivedRequest&) { return http_reply(410); });
  DeliveryOptions one_at_a_time = options();
  one_at_a_time.max_in_flight_per_webhook = 1;
  const std::string hook = add_webhook(receiver.url());
  const auto ids = add_deliveries(hook, 5);
  start(one_at_a_time);
  ASSERT_TRUE(eventually([&] { return !webhook(hook).enabled; }));
  EXPECT_EQ(webhook(hook).disabled_reason, "gone");
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(receiver.requests().size(), 1u);  // the rest wait for a re-enable
  int failed = 0;
  for (const auto& id : ids) failed += delivery(id).state == core::DeliveryState::kFailed;
  EXPECT_EQ(failed, 1);
}

TEST_F(DispatcherTest, FailingTooLongDisables) {
  LoopbackServer receiver([](const ReceivedRequest&) { return http_reply(500); });
  DeliveryOptions impatient = options();
  impatient.disable_after = 1;  // any second failure is "too long"
  const std::string hook = add_webhook(receiver.url());
  add_deliveries(hook, 1);
  start(impatient);
  ASSERT_TRUE(eventually([&] { return !webhook(hook).enabled; }));
  EXPECT_EQ(webhook(hook).disabled_reason, "failing");
}

TEST_F(DispatcherTest, DisabledSubscriptionsWaitUntilReenabled) {
  LoopbackServer receiver([](const ReceivedRequest&) { return http_reply(200); });
  const std::string hook = add_webhook(receiver.url(), "s", false);
  const auto ids = add_deliveries(hook, 2);
  start(options());
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(receiver.requests().empty());
  ASSERT_TRUE(store_
                  ->write_and_wait([&](store::WriteTx& tx) {
                    core::Webhook enabled = webhook(hook);
                    enabled.enabled = true;
                    return tx.update_webhook(enabled);
                  })
                  .ok());
  ASSERT_TRUE(eventually([&] { return delivered(ids[0]) && delivered(ids[1]); }));
}

TEST_F(DispatcherTest, AHangingReceiverDoesNotDelayOthers) {
  LoopbackServer hanging([](const ReceivedRequest&) {
    Reply reply;
    reply.hang = true;
    return reply;
  });
  LoopbackServer healthy([](const ReceivedRequest&) { return http_reply(200); });
  DeliveryOptions capped = options();
  capped.max_in_flight = 8;
  capped.max_in_flight_per_webhook = 4;
  const std::string slow = add_webhook(hanging.url());
  add_deliveries(slow, 40);  // older: first in line
  const auto fast_ids = add_deliveries(add_webhook(healthy.url()), 40);
  const auto started = std::chrono::steady_clock::now();
  start(capped);
  ASSERT_TRUE(eventually([&] { return delivered(fast_ids.back()); }, 1500ms));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);  // well before the 2 s attempt timeout
  EXPECT_EQ(healthy.requests().size(), 40u);
  EXPECT_LE(hanging.requests().size(), 4u);
}

TEST_F(DispatcherTest, NeverSendsOneDeliveryTwiceAtOnce) {
  std::mutex mutex;
  std::set<std::string> open;
  std::atomic<int> overlaps{0};
  LoopbackServer receiver([&](const ReceivedRequest& request) {
    const std::string id = *request.header("webhook-id");
    {
      std::lock_guard lock(mutex);
      if (!open.insert(id).second) ++overlaps;
    }
    std::this_thread::sleep_for(5ms);
    std::lock_guard lock(mutex);
    open.erase(id);
    return http_reply(503, "", "Retry-After: 0\r\n");
  });
  DeliveryOptions busy = options();
  busy.retry.delays = std::vector<core::Micros>(5, 0);
  busy.retry.time_scale = 1;
  const auto ids = add_deliveries(add_webhook(receiver.url()), 30);
  start(busy);
  ASSERT_TRUE(eventually([&] {
    for (const auto& id : ids) {
      if (delivery(id).state != core::DeliveryState::kFailed) return false;
    }
    return true;
  }));
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(receiver.requests().size(), 30u * 6);
}

TEST_F(DispatcherTest, StopRecordsWhatWasInFlight) {
  LoopbackServer slow([](const ReceivedRequest&) {
    std::this_thread::sleep_for(300ms);
    return http_reply(200);
  });
  const auto ids = add_deliveries(add_webhook(slow.url()), 3);
  start(options());
  ASSERT_TRUE(slow.wait_for_requests(1));
  dispatcher_->stop();
  // Whatever was in flight was answered and recorded before stop() returned.
  for (const auto& id : ids) {
    const core::Delivery stored = delivery(id);
    EXPECT_EQ(stored.state == core::DeliveryState::kDelivered, stored.attempts == 1);
    EXPECT_EQ(store_->list_attempts(id)->size(), static_cast<std::size_t>(stored.attempts));
  }
  EXPECT_TRUE(delivered(*slow.requests().at(0).header("webhook-id")));
}

}  // namespace
}  // namespace repute::delivery
