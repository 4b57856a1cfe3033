#pragma once
// api: the HTTP API of DESIGN §2. make_api_handler() wires every route; start_http_server() (server.hpp) serves it.
#include <memory>

#include "api/http.hpp"
#include "core/address_policy.hpp"
#include "core/time.hpp"
#include "store/store.hpp"

namespace repute::api {

// What the routes need from the rest of the server.
struct ApiContext {
  store::Store& store;
  core::AddressPolicy address_policy;  // which webhook targets are allowed
  const core::Clock& clock = core::system_clock();
};

// The handler for every route of the API. context.store must outlive it.
Handler make_api_handler(ApiContext context);

}  // namespace repute::api
