#include <boost/json/serialize.hpp>
#include <cstdio>
#include <memory>

#include "app/commands.hpp"
#include "core/time.hpp"
#include "store/store.hpp"

namespace repute::app {
namespace {

std::unique_ptr<store::Store> open_or_report(const std::string& database) {
  auto opened = store::open_store(database);
  if (!opened) {
    std::fprintf(stderr, "repute: cannot open %s: %s\n", store::redacted_url(database).c_str(),
                 opened.error().message.c_str());
    return nullptr;
  }
  return std::move(*opened);
}

}  // namespace

void print_line(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

int run_migrate(const std::string& database) {
  auto store = open_or_report(database);
  if (!store) return 2;
  store->close();
  print_line(boost::json::serialize(boost::json::object{{"database", database}, {"migrated", true}}));
  return 0;
}

int run_keys_create(const std::string& database, const std::string& tenant) {
  if (tenant.empty()) {
    std::fprintf(stderr, "repute: --tenant must not be empty\n");
    return 2;
  }
  auto store = open_or_report(database);
  if (!store) return 2;
  core::IssuedKey issued;
  auto status = store->write_and_wait([&](store::WriteTx& tx) -> core::Status {
    const core::Micros now = core::system_clock().now();
    auto found = tx.ensure_tenant(tenant, now);
    if (!found) return found.error();
    issued = core::issue_api_key(found->id, now);
    return tx.insert_api_key(issued.key);
  });
  store->close();
  if (!status) {
    std::fprintf(stderr, "repute: cannot create the key: %s\n", status.error().message.c_str());
    return 1;
  }
  print_line(boost::json::serialize(boost::json::object{{"api_key_id", issued.key.id}, {"api_key_secret", issued.secret}}));
  return 0;
}

int run_keys_list(const std::string& database) {
  auto store = open_or_report(database);
  if (!store) return 2;
  auto keys = store->list_api_keys();
  if (!keys) {
    std::fprintf(stderr, "repute: cannot list keys: %s\n", keys.error().message.c_str());
    return 1;
  }
  for (const core::ApiKey& key : *keys) {
    auto tenant = store->find_tenant(key.tenant_id);
    const std::string tenant_name = tenant && *tenant ? (*tenant)->name : key.tenant_id;
    print_line(boost::json::serialize(boost::json::object{
        {"api_key_id", key.id},
        {"tenant", tenant_name},
        {"created_at", core::format_time(key.created_at)},
        {"revoked_at", key.revoked_at ? boost::json::value(core::format_time(*key.revoked_at)) : boost::json::value(nullptr)},
    }));
  }
  return 0;
}

int run_keys_revoke(const std::string& database, const std::string& key_id) {
  auto store = open_or_report(database);
  if (!store) return 2;
  bool revoked = false;
  auto status = store->write_and_wait([&](store::WriteTx& tx) -> core::Status {
    auto done = tx.revoke_api_key(key_id, core::system_clock().now());
    if (!done) return done.error();
    revoked = *done;
    return core::ok_status();
  });
  store->close();
  if (!status) {
    std::fprintf(stderr, "repute: cannot revoke the key: %s\n", status.error().message.c_str());
    return 1;
  }
  if (!revoked) {
    std::fprintf(stderr, "repute: no active key %s\n", key_id.c_str());
    return 1;
  }
  print_line(boost::json::serialize(boost::json::object{{"api_key_id", key_id}, {"revoked", true}}));
  return 0;
}

}  // namespace repute::app
