// The delivery log (DESIGN §2, ext): a subscription's deliveries, one delivery with every attempt, resending one
// delivery, and re-queueing a subscription's failed deliveries since a time.
#include "api/json_body.hpp"
#include "api/resource_json.hpp"
#include "api/route_helpers.hpp"
#include "api/routes.hpp"

namespace repute::api {
namespace {

namespace json = boost::json;

void list_deliveries(const ApiContext& context, const HttpRequest& request, const std::string& webhook_id,
                     const Caller& caller, Respond respond) {
  store::DeliveryFilter filter;
  FieldErrors errors;
  if (const std::string* text = request.query_param("state")) {
    filter.state = core::parse_delivery_state(*text);
    if (!filter.state) {
      errors["state"].push_back("Select a valid choice. \"" + *text + "\" is not one of pending, delivered, failed.");
    }
  }
  for (const char* name : {"created_after", "created_before"}) {
    const std::string* text = request.query_param(name);
    if (!text) continue;
    auto at = core::parse_time(*text);
    if (!at) errors[name].push_back("Enter a valid ISO 8601 time, e.g. 2026-11-27T10:00:00Z.");
    (std::string_view(name) == "created_after" ? filter.created_after : filter.created_before) = at;
  }
  if (!errors.empty()) return respond(field_errors_response(errors));
  auto webhook = context.store.find_webhook(caller.tenant_id, webhook_id);
  if (!webhook) return respond(error_response(webhook.error()));
  if (!*webhook) return respond(detail_response(404, "Not found."));
  respond_page(
      request, respond,
      [&](const store::PageRequest& page) {
        return context.store.list_deliveries(caller.tenant_id, webhook_id, filter, page);
      },
      delivery_json);
}

void get_delivery(const ApiContext& context, const std::string& id, const Caller& caller, Respond respond) {
  auto found = context.store.find_delivery(caller.tenant_id, id);
  if (!found) return respond(error_response(found.error()));
  if (!*found) return respond(detail_response(404, "Not found."));
  auto attempts = context.store.list_attempts(id);
  if (!attempts) return respond(error_response(attempts.error()));
  json::object body = delivery_json(**found);
  json::array list;
  list.reserve(attempts->size());
  for (const core::DeliveryAttempt& attempt : *attempts) list.emplace_back(attempt_json(attempt));
  body["attempts"] = std::move(list);
  respond(json_response(200, body));
}

// Pending and due now; its attempt count stays, so a retry of a failed delivery is one more attempt.
void retry_delivery(const ApiContext& context, const std::string& id, const Caller& caller, Respond respond) {
  auto retried = std::make_shared<core::Delivery>();
  const core::Micros now = context.clock.now();
  context.store.write(
      [retried, id, tenant = caller.tenant_id, now](store::WriteTx& tx) -> core::Status {
        auto found = tx.find_delivery(tenant, id);
        if (!found) return found.error();
        if (!*found) return core::not_found("no such delivery");
        *retried = std::move(**found);
        retried->state = core::DeliveryState::kPending;
        retried->next_attempt_at = now;
        retried->updated_at = now;
        return tx.update_delivery(*retried);
      },
      [retried, respond](core::Status status) {
        if (!status) return respond(error_response(status.error()));
        respond(json_response(202, delivery_json(*retried)));
      });
}

void recover_webhook(const ApiContext& context, const HttpRequest& request, const std::string& webhook_id,
                     const Caller& caller, Respond respond) {
  auto body = parse_json_object(request);
  if (auto* refused = std::get_if<HttpResponse>(&body)) return respond(std::move(*refused));
  const json::object& fields = std::get<json::object>(body);
  FieldErrors errors;
  std::optional<core::Micros> since;
  for (const auto& [key, value] : fields) {
    if (key != "since") errors[std::string(key)].push_back("Unknown field.");
  }
  if (const json::value* value = fields.if_contains("since")) {
    if (value->is_string()) since = core::parse_time(value->as_string());
    if (!since) errors["since"].push_back("Enter a valid ISO 8601 time, e.g. 2026-11-27T10:00:00Z.");
  } else {
    errors["since"].push_back("This field is required.");
  }
  if (!errors.empty()) return respond(field_errors_response(errors));

  auto requeued = std::make_shared<std::int64_t>(0);
  const core::Micros now = context.clock.now();
  context.store.write(
      [requeued, webhook_id, tenant = caller.tenant_id, since = *since, now](store::WriteTx& tx) -> core::Status {
        auto webhook = tx.find_webhook(tenant, webhook_id);
        if (!webhook) return webhook.error();
        if (!*webhook) return core::not_found("no such webhook");
        auto count = tx.requeue_failed_deliveries(tenant, webhook_id, since, now);
        if (!count) return count.error();
        *requeued = *count;
        return core::ok_status();
      },
      [requeued, respond](core::Status status) {
        if (!status) return respond(error_response(status.error()));
        respond(json_response(202, json::object{{"requeued", *requeued}}));
      });
}

}  // namespace

void add_delivery_routes(Router& router, const std::shared_ptr<ApiContext>& context) {
  store::Store& store = context->store;
  router.add("GET", "/v1/webhooks/{id}/deliveries",
             authenticated(store, with_id([context](const HttpRequest& request, const std::string& id,
                                                    const Caller& caller, Respond respond) {
                             list_deliveries(*context, request, id, caller, std::move(respond));
                           })));
  router.add("POST", "/v1/webhooks/{id}/recover",
             authenticated(store, with_id([context](const HttpRequest& request, const std::string& id,
                                                    const Caller& caller, Respond respond) {
                             recover_webhook(*context, request, id, caller, std::move(respond));
                           })));
  router.add("GET", "/v1/deliveries/{id}",
             authenticated(store, with_id([context](const HttpRequest&, const std::string& id, const Caller& caller,
                                                    Respond respond) {
                             get_delivery(*context, id, caller, std::move(respond));
                           })));
  router.add("POST", "/v1/deliveries/{id}/retry",
             authenticated(store, with_id([context](const HttpRequest&, const std::string& id, const Caller& caller,
                                                    Respond respond) {
                             retry_delivery(*context, id, caller, std::move(respond));
                           })));
}

}  // namespace repute::api
