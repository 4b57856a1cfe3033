#include "store/sqlite/sqlite_store.hpp"

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "obs/log.hpp"
#include "store/sqlite/delivery_rows.hpp"
#include "store/sqlite/migrations.hpp"
#include "store/sqlite/resource_rows.hpp"
#include "store/sqlite/tenant_rows.hpp"
#include "store/sqlite/webhook_rows.hpp"
#include "store/sqlite/write_tx.hpp"

namespace repute::store::sqlite {
namespace {

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, StoreOptions options, std::unique_ptr<Connection> writer,
              std::unique_ptr<Connection> checkpointer)
      : path_(std::move(path)),
        options_(options),
        writer_(std::move(writer)),
        checkpointer_(std::move(checkpointer)),
        thread_([this] { writer_loop(); }),
        checkpoint_thread_([this] { checkpoint_loop(); }) {
    // The writer never checkpoints by itself (that copies pages into the database file and syncs it, which would
    // hold up every commit behind it): after each commit it says how long the WAL is, and the checkpoint thread
    // does the copying on its own connection, beside the writer.
    (void)writer_->exec("PRAGMA wal_autocheckpoint=0");
    sqlite3_wal_hook(writer_->handle(), &SqliteStore::on_wal_commit, this);
  }
  ~SqliteStore() override { close(); }

  void write(Work work, Done done) override {
    {
      std::lock_guard lock(mutex_);
      if (!closing_) {
        queue_.push_back({std::move(work), std::move(done)});
        wake_.notify_one();
        return;
      }
    }
    done(core::Error{core::ErrorCode::kUnavailable, "the store is closed"});
  }

  Result<std::optional<core::ApiKey>> find_api_key(const std::string& key_id) override {
    return with_reader([&](Connection& db) { return sqlite::find_api_key(db, key_id); });
  }
  Result<std::vector<core::ApiKey>> list_api_keys() override {
    return with_reader([&](Connection& db) { return sqlite::list_api_keys(db); });
  }
  Result<std::optional<core::Tenant>> find_tenant(const std::string& tenant_id) override {
    return with_reader([&](Connection& db) { return sqlite::find_tenant(db, tenant_id); });
  }
  Result<std::optional<core::Webhook>> find_webhook(const std::string& tenant_id, const std::string& id) override {
    return with_reader([&](Connection& db) { return sqlite::find_webhook(db, tenant_id, id); });
  }
  Result<Page<core::Webhook>> list_webhooks(const std::string& tenant_id, const PageRequest& page) override {
    return with_reader([&](Connection& db) { return sqlite::list_webhooks(db, tenant_id, page); });
  }

  Result<std::optional<core::User>> find_user(const std::string& tenant_id, const std::string& id) override {
    return with_reader([&](Connection& db) { return sqlite::find_user(db, tenant_id, id); });
  }
  Result<Page<core::User>> list_users(const std::string& tenant_id, const PageRequest& page) override {
    return with_reader([&](Connection& db) { return sqlite::list_users(db, tenant_id, page); });
  }
  Result<std::optional<core::Account>> find_account(const std::string& tenant_id, const std::string& id) override {
    return with_reader([&](Connection& db) { return sqlite::find_account(db, tenant_id, id); });
  }
  Result<Page<core::Account>> list_accounts(const std::string& tenant_id, const std::optional<std::string>& user_id,
                                            const PageRequest& page) override {
    return with_reader([&](Connection& db) { return sqlite::list_accounts(db, tenant_id, user_id, page); });
  }
  Result<std::optional<core::Reputation>> find_reputation(const std::string& tenant_id,
                                                          const std::string& id) override {
    return with_reader([&](Connection& db) { return sqlite::find_reputation(db, tenant_id, id); });
  }
  Result<Page<core::Reputation>> list_reputations(const std::string& tenant_id, const ReputationFilter& filter,
                                                  const PageRequest& page) override {
    return with_reader([&](Connection& db) { return sqlite::list_reputations(db, tenant_id, filter, page); });
  }
  Result<std::optional<core::Event>> find_event(const std::string& tenant_id, const std::string& id) override {
    return with_reader([&](Connection& db) { return sqlite::find_event(db, tenant_id, id); });
  }
  Result<Page<core::Event>> list_events(const std::string& tenant_id, const PageRequest& page) override {
    return with_reader([&](Connection& db) { return sqlite::list_events(db, tenant_id, page); });
  }
  Result<DeliveryCounts> count_deliveries(const std::string& event_id) override {
    return with_reader([&](Connection& db) { return sqlite::count_deliveries(db, event_id); });
  }
  Result<std::optional<core::Delivery>> find_delivery(const std::string& tenant_id, const std::string& id) override {
    return with_reader([&](Connection& db) { return sqlite::find_delivery(db, tenant_id, id); });
  }
  Result<Page<core::Delivery>> list_deliveries(const std::string& tenant_id, const std::string& webhook_id,
                                               const std::optional<core::DeliveryState>& state,
                                               const PageRequest& page) override {
    return with_reader([&](Connection& db) { return sqlite::list_deliveries(db, tenant_id, webhook_id, state, page); });
  }
  Result<std::vector<core::DeliveryAttempt>> list_attempts(const std::string& delivery_id) override {
    return with_reader([&](Connection& db) { return sqlite::list_attempts(db, delivery_id); });
  }
  Result<std::optional<core::Micros>> next_scan_due() override {
    return with_reader([&](Connection& db) { return sqlite::next_scan_due(db); });
  }
  Result<std::optional<core::Micros>> next_delivery_due() override {
    return with_reader([&](Connection& db) { return sqlite::next_delivery_due(db); });
  }

