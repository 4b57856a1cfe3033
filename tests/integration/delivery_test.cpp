// Webhook delivery against the real binary and a real receiver on loopback. Events come from the API (a sandbox
// account's initial scan emits reputations.added); retries run on a scaled schedule. What is checked is what a
// receiver sees: exact bytes and headers, signatures computed independently, the same webhook-id on every retry,
// Retry-After honoured, 410 disabling, a hanging receiver not delaying others, the SSRF guard on the dialled
// address, and the delivery log endpoints.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <regex>
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

constexpr const char* kWhsecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const std::regex kUuid("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
const std::regex kTimestamp(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$)");

std::string text(const json::value& value) { return std::string(value.as_string()); }

// An account made through the API, with the ids its reputations.added event names.
struct Account {
  std::string id;
  std::string user;
};

class DeliveryTest : public ::testing::Test {
 protected:
  // Starts the server; retries are scaled down 1000 times unless flags say otherwise.
  void start(std::vector<std::string> flags = {}, bool dev = true) {
    if (std::find(flags.begin(), flags.end(), "--retry-time-scale") == flags.end()) {
      flags.insert(flags.begin(), {"--retry-time-scale", "0.001"});
    }
    server_ = std::make_unique<ReputeProcess>(dev ? dev_options(flags) : guarded_options(flags));
    client_ = std::make_unique<HttpClient>(server_->port());
    auth_ = basic(dev ? server_->dev_key() : server_->create_key("tenant"));
  }

  Response request(const std::string& method, const std::string& path, const std::string& body = "") {
    return client_->request(method, path, body, auth_);
  }
  json::value ok(const std::string& method, const std::string& path, const std::string& body = "") {
    const Response response = request(method, path, body);
    if (response.status / 100 != 2) throw std::runtime_error(method + " " + path + ": " + response.body);
    return response.json();
  }

  // Subscribes to every event at url; the subscription's id.
  std::string subscribe(const std::string& url, const std::string& name = "hook",
                        const std::optional<std::string>& secret = std::nullopt) {
    json::object body{{"events", json::array{"*"}}, {"name", name}, {"url", url}};
    if (secret) body["secret"] = *secret;
    return text(ok("POST", "/v1/webhooks", json::serialize(body)).at("id"));
  }

  // A new sandbox account: its initial scan emits reputations.added at once.
  Account create_account() {
    if (user_.empty()) user_ = text(ok("POST", "/v1/users", "{}").at("id"));
    const json::value account =
        ok("POST", "/v1/accounts", json::serialize(json::object{{"user", user_}, {"employer", "uber"}}));
    return {text(account.at("id")), user_};
  }

  std::string reputation_of(const Account& account) {
    const json::array found = ok("GET", "/v1/reputations?account=" + account.id).at("results").as_array();
    return found.empty() ? "" : text(found.at(0).at("id"));
  }

  json::array deliveries(const std::string& webhook, const std::string& query = "") {
    return ok("GET", "/v1/webhooks/" + webhook + "/deliveries" + query).at("results").as_array();
  }
  json::value delivery(const std::string& id) { return ok("GET", "/v1/deliveries/" + id); }
  json::value webhook(const std::string& id) { return ok("GET", "/v1/webhooks/" + id); }

  // Polls until condition holds; false after timeout.
  static bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = Steady::now() + timeout;
    while (Steady::now() < deadline) {
      if (condition()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return condition();
  }

  Receiver receiver_;  // first: outlives the server
  std::unique_ptr<ReputeProcess> server_;
  std::unique_ptr<HttpClient> client_;
  Credentials auth_;
  std::string user_;
};

TEST_F(DeliveryTest, TheExactBodyAndHeadersReachTheReceiverSigned) {
  start();
  const std::string signed_hook = subscribe(receiver_.url("/signed"), "payroll", kWhsecSecret);
  const std::string raw_hook = subscribe(receiver_.url("/raw"), "raw", "plain secret, not base64!");
  const std::string unsigned_hook = subscribe(receiver_.url("/unsigned"), "open");
  const auto created = Steady::now();
  const Account account = create_account();
  ASSERT_TRUE(receiver_.wait_for("/signed", 1, 3s));
  ASSERT_TRUE(receiver_.wait_for("/raw", 1, 3s));
  ASSERT_TRUE(receiver_.wait_for("/unsigned", 1, 3s));
  EXPECT_LT(receiver_.received("/signed")[0].arrived - created, 1500ms);
  const std::string reputation = reputation_of(account);

  for (const auto& [path, hook, name, secret] :
       std::vector<std::tuple<std::string, std::string, std::string, std::optional<std::string>>>{
           {"/signed", signed_hook, "payroll", kWhsecSecret},
           {"/raw", raw_hook, "raw", "plain secret, not base64!"},
           {"/unsigned", unsigned_hook, "open", std::nullopt}}) {
    SCOPED_TRACE(path);
    const std::vector<Delivered> got = receiver_.received(path);
    ASSERT_EQ(got.size(), 1u);
    const Delivered& request = got[0];
    EXPECT_EQ(request.body, R"({"event":"reputations.added","name":")" + name + R"(","data":{"account":")" +
                                account.id + R"(","user":")" + account.user + R"(","reputation":")" + reputation +
                                R"("}})");
    EXPECT_EQ(request.header("content-type"), "application/json");
    const std::string id = request.webhook_id();
    EXPECT_TRUE(std::regex_match(id, kUuid)) << id;
    const std::string timestamp = request.header("webhook-timestamp").value_or("");
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    EXPECT_NEAR(static_cast<double>(std::stoll(timestamp)), static_cast<double>(now), 10);
    if (secret) {
      EXPECT_EQ(request.header("x-argyle-signature"), expected_argyle_signature(*secret, request.body));
      EXPECT_EQ(request.header("webhook-signature"), expected_standard_signature(*secret, id, timestamp, request.body));
    } else {
      EXPECT_FALSE(request.header("x-argyle-signature"));
      EXPECT_FALSE(request.header("webhook-signature"));
    }
    // The log knows it by the same id, delivered in one attempt.
    ASSERT_TRUE(eventually([&] { return text(delivery(id).at("state")) == "delivered"; }));
    const json::value logged = delivery(id);
    EXPECT_EQ(text(logged.at("webhook")), hook);
    EXPECT_EQ(logged.at("attempt_count"), 1);
    EXPECT_TRUE(webhook(hook).at("last_sent_at").is_string());
  }
}

