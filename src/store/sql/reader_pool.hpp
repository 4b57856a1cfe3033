#pragma once
// Reader connections lent to one caller at a time: opened on demand up to a limit (0: no limit), waited for beyond
// it, and dropped instead of returned when they lost their database.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "store/sql/connection.hpp"

namespace repute::store::sql {

// A pool of reader connections.
class ReaderPool {
 public:
  using Open = std::function<Result<std::unique_ptr<Connection>>()>;

  ReaderPool(Open open, int max_open) : open_(std::move(open)), max_open_(max_open) {}

  // Runs f with a borrowed connection and returns what it returns (an Error when none can be had in time).
  template <class F>
  auto with_reader(F&& f) -> decltype(f(std::declval<Connection&>())) {
    auto borrowed = borrow();
    if (!borrowed) return borrowed.error();
    std::unique_ptr<Connection> connection = std::move(*borrowed);
    auto result = f(*connection);
    if (!result && !connection->healthy()) {
      // The database went away under an idle connection (a restart, a cut), and likely under all the idle ones:
      // they are dropped, and the read (reads change nothing) runs once more on a new connection.
      give_back(std::move(connection));
      clear();
      borrowed = borrow();
      if (!borrowed) return borrowed.error();
      connection = std::move(*borrowed);
      result = f(*connection);
    }
    give_back(std::move(connection));
    return result;
  }

  // Closes every idle connection.
  void clear() {
    std::lock_guard lock(mutex_);
    open_count_ -= static_cast<int>(idle_.size());
    idle_.clear();
    returned_.notify_all();
  }

 private:
  Result<std::unique_ptr<Connection>> borrow() {
    {
      std::unique_lock lock(mutex_);
      const bool available = returned_.wait_for(lock, kWait, [this] {
        return !idle_.empty() || max_open_ <= 0 || open_count_ < max_open_;
      });
      if (!available) return core::Error{core::ErrorCode::kUnavailable, "no database connection is free"};
      if (!idle_.empty()) {
        std::unique_ptr<Connection> connection = std::move(idle_.back());
        idle_.pop_back();
        return connection;
      }
      ++open_count_;
    }
    auto opened = open_();
    if (!opened) {
      std::lock_guard lock(mutex_);
      --open_count_;
      returned_.notify_one();
    }
    return opened;
  }

  void give_back(std::unique_ptr<Connection> connection) {
    std::lock_guard lock(mutex_);
    if (connection->healthy()) {
      idle_.push_back(std::move(connection));
    } else {
      --open_count_;
    }
    returned_.notify_one();
  }

  static constexpr std::chrono::seconds kWait{10};
  Open open_;
  const int max_open_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_count_ = 0;  // idle and lent
};

}  // namespace repute::store::sql
