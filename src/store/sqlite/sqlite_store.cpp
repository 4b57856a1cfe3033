#include "store/sqlite/sqlite_store.hpp"

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "obs/log.hpp"
#include "store/sql/sql_store.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/migrations.hpp"

namespace repute::store::sqlite {
namespace {

// SQLite: one writer thread that group-commits on the writer connection, readers opened as needed, and WAL
// checkpoints on a thread of their own.
class SqliteStore final : public sql::SqlStore {
 public:
  SqliteStore(const std::string& path, const StoreOptions& options, const std::string& node_id,
              std::unique_ptr<Connection> writer, std::unique_ptr<Connection> checkpointer)
      : SqlStore(std::make_unique<sql::ReaderPool>(
                     [path, full = options.synchronous_full]() -> Result<std::unique_ptr<sql::Connection>> {
                       auto opened = Connection::open(path, false, full);
                       if (!opened) return opened.error();
                       return std::unique_ptr<sql::Connection>(std::move(*opened));
                     },
                     0),
                 std::make_unique<sql::BatchWriter>(node_id, options.max_batch, sql::BatchDialect{"BEGIN IMMEDIATE", {}})),
        writer_(std::move(writer)),
        checkpointer_(std::move(checkpointer)) {
    // The writer never checkpoints by itself (that copies pages into the database file and syncs it, which would
    // hold up every commit behind it): after each commit it says how long the WAL is, and the checkpoint thread
    // does the copying on its own connection, beside the writer.
    (void)writer_->exec("PRAGMA wal_autocheckpoint=0");
    sqlite3_wal_hook(writer_->handle(), &SqliteStore::on_wal_commit, this);
    checkpoint_thread_ = std::thread([this] { checkpoint_loop(); });
    batch_writer().start({writer_.get()});
  }
  ~SqliteStore() override { close(); }

  void close() override {
    batch_writer().close();
    if (checkpoint_thread_.joinable()) {
      {
        std::lock_guard lock(checkpoint_mutex_);
        checkpoint_exit_ = true;
      }
      checkpoint_wake_.notify_one();
      checkpoint_thread_.join();
    }
    checkpointer_.reset();
    writer_.reset();  // with the idle readers below, the last connection out checkpoints what is left
    SqlStore::close();
  }

 private:
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

  std::unique_ptr<Connection> writer_;
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
  std::thread checkpoint_thread_;
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
  return std::unique_ptr<Store>(
      new SqliteStore(path, options, node_id_or_default(options), std::move(*writer), std::move(*checkpointer)));
}

}  // namespace repute::store::sqlite