TEST_F(DeliveryTest, RetriesSendTheSameBytesUnderTheSameId) {
  start();
  // Handler state is shared, not on this stack: the receiver may still call the handler after the test body ends.
  auto calls = std::make_shared<std::atomic<int>>(0);
  receiver_.on("/flaky", [calls](const Delivered&) { return reply(++*calls <= 2 ? 503 : 200); });
  const std::string hook = subscribe(receiver_.url("/flaky"), "flaky", kWhsecSecret);
  create_account();
  ASSERT_TRUE(receiver_.wait_for("/flaky", 3, 10s));
  const std::vector<Delivered> got = receiver_.received("/flaky");
  for (const Delivered& request : got) {
    EXPECT_EQ(request.webhook_id(), got[0].webhook_id());
    EXPECT_EQ(request.body, got[0].body);
    const std::string timestamp = *request.header("webhook-timestamp");
    EXPECT_EQ(request.header("webhook-signature"),
              expected_standard_signature(kWhsecSecret, request.webhook_id(), timestamp, request.body));
  }
  ASSERT_TRUE(eventually([&] { return text(delivery(got[0].webhook_id()).at("state")) == "delivered"; }));
  const json::array attempts = delivery(got[0].webhook_id()).at("attempts").as_array();
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_EQ(attempts[0].at("status_code"), 503);
  EXPECT_EQ(attempts[1].at("status_code"), 503);
  EXPECT_EQ(attempts[2].at("status_code"), 200);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(receiver_.received("/flaky").size(), 3u);
}

TEST_F(DeliveryTest, RetryAfterIsHonoured) {
  start();
  auto calls = std::make_shared<std::atomic<int>>(0);
  receiver_.on("/busy", [calls](const Delivered&) {
    if (++*calls == 1) return reply(429, "Retry-After: 2\r\n", "slow down");
    return Answer{};
  });
  subscribe(receiver_.url("/busy"));
  create_account();
  ASSERT_TRUE(receiver_.wait_for("/busy", 2, 10s));
  const std::vector<Delivered> got = receiver_.received("/busy");
  // The scaled schedule alone would retry after 5 ms.
  EXPECT_GE(got[1].arrived - got[0].arrived, 2s);
  EXPECT_LT(got[1].arrived - got[0].arrived, 4s);
}

