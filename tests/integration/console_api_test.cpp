// The API calls the operator console is built on, against the real binary and a real receiver on loopback:
// rotating a secret (both signatures during the grace period, then the new one alone), test events (to that
// subscription only, in its log with the headers sent), per-subscription stats, the overview, the delivery log's
// time filters, the events filters; tenant isolation and field errors for each; and the console's own files
// (Content-Security-Policy, caching).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <memory>
#include <sstream>
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

constexpr const char* kOldSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr const char* kNewSecret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

std::string text(const json::value& value) { return std::string(value.as_string()); }

// This moment as the API writes times (the server runs on the same clock).
std::string iso_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1'000'000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<long long>(micros));
  return buffer;
}

// The "v1,..." signatures of a webhook-signature header value, in order.
std::vector<std::string> signatures(const std::string& header) {
  std::vector<std::string> found;
  std::istringstream words(header);
  for (std::string word; words >> word;) found.push_back(word);
  return found;
}

class ConsoleApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ReputeProcess>(dev_options({"--retry-time-scale", "0.001"}));
    client_ = std::make_unique<HttpClient>(server_->port());
    auth_ = basic(server_->dev_key());
    other_ = basic(server_->create_key("someone else"));
  }

  Response request(const std::string& method, const std::string& path, const std::string& body = "") {
    return client_->request(method, path, body, auth_);
  }
  json::value ok(const std::string& method, const std::string& path, const std::string& body = "") {
    const Response response = request(method, path, body);
    if (response.status / 100 != 2) throw std::runtime_error(method + " " + path + ": " + response.body);
    return response.json();
  }
  std::string subscribe(const std::string& path, const std::optional<std::string>& secret = kOldSecret) {
    json::object body{{"events", json::array{"*"}}, {"name", "hook " + path}, {"url", receiver_.url(path)}};
    if (secret) body["secret"] = *secret;
    return text(ok("POST", "/v1/webhooks", json::serialize(body)).at("id"));
  }
  // A sandbox account; its initial scan emits reputations.added.
  std::string create_account() {
    const std::string user = text(ok("POST", "/v1/users", "{}").at("id"));
    return text(
        ok("POST", "/v1/accounts", json::serialize(json::object{{"user", user}, {"employer", "uber"}})).at("id"));
  }
  static bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = Steady::now() + timeout;
    while (Steady::now() < deadline) {
      if (condition()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return condition();
  }
  // Checks that every signature of the header was made by one of secrets, in that order.
  static void expect_signed_by(const Delivered& got, const std::vector<std::string>& secrets) {
    const std::string id = got.webhook_id();
    const std::string timestamp = got.header("webhook-timestamp").value_or("");
    std::vector<std::string> expected;
    for (const std::string& secret : secrets) {
      expected.push_back(expected_standard_signature(secret, id, timestamp, got.body));
    }
    EXPECT_EQ(signatures(got.header("webhook-signature").value_or("")), expected);
    EXPECT_EQ(got.header("x-argyle-signature"), expected_argyle_signature(secrets.front(), got.body));
  }

  Receiver receiver_;  // first: outlives the server
  std::unique_ptr<ReputeProcess> server_;
  std::unique_ptr<HttpClient> client_;
  Credentials auth_;
  Credentials other_;
};

TEST_F(ConsoleApiTest, ARotatedSecretSignsBesideTheNewOneUntilItsGracePeriodEnds) {
  const std::string hook = subscribe("/rotating");
  const json::value rotated = ok("POST", "/v1/webhooks/" + hook + "/rotate-secret",
                                 json::serialize(json::object{{"secret", kNewSecret}, {"grace_period", 3}}));
  EXPECT_EQ(text(rotated.at("secret")), kNewSecret);
  ASSERT_TRUE(rotated.at("previous_secret_expires_at").is_string());
  EXPECT_EQ(text(ok("GET", "/v1/webhooks/" + hook).at("secret")), kNewSecret);

  create_account();
  ASSERT_TRUE(receiver_.wait_for("/rotating", 1, 5s));
  expect_signed_by(receiver_.received("/rotating")[0], {kNewSecret, kOldSecret});

  std::this_thread::sleep_for(3500ms);  // the grace period is over
  create_account();
  ASSERT_TRUE(receiver_.wait_for("/rotating", 2, 5s));
  expect_signed_by(receiver_.received("/rotating")[1], {kNewSecret});
}

