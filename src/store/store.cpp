#include "store/store.hpp"

#include <unistd.h>

#include <future>

#include "store/postgres/pg_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace repute::store {

Status Store::write_and_wait(Work work) {
  std::promise<Status> outcome;
  auto future = outcome.get_future();
  write(std::move(work), [&outcome](Status status) { outcome.set_value(std::move(status)); });
  return future.get();
}

std::string node_id_or_default(const StoreOptions& options) {
  if (!options.node_id.empty()) return options.node_id;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host[0] ? host : "node") + "-" + std::to_string(getpid());
}

std::string redacted_url(const std::string& url) {
  std::string shown = url;
  const std::size_t scheme = shown.find("://");
  if (scheme != std::string::npos) {
    const std::size_t authority = scheme + 3;
    const std::size_t end = shown.find_first_of("/?#", authority);
    const std::size_t at = shown.rfind('@', end == std::string::npos ? shown.size() : end);
    if (at != std::string::npos && at >= authority) {
      const std::size_t colon = shown.find(':', authority);
      if (colon != std::string::npos && colon < at) shown.replace(colon + 1, at - colon - 1, "***");
    }
  }
  for (std::size_t found = shown.find("password="); found != std::string::npos;
       found = shown.find("password=", found + 1)) {
    if (found > 0 && shown[found - 1] != '?' && shown[found - 1] != '&') continue;
    const std::size_t value = found + 9;
    const std::size_t end = shown.find('&', value);
    shown.replace(value, (end == std::string::npos ? shown.size() : end) - value, "***");
  }
  return shown;
}

Result<std::unique_ptr<Store>> open_store(const std::string& url, const StoreOptions& options) {
  constexpr std::string_view kSqlite = "sqlite://";
  if (url.starts_with(kSqlite)) return sqlite::open_sqlite_store(url.substr(kSqlite.size()), options);
  if (url.starts_with("postgres://") || url.starts_with("postgresql://")) return postgres::open_pg_store(url, options);
  return core::invalid("unsupported database URL \"" + redacted_url(url) +
                       "\": expected sqlite:///abs/path.db, sqlite://rel/path.db or postgres://user:password@host/db");
}

}  // namespace repute::store
