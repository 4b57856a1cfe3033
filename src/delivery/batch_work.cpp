#include "delivery/batch_work.hpp"

#include <map>
#include <optional>
#include <set>

namespace repute::delivery {

core::Status claim_batch(store::WriteTx& tx, core::Micros now, core::Micros lease_until, int limit,
                         const std::vector<std::string>& skip_webhooks, ClaimedBatch& batch) {
  auto due = tx.claim_due_deliveries(now, lease_until, limit, skip_webhooks);
  if (!due) return due.error();
  std::set<std::string> webhook_ids;
  for (const core::Delivery& delivery : *due) webhook_ids.insert(delivery.webhook_id);
  for (const std::string& id : webhook_ids) {
    auto webhook = tx.find_webhook_by_id(id);
    if (!webhook) return webhook.error();
    if (*webhook) batch.webhooks.push_back(std::move(**webhook));
  }
  batch.deliveries = std::move(*due);
  return core::ok_status();
}

core::Status record_outcomes(store::WriteTx& tx, const std::vector<Outcome>& outcomes, const OutcomeRules& rules,
                             std::vector<std::string>& disabled) {
  struct Subscription {
    std::optional<core::Webhook> webhook;  // nullopt: deleted since the claim
    bool was_enabled = false;
    bool changed = false;
  };
  std::map<std::string, Subscription, std::less<>> subscriptions;
  for (const Outcome& outcome : outcomes) {
    auto found = subscriptions.find(outcome.delivery.webhook_id);
    if (found == subscriptions.end()) {
      auto webhook = tx.find_webhook_by_id(outcome.delivery.webhook_id);
      if (!webhook) return webhook.error();
      Subscription subscription;
      subscription.was_enabled = *webhook && (*webhook)->enabled;
      subscription.webhook = std::move(*webhook);
      found = subscriptions.emplace(outcome.delivery.webhook_id, std::move(subscription)).first;
    }
    Subscription& subscription = found->second;
    if (!subscription.webhook) continue;  // its deliveries went with it
    if (auto status = tx.update_delivery(outcome.delivery); !status) return status;
    if (outcome.attempt) {
      if (auto status = tx.insert_attempt(*outcome.attempt); !status) return status;
    }
    const core::Micros at = outcome.attempt ? outcome.attempt->attempted_at : outcome.delivery.updated_at;
    subscription.changed = rules.apply(*subscription.webhook, outcome.effect, at) || subscription.changed;
  }
  for (auto& [id, subscription] : subscriptions) {
    if (!subscription.webhook || !subscription.changed) continue;
    if (auto status = tx.update_webhook(*subscription.webhook); !status) return status;
    if (subscription.was_enabled && !subscription.webhook->enabled) disabled.push_back(id);
  }
  return core::ok_status();
}

}  // namespace repute::delivery
