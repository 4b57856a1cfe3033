// Applying a scan against the real SQLite store: the first result adds the reputation with one
// reputations.added and a delivery per matching enabled subscription; an identical result emits nothing; a
// changed one updates it; a failure keeps the last good reputation; the next scan is scheduled (or not).
#include "unit/support/temp_dir.hpp"
#include "scan/apply_scan.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/ids.hpp"
#include "core/reputation_json.hpp"
#include "support/test_database.hpp"

namespace repute::scan {
namespace {

namespace json = boost::json;

constexpr core::Micros kNow = 1'795'773'600'000'000;  // 2026-11-27T10:00:00Z
constexpr core::Micros kSecond = core::kMicrosPerSecond;

using repute::test_support::TempDir;

core::ScanResult content(const char* rating, const char* acceptance = "0.9") {
  core::ScanResult result;
  result.rating = rating;
  result.acceptance_rate = acceptance;
  result.ontime_rate = "0.95";
  result.achievements = {{3, "Top Dasher", "https://badges.example/top.png", "Among the best", 10}};
  result.metadata = R"({"trips":120})";
  return result;
}

ScanOutcome good(const core::ScanResult& result) { return {result, "", ""}; }
ScanOutcome failed(const char* code, const char* message) { return {std::nullopt, code, message}; }

class ApplyScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions options;
    options.synchronous_full = false;
    auto opened = store::open_store(repute::testing::database_url((dir_.path() / "repute.db").string()), options);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    tenant_ = make_tenant("acme");
    other_tenant_ = make_tenant("globex");
    user_ = make_user(tenant_);
  }

  std::string make_tenant(const std::string& name) {
    std::string id;
    must(store_->write_and_wait([&](store::WriteTx& tx) -> core::Status {
      auto tenant = tx.ensure_tenant(name, kNow);
      if (!tenant) return tenant.error();
      id = tenant->id;
      return core::ok_status();
    }));
    return id;
  }

  std::string make_user(const std::string& tenant) {
    core::User user{core::new_uuid(), tenant, std::nullopt, "{}", kNow};
    must(store_->write_and_wait([&](store::WriteTx& tx) { return tx.insert_user(user); }));
    return user.id;
  }

  // A sandbox account of the acme user, refreshed every minute, scheduled now; change adjusts it first.
  std::string make_account(const std::function<void(core::Account&)>& change = nullptr) {
    core::Account account;
    account.id = core::new_uuid();
    account.tenant_id = tenant_;
    account.user_id = user_;
    account.employer = "doordash";
    account.refresh_frequency = 60;
    account.created_at = account.updated_at = account.connection_updated_at = kNow;
    account.next_scan_at = kNow;
    if (change) change(account);
    must(store_->write_and_wait([&](store::WriteTx& tx) { return tx.insert_account(account); }));
    return account.id;
  }

  std::string make_webhook(const std::string& tenant, std::vector<std::string> events, bool enabled = true,
                           bool include_resource = false) {
    core::Webhook webhook;
    webhook.id = core::new_uuid();
    webhook.tenant_id = tenant;
    webhook.events = std::move(events);
    webhook.name = "hook " + webhook.id.substr(0, 8);
    webhook.url = "https://hooks.example.com/" + webhook.id;
    webhook.include_resource = include_resource;
    webhook.enabled = enabled;
    if (!enabled) webhook.disabled_reason = core::kDisabledManual;
    webhook.created_at = webhook.updated_at = kNow;
    must(store_->write_and_wait([&](store::WriteTx& tx) { return tx.insert_webhook(webhook); }));
    return webhook.id;
  }

  // Applies one scan whose source reads outcome; what apply_scan returned, or its error.
  core::Result<Applied> scan(const std::string& account_id, const ScanOutcome& outcome, core::Micros now,
                             double jitter = 0.0) {
    std::optional<core::Result<Applied>> result;
    auto status = store_->write_and_wait([&](store::WriteTx& tx) -> core::Status {
      result = apply_scan(
          tx, tenant_, account_id,
          [&](const core::Account&, const std::optional<core::Reputation>&) { return outcome; }, now, jitter);
      return *result ? core::ok_status() : core::Status(result->error());
    });
    if (!status) return status.error();
    return std::move(*result);
  }

  core::Account account(const std::string& id) {
    auto found = store_->find_account(tenant_, id);
    if (!found || !*found) throw std::runtime_error("no account " + id);
    return **found;
  }

