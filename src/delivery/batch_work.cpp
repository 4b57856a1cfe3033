#include "delivery/batch_work.hpp"

#include <algorithm>
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
    auto webhook = tx.read_webhook_by_id(id);
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
  // Rows are taken in one order, whoever records: subscriptions by id, then deliveries by row. Nodes recording
  // overlapping outcomes at once (a lease ran out and another node sent the delivery too) then wait for each other
  // instead of deadlocking.
  std::map<std::string, Subscription, std::less<>> subscriptions;
  for (const Outcome& outcome : outcomes) subscriptions.try_emplace(outcome.delivery.webhook_id);
  for (auto& [id, subscription] : subscriptions) {
    auto webhook = tx.find_webhook_by_id(id);
    if (!webhook) return webhook.error();
    subscription.was_enabled = *webhook && (*webhook)->enabled;
    subscription.webhook = std::move(*webhook);
  }
  std::vector<const Outcome*> by_row;
  by_row.reserve(outcomes.size());
  for (const Outcome& outcome : outcomes) {
    if (subscriptions.find(outcome.delivery.webhook_id)->second.webhook) by_row.push_back(&outcome);
  }
  std::sort(by_row.begin(), by_row.end(),
            [](const Outcome* a, const Outcome* b) { return a->delivery.seq < b->delivery.seq; });
  for (const Outcome* outcome : by_row) {
    if (auto status = tx.update_delivery(outcome->delivery); !status) return status;
    if (outcome->attempt) {
      if (auto status = tx.insert_attempt(*outcome->attempt); !status) return status;
    }
  }
  // The subscriptions' rules see the outcomes in the order they came.
  for (const Outcome& outcome : outcomes) {
    Subscription& subscription = subscriptions.find(outcome.delivery.webhook_id)->second;
    if (!subscription.webhook) continue;  // its deliveries went with it
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
