#include <boost/json/serialize.hpp>

#include "api/json_body.hpp"
#include "api/resource_json.hpp"
#include "api/route_helpers.hpp"
#include "api/routes.hpp"
#include "core/utf8.hpp"

namespace repute::api {
namespace {

constexpr std::size_t kMaxExternalId = 255;

void create_user(const std::shared_ptr<ApiContext>& context, const HttpRequest& request, const Caller& caller,
                 Respond respond) {
  auto body = parse_json_object(request);
  if (auto* refused = std::get_if<HttpResponse>(&body)) return respond(std::move(*refused));
  auto user = std::make_shared<core::User>();
  FieldErrors errors;
  for (const auto& [key, value] : std::get<boost::json::object>(body)) {
    if (key == "external_id") {
      if (value.is_null()) continue;
      if (!value.is_string()) errors["external_id"].push_back("Not a valid string.");
      else if (core::utf8_length(value.as_string()) > kMaxExternalId) {
        errors["external_id"].push_back("Ensure this field has no more than 255 characters.");
      } else {
        user->external_id = std::string(value.as_string());
      }
    } else if (key == "metadata") {
      if (value.is_object()) user->metadata = boost::json::serialize(value);
      else if (!value.is_null()) errors["metadata"].push_back("Expected a dictionary of items.");
    } else {
      errors[std::string(key)].push_back("Unknown field.");
    }
  }
  if (!errors.empty()) return respond(field_errors_response(errors));
  user->id = core::new_uuid();
  user->tenant_id = caller.tenant_id;
  user->created_at = context->clock.now();
  context->store.write([user](store::WriteTx& tx) { return tx.insert_user(*user); },
                       [user, respond](core::Status status) {
                         if (!status) return respond(error_response(status.error()));
                         respond(json_response(201, user_json(*user)));
                       });
}

void delete_user(const std::shared_ptr<ApiContext>& context, const std::string& id, const Caller& caller,
                 Respond respond) {
  context->store.write(
      [id, tenant = caller.tenant_id](store::WriteTx& tx) -> core::Status {
        auto deleted = tx.delete_user(tenant, id);
        if (!deleted) return deleted.error();
        return *deleted ? core::ok_status() : core::Status(core::not_found("no such user"));
      },
      [respond](core::Status status) {
        if (!status) return respond(error_response(status.error()));
        respond({204, "", "application/json", {}});
      });
}

}  // namespace

void add_user_routes(Router& router, const std::shared_ptr<ApiContext>& context) {
  store::Store& store = context->store;
  router.add("POST", "/v1/users",
             authenticated(store, [context](const HttpRequest& request, const Caller& caller, const PathParams&,
                                            Respond respond) { create_user(context, request, caller, std::move(respond)); }));
  router.add("GET", "/v1/users",
             authenticated(store, [context](const HttpRequest& request, const Caller& caller, const PathParams&,
                                            Respond respond) {
               respond_page(
                   request, respond,
                   [&](const store::PageRequest& page) { return context->store.list_users(caller.tenant_id, page); },
                   user_json);
             }));
  router.add("GET", "/v1/users/{id}",
             authenticated(store, with_id([context](const HttpRequest&, const std::string& id, const Caller& caller,
                                                    Respond respond) {
               respond_found(respond, context->store.find_user(caller.tenant_id, id), user_json);
             })));
  router.add("DELETE", "/v1/users/{id}",
             authenticated(store, with_id([context](const HttpRequest&, const std::string& id, const Caller& caller,
                                                    Respond respond) { delete_user(context, id, caller, std::move(respond)); })));
}

}  // namespace repute::api