  std::optional<core::Reputation> reputation(const std::string& account_id) {
    store::ReputationFilter filter;
    filter.account_id = account_id;
    auto page = store_->list_reputations(tenant_, filter, {200, std::nullopt});
    if (!page) throw std::runtime_error(page.error().message);
    if (page->items.size() > 1) throw std::runtime_error("more than one reputation for one account");
    if (page->items.empty()) return std::nullopt;
    return page->items.front();
  }

  std::vector<core::Event> events(const std::string& tenant) {
    auto page = store_->list_events(tenant, {}, {200, std::nullopt});
    if (!page) throw std::runtime_error(page.error().message);
    return page->items;
  }

  std::vector<core::Delivery> deliveries(const std::string& tenant, const std::string& webhook_id) {
    auto page = store_->list_deliveries(tenant, webhook_id, {}, {200, std::nullopt});
    if (!page) throw std::runtime_error(page.error().message);
    return page->items;
  }

  static void must(const core::Status& status) {
    if (!status) throw std::runtime_error(status.error().message);
  }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::string tenant_;
  std::string other_tenant_;
  std::string user_;
};

TEST_F(ApplyScanTest, FirstResultAddsTheReputationWithOneAddedEvent) {
  const std::string id = make_account();
  auto applied = scan(id, good(content("4.9")), kNow + kSecond);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_TRUE(applied->account_found);
  ASSERT_TRUE(applied->event);
  EXPECT_EQ(applied->event->type, "reputations.added");

  const auto stored = reputation(id);
  ASSERT_TRUE(stored);
  EXPECT_TRUE(core::is_uuid(stored->id));
  EXPECT_EQ(stored->account_id, id);
  EXPECT_EQ(stored->user_id, user_);
  EXPECT_EQ(stored->employer, "doordash");
  EXPECT_EQ(stored->content, content("4.9"));
  EXPECT_EQ(stored->created_at, kNow + kSecond);
  EXPECT_EQ(stored->updated_at, kNow + kSecond);

  const auto emitted = events(tenant_);
  ASSERT_EQ(emitted.size(), 1u);
  EXPECT_EQ(emitted[0].id, applied->event->id);
  EXPECT_EQ(emitted[0].type, "reputations.added");
  EXPECT_EQ(emitted[0].account_id, id);
  EXPECT_EQ(emitted[0].user_id, user_);
  EXPECT_EQ(emitted[0].reputation_id, stored->id);
  EXPECT_EQ(emitted[0].created_at, kNow + kSecond);
}

TEST_F(ApplyScanTest, FirstResultMarksTheAccountConnectedAndSchedulesTheNextScan) {
  const std::string id = make_account();
  ASSERT_TRUE(scan(id, good(content("4.9")), kNow + kSecond));
  const core::Account after = account(id);
  EXPECT_EQ(after.connection_status, "connected");
  EXPECT_EQ(after.connection_error_code, std::nullopt);
  EXPECT_EQ(after.connection_error_message, std::nullopt);
  EXPECT_EQ(after.connection_updated_at, kNow + kSecond);
  EXPECT_EQ(after.scanned_at, kNow + kSecond);
  EXPECT_EQ(after.scan_count, 1);
  EXPECT_EQ(after.next_scan_at, kNow + kSecond + 60 * kSecond);
}

TEST_F(ApplyScanTest, NextScanCarriesTheJitter) {
  const std::string later = make_account();
  const std::string sooner = make_account();
  ASSERT_TRUE(scan(later, good(content("4.9")), kNow, 0.1));
  ASSERT_TRUE(scan(sooner, good(content("4.9")), kNow, -0.1));
  EXPECT_EQ(account(later).next_scan_at, kNow + 66 * kSecond);
  EXPECT_EQ(account(sooner).next_scan_at, kNow + 54 * kSecond);
}

