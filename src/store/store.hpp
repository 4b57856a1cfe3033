#pragma once
// store: where every object lives. The Store interface (reads, transactional writes) and open_store(),
// which picks the back end from the database URL: SQLite (embedded, one node) or PostgreSQL (any number of nodes on
// one database). Writes are queued and committed in batches; each unit of work runs inside one transaction, all of
// it or none of it. Due work is claimed with a lease owned by the node; a lease that runs out frees the work for
// any node.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/account.hpp"
#include "core/delivery.hpp"
#include "core/reputation.hpp"
#include "core/result.hpp"
#include "core/tenant.hpp"
#include "core/user.hpp"
#include "core/webhook.hpp"

namespace repute::store {

using core::Result;
using core::Status;

// Where a page starts: after (older than) or before (newer than) a row's position.
struct Cursor {
  enum class Direction { kAfter, kBefore };
  Direction direction = Direction::kAfter;
  std::int64_t position = 0;
};

// Which page of a list to read. Lists are newest first.
struct PageRequest {
  int limit = 10;
  std::optional<Cursor> cursor;
};

// One page of a list, with the cursors of its neighbours (absent at either end).
template <class T>
struct Page {
  std::vector<T> items;
  std::optional<Cursor> next;
  std::optional<Cursor> previous;
};

// How many deliveries of an event are in each state.
struct DeliveryCounts {
  std::int64_t pending = 0;
  std::int64_t delivered = 0;
  std::int64_t failed = 0;
};

// Filters of the reputations list.
struct ReputationFilter {
  std::optional<std::string> account_id;
  std::optional<std::string> user_id;
};

// Filters of a subscription's delivery log.
struct DeliveryFilter {
  std::optional<core::DeliveryState> state;
  std::optional<core::Micros> created_after;   // made at or after
  std::optional<core::Micros> created_before;  // made strictly before
};

// Filters of the events list.
struct EventFilter {
  std::optional<std::string> type;
  std::optional<std::string> account_id;
};

// What became of the deliveries made in a span of time.
struct DeliveryTally {
  std::int64_t total = 0;
  std::int64_t delivered = 0;
  std::int64_t failed = 0;   // given up, or pending after at least one failed attempt
  std::int64_t waiting = 0;  // pending, not yet tried
};

// One subscription's health: its deliveries of the last hour and day, and its backlog.
struct WebhookStats {
  DeliveryTally last_hour;
  DeliveryTally last_day;
  std::int64_t pending = 0;
  std::optional<core::Micros> oldest_pending_at;
};

// Deliveries made in one minute (minute: its start, in microseconds since the epoch).
struct MinuteTally {
  core::Micros minute = 0;
  DeliveryTally tally;
};

// One subscription in a ranking of the overview: its attempts at the deliveries of the span.
struct WebhookRank {
  std::string webhook_id;
  std::int64_t attempts = 0;
  std::int64_t failed = 0;  // attempts without a 2xx
  double mean_duration_ms = 0;
};

// A tenant's deliveries since a time: per minute, the queue, and the endpoints that fail most and answer slowest.
struct DeliveryOverview {
  std::vector<MinuteTally> minutes;  // oldest first; minutes without deliveries are absent
  std::int64_t pending = 0;
  std::optional<core::Micros> oldest_pending_at;
  std::vector<WebhookRank> most_failing;  // at most 5 with failed attempts, most failures first
  std::vector<WebhookRank> slowest;       // at most 5, slowest mean attempt first
};

// The operations one unit of work may perform inside its transaction.
class WriteTx {
 public:
  virtual ~WriteTx() = default;

  // The tenant named `name`, made if it does not exist.
  virtual Result<core::Tenant> ensure_tenant(const std::string& name, core::Micros now) = 0;
  virtual Status insert_api_key(const core::ApiKey& key) = 0;
  // False when no such key exists or it was already revoked.
  virtual Result<bool> revoke_api_key(const std::string& key_id, core::Micros now) = 0;
  virtual Result<std::optional<std::string>> get_setting(const std::string& key) = 0;
  virtual Status put_setting(const std::string& key, const std::string& value) = 0;

  virtual Result<std::optional<core::Webhook>> find_webhook(const std::string& tenant_id, const std::string& id) = 0;
  virtual Status insert_webhook(const core::Webhook& webhook) = 0;
  virtual Status update_webhook(const core::Webhook& webhook) = 0;
  // False when the tenant has no such webhook.
  virtual Result<bool> delete_webhook(const std::string& tenant_id, const std::string& id) = 0;
  // The tenant's enabled subscriptions: the ones an event fans out to.
  virtual Result<std::vector<core::Webhook>> list_enabled_webhooks(const std::string& tenant_id) = 0;

  virtual Result<std::optional<core::User>> find_user(const std::string& tenant_id, const std::string& id) = 0;
  virtual Status insert_user(const core::User& user) = 0;
  // Deletes the user with its accounts and reputations; false when there is no such user.
  virtual Result<bool> delete_user(const std::string& tenant_id, const std::string& id) = 0;

