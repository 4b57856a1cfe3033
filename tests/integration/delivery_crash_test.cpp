// At-least-once under crashes: the server is killed with SIGKILL again and again while events fan out to many
// subscriptions, and restarted each time. Afterwards every (event, subscription) pair must have reached the
// receiver, every duplicate must carry the same webhook-id and bytes, and no delivery may ever have been in flight
// twice at once. The lease is short here (3 s) so that cut-off deliveries go out again quickly.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "integration/harness/http_client.hpp"
#include "integration/harness/receiver.hpp"
#include "integration/harness/repute_process.hpp"

namespace repute::itest {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

constexpr int kSubscriptions = 8;
constexpr int kKills = 6;
constexpr int kMinEventsPerRound = 40;

std::string text(const json::value& value) { return std::string(value.as_string()); }

// Every event of the tenant, following the list's pages.
std::vector<json::value> all_events(HttpClient& client, const Credentials& auth) {
  std::vector<json::value> events;
  std::string path = "/v1/events?limit=200";
  for (;;) {
    const json::value page = client.request("GET", path, "", auth).json();
    for (const json::value& event : page.at("results").as_array()) events.push_back(event);
    if (page.at("next").is_null()) return events;
    const std::string next = text(page.at("next"));
    path = next.substr(next.find("/v1/"));
  }
}

TEST(DeliveryCrash, EveryPairArrivesAfterRepeatedKills) {
  Receiver receiver;
  std::mt19937 random(20261127);
  for (int i = 0; i < kSubscriptions; ++i) {
    // A few milliseconds per answer, so that a request is really "in flight" for a while.
    receiver.on("/crash/" + std::to_string(i), [i](const Delivered&) {
      Answer answer;
      answer.delay = std::chrono::milliseconds(1 + i % 4);
      return answer;
    });
  }
  ReputeProcess server(dev_options({"--delivery-lease", "3", "--attempt-timeout", "1", "--retry-time-scale", "0.001",
                                    "--max-in-flight-per-webhook", "16"}));
  HttpClient client(server.port());
  const Credentials auth = basic(server.dev_key());
  for (int i = 0; i < kSubscriptions; ++i) {
    const json::object body{{"events", json::array{"*"}},
                            {"name", "crash-" + std::to_string(i)},
                            {"url", receiver.url("/crash/" + std::to_string(i))}};
    ASSERT_EQ(client.request("POST", "/v1/webhooks", json::serialize(body), auth).status, 201);
  }
  const std::string user = text(client.request("POST", "/v1/users", "{}", auth).json().at("id"));
  const std::string account_body = json::serialize(json::object{{"user", user}, {"employer", "uber"}});

  // Each round makes events for a while, then kills the server mid-flight and starts it again.
  int created = 0;
  for (int round = 0; round < kKills; ++round) {
    // A random moment, but not before this round made a few dozen events (however slow the machine).
    const auto round_start = Steady::now();
    const auto until = round_start + std::chrono::milliseconds(std::uniform_int_distribution<>(200, 600)(random));
    int made = 0;
    while ((Steady::now() < until || made < kMinEventsPerRound) && Steady::now() - round_start < 20s) {
      const auto response = client.try_request("POST", "/v1/accounts", account_body, auth);
      made += response && response->status == 201;
    }
    created += made;
    server.kill9();
    server.restart();
  }
  const auto restarted = Steady::now();

  // Everything is delivered soon after the last start: within a lease and a little more.
  std::vector<json::value> events;
  bool drained = false;
  while (!drained && Steady::now() - restarted < 20s) {
    std::this_thread::sleep_for(200ms);
    events = all_events(client, auth);
    drained = true;
    for (const json::value& event : events) {
      const json::value& counts = event.at("deliveries");
      drained =
          drained && counts.at("pending") == 0 && counts.at("failed") == 0 && counts.at("delivered") == kSubscriptions;
    }
  }
  ASSERT_TRUE(drained) << "deliveries still pending 20 s after the last restart";
  const double drain_seconds = std::chrono::duration<double>(Steady::now() - restarted).count();
  // (An account whose initial scan was cut off by a kill gets its event once the scan's own lease runs out; those
  // events are not awaited here.)
  EXPECT_GT(events.size(), 100u);

  // What reached the receiver, by (path, reputation): the pair's webhook-ids and bodies.
  std::map<std::pair<std::string, std::string>, std::set<std::string>> ids;
  std::map<std::pair<std::string, std::string>, std::set<std::string>> bodies;
  std::size_t requests = 0;
  const std::vector<Delivered> received = receiver.received();
  std::set<std::string> known;  // reputations of every event the API knows, read after the receiver's record
  for (const json::value& event : all_events(client, auth)) known.insert(text(event.at("data").at("reputation")));
  for (const Delivered& request : received) {
    const json::value body = json::parse(request.body);
    const std::pair key{request.path, text(body.at("data").at("reputation"))};
    EXPECT_TRUE(known.count(key.second)) << "a delivery of an event the API does not know: " << request.body;
    ids[key].insert(request.webhook_id());
    bodies[key].insert(request.body);
    ++requests;
  }
  std::size_t pairs = 0;
  for (const json::value& event : events) {
    for (int i = 0; i < kSubscriptions; ++i) {
      const std::pair key{"/crash/" + std::to_string(i), text(event.at("data").at("reputation"))};
      ASSERT_TRUE(ids.count(key)) << "never received: " << key.first << " " << key.second;
      EXPECT_EQ(ids[key].size(), 1u) << "duplicates under different webhook-ids: " << key.first << " " << key.second;
      EXPECT_EQ(bodies[key].size(), 1u) << "duplicates with different bytes: " << key.first << " " << key.second;
      ++pairs;
    }
  }
  EXPECT_EQ(receiver.overlaps(), 0) << "a delivery was in flight twice at once";
  std::printf(
      "[ crash    ] %d kills, %d accounts, %zu events, %zu pairs, %zu requests (%zu duplicates); drained "
      "%.1f s after the last start\n",
      kKills, created, events.size(), pairs, requests, requests - pairs, drain_seconds);
}

}  // namespace
}  // namespace repute::itest
