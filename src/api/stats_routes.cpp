// Delivery statistics (ext), read by the console: one subscription's health, and the tenant's last hour minute by
// minute with its queue and its worst endpoints.
#include <boost/json/object.hpp>
#include <charconv>

#include "api/route_helpers.hpp"
#include "api/routes.hpp"

namespace repute::api {
namespace {

namespace json = boost::json;

constexpr int kDefaultMinutes = 60;
constexpr int kMaxMinutes = 24 * 60;

json::value optional_time(const std::optional<core::Micros>& time) {
  return time ? json::value(core::format_time(*time)) : json::value(nullptr);
}

// Counts, and the share delivered of those that came to an end (null while none has).
json::object tally_json(const store::DeliveryTally& tally) {
  const std::int64_t settled = tally.delivered + tally.failed;
  return {{"total", tally.total},
          {"delivered", tally.delivered},
          {"failed", tally.failed},
          {"waiting", tally.waiting},
          {"success_rate", settled ? json::value(static_cast<double>(tally.delivered) / static_cast<double>(settled))
                                   : json::value(nullptr)}};
}

void webhook_stats(const ApiContext& context, const std::string& id, const Caller& caller, Respond respond) {
  auto webhook = context.store.find_webhook(caller.tenant_id, id);
  if (!webhook) return respond(error_response(webhook.error()));
  if (!*webhook) return respond(detail_response(404, "Not found."));
  auto stats = context.store.webhook_stats(caller.tenant_id, id, context.clock.now());
  if (!stats) return respond(error_response(stats.error()));
  respond(json_response(200, json::object{{"webhook", id},
                                          {"last_hour", tally_json(stats->last_hour)},
                                          {"last_day", tally_json(stats->last_day)},
                                          {"pending", stats->pending},
                                          {"oldest_pending_at", optional_time(stats->oldest_pending_at)},
                                          {"last_success_at", optional_time((*webhook)->last_sent_at)}}));
}

json::array ranks_json(const std::vector<store::WebhookRank>& ranks) {
  json::array list;
  for (const store::WebhookRank& rank : ranks) {
    list.push_back(json::object{{"webhook", rank.webhook_id},
                                {"attempts", rank.attempts},
                                {"failed", rank.failed},
                                {"mean_duration_ms", rank.mean_duration_ms}});
  }
  return list;
}

void overview(const ApiContext& context, const HttpRequest& request, const Caller& caller, Respond respond) {
  int minutes = kDefaultMinutes;
  if (const std::string* text = request.query_param("minutes")) {
    const char* end = text->data() + text->size();
    auto [parsed_to, ec] = std::from_chars(text->data(), end, minutes);
    if (ec != std::errc() || parsed_to != end || minutes < 1 || minutes > kMaxMinutes) {
      return respond(field_errors_response(
          {{"minutes", {"Ensure this value is a whole number from 1 to " + std::to_string(kMaxMinutes) + "."}}}));
    }
  }
  const core::Micros now = context.clock.now();
  const core::Micros minute = 60 * core::kMicrosPerSecond;
  // Whole minutes, so that the first bucket is as full as the others.
  const core::Micros since = (now / minute - (minutes - 1)) * minute;
  auto found = context.store.delivery_overview(caller.tenant_id, since);
  if (!found) return respond(error_response(found.error()));
  json::array series;
  for (const store::MinuteTally& tally : found->minutes) {
    json::object point = tally_json(tally.tally);
    point["minute"] = core::format_time(tally.minute);
    series.push_back(std::move(point));
  }
  respond(json_response(200, json::object{{"since", core::format_time(since)},
                                          {"now", core::format_time(now)},
                                          {"minutes", std::move(series)},
                                          {"pending", found->pending},
                                          {"oldest_pending_at", optional_time(found->oldest_pending_at)},
                                          {"most_failing", ranks_json(found->most_failing)},
                                          {"slowest", ranks_json(found->slowest)}}));
}

}  // namespace

void add_stats_routes(Router& router, const std::shared_ptr<ApiContext>& context) {
  store::Store& store = context->store;
  router.add("GET", "/v1/webhooks/{id}/stats",
             authenticated(store, with_id([context](const HttpRequest&, const std::string& id, const Caller& caller,
                                                    Respond respond) {
                             webhook_stats(*context, id, caller, std::move(respond));
                           })));
  router.add(
      "GET", "/v1/overview",
      authenticated(store, [context](const HttpRequest& request, const Caller& caller, const PathParams&,
                                     Respond respond) { overview(*context, request, caller, std::move(respond)); }));
}

}  // namespace repute::api
