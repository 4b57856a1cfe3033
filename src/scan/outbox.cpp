#include "scan/outbox.hpp"

#include <boost/json/serialize.hpp>

#include "core/events.hpp"
#include "core/ids.hpp"
#include "core/reputation_json.hpp"

namespace repute::scan {

std::string webhook_body(const core::Webhook& webhook, const core::Event& event, const core::Reputation& reputation) {
  boost::json::object data{{"account", event.account_id}, {"user", event.user_id}, {"reputation", event.reputation_id}};
  if (webhook.include_resource) data["resource"] = core::reputation_json(reputation);
  return boost::json::serialize(
      boost::json::object{{"event", event.type}, {"name", webhook.name}, {"data", std::move(data)}});
}

core::Result<const std::vector<core::Webhook>*> Subscribers::of(store::WriteTx& tx, const std::string& tenant_id) {
  auto found = by_tenant_.find(tenant_id);
  if (found == by_tenant_.end()) {
    auto webhooks = tx.list_enabled_webhooks(tenant_id);
    if (!webhooks) return webhooks.error();
    found = by_tenant_.emplace(tenant_id, std::move(*webhooks)).first;
  }
  return &found->second;
}

core::Result<core::Event> emit_event(store::WriteTx& tx, std::string_view type, const core::Reputation& reputation,
                                     core::Micros now) {
  Subscribers subscribers;
  return emit_event(tx, type, reputation, now, subscribers);
}

core::Result<core::Event> emit_event(store::WriteTx& tx, std::string_view type, const core::Reputation& reputation,
                                     core::Micros now, Subscribers& subscribers) {
  core::Event event{core::new_uuid(),
                    reputation.tenant_id,
                    std::string(type),
                    reputation.account_id,
                    reputation.user_id,
                    reputation.id,
                    now};
  if (auto inserted = tx.insert_event(event); !inserted) return inserted.error();
  auto webhooks = subscribers.of(tx, reputation.tenant_id);
  if (!webhooks) return webhooks.error();
  for (const core::Webhook& webhook : **webhooks) {
    if (!core::subscription_matches(webhook.events, type)) continue;
    core::Delivery delivery;
    delivery.id = core::new_uuid();
    delivery.tenant_id = reputation.tenant_id;
    delivery.event_id = event.id;
    delivery.webhook_id = webhook.id;
    delivery.event_type = event.type;
    delivery.body = webhook_body(webhook, event, reputation);
    delivery.next_attempt_at = now;
    delivery.created_at = now;
    delivery.updated_at = now;
    if (auto inserted = tx.insert_delivery(delivery); !inserted) return inserted.error();
  }
  return event;
}

}  // namespace repute::scan