TEST_F(DeliveryTest, GoneDisablesTheSubscriptionAndItsDeliveriesWait) {
  start({"--max-in-flight-per-webhook", "1"});
  // The first answer waits until both events have their delivery (a disabled subscription gets no new ones).
  auto both_made = std::make_shared<std::atomic<bool>>(false);
  receiver_.on("/gone", [both_made](const Delivered&) {
    for (int i = 0; i < 500 && !*both_made; ++i) std::this_thread::sleep_for(10ms);
    return reply(410);
  });
  const std::string hook = subscribe(receiver_.url("/gone"));
  create_account();
  create_account();
  ASSERT_TRUE(eventually([&] { return deliveries(hook).size() == 2; }));
  *both_made = true;
  ASSERT_TRUE(eventually([&] { return !webhook(hook).at("enabled").as_bool(); }));
  EXPECT_EQ(webhook(hook).at("disabled_reason"), "gone");
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(receiver_.received("/gone").size(), 1u);
  EXPECT_EQ(deliveries(hook, "?state=failed").size(), 1u);
  ASSERT_EQ(deliveries(hook, "?state=pending").size(), 1u);

  receiver_.on("/gone", [](const Delivered&) { return Answer{}; });
  ok("PATCH", "/v1/webhooks/" + hook, R"({"enabled": true})");
  ASSERT_TRUE(receiver_.wait_for("/gone", 2, 5s));
  EXPECT_TRUE(eventually([&] { return deliveries(hook, "?state=delivered").size() == 1; }));
}

TEST_F(DeliveryTest, AHangingReceiverDoesNotDelayOthers) {
  start({"--attempt-timeout", "5", "--delivery-lease", "8", "--max-in-flight-per-webhook", "2"});
  receiver_.on("/hang", [](const Delivered&) {
    Answer answer;
    answer.hang = true;
    return answer;
  });
  subscribe(receiver_.url("/hang"));
  subscribe(receiver_.url("/fast"));
  for (std::size_t i = 1; i <= 6; ++i) {
    const auto created = Steady::now();
    create_account();
    ASSERT_TRUE(receiver_.wait_for("/fast", i, 2s));
    EXPECT_LT(receiver_.received("/fast").back().arrived - created, 1s) << "event " << i;
  }
  EXPECT_LE(receiver_.received("/hang").size(), 2u);  // the per-subscription cap
}

TEST_F(DeliveryTest, TheGuardChecksTheAddressActuallyDialled) {
  // A DNS name passes at subscription time; at connect time it resolves (here: an injected resolver) to a
  // private address, which is refused before any packet is sent.
  const std::string allowed = "hooks.local.test:" + std::to_string(receiver_.port()) + ":127.0.0.1";
  start({"--resolve", "hooks.internal.test:80:10.0.0.1", "--resolve", allowed, "--allow-cidr", "127.0.0.1/32"}, false);
  const std::string refused = subscribe("http://hooks.internal.test/x");
  const std::string reached = subscribe("http://hooks.local.test:" + std::to_string(receiver_.port()) + "/y");
  create_account();
  ASSERT_TRUE(receiver_.wait_for("/y", 1, 3s));
  EXPECT_EQ(receiver_.received("/y")[0].header("host"), "hooks.local.test:" + std::to_string(receiver_.port()));
  ASSERT_TRUE(eventually([&] {
    const json::array list = deliveries(refused);
    return !list.empty() && list[0].at("attempt_count").as_int64() >= 1;
  }));
  const json::value logged = delivery(text(deliveries(refused)[0].at("id")));
  EXPECT_EQ(logged.at("attempts").at(0).at("status_code"), nullptr);
  EXPECT_EQ(logged.at("attempts").at(0).at("error"), "address refused by SSRF guard: 10.0.0.1 is a private address");
  EXPECT_EQ(receiver_.received().size(), 1u);
}

