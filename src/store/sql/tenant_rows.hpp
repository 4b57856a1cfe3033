#pragma once
// Tenants, API keys and settings.
#include <optional>
#include <string>
#include <vector>

#include "core/tenant.hpp"
#include "store/sql/connection.hpp"

namespace repute::store::sql {

Result<std::optional<core::Tenant>> find_tenant_by_name(Connection& db, const std::string& name);
Result<std::optional<core::Tenant>> find_tenant(Connection& db, const std::string& id);
Status insert_tenant(Connection& db, const core::Tenant& tenant);
Result<std::optional<core::ApiKey>> find_api_key(Connection& db, const std::string& id);
Result<std::vector<core::ApiKey>> list_api_keys(Connection& db);
Status insert_api_key(Connection& db, const core::ApiKey& key);
Result<bool> revoke_api_key(Connection& db, const std::string& id, core::Micros now);
Result<std::optional<std::string>> get_setting(Connection& db, const std::string& key);
Status put_setting(Connection& db, const std::string& key, const std::string& value);

}  // namespace repute::store::sql