  virtual Result<std::optional<core::Account>> find_account(const std::string& tenant_id, const std::string& id) = 0;
  virtual Status insert_account(const core::Account& account) = 0;
  virtual Status update_account(const core::Account& account) = 0;
  // Deletes the account with its reputation; false when there is no such account.
  virtual Result<bool> delete_account(const std::string& tenant_id, const std::string& id) = 0;
  // Up to limit accounts whose scan is due at now (those due longest are taken), returned in store order; each is
  // leased (next_scan_at = lease_until) so that no one else takes it until the lease runs out.
  virtual Result<std::vector<core::Account>> claim_due_scans(core::Micros now, core::Micros lease_until, int limit) = 0;
  // Accounts whose scan is due at now, oldest first, not leased: for scans applied in the same unit of work.
  virtual Result<std::vector<core::Account>> find_due_scans(core::Micros now, int limit) = 0;
  // Leases one stored account (by seq) until lease_until: its scan is not due again before then.
  virtual Status lease_scan(const core::Account& account, core::Micros lease_until) = 0;
  // Writes what a scan changes in a stored account (by seq): connection, scanned_at, next_scan_at,
  // scan_count, updated_at.
  virtual Status record_scan(const core::Account& account) = 0;

  virtual Result<std::optional<core::Reputation>> find_reputation_by_account(const std::string& account_id) = 0;
  virtual Status insert_reputation(const core::Reputation& reputation) = 0;
  virtual Status update_reputation(const core::Reputation& reputation) = 0;

  virtual Status insert_event(const core::Event& event) = 0;
  // Stores the delivery and sets its seq.
  virtual Status insert_delivery(core::Delivery& delivery) = 0;
  // Pending deliveries due at now whose subscription is enabled and not in skip_webhooks (those with
  // enough work in hand already): up to limit, those due longest taken, returned in store order; each is leased
  // (next_attempt_at = lease_until).
  virtual Result<std::vector<core::Delivery>> claim_due_deliveries(core::Micros now, core::Micros lease_until,
                                                                   int limit,
                                                                   const std::vector<std::string>& skip_webhooks) = 0;
  virtual Result<std::optional<core::Delivery>> find_delivery(const std::string& tenant_id, const std::string& id) = 0;
  // Writes a stored delivery's state, attempts, schedule and last outcome (found by seq).
  virtual Status update_delivery(const core::Delivery& delivery) = 0;
  virtual Status insert_attempt(const core::DeliveryAttempt& attempt) = 0;
  // find_webhook_by_id takes the row until the commit (it is read to be written back); read_webhook_by_id only
  // reads it, so that a claim never waits on a subscription another node is writing.
  virtual Result<std::optional<core::Webhook>> find_webhook_by_id(const std::string& id) = 0;
  virtual Result<std::optional<core::Webhook>> read_webhook_by_id(const std::string& id) = 0;
  // Makes the subscription's failed deliveries created at or after since pending again, due now; returns how many.
  virtual Result<std::int64_t> requeue_failed_deliveries(const std::string& tenant_id, const std::string& webhook_id,
                                                         core::Micros since, core::Micros now) = 0;
};

// A unit of work: runs inside a transaction; an Error rolls back everything it did.
using Work = std::function<Status(WriteTx&)>;
// Told once the unit of work is durably committed (ok) or rolled back (the error). Runs on a store
// thread: it must be quick and must not call the store synchronously.
using Done = std::function<void(Status)>;

// Kinds of due work a commit can create, for whoever waits for it.
enum class WorkKind { kDeliveries, kScans };
// Told after a commit that made deliveries or scans due; runs on a store thread and must be quick.
using WorkListener = std::function<void(WorkKind)>;

// Takes deliveries as they are made, so that they need no claim of their own: while it has room, a new delivery is
// stored already leased to it (next_attempt_at = the lease's end) and handed over once its unit of work commits:
// one commit less between an event and its first attempt. Called on the store's writer thread; must be quick.
class DeliveryHandoff {
 public:
  virtual ~DeliveryHandoff() = default;
  // Room for one more delivery to webhook_id at now: the end of its lease, or nullopt (it is stored due, and
  // claimed as usual).
  virtual std::optional<core::Micros> reserve(const std::string& webhook_id, core::Micros now) = 0;
  // After a batch's commit: the reservations it took (one subscription id each) are over, and deliveries (those
  // made by units of work that committed) are the taker's to send. A delivery it cannot send waits out its lease
  // and is claimed then.
  virtual void adopt(std::vector<core::Delivery> deliveries, const std::vector<std::string>& reserved_for) = 0;
  // A commit changed or deleted subscriptions: whatever the taker knows of their URLs and secrets is stale.
  // Called before that commit's adopt().
  virtual void forget_subscriptions() = 0;
};

// The store. Reads may be called from any thread; writes are queued.
class Store {
 public:
  virtual ~Store() = default;