TEST_F(ConsoleApiTest, RotationMakesAWhsecSecretWhenNoneIsGivenAndWithoutGraceTheOldOneStopsAtOnce) {
  const std::string hook = subscribe("/quick");
  const json::value rotated = ok("POST", "/v1/webhooks/" + hook + "/rotate-secret", R"({"grace_period":0})");
  const std::string secret = text(rotated.at("secret"));
  EXPECT_TRUE(secret.starts_with("whsec_")) << secret;
  EXPECT_EQ(secret.size(), 6u + 32u);  // 24 bytes in base64
  EXPECT_TRUE(rotated.at("previous_secret_expires_at").is_null());
  create_account();
  ASSERT_TRUE(receiver_.wait_for("/quick", 1, 5s));
  expect_signed_by(receiver_.received("/quick")[0], {secret});

  // An empty body takes the defaults: a made secret and a day's grace.
  const json::value again = ok("POST", "/v1/webhooks/" + hook + "/rotate-secret");
  EXPECT_NE(text(again.at("secret")), secret);
  EXPECT_TRUE(again.at("previous_secret_expires_at").is_string());

  // An unsigned subscription has no old secret to keep: the new one signs alone.
  const std::string open = subscribe("/open", std::nullopt);
  EXPECT_TRUE(ok("POST", "/v1/webhooks/" + open + "/rotate-secret").at("previous_secret_expires_at").is_null());
}

TEST_F(ConsoleApiTest, SettingASecretOutrightEndsTheGracePeriod) {
  const std::string hook = subscribe("/patched");
  ok("POST", "/v1/webhooks/" + hook + "/rotate-secret", json::serialize(json::object{{"secret", kNewSecret}}));
  const json::value patched = ok("PATCH", "/v1/webhooks/" + hook, R"({"secret":"whsec_dGhpcmQgc2VjcmV0IQ=="})");
  EXPECT_TRUE(patched.at("previous_secret_expires_at").is_null());
  create_account();
  ASSERT_TRUE(receiver_.wait_for("/patched", 1, 5s));
  expect_signed_by(receiver_.received("/patched")[0], {"whsec_dGhpcmQgc2VjcmV0IQ=="});
}

TEST_F(ConsoleApiTest, RotationRefusesBadBodiesFieldByFieldAndOtherTenantsSubscriptions) {
  const std::string hook = subscribe("/x");
  const Response bad =
      request("POST", "/v1/webhooks/" + hook + "/rotate-secret", R"({"secret":7,"grace_period":-1,"when":"now"})");
  EXPECT_EQ(bad.status, 400);
  const json::object errors = bad.json().as_object();
  EXPECT_TRUE(errors.contains("secret"));
  EXPECT_TRUE(errors.contains("grace_period"));
  EXPECT_EQ(errors.at("when").as_array().at(0), "Unknown field.");
  EXPECT_EQ(request("POST", "/v1/webhooks/" + hook + "/rotate-secret", R"({"grace_period":604801})").status, 400);
  EXPECT_EQ(request("POST", "/v1/webhooks/" + hook + "/rotate-secret", "[1]").status, 400);
  EXPECT_EQ(text(ok("GET", "/v1/webhooks/" + hook).at("secret")), kOldSecret) << "nothing changed";

  EXPECT_EQ(client_->request("POST", "/v1/webhooks/" + hook + "/rotate-secret", "", other_).status, 404);
  EXPECT_EQ(client_->request("POST", "/v1/webhooks/" + hook + "/test", "", other_).status, 404);
  EXPECT_EQ(client_->request("GET", "/v1/webhooks/" + hook + "/stats", "", other_).status, 404);
  EXPECT_EQ(request("POST", "/v1/webhooks/not-a-uuid/rotate-secret").status, 404);
  EXPECT_EQ(request("POST", "/v1/webhooks/" + hook + "/rotate-secret").status, 200);
  EXPECT_EQ(client_->request("POST", "/v1/webhooks/" + hook + "/test").status, 401);
  EXPECT_EQ(text(ok("GET", "/v1/webhooks/" + hook).at("secret")).substr(0, 6), "whsec_");
}

