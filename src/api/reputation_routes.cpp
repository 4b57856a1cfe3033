#include "api/resource_json.hpp"
#include "api/route_helpers.hpp"
#include "api/routes.hpp"
#include "core/reputation_json.hpp"

namespace repute::api {
namespace {

// An event with its delivery counts; counts that cannot be read show as zero rather than failing the page.
boost::json::object counted_event_json(store::Store& store, const core::Event& event) {
  auto counts = store.count_deliveries(event.id);
  return event_json(event, counts ? *counts : store::DeliveryCounts{});
}

}  // namespace

void add_reputation_routes(Router& router, const std::shared_ptr<ApiContext>& context) {
  store::Store& store = context->store;
  router.add("GET", "/v1/reputations",
             authenticated(store, [context](const HttpRequest& request, const Caller& caller, const PathParams&,
                                            Respond respond) {
               store::ReputationFilter filter;
               for (const char* name : {"account", "user"}) {
                 auto value = uuid_filter(request, name);
                 if (auto* refused = std::get_if<HttpResponse>(&value)) return respond(std::move(*refused));
                 (std::string_view(name) == "account" ? filter.account_id : filter.user_id) =
                     std::get<std::optional<std::string>>(value);
               }
               respond_page(
                   request, respond,
                   [&](const store::PageRequest& page) {
                     return context->store.list_reputations(caller.tenant_id, filter, page);
                   },
                   core::reputation_json);
             }));
  router.add("GET", "/v1/reputations/{id}",
             authenticated(store, with_id([context](const HttpRequest&, const std::string& id, const Caller& caller,
                                                    Respond respond) {
               respond_found(respond, context->store.find_reputation(caller.tenant_id, id), core::reputation_json);
             })));
  router.add("GET", "/v1/events",
             authenticated(store, [context](const HttpRequest& request, const Caller& caller, const PathParams&,
                                            Respond respond) {
               respond_page(
                   request, respond,
                   [&](const store::PageRequest& page) { return context->store.list_events(caller.tenant_id, page); },
                   [&](const core::Event& event) { return counted_event_json(context->store, event); });
             }));
  router.add("GET", "/v1/events/{id}",
             authenticated(store, with_id([context](const HttpRequest&, const std::string& id, const Caller& caller,
                                                    Respond respond) {
               respond_found(respond, context->store.find_event(caller.tenant_id, id),
                             [&](const core::Event& event) { return counted_event_json(context->store, event); });
             })));
}

}  // namespace repute::api
