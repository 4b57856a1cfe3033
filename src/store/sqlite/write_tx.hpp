#pragma once
// WriteTx on the SQLite writer connection.
#include "store/sqlite/connection.hpp"
#include "store/store.hpp"

namespace repute::store::sqlite {

// Runs each WriteTx operation on the writer connection, inside the batch's transaction.
class SqliteWriteTx final : public WriteTx {
 public:
  explicit SqliteWriteTx(Connection& db) : db_(db) {}

  Result<core::Tenant> ensure_tenant(const std::string& name, core::Micros now) override;
  Status insert_api_key(const core::ApiKey& key) override;
  Result<bool> revoke_api_key(const std::string& key_id, core::Micros now) override;
  Result<std::optional<std::string>> get_setting(const std::string& key) override;
  Status put_setting(const std::string& key, const std::string& value) override;
  Result<std::optional<core::Webhook>> find_webhook(const std::string& tenant_id, const std::string& id) override;
  Status insert_webhook(const core::Webhook& webhook) override;
  Status update_webhook(const core::Webhook& webhook) override;
  Result<bool> delete_webhook(const std::string& tenant_id, const std::string& id) override;

 private:
  Connection& db_;
};

}  // namespace repute::store::sqlite
