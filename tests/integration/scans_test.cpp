// Scans over HTTP against the real binary: sandbox accounts get their reputation at once and change on
// demand, push accounts take results through /scans, http accounts read a loopback source that answers well,
// slowly, with a 500, malformed or oversized, and recover. Each added or changed reputation is exactly one
// event, fanned out to the tenant's matching subscriptions; nothing new is no event.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "integration/harness/http_client.hpp"
#include "integration/harness/repute_process.hpp"
#include "integration/harness/source_server.hpp"

namespace repute::itest {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

constexpr const char* kNotPush = "This account's source is not push: it is scanned by repute, not pushed to.";
constexpr const char* kPushOnly = "This account has a push source: its scans are posted to /v1/accounts/{id}/scans.";
constexpr const char* kSourceAnswer =
    R"({"rating": 4.75, "acceptance_rate": "0.880", "ontime_rate": 0.9, "metadata": {"via": "source"},
        "achievements": [{"count": 3, "label": "Pro", "badge_url": null, "description": "Level 3", "points": 30}]})";

json::value parse(std::string_view text) { return json::parse(text); }
std::string text(const json::value& value) { return std::string(value.as_string()); }

class ScansTest : public ::testing::Test {
 protected:
  Response request(const std::string& method, const std::string& path, const std::string& body = "") {
    return client_.request(method, path, body, auth_);
  }
  json::value get(const std::string& path) {
    const Response response = request("GET", path);
    if (response.status != 200) throw std::runtime_error("GET " + path + ": " + response.body);
    return response.json();
  }

  // Creates an account of a fresh user with the given extra fields; its id.
  std::string create_account(json::object extra = {}) {
    if (user_.empty()) user_ = text(post_ok("/v1/users", json::object{}).at("id"));
    extra["user"] = user_;
    if (!extra.contains("employer")) extra["employer"] = "uber";
    return text(post_ok("/v1/accounts", extra).at("id"));
  }

  json::value post_ok(const std::string& path, const json::object& body) {
    const Response response = request("POST", path, json::serialize(body));
    if (response.status != 201) throw std::runtime_error("POST " + path + ": " + response.body);
    return response.json();
  }

  // Subscribes to events at a loopback receiver (it is never asked to answer anything in particular).
  std::string subscribe(const json::array& events, bool enabled = true) {
    const std::string id =
        text(post_ok("/v1/webhooks", {{"events", events}, {"name", "hook"}, {"url", receiver_.url("/hook")}}).at("id"));
    if (!enabled) {
      EXPECT_EQ(request("PATCH", "/v1/webhooks/" + id, R"({"enabled": false})").status, 200);
    }
    return id;
  }

  // Polls until condition holds on the account's object; the object, or a failure after timeout.
  json::value wait_for_account(const std::string& id, const std::function<bool(const json::value&)>& condition,
                               std::chrono::milliseconds timeout) {
    const auto deadline = Steady::now() + timeout;
    json::value account = get("/v1/accounts/" + id);
    while (!condition(account) && Steady::now() < deadline) {
      std::this_thread::sleep_for(20ms);
      account = get("/v1/accounts/" + id);
    }
    EXPECT_TRUE(condition(account)) << "the account never got there: " << account;
    return account;
  }

  // Waits for the scan after the one that set scanned_at to before.
  json::value wait_for_next_scan(const std::string& id, const json::value& before,
                                 std::chrono::milliseconds timeout = 2000ms) {
    return wait_for_account(
        id, [&](const json::value& a) { return a.at("scanned_at") != before; }, timeout);
  }

  json::value wait_for_first_scan(const std::string& id, std::chrono::milliseconds timeout = 2000ms) {
    return wait_for_next_scan(id, json::value(nullptr), timeout);
  }

  // Asks for a scan now (202) and waits until it has been applied; the account afterwards.
  json::value scan_now(const std::string& id, std::chrono::milliseconds timeout = 2000ms) {
    const json::value before = get("/v1/accounts/" + id).at("scanned_at");
    const Response response = request("POST", "/v1/accounts/" + id + "/periodic-scan");
    EXPECT_EQ(response.status, 202) << response.body;
    return wait_for_next_scan(id, before, timeout);
  }

  json::array reputations(const std::string& account) {
    return get("/v1/reputations?account=" + account).at("results").as_array();
  }

  // The tenant's events, newest first.
  json::array events() { return get("/v1/events?limit=200").at("results").as_array(); }

