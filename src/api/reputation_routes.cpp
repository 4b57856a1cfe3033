#include "api/resource_json.hpp"
#include "api/route_helpers.hpp"
#include "api/routes.hpp"
#include "core/events.hpp"
#include "core/reputation_json.hpp"

namespace repute::api {
namespace {

// An event with its delivery counts; counts that cannot be read show as zero rather than failing the page.
boost::json::object counted_event_json(store::Store& store, const core::Event& event) {
  auto counts = store.count_deliveries(event.id);
  return event_json(event, counts ? *counts : store::DeliveryCounts{});
}

// The events list's filters (?type=, ?account=), or the 400 that refuses them.
std::variant<store::EventFilter, HttpResponse> read_event_filter(const HttpRequest& request) {
  store::EventFilter filter;
  if (const std::string* type = request.query_param("type")) {
    if (*type != core::kReputationsAdded && *type != core::kReputationsUpdated) {
      return field_errors_response({{"type", {"Select a valid choice. \"" + *type +
                                                  "\" is not one of reputations.added, reputations.updated."}}});
    }
    filter.type = *type;
  }
  auto account = uuid_filter(request, "account");
  if (auto* refused = std::get_if<HttpResponse>(&account)) return std::move(*refused);
  filter.account_id = std::get<std::optional<std::string>>(account);
  return filter;
}

// One event with the delivery it made for each subscription.
void get_event(store::Store& store, const std::string& id, const Caller& caller, Respond respond) {
  auto found = store.find_event(caller.tenant_id, id);
  if (!found) return respond(error_response(found.error()));
  if (!*found) return respond(detail_response(404, "Not found."));
  auto deliveries = store.list_event_deliveries(caller.tenant_id, id);
  if (!deliveries) return respond(error_response(deliveries.error()));
  boost::json::object body = counted_event_json(store, **found);
  boost::json::array list;
  for (const core::Delivery& delivery : *deliveries) list.push_back(delivery_json(delivery));
  body["subscriptions"] = std::move(list);
  respond(json_response(200, body));
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
               auto filter = read_event_filter(request);
               if (auto* refused = std::get_if<HttpResponse>(&filter)) return respond(std::move(*refused));
               respond_page(
                   request, respond,
                   [&](const store::PageRequest& page) {
                     return context->store.list_events(caller.tenant_id, std::get<store::EventFilter>(filter), page);
                   },
                   [&](const core::Event& event) { return counted_event_json(context->store, event); });
             }));
  router.add("GET", "/v1/events/{id}",
             authenticated(store, with_id([context](const HttpRequest&, const std::string& id, const Caller& caller,
                                                    Respond respond) {
               get_event(context->store, id, caller, std::move(respond));
             })));
}

}  // namespace repute::api
