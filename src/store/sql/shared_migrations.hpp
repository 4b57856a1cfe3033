#pragma once
// Migration steps whose SQL both back ends run unchanged (BIGINT is an integer in SQLite too).
namespace repute::store::sql {

// 4: secret rotation (the previous secret and when it stops signing), the request headers each attempt sent, and
// the tenant-wide delivery statistics by creation time.
inline constexpr const char* kMigration4 = R"sql(
ALTER TABLE webhooks ADD COLUMN previous_secret TEXT;
ALTER TABLE webhooks ADD COLUMN previous_secret_expires_at BIGINT;
ALTER TABLE delivery_attempts ADD COLUMN request_headers TEXT;
CREATE INDEX deliveries_by_tenant_created ON deliveries(tenant_id, created_at);
)sql";

}  // namespace repute::store::sql
