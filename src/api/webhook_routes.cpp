#include <boost/json/object.hpp>

#include "api/auth.hpp"
#include "api/json_body.hpp"
#include "api/pagination.hpp"
#include "api/routes.hpp"
#include "api/route_helpers.hpp"
#include "api/webhook_input.hpp"
#include "core/ids.hpp"

namespace repute::api {
namespace {

using Context = std::shared_ptr<ApiContext>;

// The checked changes a POST or PATCH body asks for, or the response that refuses it.
std::variant<WebhookChanges, HttpResponse> read_changes(const HttpRequest& request, const ApiContext& context,
                                                        bool creating) {
  auto body = parse_json_object(request);
  if (auto* refused = std::get_if<HttpResponse>(&body)) return std::move(*refused);
  FieldErrors errors;
  WebhookChanges changes =
      read_webhook_changes(std::get<boost::json::object>(body), creating, context.address_policy, errors);
  if (!errors.empty()) return field_errors_response(errors);
  return changes;
}

void create_webhook(const Context& context, const HttpRequest& request, const Caller& caller, Respond respond) {
  auto changes = read_changes(request, *context, true);
  if (auto* refused = std::get_if<HttpResponse>(&changes)) return respond(std::move(*refused));
  auto webhook = std::make_shared<core::Webhook>();
  webhook->id = core::new_uuid();
  webhook->tenant_id = caller.tenant_id;
  webhook->created_at = context->clock.now();
  apply_webhook_changes(*webhook, std::get<WebhookChanges>(changes), webhook->created_at);
  context->store.write([webhook](store::WriteTx& tx) { return tx.insert_webhook(*webhook); },
                       [webhook, respond](core::Status status) {
                         if (!status) return respond(error_response(status.error()));
                         respond(json_response(201, webhook_json(*webhook)));
                       });
}

void list_webhooks(const Context& context, const HttpRequest& request, const Caller& caller, Respond respond) {
  respond_page(
      request, respond, [&](const store::PageRequest& page) { return context->store.list_webhooks(caller.tenant_id, page); },
      webhook_json);
}

void get_webhook(const Context& context, const std::string& id, const Caller& caller, Respond respond) {
  respond_found(respond, context->store.find_webhook(caller.tenant_id, id), webhook_json);
}

void update_webhook(const Context& context, const HttpRequest& request, const std::string& id, const Caller& caller,
                    Respond respond) {
  auto changes = read_changes(request, *context, false);
  if (auto* refused = std::get_if<HttpResponse>(&changes)) return respond(std::move(*refused));
  auto updated = std::make_shared<core::Webhook>();
  const core::Micros now = context->clock.now();
  context->store.write(
      [updated, id, tenant = caller.tenant_id, changes = std::get<WebhookChanges>(changes), now](store::WriteTx& tx) -> core::Status {
        auto found = tx.find_webhook(tenant, id);
        if (!found) return found.error();
        if (!*found) return core::not_found("no such webhook");
        *updated = std::move(**found);
        apply_webhook_changes(*updated, changes, now);
        return tx.update_webhook(*updated);
      },
      [updated, respond](core::Status status) {
        if (!status) return respond(error_response(status.error()));
        respond(json_response(200, webhook_json(*updated)));
      });
}

void delete_webhook(const Context& context, const std::string& id, const Caller& caller, Respond respond) {
  context->store.write(
      [id, tenant = caller.tenant_id](store::WriteTx& tx) -> core::Status {
        auto deleted = tx.delete_webhook(tenant, id);
        if (!deleted) return deleted.error();
        if (!*deleted) return core::not_found("no such webhook");
        return core::ok_status();
      },
      [respond](core::Status status) {
        if (!status) return respond(error_response(status.error()));
        respond({204, "", "application/json", {}});
      });
}

}  // namespace

void add_webhook_routes(Router& router, const std::shared_ptr<ApiContext>& context) {
  store::Store& store = context->store;
  router.add("POST", "/v1/webhooks",
             authenticated(store, [context](const HttpRequest& request, const Caller& caller, const PathParams&,
                                            Respond respond) { create_webhook(context, request, caller, std::move(respond)); }));
  router.add("GET", "/v1/webhooks",
             authenticated(store, [context](const HttpRequest& request, const Caller& caller, const PathParams&,
                                            Respond respond) { list_webhooks(context, request, caller, std::move(respond)); }));
  router.add("GET", "/v1/webhooks/{id}",
             authenticated(store, with_id([context](const HttpRequest&, const std::string& id, const Caller& caller,
                                                    Respond respond) { get_webhook(context, id, caller, std::move(respond)); })));
  router.add("PATCH", "/v1/webhooks/{id}",
             authenticated(store, with_id([context](const HttpRequest& request, const std::string& id,
                                                    const Caller& caller, Respond respond) {
               update_webhook(context, request, id, caller, std::move(respond));
             })));
  router.add("DELETE", "/v1/webhooks/{id}",
             authenticated(store, with_id([context](const HttpRequest&, const std::string& id, const Caller& caller,
                                                    Respond respond) { delete_webhook(context, id, caller, std::move(respond)); })));
}

}  // namespace repute::api
