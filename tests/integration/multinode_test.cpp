// Several nodes on one PostgreSQL database (DESIGN §5). Three nodes share the work while thousands of events are
// made through all three APIs; one is killed with SIGKILL mid-flight and another restarted. Every (event,
// subscription) pair must reach the receiver, no delivery may be in flight from two nodes at once, the killed
// node's leased work must be taken over within a lease and a few seconds, and periodic scans must keep their
// schedule throughout. A rolling restart (SIGTERM one node, start it again, then the next) must lose nothing that
// was acknowledged. Run in the suite's PostgreSQL run only (tests/CMakeLists.txt).
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
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

constexpr int kSubscriptions = 6;
constexpr int kLeaseSeconds = 3;

std::string text(const json::value& value) { return std::string(value.as_string()); }

// Every item of a list, following its pages.
std::vector<json::value> all_pages(HttpClient& client, const Credentials& auth, std::string path) {
  std::vector<json::value> items;
  for (;;) {
    const json::value page = client.request("GET", path, "", auth).json();
    for (const json::value& item : page.at("results").as_array()) items.push_back(item);
    if (page.at("next").is_null()) return items;
    const std::string next = text(page.at("next"));
    path = next.substr(next.find("/v1/"));
  }
}

// The options of one node of the deployment: its own id, a short lease so that takeovers come quickly.
ProcessOptions node_options(const std::string& node_id, const std::string& database_url) {
  ProcessOptions options = dev_options({"--node-id", node_id, "--delivery-lease", std::to_string(kLeaseSeconds),
                                        "--attempt-timeout", "1", "--retry-time-scale", "0.001",
                                        "--max-in-flight-per-webhook", "16", "--pool-size", "4"});
  options.database_url = database_url;
  return options;
}

class MultiNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < kSubscriptions; ++i) {
      receiver_.on("/node/" + std::to_string(i), [i](const Delivered&) {
        Answer answer;
        // In flight for a moment; one subscription answers slowly, so that every node always has work in hand.
        answer.delay = std::chrono::milliseconds(i == 0 ? 20 : i % 3);
        return answer;
      });
    }
    // The first node makes the database; the others join it.
    nodes_.push_back(std::make_unique<ReputeProcess>(node_options("a", "")));
    database_ = nodes_[0]->database_url();
    auth_ = basic(nodes_[0]->dev_key());
  }

  void add_node(const std::string& id) { nodes_.push_back(std::make_unique<ReputeProcess>(node_options(id, database_))); }

  void subscribe() {
    HttpClient client(nodes_[0]->port());
    for (int i = 0; i < kSubscriptions; ++i) {
      const json::object body{{"events", json::array{"*"}},
                              {"name", "node-" + std::to_string(i)},
                              {"url", receiver_.url("/node/" + std::to_string(i))}};
      ASSERT_EQ(client.request("POST", "/v1/webhooks", json::serialize(body), auth_).status, 201);
    }
    user_ = text(client.request("POST", "/v1/users", "{}", auth_).json().at("id"));
  }

  // Makes an account through the node; its id, or "" when the node gave no 201.
  std::string make_account(ReputeProcess& node, const json::object& extra = {}) {
    json::object body{{"user", user_}, {"employer", "uber"}};
    for (const auto& field : extra) body[field.key()] = field.value();
    HttpClient client(node.port(), 5s);
    const auto response = client.try_request("POST", "/v1/accounts", json::serialize(body), auth_);
    if (!response || response->status != 201) return "";
    return text(response->json().at("id"));
  }

  // Waits until every event has been delivered to every subscription, and each of the accounts has an event (its
  // initial scan may wait out the lease of a node that stopped); the events.
  std::vector<json::value> drained_events(ReputeProcess& node, std::chrono::seconds limit,
                                          const std::vector<std::string>& accounts = {}) {
    HttpClient client(node.port());
    std::vector<json::value> events;
    const auto until = Steady::now() + limit;
    for (;;) {
      events = all_pages(client, auth_, "/v1/events?limit=200");
      bool drained = true;
      std::set<std::string> scanned;
      for (const json::value& event : events) {
        const json::value& counts = event.at("deliveries");
        drained = drained && counts.at("pending") == 0 && counts.at("delivered") == kSubscriptions;
        scanned.insert(text(event.at("data").at("account")));
      }
      for (const std::string& account : accounts) drained = drained && scanned.count(account);
      if (drained || Steady::now() > until) break;
      std::this_thread::sleep_for(250ms);
    }
    return events;
  }

  // Every (subscription path, reputation) pair of the events reached the receiver, under one webhook-id each.
  void expect_every_pair_received(const std::vector<json::value>& events) {
    std::map<std::pair<std::string, std::string>, std::set<std::string>> ids;
    for (const Delivered& request : receiver_.received()) {
      const json::value body = json::parse(request.body);
      ids[{request.path, text(body.at("data").at("reputation"))}].insert(request.webhook_id());
    }
    int missing = 0;
    for (const json::value& event : events) {
      for (int i = 0; i < kSubscriptions; ++i) {
        const auto found = ids.find({"/node/" + std::to_string(i), text(event.at("data").at("reputation"))});
        if (found == ids.end()) {
          ++missing;
          continue;
        }
        EXPECT_EQ(found->second.size(), 1u) << "one pair under several webhook-ids";
      }
    }
    EXPECT_EQ(missing, 0) << "pairs never received, of " << events.size() * kSubscriptions;
    EXPECT_EQ(receiver_.overlaps(), 0) << "a delivery was in flight twice at once";
  }

  // Rows still leased by a node: pending deliveries and accounts whose scan it claimed.
  int leased_by(const std::string& node_id) {
    const std::string count = query_database(
        database_, "SELECT (SELECT COUNT(*) FROM deliveries WHERE state = 'pending' AND leased_by = '" +
                       node_id + "') + (SELECT COUNT(*) FROM accounts WHERE leased_by = '" + node_id +
                       "')");
    return count.empty() ? -1 : std::stoi(count);
  }

  // The age in seconds of the newest scan of the account, read through the API.
  double seconds_since_scan(HttpClient& client, const std::string& account) {
    const json::value found = client.request("GET", "/v1/accounts/" + account, "", auth_).json();
    const json::value& scanned = found.at("scanned_at");
    if (!scanned.is_string()) return 1e9;
    const std::string at = text(scanned);
    const std::string now = query_database(
        database_, "SELECT EXTRACT(EPOCH FROM (now() - '" + at + "'::timestamptz))");
    return now.empty() ? 1e9 : std::stod(now);
  }

  Receiver receiver_;
  std::vector<std::unique_ptr<ReputeProcess>> nodes_;
  std::string database_;
  Credentials auth_;
  std::string user_;
};

