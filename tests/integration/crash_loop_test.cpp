// The crash loop: while writers hammer the API with mixed writes (webhooks, users, user deletes, accounts, pushed
// scans), sandbox accounts rescan every second with a change each time, and every event is delivered to a loopback
// receiver, the server is killed with SIGKILL at random moments and started again, round after round. Afterwards:
// every write the API acknowledged with a 2xx is there (and every acknowledged delete is gone), every event's
// deliveries are all delivered (none pending, none failed, each one seen by the receiver), and the database passes
// `PRAGMA integrity_check`.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "integration/harness/http_client.hpp"
#include "integration/harness/receiver.hpp"
#include "integration/harness/repute_process.hpp"
#include "support/test_database.hpp"

namespace repute::itest {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

constexpr int kRounds = 10;
constexpr int kWriters = 3;
constexpr int kMaxWebhooks = 6;       // each event fans out to every one of them
constexpr int kMaxFastAccounts = 24;  // accounts that rescan every second, with a change each time
constexpr auto kDrainTimeout = 40s;

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

// What the API acknowledged (a 2xx was read), as paths that must answer 200 or 404 at the end.
struct Acknowledged {
  std::mutex mutex;
  std::set<std::string> present;  // GET path → 200
  std::set<std::string> absent;   // GET path → 404 (an acknowledged delete)
  std::vector<std::string> fast_accounts;
  int webhooks = 0;
  int writes = 0;      // every acknowledged write
  int refused = 0;     // answers that were not 2xx (a 503 while the store recovers is fine; a 5xx else is not)
  int unanswered = 0;  // transport failures: the server was down or died mid-request

  void add_present(const std::string& path) {
    std::lock_guard lock(mutex);
    present.insert(path);
    ++writes;
  }
};

// One writer: a loop of random writes until stop, on its own connection.
class Writer {
 public:
  Writer(std::uint16_t port, Credentials auth, const Receiver& receiver, Acknowledged& acknowledged, unsigned seed)
      : client_(port, 3s), auth_(std::move(auth)), receiver_(receiver), acknowledged_(acknowledged), random_(seed) {}

  void run(const std::atomic<bool>& stop) {
    while (!stop) {
      if (!step()) std::this_thread::sleep_for(5ms);  // the server is down: do not spin
    }
  }
  // Every answer that was not a 2xx, as "status method path: body"; read once run() has returned.
  const std::vector<std::string>& refusals() const { return refusals_; }

 private:
  // One write; false when it got no answer.
  bool step() {
    const int choice = std::uniform_int_distribution<>(0, 99)(random_);
    if (user_.empty() || choice < 20) return create_user(user_.empty());
    if (choice < 30) return delete_user();
    if (choice < 55) return create_account();
    if (choice < 85) return push_scan();
    return create_webhook();
  }

  std::optional<Response> send(const std::string& method, const std::string& path, const std::string& body) {
    auto response = client_.try_request(method, path, body, auth_);
    std::lock_guard lock(acknowledged_.mutex);
    if (!response) {
      ++acknowledged_.unanswered;
    } else if (response->status / 100 != 2) {
      ++acknowledged_.refused;
      refusals_.push_back(std::to_string(response->status) + " " + method + " " + path + ": " + response->body);
    }
    return response;
  }

  bool create_user(bool keep) {
    auto response = send("POST", "/v1/users", R"({"external_id": "crash"})");
    if (!response) return false;
    if (response->status != 201) return true;
    const std::string id = text(response->json().at("id"));
    acknowledged_.add_present("/v1/users/" + id);
    if (keep)
      user_ = id;
    else
      lonely_users_.push_back(id);
    return true;
  }

  bool delete_user() {
    if (lonely_users_.empty()) return create_user(false);
    const std::string id = lonely_users_.back();
    lonely_users_.pop_back();
    auto response = send("DELETE", "/v1/users/" + id, "");
    std::lock_guard lock(acknowledged_.mutex);
    // Unacknowledged, the delete may or may not have happened: nothing is asserted about this user.
    acknowledged_.present.erase("/v1/users/" + id);
    if (!response) return false;
    if (response->status == 204) {
      acknowledged_.absent.insert("/v1/users/" + id);
      ++acknowledged_.writes;
    }
    return true;
  }

