// The event catalogue and which subscriptions receive which events.
#include "core/events.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace repute::core {
namespace {

TEST(EventCatalogue, ListsTheTwoReputationEvents) {
  const auto catalogue = event_catalogue();
  ASSERT_EQ(catalogue.size(), 2u);
  EXPECT_EQ(catalogue[0], "reputations.added");
  EXPECT_EQ(catalogue[1], "reputations.updated");
}

TEST(IsKnownEvent, KnowsExactlyTheCatalogue) {
  EXPECT_TRUE(is_known_event("reputations.added"));
  EXPECT_TRUE(is_known_event("reputations.updated"));
  for (std::string_view name : {"", "*", "reputations", "reputations.deleted", "Reputations.added",
                                "reputations.added ", "reputations.*", "accounts.added"}) {
    EXPECT_FALSE(is_known_event(name)) << "'" << name << "'";
  }
}

TEST(SubscriptionMatches, AStarReceivesEveryEvent) {
  const std::vector<std::string> all = {"*"};
  for (std::string_view event : event_catalogue()) EXPECT_TRUE(subscription_matches(all, event)) << event;
}

TEST(SubscriptionMatches, ANamedEventReceivesOnlyThatEvent) {
  const std::vector<std::string> added = {"reputations.added"};
  EXPECT_TRUE(subscription_matches(added, kReputationsAdded));
  EXPECT_FALSE(subscription_matches(added, kReputationsUpdated));

  const std::vector<std::string> updated = {"reputations.updated"};
  EXPECT_FALSE(subscription_matches(updated, kReputationsAdded));
  EXPECT_TRUE(subscription_matches(updated, kReputationsUpdated));
}

TEST(SubscriptionMatches, SeveralNamesReceiveEachOfThem) {
  const std::vector<std::string> both = {"reputations.updated", "reputations.added"};
  EXPECT_TRUE(subscription_matches(both, kReputationsAdded));
  EXPECT_TRUE(subscription_matches(both, kReputationsUpdated));
}

TEST(SubscriptionMatches, NoEventsReceiveNothing) {
  EXPECT_FALSE(subscription_matches({}, kReputationsAdded));
  EXPECT_FALSE(subscription_matches({"reputations"}, kReputationsAdded));
  EXPECT_FALSE(subscription_matches({"reputations.*"}, kReputationsAdded));
}

}  // namespace
}  // namespace repute::core
