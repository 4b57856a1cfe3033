#pragma once
// The transactional outbox: an event and its deliveries, written in the same transaction as the change.
#include <string_view>

#include "core/delivery.hpp"
#include "core/reputation.hpp"
#include "core/webhook.hpp"
#include "store/store.hpp"

namespace repute::scan {

// The exact bytes a subscription receives for an event (DESIGN §3); with include_resource, data.resource
// holds the whole reputation.
std::string webhook_body(const core::Webhook& webhook, const core::Event& event, const core::Reputation& reputation);

// Records an event of type about reputation and one delivery, due now, for each enabled subscription of
// the tenant whose events match. Runs inside the caller's transaction: it all commits or none of it does.
core::Result<core::Event> emit_event(store::WriteTx& tx, std::string_view type, const core::Reputation& reputation,
                                     core::Micros now);

}  // namespace repute::scan