  // Every delivery of an event, whatever its state.
  std::int64_t deliveries_of(const json::value& event) {
    const json::value counts = get("/v1/events/" + text(event.at("id"))).at("deliveries");
    return counts.at("pending").as_int64() + counts.at("delivered").as_int64() + counts.at("failed").as_int64();
  }

  Response push(const std::string& id, const std::string& body) {
    return request("POST", "/v1/accounts/" + id + "/scans", body);
  }

  SourceServer receiver_;
  // http sources get 2 s to answer (10 by default), so that the slow and stalled sources fail quickly.
  ReputeProcess server_{dev_options({"--source-timeout", "2"})};
  HttpClient client_{server_.port()};
  Credentials auth_ = basic(server_.dev_key());
  std::string user_;
};

// --- sandbox -------------------------------------------------------------------------------------

TEST_F(ScansTest, ASandboxAccountHasItsReputationWithinASecond) {
  const auto created = Steady::now();
  const std::string id = create_account();
  while (reputations(id).empty() && Steady::now() - created < 3s) std::this_thread::sleep_for(10ms);
  EXPECT_LT(Steady::now() - created, 1s) << "the initial scan must start at once";
  ASSERT_EQ(reputations(id).size(), 1u);

  const json::value account = get("/v1/accounts/" + id);
  EXPECT_EQ(account.at("connection").at("status"), "connected");
  EXPECT_TRUE(account.at("scanned_at").is_string());
  const json::array emitted = events();
  ASSERT_EQ(emitted.size(), 1u);
  EXPECT_EQ(emitted[0].at("event"), "reputations.added");
  EXPECT_EQ(emitted[0].at("data").at("account"), json::value(id));
  EXPECT_EQ(emitted[0].at("data").at("reputation"), reputations(id)[0].at("id"));
}

TEST_F(ScansTest, PeriodicScanWithChangeProbabilityOneEmitsAnUpdate) {
  const std::string id = create_account({{"source", {{"type", "sandbox"}, {"change_probability", 1}}}});
  wait_for_first_scan(id);
  const json::value before = reputations(id).at(0);

  const Response response = request("POST", "/v1/accounts/" + id + "/periodic-scan");
  ASSERT_EQ(response.status, 202) << response.body;
  EXPECT_EQ(response.json().at("id"), json::value(id)) << "the answer is the account";
  EXPECT_TRUE(response.json().as_object().contains("connection"));
  wait_for_next_scan(id, response.json().at("scanned_at"));

  const json::array emitted = events();
  ASSERT_EQ(emitted.size(), 2u);
  EXPECT_EQ(emitted[0].at("event"), "reputations.updated");
  EXPECT_EQ(emitted[1].at("event"), "reputations.added");
  EXPECT_EQ(emitted[0].at("data").at("reputation"), before.at("id"));
  const json::value after = reputations(id).at(0);
  EXPECT_EQ(after.at("id"), before.at("id"));
  EXPECT_EQ(after.at("created_at"), before.at("created_at"));
  EXPECT_NE(after.at("updated_at"), before.at("updated_at"));
  EXPECT_GT(text(after.at("updated_at")), text(before.at("updated_at")));
}

TEST_F(ScansTest, PeriodicScanWithChangeProbabilityZeroEmitsNothing) {
  const std::string id = create_account({{"source", {{"type", "sandbox"}, {"change_probability", 0}}}});
  wait_for_first_scan(id);
  const json::value before = reputations(id).at(0);
  for (int i = 0; i < 3; ++i) scan_now(id);
  EXPECT_EQ(events().size(), 1u);
  EXPECT_EQ(reputations(id).at(0), before);
}

TEST_F(ScansTest, PeriodicScanOfAnUnknownAccountIs404) {
  EXPECT_EQ(request("POST", "/v1/accounts/00000000-0000-4000-8000-000000000000/periodic-scan").status, 404);
}

TEST_F(ScansTest, PeriodicScansRunEveryRefreshFrequency) {
  const std::string id =
      create_account({{"refresh_frequency", 1}, {"source", {{"type", "sandbox"}, {"change_probability", 1}}}});
  const auto deadline = Steady::now() + 4500ms;
  while (events().size() < 3 && Steady::now() < deadline) std::this_thread::sleep_for(50ms);
  const json::array emitted = events();
  ASSERT_GE(emitted.size(), 3u) << "one added and at least two updates in about three seconds";
  EXPECT_EQ(emitted.back().at("event"), "reputations.added");
  EXPECT_EQ(emitted[0].at("event"), "reputations.updated");
}