TEST_F(ConsoleApiTest, ATestEventGoesToThatSubscriptionAloneSignedAndIsInItsLog) {
  const std::string target = subscribe("/target");
  subscribe("/bystander");
  const json::value made = ok("POST", "/v1/webhooks/" + target + "/test");
  EXPECT_EQ(text(made.at("webhook")), target);
  EXPECT_EQ(text(made.at("state")), "pending");
  ASSERT_TRUE(receiver_.wait_for("/target", 1, 5s));
  const Delivered got = receiver_.received("/target")[0];
  EXPECT_EQ(got.webhook_id(), text(made.at("id")));
  expect_signed_by(got, {kOldSecret});
  const json::value body = json::parse(got.body);
  EXPECT_EQ(text(body.at("event")), "reputations.added");
  EXPECT_EQ(text(body.at("name")), "hook /target");
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(receiver_.received("/bystander").empty());

  json::value logged;
  ASSERT_TRUE(eventually([&] {
    logged = ok("GET", "/v1/deliveries/" + text(made.at("id")));
    return text(logged.at("state")) == "delivered";
  }));
  const json::object& attempt = logged.at("attempts").as_array().at(0).as_object();
  EXPECT_EQ(attempt.at("status_code"), 200);
  const json::object& sent = attempt.at("request_headers").as_object();
  EXPECT_EQ(text(sent.at("webhook-signature")), got.header("webhook-signature").value_or(""));
  EXPECT_EQ(text(sent.at("webhook-id")), got.webhook_id());
  EXPECT_EQ(text(sent.at("Content-Type")), "application/json");

  ok("PATCH", "/v1/webhooks/" + target, R"({"enabled":false})");
  const Response refused = request("POST", "/v1/webhooks/" + target + "/test");
  EXPECT_EQ(refused.status, 409);
  EXPECT_TRUE(refused.json().as_object().contains("detail"));
}

TEST_F(ConsoleApiTest, StatsCountTheLastHourAndDayWithTheBacklog) {
  const std::string good = subscribe("/good");
  const std::string bad = subscribe("/bad");
  receiver_.on("/bad", [](const Delivered&) { return reply(503); });
  create_account();
  create_account();
  ASSERT_TRUE(receiver_.wait_for("/good", 2, 5s));
  ASSERT_TRUE(receiver_.wait_for("/bad", 2, 5s));

  json::value stats;
  ASSERT_TRUE(eventually([&] {
    stats = ok("GET", "/v1/webhooks/" + good + "/stats");
    return stats.at("last_hour").at("delivered") == 2;
  }));
  EXPECT_EQ(stats.at("last_hour").at("total"), 2);
  EXPECT_EQ(stats.at("last_hour").at("success_rate").to_number<double>(), 1.0);
  EXPECT_EQ(stats.at("last_day").at("total"), 2);
  EXPECT_EQ(stats.at("pending"), 0);
  EXPECT_TRUE(stats.at("last_success_at").is_string());

  ASSERT_TRUE(eventually([&] {
    stats = ok("GET", "/v1/webhooks/" + bad + "/stats");
    return stats.at("last_hour").at("failed") == 2;
  }));
  EXPECT_EQ(stats.at("last_hour").at("success_rate").to_number<double>(), 0.0);
  EXPECT_EQ(stats.at("pending"), 2) << "still retrying";
  EXPECT_TRUE(stats.at("oldest_pending_at").is_string());
  EXPECT_TRUE(stats.at("last_success_at").is_null());

  const json::value overview = ok("GET", "/v1/overview?minutes=10");
  std::int64_t total = 0;
  for (const json::value& minute : overview.at("minutes").as_array()) total += minute.at("total").as_int64();
  EXPECT_EQ(total, 4);
  EXPECT_EQ(overview.at("pending"), 2);
  EXPECT_EQ(text(overview.at("most_failing").as_array().at(0).at("webhook")), bad);
  EXPECT_EQ(overview.at("slowest").as_array().size(), 2u);
  EXPECT_EQ(client_->request("GET", "/v1/overview", "", other_).json().at("minutes").as_array().size(), 0u);
  for (const char* minutes : {"0", "1441", "ten", "5x"}) {
    const Response refused = request("GET", std::string("/v1/overview?minutes=") + minutes);
    EXPECT_EQ(refused.status, 400) << minutes;
    EXPECT_TRUE(refused.json().as_object().contains("minutes"));
  }
}

