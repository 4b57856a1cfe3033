#pragma once
// Webhook subscriptions.
#include <optional>
#include <string>

#include "core/webhook.hpp"
#include "store/sql/connection.hpp"
#include "store/store.hpp"

namespace repute::store::sql {

// Where a row is read to be written back in the same transaction.
enum class Lock { kNone, kForWrite };

Result<std::optional<core::Webhook>> find_webhook(Connection& db, const std::string& tenant_id, const std::string& id,
                                                  Lock lock = Lock::kNone);
Result<Page<core::Webhook>> list_webhooks(Connection& db, const std::string& tenant_id, const PageRequest& page);
Status insert_webhook(Connection& db, const core::Webhook& webhook);
Status update_webhook(Connection& db, const core::Webhook& webhook);
Result<std::vector<core::Webhook>> list_enabled_webhooks(Connection& db, const std::string& tenant_id);
Result<std::optional<core::Webhook>> find_webhook_by_id(Connection& db, const std::string& id,
                                                        Lock lock = Lock::kNone);
Result<bool> delete_webhook(Connection& db, const std::string& tenant_id, const std::string& id);

}  // namespace repute::store::sql