TEST_F(ScansTest, DisablingOngoingRefreshStopsPeriodicScans) {
  const std::string id = create_account({{"refresh_frequency", 1}});
  wait_for_first_scan(id);
  const Response patched = request("PATCH", "/v1/accounts/" + id, R"({"ongoing_refresh": "disabled"})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  std::this_thread::sleep_for(300ms);  // a scan already under way when the PATCH committed may still land
  const json::value scanned_at = get("/v1/accounts/" + id).at("scanned_at");
  std::this_thread::sleep_for(2200ms);
  EXPECT_EQ(get("/v1/accounts/" + id).at("scanned_at"), scanned_at);

  // Asking for a scan still works, and enabling again resumes the schedule.
  scan_now(id);
  ASSERT_EQ(request("PATCH", "/v1/accounts/" + id, R"({"ongoing_refresh": "enabled"})").status, 200);
  wait_for_next_scan(id, get("/v1/accounts/" + id).at("scanned_at"), 3000ms);
}

TEST_F(ScansTest, ARestartKeepsTheSchedule) {
  const std::string fast = create_account({{"refresh_frequency", 1}});
  const std::string hourly = create_account({{"refresh_frequency", 3600}});
  wait_for_first_scan(fast);
  const json::value hourly_scanned = wait_for_first_scan(hourly).at("scanned_at");

  server_.restart();
  const json::value fast_scanned = get("/v1/accounts/" + fast).at("scanned_at");
  wait_for_next_scan(fast, fast_scanned, 3000ms);
  EXPECT_EQ(get("/v1/accounts/" + hourly).at("scanned_at"), hourly_scanned) << "not due: not scanned";
  EXPECT_EQ(reputations(fast).size(), 1u);
}

// --- fan-out -------------------------------------------------------------------------------------

TEST_F(ScansTest, EachEventHasOneDeliveryPerEnabledMatchingSubscription) {
  subscribe({"*"});
  subscribe({"reputations.added"});
  subscribe({"reputations.updated"});
  subscribe({"*"}, false);
  const Credentials other = basic(server_.create_key("globex"));
  const Response foreign = client_.request(
      "POST", "/v1/webhooks",
      json::serialize(json::object{{"events", {"*"}}, {"name", "theirs"}, {"url", receiver_.url("/theirs")}}), other);
  ASSERT_EQ(foreign.status, 201) << foreign.body;

  const std::string id = create_account({{"source", {{"type", "sandbox"}, {"change_probability", 1}}}});
  wait_for_first_scan(id);
  scan_now(id);
  const json::array emitted = events();
  ASSERT_EQ(emitted.size(), 2u);
  EXPECT_EQ(emitted[1].at("event"), "reputations.added");
  EXPECT_EQ(deliveries_of(emitted[1]), 2) << "\"*\" and reputations.added";
  EXPECT_EQ(emitted[0].at("event"), "reputations.updated");
  EXPECT_EQ(deliveries_of(emitted[0]), 2) << "\"*\" and reputations.updated";
  EXPECT_TRUE(client_.request("GET", "/v1/events", "", other).json().at("results").as_array().empty());
}

// --- push ----------------------------------------------------------------------------------------

TEST_F(ScansTest, APushAccountWaitsForItsFirstPush) {
  const std::string id = create_account({{"source", {{"type", "push"}}}});
  std::this_thread::sleep_for(500ms);
  const json::value account = get("/v1/accounts/" + id);
  EXPECT_EQ(account.at("connection").at("status"), "connecting");
  EXPECT_TRUE(account.at("scanned_at").is_null());
  EXPECT_TRUE(reputations(id).empty());
  EXPECT_TRUE(events().empty());
}

TEST_F(ScansTest, PushTakesNumbersAndDecimalStringsAndStoresStrings) {
  const std::string id = create_account({{"source", {{"type", "push"}}}, {"employer", "doordash"}});
  const Response first = push(id, R"({"rating": 4.5, "acceptance_rate": 0.9, "ontime_rate": 1,
      "achievements": [{"count": 2, "label": "Top Dasher", "badge_url": "https://b.example/t.png",
                        "description": "Best", "points": 10}], "metadata": {"source": "scanner-7"}})");
  ASSERT_EQ(first.status, 200) << first.body;
  const json::value answer = first.json();
  EXPECT_EQ(answer.at("event"), "reputations.added");
  EXPECT_TRUE(answer.at("event_id").is_string());
  const json::value& reputation = answer.at("reputation");
  EXPECT_EQ(reputation.at("rating"), "4.5");
  EXPECT_EQ(reputation.at("acceptance_rate"), "0.9");
  EXPECT_EQ(reputation.at("ontime_rate"), "1");
  EXPECT_EQ(reputation.at("employer"), "doordash");
  EXPECT_EQ(reputation.at("achievements"),
            parse(R"([{"count": 2, "label": "Top Dasher", "badge_url": "https://b.example/t.png",
                       "description": "Best", "points": 10}])"));
  EXPECT_EQ(reputation.at("metadata"), parse(R"({"source": "scanner-7"})"));
  EXPECT_EQ(get("/v1/reputations/" + text(reputation.at("id"))), reputation);
  const json::value account = get("/v1/accounts/" + id);
  EXPECT_EQ(account.at("connection").at("status"), "connected");
  EXPECT_TRUE(account.at("scanned_at").is_string());

  // The same values spelled as decimal strings are nothing new.
  const Response same = push(id, R"({"rating": "4.50", "acceptance_rate": "0.90", "ontime_rate": "1.0",
      "achievements": [{"count": 2, "label": "Top Dasher", "badge_url": "https://b.example/t.png",
                        "description": "Best", "points": 10}], "metadata": {"source": "scanner-7"}})");
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_TRUE(same.json().at("event").is_null());
  EXPECT_TRUE(same.json().at("event_id").is_null());
  EXPECT_EQ(same.json().at("reputation"), reputation);
  ASSERT_EQ(events().size(), 1u);
  EXPECT_EQ(events()[0].at("id"), answer.at("event_id"));
}