  // Queues work; done is called after its transaction commits or rolls back.
  virtual void write(Work work, Done done) = 0;
  // Runs work and waits for its durable outcome. Not for use on a thread that serves requests.
  Status write_and_wait(Work work);

  virtual Result<std::optional<core::ApiKey>> find_api_key(const std::string& key_id) = 0;
  virtual Result<std::vector<core::ApiKey>> list_api_keys() = 0;
  virtual Result<std::optional<core::Tenant>> find_tenant(const std::string& tenant_id) = 0;

  virtual Result<std::optional<core::Webhook>> find_webhook(const std::string& tenant_id, const std::string& id) = 0;
  virtual Result<Page<core::Webhook>> list_webhooks(const std::string& tenant_id, const PageRequest& page) = 0;

  virtual Result<std::optional<core::User>> find_user(const std::string& tenant_id, const std::string& id) = 0;
  virtual Result<Page<core::User>> list_users(const std::string& tenant_id, const PageRequest& page) = 0;

  virtual Result<std::optional<core::Account>> find_account(const std::string& tenant_id, const std::string& id) = 0;
  // The tenant's accounts, or only one user's.
  virtual Result<Page<core::Account>> list_accounts(const std::string& tenant_id,
                                                    const std::optional<std::string>& user_id,
                                                    const PageRequest& page) = 0;

  virtual Result<std::optional<core::Reputation>> find_reputation(const std::string& tenant_id,
                                                                  const std::string& id) = 0;
  virtual Result<Page<core::Reputation>> list_reputations(const std::string& tenant_id, const ReputationFilter& filter,
                                                          const PageRequest& page) = 0;

  virtual Result<std::optional<core::Event>> find_event(const std::string& tenant_id, const std::string& id) = 0;
  virtual Result<Page<core::Event>> list_events(const std::string& tenant_id, const EventFilter& filter,
                                                const PageRequest& page) = 0;
  virtual Result<DeliveryCounts> count_deliveries(const std::string& event_id) = 0;
  // One delivery per subscription the event fanned out to, oldest first.
  virtual Result<std::vector<core::Delivery>> list_event_deliveries(const std::string& tenant_id,
                                                                    const std::string& event_id) = 0;

  virtual Result<std::optional<core::Delivery>> find_delivery(const std::string& tenant_id, const std::string& id) = 0;
  // A subscription's deliveries, optionally only those in one state or made in a span of time.
  virtual Result<Page<core::Delivery>> list_deliveries(const std::string& tenant_id, const std::string& webhook_id,
                                                       const DeliveryFilter& filter, const PageRequest& page) = 0;
  virtual Result<std::vector<core::DeliveryAttempt>> list_attempts(const std::string& delivery_id) = 0;
  // A subscription's deliveries made in the hour and the day before now, and its pending backlog.
  virtual Result<WebhookStats> webhook_stats(const std::string& tenant_id, const std::string& webhook_id,
                                             core::Micros now) = 0;
  // The tenant's deliveries made since `since`, minute by minute, with its queue and its worst endpoints.
  virtual Result<DeliveryOverview> delivery_overview(const std::string& tenant_id, core::Micros since) = 0;

  // The earliest scheduled scan, if any: the scheduler sleeps until then.
  virtual Result<std::optional<core::Micros>> next_scan_due() = 0;
  // The earliest pending delivery of an enabled subscription, if any.
  virtual Result<std::optional<core::Micros>> next_delivery_due() = 0;

  // Sets who is told when committed work makes deliveries or scans due (one listener; set before use).
  virtual void set_work_listener(WorkListener listener) = 0;
  // Sets (or, with nullptr, clears) who takes new deliveries as they are made (one taker).
  virtual void set_delivery_handoff(std::shared_ptr<DeliveryHandoff> handoff) = 0;

  // Ok when the database answers.
  virtual Status ping() = 0;
  // Commits what is queued and closes; later writes fail.
  virtual void close() = 0;
};

// How a store is opened.
struct StoreOptions {
  bool synchronous_full = true;  // fsync every commit (SQLite synchronous=FULL)
  int max_batch = 512;           // most units of work in one group commit
  std::string node_id = "";      // who owns the leases this process takes; empty: host name and process id
  int pool_size = 8;             // PostgreSQL: writer connections (and as many readers) per node
};

// The URL as it may be printed: a password in it (user:password@ or ?password=) is replaced by ***.
std::string redacted_url(const std::string& url);

// This process's node id: options.node_id, or "<host name>-<process id>" when it is empty.
std::string node_id_or_default(const StoreOptions& options);

// Opens (and migrates) the database named by url: "sqlite:///abs/path.db", "sqlite://rel/path.db", or
// "postgres://user:password@host:port/database?param=value" (also "postgresql://"; libpq's parameters apply).
Result<std::unique_ptr<Store>> open_store(const std::string& url, const StoreOptions& options = {});

}  // namespace repute::store
