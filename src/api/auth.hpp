#pragma once
// HTTP Basic authentication with API keys; every authenticated route sees its caller's tenant.
#include <string>

#include "api/router.hpp"
#include "store/store.hpp"

namespace repute::api {

// Who is calling: the tenant whose objects the request may see.
struct Caller {
  std::string tenant_id;
  std::string key_id;
};

// Serves one authenticated request.
using TenantHandler = std::function<void(const HttpRequest&, const Caller&, const PathParams&, Respond)>;

// A route handler that answers 401 unless the request carries a valid, unrevoked key.
RouteHandler authenticated(store::Store& store, TenantHandler handler);

}  // namespace repute::api
