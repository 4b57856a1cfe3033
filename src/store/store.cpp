#include "store/store.hpp"

#include <future>

#include "store/sqlite/sqlite_store.hpp"

namespace repute::store {

Status Store::write_and_wait(Work work) {
  std::promise<Status> outcome;
  auto future = outcome.get_future();
  write(std::move(work), [&outcome](Status status) { outcome.set_value(std::move(status)); });
  return future.get();
}

Result<std::unique_ptr<Store>> open_store(const std::string& url, const StoreOptions& options) {
  constexpr std::string_view kSqlite = "sqlite://";
  if (url.starts_with(kSqlite)) return sqlite::open_sqlite_store(url.substr(kSqlite.size()), options);
  return core::invalid("unsupported database URL \"" + url + "\": expected sqlite:///abs/path.db or sqlite://rel/path.db");
}

}  // namespace repute::store
