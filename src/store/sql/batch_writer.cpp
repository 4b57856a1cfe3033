#include "store/sql/batch_writer.hpp"

#include "store/sql/write_tx.hpp"

namespace repute::store::sql {

BatchWriter::BatchWriter(std::string node_id, int max_batch, BatchDialect dialect)
    : node_id_(std::move(node_id)), max_batch_(max_batch > 0 ? max_batch : 1), dialect_(std::move(dialect)) {}

BatchWriter::~BatchWriter() { close(); }

void BatchWriter::start(const std::vector<Connection*>& connections) {
  for (Connection* db : connections) threads_.emplace_back([this, db] { writer_loop(*db); });
}

void BatchWriter::write(Work work, Done done) {
  {
    std::lock_guard lock(mutex_);
    if (!closing_) {
      queue_.push_back({std::move(work), std::move(done)});
      wake_.notify_one();
      return;
    }
  }
  if (done) done(core::Error{core::ErrorCode::kUnavailable, "the store is closed"});
}

void BatchWriter::set_listener(WorkListener listener) {
  std::lock_guard lock(mutex_);
  listener_ = std::move(listener);
}

void BatchWriter::set_handoff(std::shared_ptr<DeliveryHandoff> handoff) {
  std::lock_guard lock(mutex_);
  handoff_ = std::move(handoff);
}

WorkListener BatchWriter::listener() {
  std::lock_guard lock(mutex_);
  return listener_;
}

std::shared_ptr<DeliveryHandoff> BatchWriter::handoff() {
  std::lock_guard lock(mutex_);
  return handoff_;
}

void BatchWriter::close() {
  {
    std::lock_guard lock(mutex_);
    if (closing_ && threads_.empty()) return;
    closing_ = true;
    wake_.notify_all();
  }
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

void BatchWriter::writer_loop(Connection& db) {
  std::vector<Job> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;
      while (!queue_.empty() && static_cast<int>(batch.size()) < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      // Another writer may take what is left at once.
      if (!queue_.empty()) wake_.notify_one();
    }
    commit_batch(db, batch);
    batch.clear();
  }
}

namespace {

constexpr int kMaxConflictRetries = 5;

Status run_fixed(Connection& db, const std::string& sql) {
  auto statement = db.prepare(sql);
  if (!statement) return statement.error();
  return statement->run();
}

}  // namespace

// Runs every job of the batch in one transaction, then one durable COMMIT for all.
void BatchWriter::commit_batch(Connection& db, std::vector<Job>& batch) {
  std::vector<Status> outcomes;
  outcomes.reserve(batch.size());
  std::vector<bool> conflicted(batch.size(), false);
  SqlWriteTx tx(db, node_id_);
  std::shared_ptr<DeliveryHandoff> handoff = this->handoff();
  tx.handoff = handoff.get();
  Status begun = db.ensure_open();
  if (begun) begun = run_fixed(db, dialect_.begin);
  if (!begun && !db.healthy()) {
    // An idle connection whose server went away (a restart, a cut) is found out only when used. Nothing was done on
    // it yet: it is opened again and the transaction begun once more.
    begun = db.ensure_open();
    if (begun) begun = run_fixed(db, dialect_.begin);
  }
  if (begun) {
    const bool savepoints = batch.size() > 1;
    for (Job& job : batch) {
      const std::size_t handed_before = tx.handed.size();
      (void)db.take_conflict();
      outcomes.push_back(run_job(db, tx, job, savepoints));
      if (!outcomes.back()) conflicted[outcomes.size() - 1] = db.take_conflict();
      // What a rolled-back unit made does not exist.
      if (!outcomes.back()) tx.handed.resize(handed_before);
      if (!outcomes.back() && (!savepoints || !db.in_transaction())) {
        // The whole transaction is gone (a lone unit failed, or the database rolled everything back itself: disk
        // full, I/O error, a lost connection): nothing of the batch is kept, so every job hears of it.
        const bool lost_to_another = conflicted[outcomes.size() - 1];
        outcomes.assign(batch.size(), outcomes.back());
        conflicted.assign(batch.size(), lost_to_another);
        break;
      }
    }
    bool any_ok = false;
    for (const Status& outcome : outcomes) any_ok = any_ok || outcome.ok();
    Status committed = core::ok_status();
    if (any_ok && dialect_.before_commit) committed = dialect_.before_commit(db, tx);
    if (committed && db.in_transaction()) committed = any_ok ? run_fixed(db, "COMMIT") : run_fixed(db, "ROLLBACK");
    if (!committed) {
      const bool lost_to_another = db.take_conflict();
      if (db.in_transaction()) (void)run_fixed(db, "ROLLBACK");
      for (std::size_t i = 0; i < outcomes.size(); ++i) {
        if (!outcomes[i]) continue;
        outcomes[i] = committed;
        conflicted[i] = lost_to_another;
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
  if (committed_any) {
    if (WorkListener listener = this->listener()) {
      if (tx.made_deliveries_due) listener(WorkKind::kDeliveries);
      if (tx.made_scans_due) listener(WorkKind::kScans);
    }
  }
  // A unit that lost to another transaction (PostgreSQL broke a deadlock by aborting it) did nothing: it runs again,
  // first in the queue, a few times before its error is told.
  std::vector<Job> again;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!outcomes[i] && conflicted[i] && batch[i].conflicts < kMaxConflictRetries) {
      ++batch[i].conflicts;
      again.push_back(std::move(batch[i]));
      continue;
    }
    if (batch[i].done) batch[i].done(std::move(outcomes[i]));
  }
  if (!again.empty()) {
    std::lock_guard lock(mutex_);
    for (auto it = again.rbegin(); it != again.rend(); ++it) queue_.push_front(std::move(*it));
    wake_.notify_one();
  }
}

Status BatchWriter::run_job(Connection& db, SqlWriteTx& tx, Job& job, bool savepoint) {
  if (savepoint) {
    if (auto status = run_fixed(db, "SAVEPOINT job"); !status) return status;
  }
  Status outcome = core::ok_status();
  try {
    outcome = job.work(tx);
  } catch (const std::exception& e) {
    outcome = core::internal_error(std::string("unit of work threw: ") + e.what());
  } catch (...) {
    outcome = core::internal_error("unit of work threw a non-standard exception");
  }
  if (!savepoint) return outcome;
  if (!outcome) (void)run_fixed(db, "ROLLBACK TO SAVEPOINT job");
  if (auto released = run_fixed(db, "RELEASE SAVEPOINT job"); !released && outcome) return released;
  return outcome;
}

}  // namespace repute::store::sql
