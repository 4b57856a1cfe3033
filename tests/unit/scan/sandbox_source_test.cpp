// The sandbox source: the same account always starts from the same realistic reputation, and each later scan
// changes something with the account's change_probability, so integrators see both events on demand.
#include "scan/sandbox_source.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/ids.hpp"
#include "scan/decimal.hpp"

namespace repute::scan {
namespace {

core::Account sandbox_account(const std::string& id, const std::string& employer = "uber",
                              double change_probability = 0.3) {
  core::Account account;
  account.id = id;
  account.tenant_id = "tenant";
  account.user_id = "user";
  account.employer = employer;
  account.source.type = core::Source::Type::kSandbox;
  account.source.change_probability = change_probability;
  return account;
}

// True when text is a canonical decimal in [low, high] with at most two decimals.
bool in_range(const std::optional<std::string>& text, double low, double high) {
  if (!text || canonical_decimal(*text) != *text) return false;
  const std::size_t dot = text->find('.');
  if (dot != std::string::npos && text->size() - dot - 1 > 2) return false;
  const double value = decimal_value(*text);
  return value >= low && value <= high;
}

// How many of scans 1..count changed the reputation when each starts from the one before.
int changes_over(const core::Account& account, int count) {
  core::ScanResult current = sandbox_scan(account, 0, std::nullopt);
  int changed = 0;
  for (int index = 1; index <= count; ++index) {
    core::ScanResult next = sandbox_scan(account, index, current);
    if (next != current) ++changed;
    current = std::move(next);
  }
  return changed;
}

TEST(SandboxScan, SameAccountIdGivesTheSameFirstScan) {
  const std::string id = core::new_uuid();
  core::Account first = sandbox_account(id);
  core::Account again = sandbox_account(id);
  again.tenant_id = "another tenant";
  again.user_id = "another user";
  again.source.change_probability = 0.9;
  EXPECT_EQ(sandbox_scan(first, 0, std::nullopt), sandbox_scan(again, 0, std::nullopt));
}

TEST(SandboxScan, DifferentAccountsGetDifferentReputations) {
  std::set<std::string> ratings;
  for (int i = 0; i < 50; ++i)
    ratings.insert(sandbox_scan(sandbox_account(core::new_uuid()), 0, std::nullopt).rating.value_or(""));
  EXPECT_GT(ratings.size(), 10u);
}

TEST(SandboxScan, FirstScanIsRealistic) {
  for (int i = 0; i < 200; ++i) {
    const core::Account account = sandbox_account(core::new_uuid());
    const core::ScanResult result = sandbox_scan(account, 0, std::nullopt);
    SCOPED_TRACE(account.id);
    EXPECT_TRUE(in_range(result.rating, 4.3, 5.0)) << result.rating.value_or("null");
    EXPECT_TRUE(in_range(result.acceptance_rate, 0.6, 1.0)) << result.acceptance_rate.value_or("null");
    EXPECT_TRUE(in_range(result.ontime_rate, 0.8, 1.0)) << result.ontime_rate.value_or("null");
    ASSERT_GE(result.achievements.size(), 1u);
    ASSERT_LE(result.achievements.size(), 4u);
    for (const core::Achievement& achievement : result.achievements) {
      ASSERT_TRUE(achievement.count && achievement.points && achievement.label && achievement.badge_url &&
                  achievement.description);
      EXPECT_GE(*achievement.count, 1);
      EXPECT_GE(*achievement.points, 0);
      EXPECT_FALSE(achievement.label->empty());
      EXPECT_TRUE(achievement.badge_url->starts_with("https://")) << *achievement.badge_url;
    }
    EXPECT_EQ(result.metadata, R"({"source":"sandbox"})");
  }
}

TEST(SandboxScan, BadgesFitTheEmployer) {
  std::set<std::string> delivery_labels;
  std::set<std::string> rideshare_labels;
  for (int i = 0; i < 50; ++i) {
    const std::string id = core::new_uuid();
    for (const auto& a : sandbox_scan(sandbox_account(id, "doordash"), 0, std::nullopt).achievements) {
      delivery_labels.insert(*a.label);
    }
    for (const auto& a : sandbox_scan(sandbox_account(id, "uber"), 0, std::nullopt).achievements) {
      rideshare_labels.insert(*a.label);
    }
  }
  EXPECT_TRUE(delivery_labels.contains("Top Dasher"));
  EXPECT_TRUE(rideshare_labels.contains("Excellent Service"));
  for (const std::string& label : delivery_labels) EXPECT_FALSE(rideshare_labels.contains(label)) << label;
}

TEST(SandboxScan, LaterScansAreDeterministicToo) {
  const core::Account account = sandbox_account(core::new_uuid(), "lyft", 0.5);
  const core::ScanResult first = sandbox_scan(account, 0, std::nullopt);
  for (int index = 1; index < 50; ++index) {
    EXPECT_EQ(sandbox_scan(account, index, first), sandbox_scan(account, index, first)) << index;
  }
}

TEST(SandboxScan, BothOutcomesHappenWithTheDefaultProbability) {
  for (int i = 0; i < 20; ++i) {
    const core::Account account = sandbox_account(core::new_uuid());
    const int changed = changes_over(account, 200);
    SCOPED_TRACE(account.id);
    EXPECT_GT(changed, 0);
    EXPECT_LT(changed, 200);
    // 0.3 of 200 scans: 60 expected; far outside 25..100 means the probability is not honoured.
    EXPECT_GT(changed, 25);
    EXPECT_LT(changed, 100);
  }
}

// The engine records a scan as unchanged without reading the reputation when sandbox_scan_changes says so:
// the two must agree on every scan.
TEST(SandboxScan, SaysWhetherAScanChangesExactlyWhenItDoes) {
  for (double probability : {0.0, 0.3, 1.0}) {
    const core::Account account = sandbox_account(core::new_uuid(), "uber", probability);
    core::ScanResult current = sandbox_scan(account, 0, std::nullopt);
    EXPECT_FALSE(sandbox_scan_changes(account, 0)) << "the initial scan adds, it does not change";
    for (int index = 1; index <= 300; ++index) {
      core::ScanResult next = sandbox_scan(account, index, current);
      EXPECT_EQ(sandbox_scan_changes(account, index), next != current) << probability << " scan " << index;
      current = std::move(next);
    }
  }
}

TEST(SandboxScan, ProbabilityZeroNeverChanges) {
  for (int i = 0; i < 10; ++i) EXPECT_EQ(changes_over(sandbox_account(core::new_uuid(), "uber", 0.0), 300), 0);
}

TEST(SandboxScan, ProbabilityOneAlwaysChanges) {
  for (int i = 0; i < 10; ++i) EXPECT_EQ(changes_over(sandbox_account(core::new_uuid(), "uber", 1.0), 300), 300);
}

TEST(SandboxScan, ChangedValuesStayRealisticOverManyScans) {
  const core::Account account = sandbox_account(core::new_uuid(), "instacart", 1.0);
  core::ScanResult current = sandbox_scan(account, 0, std::nullopt);
  for (int index = 1; index <= 2000; ++index) {
    current = sandbox_scan(account, index, current);
    ASSERT_TRUE(in_range(current.rating, 0.0, 5.0)) << index << ": " << current.rating.value_or("null");
    ASSERT_TRUE(in_range(current.acceptance_rate, 0.0, 1.0))
        << index << ": " << current.acceptance_rate.value_or("null");
    ASSERT_TRUE(in_range(current.ontime_rate, 0.0, 1.0)) << index << ": " << current.ontime_rate.value_or("null");
  }
}

TEST(SandboxScan, AChangeStartsFromThePreviousResult) {
  const core::Account account = sandbox_account(core::new_uuid(), "uber", 1.0);
  core::ScanResult previous;
  previous.rating = "3";
  previous.acceptance_rate = "0.5";
  previous.ontime_rate = "0.5";
  previous.metadata = R"({"pushed":true})";
  const core::ScanResult next = sandbox_scan(account, 7, previous);
  EXPECT_NE(next, previous);
  EXPECT_EQ(next.metadata, previous.metadata);
  int fields_changed = (next.rating != previous.rating) + (next.acceptance_rate != previous.acceptance_rate) +
                       (next.ontime_rate != previous.ontime_rate) + (next.achievements != previous.achievements);
  EXPECT_EQ(fields_changed, 1);
}

}  // namespace
}  // namespace repute::scan
