// Actions on one subscription (ext): rotating its secret with a grace period, and sending it a test event.
#include <boost/json/object.hpp>

#include "api/json_body.hpp"
#include "api/resource_json.hpp"
#include "api/route_helpers.hpp"
#include "api/routes.hpp"
#include "api/webhook_input.hpp"
#include "core/events.hpp"
#include "core/ids.hpp"
#include "scan/outbox.hpp"

namespace repute::api {
namespace {

namespace json = boost::json;

constexpr std::int64_t kDefaultGraceSeconds = 24 * 3600;
constexpr std::int64_t kMaxGraceSeconds = 7 * 24 * 3600;

// What a rotation asks for: the new secret (made here when absent) and how long the old one keeps signing.
struct Rotation {
  std::optional<std::string> secret;
  std::int64_t grace_seconds = kDefaultGraceSeconds;
};

std::variant<Rotation, HttpResponse> read_rotation(const HttpRequest& request) {
  Rotation rotation;
  if (request.body.empty()) return rotation;
  auto body = parse_json_object(request);
  if (auto* refused = std::get_if<HttpResponse>(&body)) return std::move(*refused);
  FieldErrors errors;
  for (const auto& [key, value] : std::get<json::object>(body)) {
    if (key == "secret") {
      if (!value.is_string() || value.as_string().empty()) {
        errors["secret"].push_back("Not a valid string.");
      } else if (value.as_string().size() > kMaxSecretLength) {
        errors["secret"].push_back("Ensure this field has no more than " + std::to_string(kMaxSecretLength) +
                                   " characters.");
      } else {
        rotation.secret = std::string(value.as_string());
      }
    } else if (key == "grace_period") {
      if (!value.is_int64() || value.as_int64() < 0 || value.as_int64() > kMaxGraceSeconds) {
        errors["grace_period"].push_back("Ensure this value is a whole number of seconds from 0 to " +
                                         std::to_string(kMaxGraceSeconds) + ".");
      } else {
        rotation.grace_seconds = value.as_int64();
      }
    } else {
      errors[std::string(key)].push_back("Unknown field.");
    }
  }
  if (!errors.empty()) return field_errors_response(errors);
  return rotation;
}

void rotate_secret(const ApiContext& context, const HttpRequest& request, const std::string& id, const Caller& caller,
                   Respond respond) {
  auto asked = read_rotation(request);
  if (auto* refused = std::get_if<HttpResponse>(&asked)) return respond(std::move(*refused));
  Rotation rotation = std::get<Rotation>(std::move(asked));
  const std::string secret = rotation.secret.value_or(core::new_webhook_secret());
  const core::Micros now = context.clock.now();
  auto rotated = std::make_shared<core::Webhook>();
  context.store.write(
      [rotated, id, tenant = caller.tenant_id, secret, grace = rotation.grace_seconds,
       now](store::WriteTx& tx) -> core::Status {
        auto found = tx.find_webhook(tenant, id);
        if (!found) return found.error();
        if (!*found) return core::not_found("no such webhook");
        *rotated = std::move(**found);
        // A subscription without a secret has nothing to keep signing with: the new secret starts alone.
        rotated->previous_secret = rotated->secret;
        rotated->previous_secret_expires_at = rotated->secret && grace > 0
                                                  ? std::optional<core::Micros>(now + grace * core::kMicrosPerSecond)
                                                  : std::nullopt;
        if (!rotated->previous_secret_expires_at) rotated->previous_secret.reset();
        rotated->secret = secret;
        rotated->updated_at = now;
        return tx.update_webhook(*rotated);
      },
      [rotated, respond](core::Status status) {
        if (!status) return respond(error_response(status.error()));
        respond(json_response(200, webhook_json(*rotated)));
      });
}

// The event a test sends: the subscription's first event type, about an example account of no one.
core::Delivery test_delivery(const core::Webhook& webhook, core::Micros now) {
  core::Event event;
  event.id = core::new_uuid();
  event.tenant_id = webhook.tenant_id;
  event.type = std::string(core::kReputationsAdded);
  for (const std::string& name : webhook.events) {
    if (name != "*") {
      event.type = name;
      break;
    }
  }
  event.account_id = core::new_uuid();
  event.user_id = core::new_uuid();
  event.reputation_id = core::new_uuid();
  event.created_at = now;
  core::Reputation example;
  example.id = event.reputation_id;
  example.tenant_id = webhook.tenant_id;
  example.account_id = event.account_id;
  example.user_id = event.user_id;
  example.employer = "example";
  example.content.rating = "4.9";
  example.content.acceptance_rate = "0.95";
  example.content.ontime_rate = "0.98";
  example.created_at = now;
  example.updated_at = now;

  core::Delivery delivery;
  delivery.id = core::new_uuid();
  delivery.tenant_id = webhook.tenant_id;
  delivery.event_id = event.id;
  delivery.webhook_id = webhook.id;
  delivery.event_type = event.type;
  delivery.body = scan::webhook_body(webhook, event, example);
  delivery.next_attempt_at = now;
  delivery.created_at = now;
  delivery.updated_at = now;
  return delivery;
}

void send_test(const ApiContext& context, const std::string& id, const Caller& caller, Respond respond) {
  const core::Micros now = context.clock.now();
  auto made = std::make_shared<core::Delivery>();
  context.store.write(
      [made, id, tenant = caller.tenant_id, now](store::WriteTx& tx) -> core::Status {
        auto found = tx.find_webhook(tenant, id);
        if (!found) return found.error();
        if (!*found) return core::not_found("no such webhook");
        if (!(*found)->enabled) {
          return core::Error{core::ErrorCode::kConflict, "The subscription is disabled; enable it to send a test."};
        }
        *made = test_delivery(**found, now);
        return tx.insert_delivery(*made);
      },
      [made, respond](core::Status status) {
        if (!status) return respond(error_response(status.error()));
        respond(json_response(202, delivery_json(*made)));
      });
}

}  // namespace

void add_webhook_action_routes(Router& router, const std::shared_ptr<ApiContext>& context) {
  store::Store& store = context->store;
  router.add("POST", "/v1/webhooks/{id}/rotate-secret",
             authenticated(store, with_id([context](const HttpRequest& request, const std::string& id,
                                                    const Caller& caller, Respond respond) {
                             rotate_secret(*context, request, id, caller, std::move(respond));
                           })));
  router.add("POST", "/v1/webhooks/{id}/test",
             authenticated(
                 store, with_id([context](const HttpRequest&, const std::string& id, const Caller& caller,
                                          Respond respond) { send_test(*context, id, caller, std::move(respond)); })));
}

}  // namespace repute::api