TEST_F(ScansTest, AChangedPushIsOneUpdate) {
  const std::string id = create_account({{"source", {{"type", "push"}}}});
  ASSERT_EQ(push(id, R"({"rating": "4.9"})").status, 200);
  const Response changed = push(id, R"({"rating": "4.8", "ontime_rate": null})");
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(changed.json().at("event"), "reputations.updated");
  const json::value reputation = changed.json().at("reputation");
  EXPECT_EQ(reputation.at("rating"), "4.8");
  EXPECT_TRUE(reputation.at("acceptance_rate").is_null());
  EXPECT_TRUE(reputation.at("ontime_rate").is_null());
  EXPECT_EQ(reputation.at("achievements"), json::array{});
  EXPECT_EQ(reputation.at("metadata"), json::object{});
  EXPECT_NE(reputation.at("updated_at"), reputation.at("created_at"));
  const json::array emitted = events();
  ASSERT_EQ(emitted.size(), 2u);
  EXPECT_EQ(emitted[0].at("event"), "reputations.updated");
}

// Metadata is a JSON object: the same members in another order are the same reputation.
TEST_F(ScansTest, APushWhoseMetadataKeysComeInAnotherOrderIsNothingNew) {
  const std::string id = create_account({{"source", {{"type", "push"}}}});
  ASSERT_EQ(push(id, R"({"rating": 4, "metadata": {"city": "Lyon", "trips": 12}})").status, 200);
  const Response again = push(id, R"({"rating": 4, "metadata": {"trips": 12, "city": "Lyon"}})");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_TRUE(again.json().at("event").is_null()) << again.body;
  EXPECT_EQ(events().size(), 1u);
}

TEST_F(ScansTest, PushValidationErrorsAreKeyedAndChangeNothing) {
  const std::string id = create_account({{"source", {{"type", "push"}}}});
  ASSERT_EQ(push(id, R"({"rating": 4.9, "acceptance_rate": 0.5})").status, 200);
  const json::value before = reputations(id).at(0);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"rating": 5.5})", R"({"rating": ["Ensure this value is between 0 and 5."]})"},
      {R"({"rating": "9"})", R"({"rating": ["Ensure this value is between 0 and 5."]})"},
      {R"({"acceptance_rate": "1.2"})", R"({"acceptance_rate": ["Ensure this value is between 0 and 1."]})"},
      {R"({"ontime_rate": 2})", R"({"ontime_rate": ["Ensure this value is between 0 and 1."]})"},
      {R"({"ontime_rate": "abc"})", R"({"ontime_rate": ["A valid number is required."]})"},
      {R"({"rating": true})", R"({"rating": ["A valid number is required."]})"},
      {R"({"achievements": [{"count": -1}]})",
       R"({"achievements": ["Item 0: count must be a non-negative integer."]})"},
      {R"({"achievements": {}})", R"({"achievements": ["Expected a list of items."]})"},
      {R"({"metadata": "x"})", R"({"metadata": ["Expected a dictionary of items."]})"},
      {R"({"stars": 5})", R"({"stars": ["Unknown field."]})"},
      {R"({"rating": 6, "ontime_rate": -1, "extra": 0})", ""},
  };
  for (const auto& [body, expected] : cases) {
    SCOPED_TRACE(body);
    const Response response = push(id, body);
    EXPECT_EQ(response.status, 400) << response.body;
    if (!expected.empty()) {
      EXPECT_EQ(response.json(), parse(expected));
    } else {
      EXPECT_EQ(response.json().as_object().size(), 3u) << response.body;
    }
  }
  EXPECT_EQ(push(id, "[1]").status, 400);
  EXPECT_EQ(push(id, "{").status, 400);
  EXPECT_EQ(reputations(id).at(0), before);
  EXPECT_EQ(events().size(), 1u);
}