TEST_F(ApplyScanTest, OneDeliveryPerEnabledMatchingSubscriptionOfTheTenant) {
  const std::string added = make_webhook(tenant_, {"reputations.added"});
  const std::string everything = make_webhook(tenant_, {"*"});
  const std::string both = make_webhook(tenant_, {"reputations.added", "reputations.updated"});
  const std::string updated_only = make_webhook(tenant_, {"reputations.updated"});
  const std::string disabled = make_webhook(tenant_, {"*"}, false);
  const std::string foreign = make_webhook(other_tenant_, {"*"});
  const std::string id = make_account();

  auto applied = scan(id, good(content("4.9")), kNow);
  ASSERT_TRUE(applied && applied->event);
  for (const std::string& webhook : {added, everything, both}) {
    const auto made = deliveries(tenant_, webhook);
    ASSERT_EQ(made.size(), 1u) << webhook;
    EXPECT_EQ(made[0].event_id, applied->event->id);
    EXPECT_EQ(made[0].event_type, "reputations.added");
    EXPECT_EQ(made[0].state, core::DeliveryState::kPending);
    EXPECT_EQ(made[0].attempts, 0);
    EXPECT_EQ(made[0].next_attempt_at, kNow);
  }
  EXPECT_TRUE(deliveries(tenant_, updated_only).empty());
  EXPECT_TRUE(deliveries(tenant_, disabled).empty());
  EXPECT_TRUE(deliveries(other_tenant_, foreign).empty());
  EXPECT_TRUE(events(other_tenant_).empty());

  auto counts = store_->count_deliveries(applied->event->id);
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->pending, 3);
  EXPECT_EQ(counts->delivered, 0);
  EXPECT_EQ(counts->failed, 0);
}

