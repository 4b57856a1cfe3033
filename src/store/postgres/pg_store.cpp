#include "store/postgres/pg_store.hpp"

#include <poll.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "obs/log.hpp"
#include "store/postgres/migrations.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store/sql/sql_store.hpp"
#include "store/sql/write_tx.hpp"

namespace repute::store::postgres {
namespace {

constexpr const char* kChannel = "repute_work";

// A notification's payload: what became due or changed ("d" deliveries, "s" scans, "w" subscriptions), a space,
// and the node whose commit it was.
std::string payload(const sql::SqlWriteTx& tx, const std::string& node_id) {
  std::string flags;
  if (tx.made_deliveries_due) flags += 'd';
  if (tx.made_scans_due) flags += 's';
  if (tx.changed_webhooks) flags += 'w';
  return flags.empty() ? std::string() : flags + " " + node_id;
}

class PgStore final : public sql::SqlStore {
 public:
  PgStore(std::string url, const StoreOptions& options, std::string node_id,
          std::vector<std::unique_ptr<PgConnection>> writers)
      : SqlStore(std::make_unique<sql::ReaderPool>(
                     [url]() -> Result<std::unique_ptr<sql::Connection>> {
                       auto opened = PgConnection::open(url);
                       if (!opened) return opened.error();
                       return std::unique_ptr<sql::Connection>(std::move(*opened));
                     },
                     options.pool_size),
                 std::make_unique<sql::BatchWriter>(node_id, options.max_batch, dialect(node_id))),
        url_(std::move(url)),
        node_id_(std::move(node_id)),
        writers_(std::move(writers)) {
    std::vector<sql::Connection*> connections;
    for (auto& writer : writers_) connections.push_back(writer.get());
    batch_writer().start(connections);
    listener_thread_ = std::thread([this] { listen_loop(); });
  }
  ~PgStore() override { close(); }

  void close() override {
    stop_listening_ = true;
    if (listener_thread_.joinable()) listener_thread_.join();
    batch_writer().close();
    writers_.clear();
    SqlStore::close();
  }

 private:
  // Every batch that commits work others may take says so on the channel, inside its transaction: the
  // notification is sent when (and only if) the commit is.
  static sql::BatchDialect dialect(const std::string& node_id) {
    sql::BatchDialect dialect;
    dialect.begin = "BEGIN";
    dialect.before_commit = [node_id](sql::Connection& db, const sql::SqlWriteTx& tx) -> Status {
      const std::string message = payload(tx, node_id);
      if (message.empty()) return core::ok_status();
      auto statement = db.prepare("SELECT pg_notify(?, ?)");
      if (!statement) return statement.error();
      return statement->bind(1, kChannel).bind(2, message).run();
    };
    return dialect;
  }

  // Tells this node what another node's commit made due, and that subscriptions changed.
  void heard(const std::string& message) {
    const std::size_t space = message.find(' ');
    if (space == std::string::npos || message.substr(space + 1) == node_id_) return;
    const std::string flags = message.substr(0, space);
    if (flags.find('w') != std::string::npos) {
      if (auto handoff = batch_writer().handoff()) handoff->forget_subscriptions();
    }
    WorkListener listener = batch_writer().listener();
    if (!listener) return;
    if (flags.find('d') != std::string::npos) listener(WorkKind::kDeliveries);
    if (flags.find('s') != std::string::npos) listener(WorkKind::kScans);
  }

  // After a gap in listening, anything may have happened.
  void heard_everything() {
    if (auto handoff = batch_writer().handoff()) handoff->forget_subscriptions();
    if (WorkListener listener = batch_writer().listener()) {
      listener(WorkKind::kDeliveries);
      listener(WorkKind::kScans);
    }
  }

  void listen_loop() {
    std::unique_ptr<PgConnection> connection;
    auto backoff = std::chrono::milliseconds(200);
    bool lost = false;
    while (!stop_listening_) {
      if (!connection || !connection->healthy()) {
        connection.reset();
        auto opened = PgConnection::open(url_);
        if (opened && (*opened)->exec(std::string("LISTEN ") + kChannel)) {
          connection = std::move(*opened);
          backoff = std::chrono::milliseconds(200);
          if (lost) {
            obs::log_info("listening for other nodes again", {{"node", node_id_}});
            heard_everything();
          }
          lost = false;
        } else {
          if (!lost) {
            obs::log_warn("cannot listen for other nodes; retrying",
                          {{"error", opened ? std::string("LISTEN failed") : opened.error().message}});
          }
          lost = true;
          sleep_unless_stopping(backoff);
          backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
          continue;
        }
      }
      pollfd fd{PQsocket(connection->handle()), POLLIN, 0};
      const int ready = poll(&fd, 1, 250);
      if (ready < 0) continue;
      if (ready > 0 && !PQconsumeInput(connection->handle())) {
        lost = true;
        connection.reset();
        continue;
      }
      while (PGnotify* notify = PQnotifies(connection->handle())) {
        heard(notify->extra ? notify->extra : "");
        PQfreemem(notify);
      }
    }
  }

  void sleep_unless_stopping(std::chrono::milliseconds total) {
    const auto until = std::chrono::steady_clock::now() + total;
    while (!stop_listening_ && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  const std::string url_;
  const std::string node_id_;
  std::vector<std::unique_ptr<PgConnection>> writers_;
  std::atomic<bool> stop_listening_{false};
  std::thread listener_thread_;
};

}  // namespace

Result<std::unique_ptr<Store>> open_pg_store(const std::string& url, const StoreOptions& options) {
  auto first = PgConnection::open(url);
  if (!first) return first.error();
  if (auto migrated = migrate(**first); !migrated) return migrated.error();
  const int writers_count = std::max(1, options.pool_size);
  std::vector<std::unique_ptr<PgConnection>> writers;
  writers.push_back(std::move(*first));
  while (static_cast<int>(writers.size()) < writers_count) {
    auto opened = PgConnection::open(url);
    if (!opened) return opened.error();
    writers.push_back(std::move(*opened));
  }
  return std::unique_ptr<Store>(new PgStore(url, options, node_id_or_default(options), std::move(writers)));
}

}  // namespace repute::store::postgres