TEST_F(ScansTest, PushAndPeriodicScanRespectTheSourceType) {
  const std::string sandbox = create_account();
  const std::string pushed = create_account({{"source", {{"type", "push"}}}});
  const Response to_sandbox = push(sandbox, R"({"rating": 4})");
  EXPECT_EQ(to_sandbox.status, 409);
  EXPECT_EQ(to_sandbox.json(), (json::object{{"detail", kNotPush}}));
  const Response scan_push = request("POST", "/v1/accounts/" + pushed + "/periodic-scan");
  EXPECT_EQ(scan_push.status, 409);
  EXPECT_EQ(scan_push.json(), (json::object{{"detail", kPushOnly}}));
  EXPECT_EQ(push("00000000-0000-4000-8000-000000000000", R"({"rating": 4})").status, 404);
}

// --- http ----------------------------------------------------------------------------------------

class HttpSourceTest : public ScansTest {
 protected:
  // An http account reading source_ (after its first good scan unless told otherwise); its id.
  std::string create_http_account(json::object extra = {}) {
    extra["source"] = {{"type", "http"}, {"url", source_.url()}};
    return create_account(std::move(extra));
  }

  // Answers with behaviour, scans now, and expects the error it must cause while the reputation stays
  // (code null: any error code).
  void expect_failed_scan(const std::string& id, SourceServer::Behaviour behaviour, const char* code,
                          std::chrono::milliseconds timeout = 2000ms) {
    const json::value kept = reputations(id).at(0);
    const std::size_t events_before = events().size();
    source_.answer(behaviour);
    const json::value account = scan_now(id, timeout);
    EXPECT_EQ(account.at("connection").at("status"), "error");
    if (code) {
      EXPECT_EQ(account.at("connection").at("error_code"), code);
    }
    EXPECT_TRUE(account.at("connection").at("error_code").is_string());
    const json::value& message = account.at("connection").at("error_message");
    EXPECT_TRUE(message.is_string() && !message.as_string().empty()) << message;
    EXPECT_EQ(reputations(id).at(0), kept) << "the last good reputation stays";
    EXPECT_EQ(events().size(), events_before) << "a failed scan emits nothing";
  }

  // Answers well again and expects the next scan to connect without a new event.
  void expect_recovery(const std::string& id) {
    const std::size_t events_before = events().size();
    source_.answer(SourceServer::Behaviour::kGood);
    const json::value account = scan_now(id);
    EXPECT_EQ(account.at("connection").at("status"), "connected");
    EXPECT_TRUE(account.at("connection").at("error_code").is_null());
    EXPECT_TRUE(account.at("connection").at("error_message").is_null());
    EXPECT_EQ(events().size(), events_before) << "the same answer as before the failure is nothing new";
  }

  void SetUp() override { source_.set_body(kSourceAnswer); }

  SourceServer source_;
};

TEST_F(HttpSourceTest, AGoodAnswerConnectsAndAddsTheReputation) {
  const std::string id = create_http_account();
  const json::value account = wait_for_first_scan(id);
  EXPECT_EQ(account.at("connection").at("status"), "connected");
  EXPECT_EQ(account.at("source"), (json::object{{"type", "http"}, {"url", source_.url()}}));
  const json::value reputation = reputations(id).at(0);
  EXPECT_EQ(reputation.at("rating"), "4.75");
  EXPECT_EQ(reputation.at("acceptance_rate"), "0.88");
  EXPECT_EQ(reputation.at("ontime_rate"), "0.9");
  EXPECT_EQ(reputation.at("metadata"), parse(R"({"via": "source"})"));
  EXPECT_EQ(reputation.at("achievements").at(0).at("label"), "Pro");
  EXPECT_EQ(events().size(), 1u);
  EXPECT_EQ(events()[0].at("event"), "reputations.added");
  const std::string head = source_.last_request_head();
  EXPECT_TRUE(head.starts_with("GET /reputation HTTP/1.1\r\n")) << head;
  EXPECT_NE(head.find("Accept: application/json"), std::string::npos) << head;
}