  Status ping() override {
    return with_reader([](Connection& db) -> Status {
      auto statement = db.prepare("SELECT 1");
      if (!statement) return statement.error();
      return statement->run();
    });
  }

  void set_work_listener(WorkListener listener) override {
    std::lock_guard lock(mutex_);
    listener_ = std::move(listener);
  }

  void set_delivery_handoff(std::shared_ptr<DeliveryHandoff> handoff) override {
    std::lock_guard lock(mutex_);
    handoff_ = std::move(handoff);
  }

  void close() override {
    {
      std::lock_guard lock(mutex_);
      if (closing_) return;
      closing_ = true;
      wake_.notify_one();
    }
    thread_.join();
    {
      std::lock_guard lock(checkpoint_mutex_);
      checkpoint_exit_ = true;
    }
    checkpoint_wake_.notify_one();
    checkpoint_thread_.join();
    checkpointer_.reset();
    writer_.reset();  // with the idle readers below, the last connection out checkpoints what is left
    std::lock_guard lock(readers_mutex_);
    idle_readers_.clear();
  }

 private:
  struct Job {
    Work work;
    Done done;
  };

  // Borrows a reader connection (opening one when none is idle) for the length of f.
  template <class F>
  auto with_reader(F&& f) -> decltype(f(std::declval<Connection&>())) {
    std::unique_ptr<Connection> connection;
    {
      std::lock_guard lock(readers_mutex_);
      if (!idle_readers_.empty()) {
        connection = std::move(idle_readers_.back());
        idle_readers_.pop_back();
      }
    }
    if (!connection) {
      auto opened = Connection::open(path_, false, options_.synchronous_full);
      if (!opened) return opened.error();
      connection = std::move(*opened);
    }
    auto result = f(*connection);
    std::lock_guard lock(readers_mutex_);
    idle_readers_.push_back(std::move(connection));
    return result;
  }

