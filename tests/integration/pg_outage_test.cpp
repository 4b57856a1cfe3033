// PostgreSQL going away (DESIGN §5): repute reaches its database through a relay that the test cuts, as a network cut
// or a server restart would, while a client keeps making accounts and deliveries are in flight. While it is down,
// requests answer 503 with a JSON error, /readyz is not ready and /healthz stays up; once it is back the node
// reconnects by itself, answers again, and every account that was answered 201 has its event delivered to every
// subscription. The process never exits. Run in the suite's PostgreSQL run only (tests/CMakeLists.txt).
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "integration/harness/http_client.hpp"
#include "integration/harness/receiver.hpp"
#include "integration/harness/repute_process.hpp"
#include "integration/harness/tcp_proxy.hpp"
#include "support/test_database.hpp"

namespace repute::itest {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

constexpr int kSubscriptions = 2;

std::string text(const json::value& value) { return std::string(value.as_string()); }

// The URL with its host:port replaced by 127.0.0.1:port.
std::string through_port(const std::string& url, std::uint16_t port) {
  const std::size_t at = url.find('@');
  const std::size_t slash = url.find('/', at);
  return url.substr(0, at + 1) + "127.0.0.1:" + std::to_string(port) + url.substr(slash);
}

std::uint16_t port_of(const std::string& url) {
  const std::size_t at = url.find('@');
  const std::size_t colon = url.find(':', at);
  return static_cast<std::uint16_t>(std::stoi(url.substr(colon + 1)));
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  for (const auto until = Steady::now() + limit; Steady::now() < until; std::this_thread::sleep_for(50ms)) {
    if (condition()) return true;
  }
  return condition();
}

class PgOutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!repute::testing::on_postgres()) GTEST_SKIP() << "a PostgreSQL test";
    const std::string direct = repute::testing::database_url(folder_.path() + "/outage.db");
    proxy_ = std::make_unique<TcpProxy>(port_of(direct));
    for (int i = 0; i < kSubscriptions; ++i) receiver_.on("/hook/" + std::to_string(i), [](const Delivered&) {
      return Answer{};
    });
    ProcessOptions options =
        dev_options({"--delivery-lease", "3", "--attempt-timeout", "1", "--retry-time-scale", "0.001"});
    options.database_url = through_port(direct, proxy_->port());
    node_ = std::make_unique<ReputeProcess>(options);
    auth_ = basic(node_->dev_key());
    HttpClient client(node_->port());
    for (int i = 0; i < kSubscriptions; ++i) {
      const json::object body{{"events", json::array{"*"}},
                              {"name", "hook-" + std::to_string(i)},
                              {"url", receiver_.url("/hook/" + std::to_string(i))}};
      ASSERT_EQ(client.request("POST", "/v1/webhooks", json::serialize(body), auth_).status, 201);
    }
    user_ = text(client.request("POST", "/v1/users", "{}", auth_).json().at("id"));
  }

  void TearDown() override {
    node_.reset();
    proxy_.reset();
  }

  int status_of(const std::string& path) {
    HttpClient client(node_->port(), 5s);
    const auto response = client.try_request("GET", path);
    return response ? response->status : 0;
  }

  TempDir folder_;
  std::unique_ptr<TcpProxy> proxy_;
  Receiver receiver_;
  std::unique_ptr<ReputeProcess> node_;
  Credentials auth_;
  std::string user_;
};