TEST_F(DeliveryTest, TheDeliveryLogShowsEveryAttempt) {
  start({"--retry-time-scale", "1", "--retry-schedule", "0.05"});
  const std::string long_answer(3000, 'z');
  receiver_.on("/log", [long_answer](const Delivered&) { return reply(500, "", long_answer); });
  const std::string hook = subscribe(receiver_.url("/log"));
  create_account();
  ASSERT_TRUE(eventually([&] { return deliveries(hook, "?state=failed").size() == 1; }));
  EXPECT_TRUE(deliveries(hook, "?state=pending").empty());
  EXPECT_EQ(deliveries(hook).size(), 1u);
  const std::string id = text(deliveries(hook)[0].at("id"));

  const json::value logged = delivery(id);
  EXPECT_EQ(logged.at("state"), "failed");
  EXPECT_EQ(logged.at("attempt_count"), 2);
  EXPECT_EQ(logged.at("last_status_code"), 500);
  EXPECT_EQ(logged.at("payload").at("event"), "reputations.added");
  const json::array attempts = logged.at("attempts").as_array();
  ASSERT_EQ(attempts.size(), 2u);
  for (const json::value& attempt : attempts) {
    EXPECT_TRUE(std::regex_match(text(attempt.at("attempted_at")), kTimestamp));
    EXPECT_GT(attempt.at("duration_ms").to_number<double>(), 0);
    EXPECT_EQ(attempt.at("status_code"), 500);
    EXPECT_EQ(attempt.at("error"), nullptr);
    EXPECT_EQ(text(attempt.at("response")), std::string(1024, 'z'));
  }

  EXPECT_EQ(request("GET", "/v1/webhooks/" + hook + "/deliveries?state=lost").status, 400);

  // Resend it now: one more attempt under the same id.
  receiver_.on("/log", [](const Delivered&) { return Answer{}; });
  const Response retried = request("POST", "/v1/deliveries/" + id + "/retry");
  EXPECT_EQ(retried.status, 202);
  EXPECT_EQ(retried.json().at("state"), "pending");
  ASSERT_TRUE(receiver_.wait_for("/log", 3, 5s));
  EXPECT_EQ(receiver_.received("/log").back().webhook_id(), id);
  ASSERT_TRUE(eventually([&] { return delivery(id).at("state") == "delivered"; }));
  EXPECT_EQ(delivery(id).at("attempt_count"), 3);

  // Recover: every failed delivery since a time goes out again.
  receiver_.on("/log", [](const Delivered&) { return reply(503); });
  const std::string since = text(ok("GET", "/v1/webhooks/" + hook).at("created_at"));
  create_account();
  ASSERT_TRUE(eventually([&] { return deliveries(hook, "?state=failed").size() == 1; }));
  receiver_.on("/log", [](const Delivered&) { return Answer{}; });
  EXPECT_EQ(request("POST", "/v1/webhooks/" + hook + "/recover", R"({"since": "yesterday"})").status, 400);
  EXPECT_EQ(request("POST", "/v1/webhooks/" + hook + "/recover", "{}").status, 400);
  const Response recovered = request("POST", "/v1/webhooks/" + hook + "/recover", R"({"since": ")" + since + R"("})");
  EXPECT_EQ(recovered.status, 202);
  EXPECT_EQ(recovered.json().at("requeued"), 1);
  EXPECT_TRUE(eventually([&] { return deliveries(hook, "?state=delivered").size() == 2; }));

  // Another tenant sees none of it.
  const Credentials other = basic(server_->create_key("someone-else"));
  EXPECT_EQ(client_->request("GET", "/v1/deliveries/" + id, "", other).status, 404);
  EXPECT_EQ(client_->request("GET", "/v1/webhooks/" + hook + "/deliveries", "", other).status, 404);
  EXPECT_EQ(client_->request("POST", "/v1/deliveries/" + id + "/retry", "", other).status, 404);
  EXPECT_EQ(
      client_->request("POST", "/v1/webhooks/" + hook + "/recover", R"({"since": ")" + since + R"("})", other).status,
      404);
  EXPECT_EQ(request("GET", "/v1/deliveries/00000000-0000-4000-8000-000000000000").status, 404);
}

}  // namespace
}  // namespace repute::itest
