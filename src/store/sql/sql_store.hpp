#pragma once
// The Store both back ends share: reads on pooled reader connections, writes through a BatchWriter, every query
// from the shared row files. A back end makes the connections and adds what only it has (SQLite's checkpoints,
// PostgreSQL's notifications).
#include <memory>

#include "store/sql/batch_writer.hpp"
#include "store/sql/reader_pool.hpp"
#include "store/store.hpp"

namespace repute::store::sql {

// A Store over the shared SQL layer.
class SqlStore : public Store {
 public:
  SqlStore(std::unique_ptr<ReaderPool> readers, std::unique_ptr<BatchWriter> writer)
      : readers_(std::move(readers)), writer_(std::move(writer)) {}
  ~SqlStore() override;

  void write(Work work, Done done) override { writer_->write(std::move(work), std::move(done)); }

  Result<std::optional<core::ApiKey>> find_api_key(const std::string& key_id) override;
  Result<std::vector<core::ApiKey>> list_api_keys() override;
  Result<std::optional<core::Tenant>> find_tenant(const std::string& tenant_id) override;
  Result<std::optional<core::Webhook>> find_webhook(const std::string& tenant_id, const std::string& id) override;
  Result<Page<core::Webhook>> list_webhooks(const std::string& tenant_id, const PageRequest& page) override;
  Result<std::optional<core::User>> find_user(const std::string& tenant_id, const std::string& id) override;
  Result<Page<core::User>> list_users(const std::string& tenant_id, const PageRequest& page) override;
  Result<std::optional<core::Account>> find_account(const std::string& tenant_id, const std::string& id) override;
  Result<Page<core::Account>> list_accounts(const std::string& tenant_id, const std::optional<std::string>& user_id,
                                            const PageRequest& page) override;
  Result<std::optional<core::Reputation>> find_reputation(const std::string& tenant_id,
                                                          const std::string& id) override;
  Result<Page<core::Reputation>> list_reputations(const std::string& tenant_id, const ReputationFilter& filter,
                                                  const PageRequest& page) override;
  Result<std::optional<core::Event>> find_event(const std::string& tenant_id, const std::string& id) override;
  Result<Page<core::Event>> list_events(const std::string& tenant_id, const EventFilter& filter,
                                        const PageRequest& page) override;
  Result<DeliveryCounts> count_deliveries(const std::string& event_id) override;
  Result<std::vector<core::Delivery>> list_event_deliveries(const std::string& tenant_id,
                                                            const std::string& event_id) override;
  Result<std::optional<core::Delivery>> find_delivery(const std::string& tenant_id, const std::string& id) override;
  Result<Page<core::Delivery>> list_deliveries(const std::string& tenant_id, const std::string& webhook_id,
                                               const DeliveryFilter& filter, const PageRequest& page) override;
  Result<std::vector<core::DeliveryAttempt>> list_attempts(const std::string& delivery_id) override;
  Result<WebhookStats> webhook_stats(const std::string& tenant_id, const std::string& webhook_id,
                                     core::Micros now) override;
  Result<DeliveryOverview> delivery_overview(const std::string& tenant_id, core::Micros since) override;
  Result<std::optional<core::Micros>> next_scan_due() override;
  Result<std::optional<core::Micros>> next_delivery_due() override;

  Status ping() override;
  void set_work_listener(WorkListener listener) override { writer_->set_listener(std::move(listener)); }
  void set_delivery_handoff(std::shared_ptr<DeliveryHandoff> handoff) override {
    writer_->set_handoff(std::move(handoff));
  }
  // Commits what is queued, stops the writers and closes the idle readers.
  void close() override;

 protected:
  ReaderPool& readers() { return *readers_; }
  BatchWriter& batch_writer() { return *writer_; }

 private:
  std::unique_ptr<ReaderPool> readers_;
  std::unique_ptr<BatchWriter> writer_;
};

}  // namespace repute::store::sql
