#pragma once
// The engine's two units of work on the store: claiming a batch of due deliveries (with a lease), and recording
// a batch of outcomes. Each runs inside one transaction of the store's writer.
#include <cstdint>
#include <string>
#include <vector>

#include "core/webhook.hpp"
#include "delivery/outcome.hpp"
#include "store/store.hpp"

namespace repute::delivery {

// What a claim brought in: the deliveries, and the subscriptions they go to (as they are now).
struct ClaimedBatch {
  std::vector<core::Delivery> deliveries;
  std::vector<core::Webhook> webhooks;
  std::uint64_t generation = 0;  // the engine's address generation when the claim read the subscriptions
};

// Claims up to limit deliveries due at now, leased until lease_until, leaving out skip_webhooks; fills batch.
core::Status claim_batch(store::WriteTx& tx, core::Micros now, core::Micros lease_until, int limit,
                         const std::vector<std::string>& skip_webhooks, ClaimedBatch& batch);

// Stores each outcome's delivery and attempt, and applies their effects, in order, to their subscriptions with
// rules (one update per subscription). Outcomes of deleted subscriptions are dropped. Adds to disabled the ids of
// subscriptions this disabled.
core::Status record_outcomes(store::WriteTx& tx, const std::vector<Outcome>& outcomes, const OutcomeRules& rules,
                             std::vector<std::string>& disabled);

}  // namespace repute::delivery
