#include "api/account_input.hpp"
#include "api/json_body.hpp"
#include "api/resource_json.hpp"
#include "api/route_helpers.hpp"
#include "api/routes.hpp"
#include "core/reputation_json.hpp"
#include "scan/apply_scan.hpp"
#include "scan/scan_result_json.hpp"

namespace repute::api {
namespace {

using Context = std::shared_ptr<ApiContext>;

constexpr const char* kPushOnly = "This account has a push source: its scans are posted to /v1/accounts/{id}/scans.";
constexpr const char* kNotPush = "This account's source is not push: it is scanned by repute, not pushed to.";

// The body of a POST or PATCH as checked changes, or the response that refuses it.
std::variant<AccountChanges, HttpResponse> read_changes(const HttpRequest& request, const ApiContext& context,
                                                        bool creating) {
  auto body = parse_json_object(request);
  if (auto* refused = std::get_if<HttpResponse>(&body)) return std::move(*refused);
  FieldErrors errors;
  AccountChanges changes =
      read_account_changes(std::get<boost::json::object>(body), creating, context.address_policy, errors);
  if (!errors.empty()) return field_errors_response(errors);
  return changes;
}

void create_account(const Context& context, const HttpRequest& request, const Caller& caller, Respond respond) {
  auto changes = read_changes(request, *context, true);
  if (auto* refused = std::get_if<HttpResponse>(&changes)) return respond(std::move(*refused));
  const core::Micros now = context->clock.now();
  auto account = std::make_shared<core::Account>();
  account->id = core::new_uuid();
  account->tenant_id = caller.tenant_id;
  account->created_at = account->updated_at = account->connection_updated_at = now;
  apply_account_changes(*account, std::get<AccountChanges>(changes), now);
  // The initial scan is due at once; a push account waits for its first pushed result.
  if (account->source.type != core::Source::Type::kPush) account->next_scan_at = now;
  const std::string user_id = account->user_id;
  context->store.write(
      [account](store::WriteTx& tx) -> core::Status {
        auto user = tx.find_user(account->tenant_id, account->user_id);
        if (!user) return user.error();
        if (!*user) return core::invalid("user");
        return tx.insert_account(*account);
      },
      [account, respond, user_id](core::Status status) {
        if (!status && status.error().code == core::ErrorCode::kInvalid) {
          return respond(
              field_errors_response({{"user", {"Invalid pk \"" + user_id + "\" - object does not exist."}}}));
        }
        if (!status) return respond(error_response(status.error()));
        respond(json_response(201, account_json(*account)));
      });
}

// Runs change on the tenant's account inside a transaction and answers with the account afterwards.
void change_account(const Context& context, const std::string& id, const Caller& caller, int success_status,
                    std::function<core::Status(core::Account&)> change, Respond respond) {
  auto result = std::make_shared<core::Account>();
  context->store.write(
      [id, tenant = caller.tenant_id, change = std::move(change), result](store::WriteTx& tx) -> core::Status {
        auto found = tx.find_account(tenant, id);
        if (!found) return found.error();
        if (!*found) return core::not_found("no such account");
        *result = std::move(**found);
        if (auto changed = change(*result); !changed) return changed;
        return tx.update_account(*result);
      },
      [result, respond, success_status](core::Status status) {
        if (!status) return respond(error_response(status.error()));
        respond(json_response(success_status, account_json(*result)));
      });
}

void update_account(const Context& context, const HttpRequest& request, const std::string& id, const Caller& caller,
                    Respond respond) {
  auto changes = read_changes(request, *context, false);
  if (auto* refused = std::get_if<HttpResponse>(&changes)) return respond(std::move(*refused));
  const core::Micros now = context->clock.now();
  change_account(
      context, id, caller, 200,
      [changes = std::get<AccountChanges>(changes), now](core::Account& account) {
        apply_account_changes(account, changes, now);
        return core::ok_status();
      },
      std::move(respond));
}

void request_scan(const Context& context, const std::string& id, const Caller& caller, Respond respond) {
  const core::Micros now = context->clock.now();
  change_account(
      context, id, caller, 202,
      [now](core::Account& account) -> core::Status {
        if (account.source.type == core::Source::Type::kPush) return core::Error{core::ErrorCode::kConflict, kPushOnly};
        account.next_scan_at = now;
        account.updated_at = now;
        return core::ok_status();
      },
      std::move(respond));
}

void push_scan(const Context& context, const HttpRequest& request, const std::string& id, const Caller& caller,
               Respond respond) {
  auto body = parse_json_object(request);
  if (auto* refused = std::get_if<HttpResponse>(&body)) return respond(std::move(*refused));
  FieldErrors errors;
  auto result = scan::read_scan_result(std::get<boost::json::object>(body), errors);
  if (!result) return respond(field_errors_response(errors));
  const core::Micros now = context->clock.now();
  struct Outcome {
    std::optional<core::Event> event;
    std::optional<core::Reputation> reputation;
  };
  auto outcome = std::make_shared<Outcome>();
  context->store.write(
      [id, tenant = caller.tenant_id, result = std::move(*result), now, outcome](store::WriteTx& tx) -> core::Status {
        auto found = tx.find_account(tenant, id);
        if (!found) return found.error();
        if (!*found) return core::not_found("no such account");
        if ((*found)->source.type != core::Source::Type::kPush)
          return core::Error{core::ErrorCode::kConflict, kNotPush};
        scan::Subscribers subscribers;
        auto applied = scan::apply_scan_to(
            tx, **found,
            [&result](const core::Account&, const auto&) {
              return scan::ScanOutcome{result, "", ""};
            },
            now, 0.0, subscribers);
        if (!applied) return applied.error();
        outcome->event = applied->event;
        auto reputation = tx.find_reputation_by_account(id);
        if (!reputation) return reputation.error();
        outcome->reputation = *reputation;
        return core::ok_status();
      },
      [outcome, respond](core::Status status) {
        if (!status) return respond(error_response(status.error()));
        boost::json::object answer{
            {"event", outcome->event ? boost::json::value(outcome->event->type) : boost::json::value(nullptr)},
            {"event_id", outcome->event ? boost::json::value(outcome->event->id) : boost::json::value(nullptr)},
            {"reputation", outcome->reputation ? boost::json::value(core::reputation_json(*outcome->reputation))
                                               : boost::json::value(nullptr)}};
        respond(json_response(200, answer));
      });
}

void delete_account(const Context& context, const std::string& id, const Caller& caller, Respond respond) {
  context->store.write(
      [id, tenant = caller.tenant_id](store::WriteTx& tx) -> core::Status {
        auto deleted = tx.delete_account(tenant, id);
        if (!deleted) return deleted.error();
        return *deleted ? core::ok_status() : core::Status(core::not_found("no such account"));
      },
      [respond](core::Status status) {
        if (!status) return respond(error_response(status.error()));
        respond({204, "", "application/json", {}});
      });
}

}  // namespace

void add_account_routes(Router& router, const std::shared_ptr<ApiContext>& context) {
  store::Store& store = context->store;
  router.add("POST", "/v1/accounts",
             authenticated(
                 store, [context](const HttpRequest& request, const Caller& caller, const PathParams&,
                                  Respond respond) { create_account(context, request, caller, std::move(respond)); }));
  router.add("GET", "/v1/accounts",
             authenticated(store, [context](const HttpRequest& request, const Caller& caller, const PathParams&,
                                            Respond respond) {
               auto user = uuid_filter(request, "user");
               if (auto* refused = std::get_if<HttpResponse>(&user)) return respond(std::move(*refused));
               respond_page(
                   request, respond,
                   [&](const store::PageRequest& page) {
                     return context->store.list_accounts(caller.tenant_id, std::get<std::optional<std::string>>(user),
                                                         page);
                   },
                   account_json);
             }));
  router.add("GET", "/v1/accounts/{id}",
             authenticated(store, with_id([context](const HttpRequest&, const std::string& id, const Caller& caller,
                                                    Respond respond) {
                             respond_found(respond, context->store.find_account(caller.tenant_id, id), account_json);
                           })));
  router.add("PATCH", "/v1/accounts/{id}",
             authenticated(store, with_id([context](const HttpRequest& request, const std::string& id,
                                                    const Caller& caller, Respond respond) {
                             update_account(context, request, id, caller, std::move(respond));
                           })));
  router.add("DELETE", "/v1/accounts/{id}",
             authenticated(store, with_id([context](const HttpRequest&, const std::string& id, const Caller& caller,
                                                    Respond respond) {
                             delete_account(context, id, caller, std::move(respond));
                           })));
  router.add("POST", "/v1/accounts/{id}/periodic-scan",
             authenticated(store, with_id([context](const HttpRequest&, const std::string& id, const Caller& caller,
                                                    Respond respond) {
                             request_scan(context, id, caller, std::move(respond));
                           })));
  router.add("POST", "/v1/accounts/{id}/scans",
             authenticated(store, with_id([context](const HttpRequest& request, const std::string& id,
                                                    const Caller& caller, Respond respond) {
                             push_scan(context, request, id, caller, std::move(respond));
                           })));
}

}  // namespace repute::api
