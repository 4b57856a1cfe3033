#include <signal.h>

#include <boost/json/serialize.hpp>
#include <charconv>
#include <cstdio>

#include "api/api.hpp"
#include "api/server.hpp"
#include "app/commands.hpp"
#include "app/delivery_config.hpp"
#include "core/address_policy.hpp"
#include "delivery/http_client.hpp"
#include "obs/log.hpp"
#include "scan/scan.hpp"
#include "store/store.hpp"

namespace repute::app {
namespace {

constexpr const char* kDevKeySetting = "dev_api_key";
constexpr const char* kDevTenant = "sandbox";

// Splits "HOST:PORT" or "[v6]:PORT".
bool parse_listen(const std::string& text, std::string& host, std::uint16_t& port) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  auto address = core::parse_ip_literal(host);
  if (!address) return false;
  host = address->to_string();
  const std::string digits = text.substr(colon + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() || value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

// The sandbox tenant's key: made once per database, then read back on every start.
core::Result<core::IssuedKey> ensure_dev_key(store::Store& store) {
  core::IssuedKey issued;
  auto status = store.write_and_wait([&issued](store::WriteTx& tx) -> core::Status {
    auto saved = tx.get_setting(kDevKeySetting);
    if (!saved) return saved.error();
    if (*saved) {
      const std::size_t colon = (*saved)->find(':');
      issued.key.id = (*saved)->substr(0, colon);
      issued.secret = (*saved)->substr(colon + 1);
      return core::ok_status();
    }
    const core::Micros now = core::system_clock().now();
    auto tenant = tx.ensure_tenant(kDevTenant, now);
    if (!tenant) return tenant.error();
    issued = core::issue_api_key(tenant->id, now);
    if (auto inserted = tx.insert_api_key(issued.key); !inserted) return inserted;
    return tx.put_setting(kDevKeySetting, issued.key.id + ":" + issued.secret);
  });
  if (!status) return status.error();
  return issued;
}

core::Result<core::AddressPolicy> address_policy(const ServeOptions& options) {
  std::vector<core::Cidr> allowed;
  for (const std::string& text : options.allow_cidrs) {
    auto cidr = core::parse_cidr(text);
    if (!cidr) return core::invalid("--allow-cidr " + text + ": " + cidr.error().message);
    allowed.push_back(*cidr);
  }
  return core::AddressPolicy(std::move(allowed), options.dev);
}

// The scan engine reads http sources through the one outbound HTTP client.
scan::Fetch fetch_with(delivery::HttpClient& client, std::size_t max_bytes) {
  return [&client, max_bytes](const std::string& url, std::function<void(scan::FetchResult)> done) {
    delivery::OutboundRequest request;
    request.method = "GET";
    request.url = url;
    request.headers = {{"Accept", "application/json"}};
    request.max_response_bytes = max_bytes;
    client.send(std::move(request), [done = std::move(done)](delivery::OutboundResponse response) {
      done({response.status, std::move(response.body), response.error.value_or(""), response.body_cut_off});
    });
  };
}

// A flag whose value is wrong: one line, exit status 2, as for any other bad flag.
int usage_error(const std::string& message) {
  std::fprintf(stderr, "repute: %s (see --help)\n", message.c_str());
  return 2;
}

int fail(const std::string& message) {
  obs::log_error("cannot start", {{"error", message}});
  std::fprintf(stderr, "repute: %s\n", message.c_str());
  return 1;
}

}  // namespace

int run_serve(const ServeOptions& options) {
  obs::LogLevel level = obs::LogLevel::kInfo;
  obs::parse_log_level(options.log_level, level);
  obs::set_log_level(level);

  // Every thread started from here on inherits the blocked signals; only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // A file size limit reached is a failed write (SQLITE_FULL, answered 503), not the end of the process.
  signal(SIGXFSZ, SIG_IGN);

  api::ServerOptions server_options;
  if (!parse_listen(options.listen, server_options.host, server_options.port)) {
    return usage_error("--listen " + options.listen + ": expected HOST:PORT with an IP address");
  }
  server_options.threads = options.threads;
  auto policy = address_policy(options);
  if (!policy) return usage_error(policy.error().message);
  auto delivery_config = delivery_options(options, *policy);
  if (!delivery_config) return usage_error(delivery_config.error().message);
  auto fetch_timeout = source_timeout(options);
  if (!fetch_timeout) return usage_error(fetch_timeout.error().message);

  store::StoreOptions store_options;
  store_options.synchronous_full = options.synchronous_full;
  store_options.node_id = options.node_id;
  store_options.pool_size = options.pool_size;
  auto opened = store::open_store(options.database, store_options);
  // A database that cannot be opened is a start-up error like a bad flag: one line, exit status 2.
  if (!opened) {
    fail("cannot open " + store::redacted_url(options.database) + ": " + opened.error().message);
    return 2;
  }
  std::unique_ptr<store::Store> store = std::move(*opened);

  std::optional<core::IssuedKey> dev_key;
  if (options.dev) {
    auto key = ensure_dev_key(*store);
    if (!key) return fail("cannot make the development key: " + key.error().message);
    dev_key = std::move(*key);
  }

  auto dispatcher = delivery::start_dispatcher(*store, std::move(*delivery_config));
  if (!dispatcher) return fail("cannot start the delivery engine: " + dispatcher.error().message);

  scan::ScanOptions scan_options;
  // A fetch starts only while half its lease is left: the lease must hold a whole fetch twice over.
  scan_options.lease = std::max(scan_options.lease, 2 * *fetch_timeout + 10 * core::kMicrosPerSecond);
  delivery::HttpClientOptions fetch_options;
  fetch_options.address_policy = *policy;
  fetch_options.timeout = *fetch_timeout;
  fetch_options.max_response_bytes = scan_options.max_source_bytes;
  fetch_options.max_total_connections = scan_options.max_concurrent_fetches;
  auto fetch_client = delivery::start_http_client(fetch_options);
  if (!fetch_client) return fail("cannot start the HTTP client: " + fetch_client.error().message);
  auto scans = scan::start_scan_engine(*store, scan_options, fetch_with(**fetch_client, scan_options.max_source_bytes));
  if (!scans) return fail("cannot start the scan engine: " + scans.error().message);
  store->set_work_listener([&scans, &dispatcher](store::WorkKind kind) {
    if (kind == store::WorkKind::kScans) (*scans)->wake();
    if (kind == store::WorkKind::kDeliveries) (*dispatcher)->wake();
  });

  auto server = api::start_http_server(server_options, api::make_api_handler({*store, std::move(*policy)}));
  if (!server) {
    store->set_work_listener(nullptr);
    return fail(server.error().message);
  }
  obs::log_info("listening", {{"host", server_options.host},
                              {"port", static_cast<int>((*server)->port())},
                              {"database", store::redacted_url(options.database)},
                              {"dev", options.dev}});
  if (dev_key) {
    print_line(boost::json::serialize(
        boost::json::object{{"api_key_id", dev_key->key.id}, {"api_key_secret", dev_key->secret}}));
  }

  int received = 0;
  sigwait(&stop_signals, &received);
  obs::log_info("stopping", {{"signal", received == SIGTERM ? "SIGTERM" : "SIGINT"}});
  // The server stops first so that no new work arrives; the store then commits what is queued.
  // The server object outlives the store's close: write callbacks still post to its executor.
  (*server)->stop();
  (*scans)->stop();
  (*dispatcher)->stop();  // records the outcomes of attempts in flight before the store closes
  (*fetch_client)->stop();
  store->close();
  obs::log_info("stopped");
  return 0;
}

}  // namespace repute::app
