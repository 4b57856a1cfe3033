#pragma once
// Migration steps whose SQL both back ends run unchanged (BIGINT is an integer in SQLite too).
namespace repute::store::sql {

// 4: secret rotation (the previous secret and when it stops signing), the request headers each attempt sent, and
// two indexes for the console's statistics: a tenant's deliveries by creation time, and its queue (pending ones
// only, so that its depth and oldest entry are read from the index alone).
inline constexpr const char* kMigration4 = R"sql(
ALTER TABLE webhooks ADD COLUMN previous_secret TEXT;
ALTER TABLE webhooks ADD COLUMN previous_secret_expires_at BIGINT;
ALTER TABLE delivery_attempts ADD COLUMN request_headers TEXT;
CREATE INDEX deliveries_by_tenant_created ON deliveries(tenant_id, created_at);
CREATE INDEX deliveries_pending_by_tenant ON deliveries(tenant_id, created_at) WHERE state = 'pending';
)sql";

}  // namespace repute::store::sql