TEST_F(PgOutageTest, ADatabaseThatGoesAwayIsWaitedOutAndNothingAcknowledgedIsLost) {
  // A client makes accounts all along: each answer is a 201 (the account is kept) or a 503 with a JSON error.
  std::atomic<bool> done{false};
  std::mutex mutex;
  std::vector<std::string> acknowledged;
  std::map<int, int> answers;
  std::vector<std::string> bad_refusals;
  std::thread client([&] {
    HttpClient http(node_->port(), 10s);
    const std::string body = json::serialize(json::object{{"user", user_}, {"employer", "uber"}});
    for (int i = 0; !done && i < 20000; ++i) {
      const auto response = http.try_request("POST", "/v1/accounts", body, auth_);
      std::lock_guard lock(mutex);
      if (!response) {
        ++answers[0];
      } else {
        ++answers[response->status];
        if (response->status == 201) {
          acknowledged.push_back(text(response->json().at("id")));
        } else if (response->status != 503 || !response->header("content-type") ||
                   response->header("content-type")->find("application/json") == std::string::npos ||
                   !response->json().as_object().contains("detail")) {
          bad_refusals.push_back(std::to_string(response->status) + " " + response->body);
        }
      }
      if (response && response->status != 201) std::this_thread::sleep_for(20ms);
    }
  });
  const auto acknowledged_count = [&] {
    std::lock_guard lock(mutex);
    return acknowledged.size();
  };
  ASSERT_TRUE(eventually([&] { return acknowledged_count() >= 100; }, 20s));
  ASSERT_EQ(status_of("/readyz"), 200);

  // The database goes away: every connection dropped, new ones refused.
  proxy_->cut();
  const std::size_t before_cut = acknowledged_count();
  EXPECT_TRUE(eventually([&] { return status_of("/readyz") == 503; }, 5s)) << "/readyz stayed ready";
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(status_of("/healthz"), 200) << "the process is alive while its database is away";
  {
    std::lock_guard lock(mutex);
    EXPECT_GT(answers[503], 0) << "requests were answered 503 while the database was away";
    EXPECT_LE(acknowledged.size(), before_cut + 2) << "accounts were acknowledged with no database";
  }
  HttpClient probe(node_->port());
  const Response refused = probe.request("GET", "/v1/accounts", "", auth_);
  EXPECT_EQ(refused.status, 503);
  EXPECT_TRUE(refused.json().as_object().contains("detail")) << refused.body;

  // It comes back: the node reconnects by itself.
  const auto restored = Steady::now();
  proxy_->restore();
  EXPECT_TRUE(eventually([&] { return status_of("/readyz") == 200; }, 15s)) << "/readyz never ready again";
  const double ready_after = std::chrono::duration<double>(Steady::now() - restored).count();
  // Ready means ready: the connections that died with the database are not found out by refused requests.
  int refused_when_ready = 0;
  for (int i = 0; i < 20; ++i) {
    refused_when_ready += probe.request("GET", "/v1/accounts?limit=1", "", auth_).status != 200;
    refused_when_ready += probe.request("POST", "/v1/users", "{}", auth_).status != 201;
  }
  EXPECT_EQ(refused_when_ready, 0) << "requests refused after /readyz said ready";
  const std::size_t at_restore = acknowledged_count();
  ASSERT_TRUE(eventually([&] { return acknowledged_count() >= at_restore + 100; }, 20s))
      << "accounts are not made again after the database came back";
  done = true;
  client.join();
  EXPECT_TRUE(node_->running()) << "the node exited";
  EXPECT_TRUE(bad_refusals.empty()) << bad_refusals.front();

  // Every acknowledged account has its event, delivered to every subscription.
  HttpClient http(node_->port());
  std::set<std::string> accounts;
  std::vector<json::value> events;
  const auto drained = [&] {
    events.clear();
    accounts.clear();
    std::string path = "/v1/events?limit=200";
    bool all_delivered = true;
    for (;;) {
      const json::value page = http.request("GET", path, "", auth_).json();
      for (const json::value& event : page.at("results").as_array()) {
        events.push_back(event);
        accounts.insert(text(event.at("data").at("account")));
        all_delivered = all_delivered && event.at("deliveries").at("delivered") == kSubscriptions;
      }
      if (page.at("next").is_null()) break;
      const std::string next = text(page.at("next"));
      path = next.substr(next.find("/v1/"));
    }
    for (const std::string& id : acknowledged) all_delivered = all_delivered && accounts.count(id);
    return all_delivered;
  };
  EXPECT_TRUE(eventually(drained, 60s)) << "events not all delivered after the database came back";
  for (const std::string& id : acknowledged) EXPECT_TRUE(accounts.count(id)) << "acknowledged, then lost: " << id;
  std::set<std::pair<std::string, std::string>> received;
  for (const Delivered& request : receiver_.received()) {
    received.insert({request.path, text(json::parse(request.body).at("data").at("reputation"))});
  }
  int missing = 0;
  for (const json::value& event : events) {
    for (int i = 0; i < kSubscriptions; ++i) {
      missing += !received.count({"/hook/" + std::to_string(i), text(event.at("data").at("reputation"))});
    }
  }
  EXPECT_EQ(missing, 0) << "(event, subscription) pairs never received";
  std::printf("[ outage   ] %zu accounts acknowledged, %d refused with 503, %d unanswered; ready again %.1f s after "
              "the database came back; %zu events, all delivered\n",
              acknowledged.size(), answers[503], answers[0], ready_after, events.size());
}

}  // namespace
}  // namespace repute::itest
