// start_dispatcher: checks the options, starts the engine (and, unless given one, its HTTP client).
#include "delivery/delivery.hpp"
#include "delivery/engine.hpp"

namespace repute::delivery {
namespace {

// The Dispatcher the caller holds; stopping it (or letting it go) stops the engine and takes it off the store's
// handoff.
class EngineHandle final : public Dispatcher {
 public:
  EngineHandle(store::Store& store, std::shared_ptr<DeliveryEngine> engine)
      : store_(store), engine_(std::move(engine)) {
    store_.set_delivery_handoff(engine_);
  }
  ~EngineHandle() override { stop(); }
  void wake() override { engine_->wake(); }
  void stop() override {
    store_.set_delivery_handoff(nullptr);
    engine_->stop();
  }

 private:
  store::Store& store_;
  std::shared_ptr<DeliveryEngine> engine_;
};

core::Status check(const DeliveryOptions& options) {
  if (options.max_in_flight < 1) return core::invalid("max_in_flight must be at least 1");
  if (options.max_in_flight_per_webhook < 1) return core::invalid("max_in_flight_per_webhook must be at least 1");
  if (options.claim_batch < 1) return core::invalid("claim_batch must be at least 1");
  if (options.connect_timeout <= 0 || options.attempt_timeout <= 0) return core::invalid("timeouts must be positive");
  if (options.max_response_bytes < 1) return core::invalid("max_response_bytes must be at least 1");
  // An attempt starts only while it can still finish a second before its lease runs out; a second more
  // leaves room for the time between claiming a delivery and starting it.
  if (options.lease < options.attempt_timeout + 2 * core::kMicrosPerSecond) {
    return core::invalid("the lease must be at least two seconds longer than the attempt timeout");
  }
  if (options.disable_after <= 0) return core::invalid("disable_after must be positive");
  return core::ok_status();
}

std::unique_ptr<Dispatcher> launch(store::Store& store, DeliveryOptions options, const core::Clock& clock,
                                   HttpClient& client, std::unique_ptr<HttpClient> owned_client) {
  auto engine = std::make_shared<DeliveryEngine>(store, std::move(options), clock, client, std::move(owned_client));
  engine->start();
  engine->wake();
  return std::make_unique<EngineHandle>(store, std::move(engine));
}

}  // namespace

core::Result<std::unique_ptr<Dispatcher>> start_dispatcher(store::Store& store, DeliveryOptions options,
                                                           const core::Clock& clock) {
  if (auto checked = check(options); !checked) return checked.error();
  HttpClientOptions client_options;
  client_options.connect_timeout = options.connect_timeout;
  client_options.timeout = options.attempt_timeout;
  client_options.max_response_bytes = options.max_response_bytes;
  // The engine's own caps bound the connections in use; idle ones are kept up to max_in_flight, oldest closed first.
  // (A total limit in curl would also count idle connections to other hosts and make new transfers wait.)
  client_options.max_cached_connections = options.max_in_flight;
  client_options.address_policy = options.address_policy;
  client_options.resolve_overrides = options.resolve_overrides;
  auto client = start_http_client(std::move(client_options));
  if (!client) return client.error();
  HttpClient& borrowed = **client;
  return launch(store, std::move(options), clock, borrowed, std::move(*client));
}

core::Result<std::unique_ptr<Dispatcher>> start_dispatcher(store::Store& store, DeliveryOptions options,
                                                           const core::Clock& clock, HttpClient& client) {
  if (auto checked = check(options); !checked) return checked.error();
  return launch(store, std::move(options), clock, client, nullptr);
}

}  // namespace repute::delivery