  void writer_loop() {
    std::vector<Job> batch;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return closing_ || !queue_.empty(); });
        if (queue_.empty()) return;
        while (!queue_.empty() && static_cast<int>(batch.size()) < options_.max_batch) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      commit_batch(batch);
      batch.clear();
    }
  }

  // Runs every job of the batch in one transaction, each inside a savepoint so that one failing
  // job rolls back only itself; then one durable COMMIT for all.
  void commit_batch(std::vector<Job>& batch) {
    std::vector<Status> outcomes;
    outcomes.reserve(batch.size());
    Status begun = run_fixed("BEGIN IMMEDIATE");
    SqliteWriteTx tx(*writer_);
    std::shared_ptr<DeliveryHandoff> handoff;
    {
      std::lock_guard lock(mutex_);
      handoff = handoff_;
    }
    tx.handoff = handoff.get();
    if (begun) {
      for (Job& job : batch) {
        const std::size_t handed_before = tx.handed.size();
        outcomes.push_back(run_job(tx, job));
        // What a rolled-back unit made does not exist.
        if (!outcomes.back()) tx.handed.resize(handed_before);
        if (sqlite3_get_autocommit(writer_->handle()) && !outcomes.back()) {
          // SQLite rolled the whole transaction back itself (disk full, I/O error): nothing of the
          // batch is kept, so every job hears of it.
          outcomes.assign(batch.size(), outcomes.back());
          break;
        }
      }
      Status committed = sqlite3_get_autocommit(writer_->handle()) ? Status(core::ok_status()) : run_fixed("COMMIT");
      if (!committed) {
        (void)run_fixed("ROLLBACK");
        for (Status& outcome : outcomes) {
          if (outcome) outcome = committed;
        }
      }
    } else {
      outcomes.assign(batch.size(), begun);
    }
    bool committed_any = false;
    for (const Status& outcome : outcomes) committed_any = committed_any || outcome.ok();
    if (handoff && tx.changed_webhooks && committed_any) handoff->forget_subscriptions();
    if (handoff && !tx.reserved_for.empty()) {
      handoff->adopt(committed_any ? std::move(tx.handed) : std::vector<core::Delivery>{}, tx.reserved_for);
    }
    if (committed_any) notify(tx);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].done) batch[i].done(std::move(outcomes[i]));
    }
  }

  void notify(const SqliteWriteTx& tx) {
    WorkListener listener;
    {
      std::lock_guard lock(mutex_);
      listener = listener_;
    }
    if (!listener) return;
    if (tx.made_deliveries_due) listener(WorkKind::kDeliveries);
    if (tx.made_scans_due) listener(WorkKind::kScans);
  }

  // The writer's WAL hook, after each commit: wakes the checkpoint thread once the WAL holds a checkpoint's worth
  // of pages, and checkpoints on the writer itself (PASSIVE: it waits for no one) if the WAL grows far beyond that,
  // so that it stays bounded even when the checkpoint thread falls behind.
  static int on_wal_commit(void* self, sqlite3* db, const char*, int pages) {
    auto* store = static_cast<SqliteStore*>(self);
    if (pages >= kCheckpointPages) {
      {
        std::lock_guard lock(store->checkpoint_mutex_);
        store->checkpoint_due_ = true;
      }
      store->checkpoint_wake_.notify_one();
    }
    if (pages >= kWriterCheckpointPages) {
      // After the checkpoint thread's run (two at once would only make one of them fail as busy).
      std::lock_guard running(store->checkpoint_run_mutex_);
      (void)sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    }
    return SQLITE_OK;
  }

  void checkpoint_loop() {
    std::unique_lock lock(checkpoint_mutex_);
    for (;;) {
      checkpoint_wake_.wait(lock, [this] { return checkpoint_due_ || checkpoint_exit_; });
      if (checkpoint_exit_) return;
      checkpoint_due_ = false;
      lock.unlock();
      int wal_pages = 0;
      int copied = 0;
      int rc;
      {
        std::lock_guard running(checkpoint_run_mutex_);
        rc =
            sqlite3_wal_checkpoint_v2(checkpointer_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_pages, &copied);
      }
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        obs::log_warn("WAL checkpoint failed", {{"error", sqlite3_errstr(rc)}, {"wal_pages", wal_pages}});
      }
      lock.lock();
    }
  }

  // Runs one of the writer's fixed statements (BEGIN, SAVEPOINT...), prepared once.
  Status run_fixed(const char* sql) {
    auto statement = writer_->prepare(sql);
    if (!statement) return statement.error();
    return statement->run();
  }

  Status run_job(SqliteWriteTx& tx, Job& job) {
    if (auto status = run_fixed("SAVEPOINT job"); !status) return status;
    Status outcome = core::ok_status();
    try {
      outcome = job.work(tx);
    } catch (const std::exception& e) {
      outcome = core::internal_error(std::string("unit of work threw: ") + e.what());
    } catch (...) {
      outcome = core::internal_error("unit of work threw a non-standard exception");
    }
    if (!outcome) (void)run_fixed("ROLLBACK TO job");
    if (auto released = run_fixed("RELEASE job"); !released && outcome) return released;
    return outcome;
  }

  std::string path_;
  StoreOptions options_;
  std::unique_ptr<Connection> writer_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  bool closing_ = false;
  WorkListener listener_;
  std::shared_ptr<DeliveryHandoff> handoff_;
  std::unique_ptr<Connection> checkpointer_;

  // A checkpoint is due once the WAL holds this many pages (SQLite's own default). Past the second figure the writer
  // checkpoints too: while commits keep coming, the checkpoint thread never catches up with the last frame, and
  // only a checkpoint that does lets the next commit start the WAL over; the writer's own copies what is left.
  static constexpr int kCheckpointPages = 1000;
  static constexpr int kWriterCheckpointPages = 4000;
  std::mutex checkpoint_run_mutex_;  // held while a checkpoint runs, by the thread or the writer
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wake_;
  bool checkpoint_due_ = false;
  bool checkpoint_exit_ = false;
  std::thread thread_;  // started after everything it uses is made
  std::thread checkpoint_thread_;

  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;
};

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path, const StoreOptions& options) {
  if (path.empty()) return core::invalid("the sqlite database URL names no file");
  const std::filesystem::path file(path);
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) return core::invalid("cannot create the folder " + file.parent_path().string() + ": " + ec.message());
  auto writer = Connection::open(path, true, options.synchronous_full);
  if (!writer) return writer.error();
  if (auto migrated = migrate(**writer); !migrated) return migrated.error();
  auto checkpointer = Connection::open(path, false, options.synchronous_full);
  if (!checkpointer) return checkpointer.error();
  return std::unique_ptr<Store>(new SqliteStore(path, options, std::move(*writer), std::move(*checkpointer)));
}

}  // namespace repute::store::sqlite