TEST_F(ApplyScanTest, DeliveryBodyIsTheArgylePayload) {
  const std::string webhook = make_webhook(tenant_, {"*"});
  const std::string id = make_account();
  auto applied = scan(id, good(content("4.9")), kNow);
  ASSERT_TRUE(applied && applied->event);
  const auto made = deliveries(tenant_, webhook);
  ASSERT_EQ(made.size(), 1u);
  const auto stored = reputation(id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(json::parse(made[0].body),
            (json::object{{"event", "reputations.added"},
                          {"name", "hook " + webhook.substr(0, 8)},
                          {"data", json::object{{"account", id}, {"user", user_}, {"reputation", stored->id}}}}));
}

TEST_F(ApplyScanTest, IncludeResourcePutsTheWholeReputationInDataResource) {
  const std::string plain = make_webhook(tenant_, {"*"});
  const std::string with_resource = make_webhook(tenant_, {"*"}, true, true);
  const std::string id = make_account();
  ASSERT_TRUE(scan(id, good(content("4.9")), kNow));
  const auto stored = reputation(id);
  ASSERT_TRUE(stored);

  const json::object body = json::parse(deliveries(tenant_, with_resource).at(0).body).as_object();
  const json::object& data = body.at("data").as_object();
  ASSERT_TRUE(data.contains("resource"));
  EXPECT_EQ(data.at("resource"), core::reputation_json(*stored));
  EXPECT_EQ(data.at("resource").at("rating"), "4.9");
  EXPECT_EQ(data.at("resource").at("metadata"), json::parse(R"({"trips":120})"));
  EXPECT_FALSE(json::parse(deliveries(tenant_, plain).at(0).body).at("data").as_object().contains("resource"));
}

TEST_F(ApplyScanTest, IdenticalResultEmitsNothing) {
  const std::string webhook = make_webhook(tenant_, {"*"});
  const std::string id = make_account();
  ASSERT_TRUE(scan(id, good(content("4.9")), kNow));
  const core::Reputation before = *reputation(id);

  auto again = scan(id, good(content("4.9")), kNow + 60 * kSecond);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(again->account_found);
  EXPECT_FALSE(again->event);
  EXPECT_EQ(events(tenant_).size(), 1u);
  EXPECT_EQ(deliveries(tenant_, webhook).size(), 1u);
  const core::Reputation after = *reputation(id);
  EXPECT_EQ(after.updated_at, before.updated_at);
  EXPECT_EQ(after.content, before.content);

  const core::Account scanned = account(id);
  EXPECT_EQ(scanned.scanned_at, kNow + 60 * kSecond);
  EXPECT_EQ(scanned.scan_count, 2);
  EXPECT_EQ(scanned.connection_updated_at, kNow) << "the connection did not change";
  EXPECT_EQ(scanned.next_scan_at, kNow + 120 * kSecond);
}

TEST_F(ApplyScanTest, ChangedResultUpdatesTheReputationWithANewUpdatedAt) {
  const std::string added_only = make_webhook(tenant_, {"reputations.added"});
  const std::string updated_only = make_webhook(tenant_, {"reputations.updated"});
  const std::string everything = make_webhook(tenant_, {"*"});
  const std::string id = make_account();
  ASSERT_TRUE(scan(id, good(content("4.9")), kNow));
  const core::Reputation before = *reputation(id);

  auto changed = scan(id, good(content("4.8")), kNow + 60 * kSecond);
  ASSERT_TRUE(changed && changed->event);
  EXPECT_EQ(changed->event->type, "reputations.updated");
  EXPECT_EQ(changed->event->reputation_id, before.id);

  const core::Reputation after = *reputation(id);
  EXPECT_EQ(after.id, before.id);
  EXPECT_EQ(after.content.rating, "4.8");
  EXPECT_EQ(after.created_at, before.created_at);
  EXPECT_EQ(after.updated_at, kNow + 60 * kSecond);

  const auto emitted = events(tenant_);
  ASSERT_EQ(emitted.size(), 2u);
  EXPECT_EQ(emitted[0].type, "reputations.updated");  // newest first
  EXPECT_EQ(emitted[1].type, "reputations.added");
  EXPECT_EQ(deliveries(tenant_, added_only).size(), 1u);
  ASSERT_EQ(deliveries(tenant_, updated_only).size(), 1u);
  EXPECT_EQ(deliveries(tenant_, updated_only)[0].event_type, "reputations.updated");
  EXPECT_EQ(deliveries(tenant_, everything).size(), 2u);
}

TEST_F(ApplyScanTest, AnyFieldCountsAsAChange) {
  const std::string id = make_account();
  ASSERT_TRUE(scan(id, good(content("4.9")), kNow));
  core::ScanResult next = content("4.9");
  next.achievements[0].count = 4;
  auto applied = scan(id, good(next), kNow + kSecond);
  ASSERT_TRUE(applied && applied->event);
  next.metadata = R"({"trips":121})";
  applied = scan(id, good(next), kNow + 2 * kSecond);
  ASSERT_TRUE(applied && applied->event);
  next.ontime_rate.reset();
  applied = scan(id, good(next), kNow + 3 * kSecond);
  ASSERT_TRUE(applied && applied->event);
  EXPECT_EQ(applied->event->type, "reputations.updated");
  EXPECT_EQ(events(tenant_).size(), 4u);
  EXPECT_EQ(reputation(id)->content.ontime_rate, std::nullopt);
}

TEST_F(ApplyScanTest, TheSourceSeesTheAccountAndItsCurrentReputation) {
  const std::string id = make_account();
  std::vector<std::optional<std::string>> seen_ratings;
  std::vector<std::int64_t> seen_scan_counts;
  for (int i = 0; i < 2; ++i) {
    auto status = store_->write_and_wait([&](store::WriteTx& tx) -> core::Status {
      auto applied = apply_scan(
          tx, tenant_, id,
          [&](const core::Account& current, const std::optional<core::Reputation>& existing) {
            seen_scan_counts.push_back(current.scan_count);
            seen_ratings.push_back(existing ? existing->content.rating : std::nullopt);
            return good(content("4.7"));
          },
          kNow + i * kSecond, 0.0);
      return applied ? core::ok_status() : core::Status(applied.error());
    });
    ASSERT_TRUE(status) << status.error().message;
  }
  EXPECT_EQ(seen_scan_counts, (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(seen_ratings, (std::vector<std::optional<std::string>>{std::nullopt, "4.7"}));
}

TEST_F(ApplyScanTest, FailureSetsTheConnectionErrorAndKeepsTheLastGoodReputation) {
  const std::string webhook = make_webhook(tenant_, {"*"});
  const std::string id = make_account();
  ASSERT_TRUE(scan(id, good(content("4.9")), kNow));
  const core::Reputation before = *reputation(id);

  auto applied = scan(id, failed("source_http_status", "the source answered HTTP 500"), kNow + 60 * kSecond);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_FALSE(applied->event);

  const core::Account after = account(id);
  EXPECT_EQ(after.connection_status, "error");
  EXPECT_EQ(after.connection_error_code, "source_http_status");
  EXPECT_EQ(after.connection_error_message, "the source answered HTTP 500");
  EXPECT_EQ(after.connection_updated_at, kNow + 60 * kSecond);
  EXPECT_EQ(after.scanned_at, kNow + 60 * kSecond);
  EXPECT_EQ(after.next_scan_at, kNow + 120 * kSecond) << "the next period tries again";

  const core::Reputation kept = *reputation(id);
  EXPECT_EQ(kept.content, before.content);
  EXPECT_EQ(kept.updated_at, before.updated_at);
  EXPECT_EQ(events(tenant_).size(), 1u);
  EXPECT_EQ(deliveries(tenant_, webhook).size(), 1u);
}

TEST_F(ApplyScanTest, RecoveryClearsTheErrorAndOnlyEmitsWhenTheContentChanged) {
  const std::string id = make_account();
  ASSERT_TRUE(scan(id, good(content("4.9")), kNow));
  ASSERT_TRUE(scan(id, failed("source_unreachable", "refused"), kNow + kSecond));

  auto recovered = scan(id, good(content("4.9")), kNow + 2 * kSecond);
  ASSERT_TRUE(recovered);
  EXPECT_FALSE(recovered->event) << "the same reputation as before the failure is nothing new";
  const core::Account after = account(id);
  EXPECT_EQ(after.connection_status, "connected");
  EXPECT_EQ(after.connection_error_code, std::nullopt);
  EXPECT_EQ(after.connection_error_message, std::nullopt);
  EXPECT_EQ(after.connection_updated_at, kNow + 2 * kSecond);
  EXPECT_EQ(events(tenant_).size(), 1u);
}

TEST_F(ApplyScanTest, FailureBeforeAnyResultMakesNoReputation) {
  const std::string webhook = make_webhook(tenant_, {"*"});
  const std::string id = make_account();
  auto applied = scan(id, failed("source_malformed", "not JSON"), kNow);
  ASSERT_TRUE(applied);
  EXPECT_FALSE(applied->event);
  EXPECT_FALSE(reputation(id));
  EXPECT_TRUE(events(tenant_).empty());
  EXPECT_TRUE(deliveries(tenant_, webhook).empty());
  EXPECT_EQ(account(id).connection_status, "error");
  EXPECT_EQ(account(id).next_scan_at, kNow + 60 * kSecond);
}

TEST_F(ApplyScanTest, PushAccountsGetNoNextScan) {
  const std::string id = make_account([](core::Account& account) {
    account.source.type = core::Source::Type::kPush;
    account.next_scan_at.reset();
  });
  auto applied = scan(id, good(content("4.9")), kNow);
  ASSERT_TRUE(applied && applied->event);
  EXPECT_EQ(account(id).next_scan_at, std::nullopt);
  EXPECT_EQ(account(id).connection_status, "connected");
}

TEST_F(ApplyScanTest, DisabledOngoingRefreshGetsNoNextScan) {
  const std::string id = make_account([](core::Account& account) { account.ongoing_refresh = false; });
  ASSERT_TRUE(scan(id, good(content("4.9")), kNow));
  EXPECT_EQ(account(id).next_scan_at, std::nullopt);
  ASSERT_TRUE(scan(id, failed("source_http_status", "500"), kNow + kSecond));
  EXPECT_EQ(account(id).next_scan_at, std::nullopt);
}

TEST_F(ApplyScanTest, DeletedAccountIsSkipped) {
  const std::string webhook = make_webhook(tenant_, {"*"});
  const std::string id = make_account();
  must(store_->write_and_wait([&](store::WriteTx& tx) -> core::Status {
    auto deleted = tx.delete_account(tenant_, id);
    if (!deleted) return deleted.error();
    return core::ok_status();
  }));
  bool read = false;
  auto status = store_->write_and_wait([&](store::WriteTx& tx) -> core::Status {
    auto applied = apply_scan(
        tx, tenant_, id,
        [&](const core::Account&, const std::optional<core::Reputation>&) {
          read = true;
          return good(content("4.9"));
        },
        kNow, 0.0);
    if (!applied) return applied.error();
    EXPECT_FALSE(applied->account_found);
    EXPECT_FALSE(applied->event);
    return core::ok_status();
  });
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_FALSE(read) << "the source of a deleted account is not read";
  EXPECT_FALSE(reputation(id));
  EXPECT_TRUE(events(tenant_).empty());
  EXPECT_TRUE(deliveries(tenant_, webhook).empty());
}

TEST_F(ApplyScanTest, AnotherTenantsAccountIsSkipped) {
  const std::string id = make_account();
  auto status = store_->write_and_wait([&](store::WriteTx& tx) -> core::Status {
    auto applied = apply_scan(
        tx, other_tenant_, id,
        [](const core::Account&, const std::optional<core::Reputation>&) { return good(content("4.9")); }, kNow, 0.0);
    if (!applied) return applied.error();
    EXPECT_FALSE(applied->account_found);
    return core::ok_status();
  });
  ASSERT_TRUE(status);
  EXPECT_FALSE(reputation(id));
  EXPECT_EQ(account(id).scan_count, 0);
}

}  // namespace
}  // namespace repute::scan