TEST_F(MultiNodeTest, ThreeNodesSurviveAKillAndARestart) {
  add_node("b");
  add_node("c");
  subscribe();
  ReputeProcess& a = *nodes_[0];
  ReputeProcess& b = *nodes_[1];
  ReputeProcess& c = *nodes_[2];

  // Accounts scanned every second that never change: their scans must go on whichever node dies.
  std::vector<std::string> periodic;
  for (int i = 0; i < 9; ++i) {
    periodic.push_back(make_account(
        *nodes_[i % 3],
        {{"refresh_frequency", 1}, {"source", {{"type", "sandbox"}, {"change_probability", 0}}}}));
    ASSERT_FALSE(periodic.back().empty());
  }

  // Phase 1: all three nodes take requests; half way through, b dies (SIGKILL) as soon as it has work in hand.
  int made = 0;
  int leased_at_kill = 0;
  std::optional<Steady::time_point> killed;
  for (int i = 0; i < 600 || !killed; ++i) {
    if (!killed && i >= 300 && i % 10 == 0 && (leased_at_kill = leased_by("b")) > 0) {
      b.kill9();
      killed = Steady::now();
    }
    if (i < 600) made += !make_account(killed ? (i % 2 ? c : a) : *nodes_[i % 3]).empty();
    ASSERT_LT(i, 5000) << "the node to kill never had work in hand";
  }

  // Watched from the side: the first moment no row is leased by b any more.
  std::atomic<double> takeover_seconds{-1};
  std::thread watcher([&] {
    while (Steady::now() - *killed < 30s) {
      if (leased_by("b") == 0) {
        takeover_seconds = std::chrono::duration<double>(Steady::now() - *killed).count();
        return;
      }
      std::this_thread::sleep_for(100ms);
    }
  });

  // Phase 2: a and c go on; c is restarted on the way (SIGTERM, then a new start).
  for (int i = 0; i < 900; ++i) {
    if (i == 450) c.restart();
    made += !make_account(i % 2 ? c : a).empty();
  }
  watcher.join();
  ASSERT_GE(takeover_seconds, 0) << "work leased by the killed node was never taken over";
  EXPECT_LE(takeover_seconds, kLeaseSeconds + 5.0) << "the killed node's leases were taken over late";
  EXPECT_EQ(made, 1500) << "every account request to a live node was answered 201";

  // Periodic scans kept their schedule through the kill and the restart.
  HttpClient client(a.port());
  for (const std::string& account : periodic) {
    EXPECT_LT(seconds_since_scan(client, account), 1 + kLeaseSeconds + 3.0) << "periodic scans stopped: " << account;
  }

  const std::vector<json::value> events = drained_events(a, 60s);
  EXPECT_GE(events.size(), 1500u);
  expect_every_pair_received(events);
  for (const std::string& account : periodic) {
    EXPECT_LT(seconds_since_scan(client, account), 1 + kLeaseSeconds + 3.0) << "periodic scans stopped: " << account;
  }
  std::printf("[ nodes    ] 3 nodes, %d accounts, %zu events, %zu requests at the receiver; %d rows leased by the "
              "killed node, taken over %.1f s after the kill (lease %d s)\n",
              made, events.size(), receiver_.received().size(), leased_at_kill, takeover_seconds.load(), kLeaseSeconds);
}

TEST_F(MultiNodeTest, ARollingRestartLosesNothingAcknowledged) {
  add_node("b");
  subscribe();
  ReputeProcess& a = *nodes_[0];
  ReputeProcess& b = *nodes_[1];

  // A client sends to both nodes in turn; when one does not answer it tries the other.
  std::atomic<bool> done{false};
  std::vector<std::string> acknowledged;
  std::atomic<int> refused_by_both{0};
  std::thread client([&] {
    for (int i = 0; !done && i < 5000; ++i) {
      std::string id = make_account(i % 2 ? b : a);
      if (id.empty()) id = make_account(i % 2 ? a : b);
      if (id.empty()) {
        ++refused_by_both;
      } else {
        acknowledged.push_back(id);
      }
    }
  });
  std::this_thread::sleep_for(1s);
  a.restart();  // SIGTERM: drains, then a new start on the same database and port
  std::this_thread::sleep_for(1s);
  b.restart();
  std::this_thread::sleep_for(1s);
  done = true;
  client.join();

  EXPECT_EQ(refused_by_both, 0) << "one node was always up";
  ASSERT_GT(acknowledged.size(), 100u);
  const std::vector<json::value> events = drained_events(b, 60s, acknowledged);
  std::set<std::string> accounts_with_events;
  for (const json::value& event : events) accounts_with_events.insert(text(event.at("data").at("account")));
  for (const std::string& id : acknowledged) {
    EXPECT_TRUE(accounts_with_events.count(id)) << "an acknowledged account has no event: " << id;
  }
  expect_every_pair_received(events);
  std::printf("[ rolling  ] %zu accounts acknowledged across two restarts, %zu events, all delivered\n",
              acknowledged.size(), events.size());
}

}  // namespace
}  // namespace repute::itest