  bool create_account() {
    bool fast = false;
    {
      std::lock_guard lock(acknowledged_.mutex);
      fast = static_cast<int>(acknowledged_.fast_accounts.size()) < kMaxFastAccounts;
    }
    json::object body{{"user", user_}, {"employer", "uber"}};
    if (fast) {
      body["refresh_frequency"] = 1;
      body["source"] = json::object{{"type", "sandbox"}, {"change_probability", 1}};
    } else if (push_account_.empty()) {
      body["source"] = json::object{{"type", "push"}};
    }
    auto response = send("POST", "/v1/accounts", json::serialize(body));
    if (!response) return false;
    if (response->status != 201) return true;
    const std::string id = text(response->json().at("id"));
    acknowledged_.add_present("/v1/accounts/" + id);
    if (fast) {
      std::lock_guard lock(acknowledged_.mutex);
      acknowledged_.fast_accounts.push_back(id);
    } else if (push_account_.empty()) {
      push_account_ = id;
    }
    return true;
  }

  bool push_scan() {
    if (push_account_.empty()) return create_account();
    const json::object body{{"rating", std::uniform_int_distribution<>(0, 500)(random_) / 100.0},
                            {"acceptance_rate", std::uniform_int_distribution<>(0, 100)(random_) / 100.0}};
    auto response = send("POST", "/v1/accounts/" + push_account_ + "/scans", json::serialize(body));
    if (!response) return false;
    if (response->status != 200) return true;
    const json::value event = response->json().at("event_id");
    if (event.is_string()) acknowledged_.add_present("/v1/events/" + text(event));
    return true;
  }

  bool create_webhook() {
    bool enough = false;
    {
      std::lock_guard lock(acknowledged_.mutex);
      enough = acknowledged_.webhooks >= kMaxWebhooks;
    }
    if (enough) return create_user(false);
    const json::object body{{"events", json::array{"*"}},
                            {"name", "crash"},
                            {"url", receiver_.url("/crash")},
                            {"secret", "crash-loop-secret"}};
    auto response = send("POST", "/v1/webhooks", json::serialize(body));
    if (!response) return false;
    if (response->status != 201) return true;
    acknowledged_.add_present("/v1/webhooks/" + text(response->json().at("id")));
    std::lock_guard lock(acknowledged_.mutex);
    ++acknowledged_.webhooks;
    return true;
  }

  HttpClient client_;
  Credentials auth_;
  const Receiver& receiver_;
  Acknowledged& acknowledged_;
  std::mt19937 random_;
  std::string user_;  // owns this writer's accounts; never deleted
  std::string push_account_;
  std::vector<std::string> lonely_users_;  // users without accounts, which may be deleted
  std::vector<std::string> refusals_;
};

TEST(CrashLoop, AcknowledgedWritesAndEveryDeliverySurviveRepeatedKills) {
  const auto test_start = Steady::now();
  Receiver receiver;
  receiver.on("/crash", [](const Delivered&) {
    Answer answer;
    answer.delay = 2ms;  // so that a kill finds requests in flight
    return answer;
  });
  ReputeProcess server(dev_options({"--delivery-lease", "3", "--attempt-timeout", "1", "--retry-time-scale", "0.001",
                                    "--retry-schedule", "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1"}));
  HttpClient client(server.port());
  const Credentials auth = basic(server.dev_key());
  Acknowledged acknowledged;
  {
    const json::object body{{"events", json::array{"*"}}, {"name", "first"}, {"url", receiver.url("/crash")}};
    const Response first = client.request("POST", "/v1/webhooks", json::serialize(body), auth);
    ASSERT_EQ(first.status, 201) << first.body;
    acknowledged.add_present("/v1/webhooks/" + text(first.json().at("id")));
    acknowledged.webhooks = 1;
  }

  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<Writer>> writers;
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    writers.push_back(std::make_unique<Writer>(server.port(), auth, receiver, acknowledged, 1000u + i));
    threads.emplace_back([&writer = *writers.back(), &stop] { writer.run(stop); });
  }

  // Each round lets the load run for a random while, then kills the server wherever it is and starts it again.
  std::mt19937 random(20261127);
  for (int round = 0; round < kRounds; ++round) {
    // Some kills land during start-up recovery, most in the thick of it.
    const int ms = round % 4 == 3 ? std::uniform_int_distribution<>(20, 150)(random)
                                  : std::uniform_int_distribution<>(300, 1500)(random);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    server.kill9();
    server.restart();
  }
  std::this_thread::sleep_for(500ms);
  stop = true;
  for (std::thread& thread : threads) thread.join();

