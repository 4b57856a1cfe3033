#pragma once
// Users, accounts and reputations.
#include <optional>
#include <string>
#include <vector>

#include "store/sql/connection.hpp"
#include "store/store.hpp"

namespace repute::store::sql {

Result<std::optional<core::User>> find_user(Connection& db, const std::string& tenant_id, const std::string& id);
Result<Page<core::User>> list_users(Connection& db, const std::string& tenant_id, const PageRequest& page);
Status insert_user(Connection& db, const core::User& user);
Result<bool> delete_user(Connection& db, const std::string& tenant_id, const std::string& id);

Result<std::optional<core::Account>> find_account(Connection& db, const std::string& tenant_id, const std::string& id);
Result<Page<core::Account>> list_accounts(Connection& db, const std::string& tenant_id,
                                          const std::optional<std::string>& user_id, const PageRequest& page);
Status insert_account(Connection& db, const core::Account& account);
Status update_account(Connection& db, const core::Account& account);
Result<bool> delete_account(Connection& db, const std::string& tenant_id, const std::string& id);
Result<std::vector<core::Account>> claim_due_scans(Connection& db, core::Micros now, core::Micros lease_until,
                                                   int limit, const std::string& node_id);
Result<std::vector<core::Account>> find_due_scans(Connection& db, core::Micros now, int limit);
Status lease_scan(Connection& db, std::int64_t account_seq, core::Micros lease_until, const std::string& node_id);
Status record_scan(Connection& db, const core::Account& account);
Result<std::optional<core::Micros>> next_scan_due(Connection& db);

Result<std::optional<core::Reputation>> find_reputation(Connection& db, const std::string& tenant_id,
                                                        const std::string& id);
Result<std::optional<core::Reputation>> find_reputation_by_account(Connection& db, const std::string& account_id);
Result<Page<core::Reputation>> list_reputations(Connection& db, const std::string& tenant_id,
                                                const ReputationFilter& filter, const PageRequest& page);
Status insert_reputation(Connection& db, const core::Reputation& reputation);
Status update_reputation(Connection& db, const core::Reputation& reputation);

}  // namespace repute::store::sql
