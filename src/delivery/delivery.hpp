#pragma once
// delivery: the engine that POSTs every pending delivery, signed, to its subscriber (DESIGN §3): claims due
// work from the store with a lease, sends it with libcurl's multi interface under a global and a
// per-subscription cap, and writes outcomes back in batches (retry schedule, 410 and failing-endpoint rules).
#include <memory>
#include <string>
#include <vector>

#include "core/address_policy.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "delivery/http_client.hpp"
#include "delivery/retry_schedule.hpp"
#include "store/store.hpp"

namespace repute::delivery {

// Everything about delivering that an operator may tune.
struct DeliveryOptions {
  int max_in_flight = 256;                                     // attempts in flight at once, in all
  int max_in_flight_per_webhook = 32;                          // ... and to any one subscription
  core::Micros connect_timeout = 5 * core::kMicrosPerSecond;   // TCP (and TLS) connect
  core::Micros attempt_timeout = 15 * core::kMicrosPerSecond;  // a whole attempt
  std::size_t max_response_bytes = 64 * 1024;                  // of a response body read; the rest is cut off
  RetryPolicy retry;                                           // when failed attempts are retried
  core::Micros disable_after = 5LL * 24 * 3600 * core::kMicrosPerSecond;  // failing this long disables a subscription
  // A claimed delivery is ours this long; it must exceed attempt_timeout by at least a second, since an attempt
  // only starts when it can end within its lease. After a crash, deliveries in flight go out again once it runs out.
  core::Micros lease = 30 * core::kMicrosPerSecond;
  int claim_batch = 512;               // most deliveries claimed at once
  core::AddressPolicy address_policy;  // the SSRF guard, applied to the dialled address
  // Fixed name resolutions in curl's CURLOPT_RESOLVE form "host:port:address": how tests inject a resolver.
  std::vector<std::string> resolve_overrides;
};

// The running engine.
class Dispatcher {
 public:
  virtual ~Dispatcher() = default;
  // Looks for due work now (called when a commit made deliveries due).
  virtual void wake() = 0;
  // Stops claiming, waits for attempts in flight (up to the attempt timeout) and records their outcomes.
  virtual void stop() = 0;
};

// Starts the engine on store, with an HTTP client of its own; store must outlive it. Refuses options that cannot
// work (caps below 1, a lease not longer than the attempt timeout).
core::Result<std::unique_ptr<Dispatcher>> start_dispatcher(store::Store& store, DeliveryOptions options,
                                                           const core::Clock& clock = core::system_clock());

// As above, but sending through client (which must outlive the engine); options' connection settings are then
// the client's business.
core::Result<std::unique_ptr<Dispatcher>> start_dispatcher(store::Store& store, DeliveryOptions options,
                                                           const core::Clock& clock, HttpClient& client);

}  // namespace repute::delivery