  // Quiet: the fast accounts stop rescanning, so the stream of events ends.
  for (const std::string& account : acknowledged.fast_accounts) {
    const Response patched =
        client.request("PATCH", "/v1/accounts/" + account, R"({"ongoing_refresh": "disabled"})", auth);
    ASSERT_EQ(patched.status, 200) << patched.body;
  }

  // Every event, however late it was made, has all its deliveries delivered: none pending, none failed.
  const auto quiet = Steady::now();
  std::vector<json::value> events;
  bool drained = false;
  std::string waiting;
  while (!drained && Steady::now() - quiet < kDrainTimeout) {
    std::this_thread::sleep_for(250ms);
    events = all_pages(client, auth, "/v1/events?limit=200");
    drained = true;
    for (const json::value& event : events) {
      const json::value& counts = event.at("deliveries");
      if (counts.at("pending") != 0 || counts.at("failed") != 0 || counts.at("delivered") == 0) {
        drained = false;
        waiting = json::serialize(event);
        break;
      }
    }
  }
  if (!drained) {
    int undrained = 0;
    for (const json::value& event : events) {
      const json::value& counts = event.at("deliveries");
      undrained += counts.at("pending") != 0 || counts.at("failed") != 0 || counts.at("delivered") == 0;
    }
    std::string pending;
    for (const std::string& path : acknowledged.present) {
      if (!path.starts_with("/v1/webhooks/")) continue;
      pending += client.request("GET", path + "/deliveries?state=pending&limit=2", "", auth).body + "\n";
    }
    FAIL() << "deliveries not complete " << kDrainTimeout.count() << " s after the quiet began: " << undrained << " of "
           << events.size() << " events, e.g. " << waiting << "; " << receiver.received().size()
           << " requests received; pending deliveries:\n"
           << pending;
  }
  const double drain_seconds = std::chrono::duration<double>(Steady::now() - quiet).count();

  // Every delivered delivery reached the receiver (by its webhook-id, stable across resends).
  std::int64_t delivered = 0;
  for (const json::value& event : events) delivered += event.at("deliveries").at("delivered").as_int64();
  std::set<std::string> arrived;
  const std::vector<Delivered> requests = receiver.received("/crash");
  for (const Delivered& request : requests) arrived.insert(request.webhook_id());
  EXPECT_EQ(static_cast<std::int64_t>(arrived.size()), delivered);

  // Every acknowledged write is there, every acknowledged delete is gone.
  for (const std::string& path : acknowledged.present) {
    EXPECT_EQ(client.request("GET", path, "", auth).status, 200) << "acknowledged but lost: " << path;
  }
  for (const std::string& path : acknowledged.absent) {
    EXPECT_EQ(client.request("GET", path, "", auth).status, 404) << "acknowledged delete undone: " << path;
  }
  // Refusals are only ever the store's 503 while it is unavailable; never a 500.
  for (const auto& writer : writers) {
    for (const std::string& refusal : writer->refusals()) EXPECT_TRUE(refusal.starts_with("503")) << refusal;
  }

  // The database file is sound (PostgreSQL checks its own).
  const std::string database = server.folder() + "/repute.db";
  EXPECT_EQ(server.stop(), 0);
  if (!repute::testing::on_postgres()) {
    EXPECT_EQ(command_output("sqlite3 -readonly '" + database + "' 'PRAGMA integrity_check'"), "ok\n");
    EXPECT_EQ(command_output("sqlite3 -readonly '" + database + "' 'PRAGMA foreign_key_check'"), "");
  }

  std::printf(
      "[ crash    ] %d kills; %d acknowledged writes (%zu objects checked present, %zu deletes checked "
      "gone), %d unanswered, %d refused; %zu events, %lld deliveries delivered, %zu requests received "
      "(%zu distinct webhook-ids); 0 lost; drained %.1f s after the quiet; %.1f s in all\n",
      kRounds, acknowledged.writes, acknowledged.present.size(), acknowledged.absent.size(), acknowledged.unanswered,
      acknowledged.refused, events.size(), static_cast<long long>(delivered), requests.size(), arrived.size(),
      drain_seconds, std::chrono::duration<double>(Steady::now() - test_start).count());
}

}  // namespace
}  // namespace repute::itest
