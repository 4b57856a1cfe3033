#pragma once
// The transactional outbox: an event and its deliveries, written in the same transaction as the change.
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/delivery.hpp"
#include "core/reputation.hpp"
#include "core/webhook.hpp"
#include "store/store.hpp"

namespace repute::scan {

// The exact bytes a subscription receives for an event (DESIGN §3); with include_resource, data.resource
// holds the whole reputation.
std::string webhook_body(const core::Webhook& webhook, const core::Event& event, const core::Reputation& reputation);

// The enabled subscriptions of each tenant, read once per unit of work: a batch of scans fans out to the same
// ones. Lives no longer than the unit of work it was filled in.
class Subscribers {
 public:
  core::Result<const std::vector<core::Webhook>*> of(store::WriteTx& tx, const std::string& tenant_id);

 private:
  std::map<std::string, std::vector<core::Webhook>, std::less<>> by_tenant_;
};

// Records an event of type about reputation and one delivery, due now, for each enabled subscription of
// the tenant whose events match. Runs inside the caller's transaction: it all commits or none of it does.
core::Result<core::Event> emit_event(store::WriteTx& tx, std::string_view type, const core::Reputation& reputation,
                                     core::Micros now, Subscribers& subscribers);
core::Result<core::Event> emit_event(store::WriteTx& tx, std::string_view type, const core::Reputation& reputation,
                                     core::Micros now);

}  // namespace repute::scan