TEST_F(HttpSourceTest, A500IsAConnectionErrorThatKeepsTheReputationThenRecovers) {
  const std::string id = create_http_account();
  wait_for_first_scan(id);
  expect_failed_scan(id, SourceServer::Behaviour::kServerError, "source_http_status");
  EXPECT_NE(text(get("/v1/accounts/" + id).at("connection").at("error_message")).find("500"), std::string::npos);
  expect_recovery(id);

  source_.set_body(R"({"rating": "4.10"})");
  scan_now(id);
  ASSERT_EQ(events().size(), 2u);
  EXPECT_EQ(events()[0].at("event"), "reputations.updated");
  EXPECT_EQ(reputations(id).at(0).at("rating"), "4.1");
}

TEST_F(HttpSourceTest, MalformedAndOversizedAnswersAreConnectionErrors) {
  const std::string id = create_http_account();
  wait_for_first_scan(id);
  expect_failed_scan(id, SourceServer::Behaviour::kMalformed, "source_malformed");
  expect_recovery(id);
  expect_failed_scan(id, SourceServer::Behaviour::kOversized, "source_too_large");
  expect_recovery(id);
}

TEST_F(HttpSourceTest, AnAnswerThatBreaksTheRulesIsMalformed) {
  source_.set_body(R"({"rating": 7, "reviews": 3})");
  const std::string id = create_http_account();
  const json::value account = wait_for_first_scan(id);
  EXPECT_EQ(account.at("connection").at("status"), "error");
  EXPECT_EQ(account.at("connection").at("error_code"), "source_malformed");
  const std::string message = text(account.at("connection").at("error_message"));
  EXPECT_NE(message.find("rating"), std::string::npos) << message;
  EXPECT_NE(message.find("reviews"), std::string::npos) << message;
  EXPECT_TRUE(reputations(id).empty());
  EXPECT_TRUE(events().empty());
}

TEST_F(HttpSourceTest, ASlowSourceTimesOutThenRecovers) {
  const std::string id = create_http_account();
  wait_for_first_scan(id);
  const auto started = Steady::now();
  expect_failed_scan(id, SourceServer::Behaviour::kSlow, "source_unreachable", 20s);
  EXPECT_GT(Steady::now() - started, 1900ms) << "the source had its timeout (--source-timeout 2)";
  EXPECT_LT(Steady::now() - started, 8s) << "and no more";
  const std::string message = text(get("/v1/accounts/" + id).at("connection").at("error_message"));
  EXPECT_NE(message.find("timed out"), std::string::npos) << message;
  expect_recovery(id);
}

// A 200 whose body never arrives in full is a failed read, not an answer.
TEST_F(HttpSourceTest, AnAnswerWhoseBodyStallsIsAFailure) {
  const std::string id = create_http_account();
  wait_for_first_scan(id);
  source_.set_body(R"({"rating": "1.5"})");
  expect_failed_scan(id, SourceServer::Behaviour::kStalledBody, nullptr, 20s);
}

TEST_F(HttpSourceTest, AFailingFirstScanAddsNothingAndTheNextPeriodRecovers) {
  source_.answer(SourceServer::Behaviour::kServerError);
  const std::string id = create_http_account({{"refresh_frequency", 1}});
  const json::value account = wait_for_first_scan(id);
  EXPECT_EQ(account.at("connection").at("status"), "error");
  EXPECT_EQ(account.at("connection").at("error_code"), "source_http_status");
  EXPECT_TRUE(reputations(id).empty());
  EXPECT_TRUE(events().empty());

  // No request for a scan: the next period tries again by itself.
  source_.answer(SourceServer::Behaviour::kGood);
  wait_for_account(
      id, [](const json::value& a) { return a.at("connection").at("status") == "connected"; }, 3000ms);
  ASSERT_EQ(reputations(id).size(), 1u);
  ASSERT_EQ(events().size(), 1u);
  EXPECT_EQ(events()[0].at("event"), "reputations.added");
}

}  // namespace
}  // namespace repute::itest