TEST_F(ConsoleApiTest, TheDeliveryLogFiltersByTimeAndEventsByTypeAndAccount) {
  const std::string hook = subscribe("/log");
  const std::string first = create_account();
  ASSERT_TRUE(receiver_.wait_for("/log", 1, 5s));
  std::this_thread::sleep_for(20ms);
  const std::string between = iso_now();
  std::this_thread::sleep_for(20ms);
  const std::string second = create_account();
  ASSERT_TRUE(receiver_.wait_for("/log", 2, 5s));

  const auto count = [&](const std::string& query) {
    return ok("GET", "/v1/webhooks/" + hook + "/deliveries" + query).at("results").as_array().size();
  };
  EXPECT_EQ(count(""), 2u);
  EXPECT_EQ(count("?created_after=" + between), 1u);
  EXPECT_EQ(count("?created_before=" + between), 1u);
  EXPECT_EQ(count("?created_before=" + between + "&state=delivered"), 1u);
  const Response refused = request("GET", "/v1/webhooks/" + hook + "/deliveries?created_after=yesterday");
  EXPECT_EQ(refused.status, 400);
  EXPECT_TRUE(refused.json().as_object().contains("created_after"));

  const json::array events = ok("GET", "/v1/events?account=" + second).at("results").as_array();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(ok("GET", "/v1/events?type=reputations.updated").at("results").as_array().size(), 0u);
  EXPECT_EQ(ok("GET", "/v1/events?type=reputations.added").at("results").as_array().size(), 2u);
  EXPECT_EQ(request("GET", "/v1/events?type=reputations.deleted").status, 400);
  EXPECT_EQ(request("GET", "/v1/events?account=nope").status, 400);

  const json::value event = ok("GET", "/v1/events/" + text(events.at(0).at("id")));
  const json::array& per_subscription = event.at("subscriptions").as_array();
  ASSERT_EQ(per_subscription.size(), 1u);
  EXPECT_EQ(text(per_subscription.at(0).at("webhook")), hook);
  (void)first;
}

TEST_F(ConsoleApiTest, TheConsoleIsServedWithAStrictContentSecurityPolicy) {
  HttpClient browser(server_->port());
  const Response page = browser.request("GET", "/console/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  const std::string policy = page.header("content-security-policy").value_or("");
  EXPECT_NE(policy.find("script-src 'self'"), std::string::npos) << policy;
  EXPECT_NE(policy.find("default-src 'none'"), std::string::npos) << policy;
  EXPECT_EQ(policy.find("unsafe-inline"), std::string::npos) << policy;
  EXPECT_EQ(policy.find("http"), std::string::npos) << "no foreign origin: " << policy;
  EXPECT_EQ(page.body.find("<script>"), std::string::npos) << "no inline script";
  EXPECT_NE(page.body.find(R"(src="/console/src/main.js")"), std::string::npos);

  const Response script = browser.request("GET", "/console/src/main.js");
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(script.header("x-content-type-options"), "nosniff");
  const std::string etag = script.header("etag").value_or("");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(browser.request("GET", "/console/src/main.js", "", std::nullopt, {"If-None-Match: " + etag}).status, 304);
  EXPECT_EQ(browser.request("GET", "/console/src/pages/subscriptions.js").status, 200);
  EXPECT_EQ(browser.request("GET", "/console/app.css").header("content-type"), "text/css; charset=utf-8");
  EXPECT_EQ(browser.request("GET", "/console/nothing.js").status, 404);
  const Response bare = browser.request("GET", "/console");
  EXPECT_EQ(bare.status, 308);
  EXPECT_EQ(bare.header("location"), "/console/");
}

}  // namespace
}  // namespace repute::itest
