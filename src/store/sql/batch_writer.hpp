#pragma once
// The write path both back ends share: a queue of units of work and writer threads, each with its own connection,
// that take up to max_batch units at a time and commit them in one transaction (group commit). Every unit runs in
// a savepoint of its own when the batch holds several, so that one failing unit rolls back only itself. After each
// commit the delivery handoff learns which deliveries it now owns and the work listener hears what became due.
// SQLite runs one writer thread (it has one writer); PostgreSQL runs one per pooled connection, committing
// concurrently.
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/sql/connection.hpp"
#include "store/store.hpp"

namespace repute::store::sql {

class SqlWriteTx;

// How a back end opens, and adds to, the transaction of a batch.
struct BatchDialect {
  std::string begin = "BEGIN";  // the statement that opens a batch's transaction
  // Runs inside the transaction just before COMMIT, once the batch is known to commit work (may be empty).
  std::function<Status(Connection&, const SqlWriteTx&)> before_commit;
};

// Queued units of work and the threads that commit them.
class BatchWriter {
 public:
  BatchWriter(std::string node_id, int max_batch, BatchDialect dialect);
  ~BatchWriter();
  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;

  // Starts one writer thread per connection; the connections must outlive close().
  void start(const std::vector<Connection*>& connections);
  // Queues work; done is called after its transaction commits or rolls back (at once when closed).
  void write(Work work, Done done);
  void set_listener(WorkListener listener);
  void set_handoff(std::shared_ptr<DeliveryHandoff> handoff);
  // The listener and handoff as set now (for a back end that hears of other nodes' commits).
  WorkListener listener();
  std::shared_ptr<DeliveryHandoff> handoff();
  // Commits what is queued, then stops the threads; later writes fail. Idempotent.
  void close();

 private:
  struct Job {
    Work work;
    Done done;
    int conflicts = 0;  // times it lost to another transaction (a deadlock) and was run again
  };

  void writer_loop(Connection& db);
  void commit_batch(Connection& db, std::vector<Job>& batch);
  Status run_job(Connection& db, SqlWriteTx& tx, Job& job, bool savepoint);

  const std::string node_id_;
  const int max_batch_;
  const BatchDialect dialect_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  bool closing_ = false;
  WorkListener listener_;
  std::shared_ptr<DeliveryHandoff> handoff_;
  std::vector<std::thread> threads_;
};

}  // namespace repute::store::sql
