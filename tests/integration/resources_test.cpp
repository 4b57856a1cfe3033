// Users, accounts, reputations and events over HTTP against the real binary: create, read, list, change,
// delete, cascades, field-keyed validation errors, the Argyle v1 shapes, and isolation between tenants.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "integration/harness/http_client.hpp"
#include "integration/harness/repute_process.hpp"

namespace repute::itest {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

const std::regex kUuid("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
const std::regex kTimestamp(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$)");
const std::regex kDecimal(R"(^\d+(\.\d*[1-9])?$)");

json::value parse(std::string_view text) { return json::parse(text); }
std::string text(const json::value& value) { return std::string(value.as_string()); }

std::set<std::string> keys_of(const json::value& value) {
  std::set<std::string> keys;
  for (const auto& item : value.as_object()) keys.insert(std::string(item.key()));
  return keys;
}

std::vector<std::string> ids_of(const json::value& page) {
  std::vector<std::string> ids;
  for (const json::value& item : page.at("results").as_array()) ids.push_back(text(item.at("id")));
  return ids;
}

bool is_timestamp(const json::value& value) { return value.is_string() && std::regex_match(text(value), kTimestamp); }

class ResourcesTest : public ::testing::Test {
 protected:
  Response request(const std::string& method, const std::string& path, const std::string& body = "") {
    return client_.request(method, path, body, auth_);
  }
  Response get(const std::string& path) { return request("GET", path); }
  Response post(const std::string& path, const json::value& body) {
    return request("POST", path, json::serialize(body));
  }

  // Creates a user (201 expected) and returns its object.
  json::object create_user(const json::object& body = {}) {
    const Response response = post("/v1/users", body);
    if (response.status != 201) throw std::runtime_error("user create failed: " + response.body);
    return response.json().as_object();
  }

  // Creates an account of user (201 expected) and returns its object.
  json::object create_account(const std::string& user, json::object extra = {}) {
    extra["user"] = user;
    if (!extra.contains("employer")) extra["employer"] = "uber";
    const Response response = post("/v1/accounts", extra);
    if (response.status != 201) throw std::runtime_error("account create failed: " + response.body);
    return response.json().as_object();
  }

  // Polls the account's reputation list until it has one (sandbox scans are quick); its object.
  json::object wait_for_reputation(const std::string& account, std::chrono::milliseconds timeout = 2000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const json::value page = get("/v1/reputations?account=" + account).json();
      if (!page.at("results").as_array().empty()) return page.at("results").at(0).as_object();
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("no reputation for " + account);
      std::this_thread::sleep_for(20ms);
    }
  }

  // Sends each body to method path; each must be a 400 with exactly the expected field errors.
  void expect_refused(const std::string& method, const std::string& path,
                      const std::vector<std::pair<std::string, std::string>>& cases) {
    for (const auto& [body, expected] : cases) {
      SCOPED_TRACE(body);
      const Response response = request(method, path, body);
      EXPECT_EQ(response.status, 400) << response.body;
      EXPECT_EQ(response.header("Content-Type").value_or(""), "application/json");
      EXPECT_EQ(response.json(), parse(expected)) << response.body;
    }
  }

  ReputeProcess server_;
  HttpClient client_{server_.port()};
  Credentials auth_ = basic(server_.dev_key());
};

// --- users ---------------------------------------------------------------------------------------

TEST_F(ResourcesTest, UserCreateAnswers201WithTheArgyleFields) {
  const Response response =
      post("/v1/users", json::object{{"external_id", "worker-17"}, {"metadata", json::object{{"team", "north"}}}});
  ASSERT_EQ(response.status, 201) << response.body;
  const json::value user = response.json();
  EXPECT_EQ(keys_of(user), (std::set<std::string>{"id", "external_id", "metadata", "created_at"}));
  EXPECT_TRUE(std::regex_match(text(user.at("id")), kUuid));
  EXPECT_EQ(user.at("external_id"), "worker-17");
  EXPECT_EQ(user.at("metadata"), parse(R"({"team": "north"})"));
  EXPECT_TRUE(is_timestamp(user.at("created_at")));
  EXPECT_EQ(get("/v1/users/" + text(user.at("id"))).json(), user);
}

TEST_F(ResourcesTest, UserFieldsAreOptional) {
  const json::object user = create_user();
  EXPECT_TRUE(user.at("external_id").is_null());
  EXPECT_EQ(user.at("metadata"), json::object{});
}

TEST_F(ResourcesTest, UserListIsNewestFirstAndPaged) {
  const std::string a = text(create_user().at("id"));
  const std::string b = text(create_user().at("id"));
  const std::string c = text(create_user().at("id"));
  EXPECT_EQ(ids_of(get("/v1/users").json()), (std::vector<std::string>{c, b, a}));
  const json::value first = get("/v1/users?limit=2").json();
  EXPECT_EQ(ids_of(first), (std::vector<std::string>{c, b}));
  ASSERT_TRUE(first.at("next").is_string());
  const std::string next = text(first.at("next"));
  EXPECT_EQ(ids_of(get(next.substr(next.find("/v1/"))).json()), std::vector<std::string>{a});
}

TEST_F(ResourcesTest, UserValidationErrorsAreKeyedByField) {
  expect_refused("POST", "/v1/users",
                 {{R"({"external_id": 5})", R"({"external_id": ["Not a valid string."]})"},
                  {R"({"metadata": [1]})", R"({"metadata": ["Expected a dictionary of items."]})"},
                  {R"({"name": "x"})", R"({"name": ["Unknown field."]})"},
                  {R"({"external_id": ")" + std::string(256, 'e') + R"("})",
                   R"({"external_id": ["Ensure this field has no more than 255 characters."]})"}});
  EXPECT_EQ(get("/v1/users").json().at("results").as_array().size(), 0u) << "nothing refused was written";
}

TEST_F(ResourcesTest, UserDeleteIs204ThenTheUserIsGone) {
  const std::string id = text(create_user().at("id"));
  EXPECT_EQ(request("DELETE", "/v1/users/" + id).status, 204);
  EXPECT_EQ(get("/v1/users/" + id).status, 404);
  EXPECT_EQ(request("DELETE", "/v1/users/" + id).status, 404);
  EXPECT_EQ(get("/v1/users/not-a-uuid").status, 404);
}

TEST_F(ResourcesTest, DeletingAUserDeletesItsAccountsAndReputations) {
  const std::string user = text(create_user().at("id"));
  const std::string keep_user = text(create_user().at("id"));
  const std::string first = text(create_account(user).at("id"));
  const std::string second = text(create_account(user, {{"employer", "doordash"}}).at("id"));
  const std::string kept = text(create_account(keep_user).at("id"));
  const std::string first_reputation = text(wait_for_reputation(first).at("id"));
  const std::string second_reputation = text(wait_for_reputation(second).at("id"));
  wait_for_reputation(kept);

  ASSERT_EQ(request("DELETE", "/v1/users/" + user).status, 204);
  for (const std::string& path : {"/v1/accounts/" + first, "/v1/accounts/" + second,
                                  "/v1/reputations/" + first_reputation, "/v1/reputations/" + second_reputation}) {
    EXPECT_EQ(get(path).status, 404) << path;
  }
  EXPECT_TRUE(get("/v1/accounts?user=" + user).json().at("results").as_array().empty());
  EXPECT_TRUE(get("/v1/reputations?user=" + user).json().at("results").as_array().empty());
  EXPECT_EQ(ids_of(get("/v1/accounts").json()), std::vector<std::string>{kept}) << "the other user keeps its own";
  EXPECT_EQ(get("/v1/reputations").json().at("results").as_array().size(), 1u);
}

// --- accounts ------------------------------------------------------------------------------------

TEST_F(ResourcesTest, AccountCreateAnswers201WithDefaultsAndEveryField) {
  const std::string user = text(create_user().at("id"));
  const Response response = post("/v1/accounts", json::object{{"user", user}, {"employer", "uber"}});
  ASSERT_EQ(response.status, 201) << response.body;
  const json::value account = response.json();
  EXPECT_EQ(keys_of(account),
            (std::set<std::string>{"id", "user", "employer", "source", "created_at", "updated_at", "scanned_at",
                                   "connection", "ongoing_refresh", "refresh_frequency"}));
  EXPECT_TRUE(std::regex_match(text(account.at("id")), kUuid));
  EXPECT_EQ(account.at("user"), json::value(user));
  EXPECT_EQ(account.at("employer"), "uber");
  EXPECT_EQ(account.at("source"), parse(R"({"type": "sandbox", "change_probability": 0.3})"));
  EXPECT_EQ(account.at("refresh_frequency"), 21600);
  EXPECT_EQ(account.at("ongoing_refresh"), parse(R"({"status": "enabled"})"));
  EXPECT_TRUE(account.at("scanned_at").is_null());
  EXPECT_EQ(keys_of(account.at("connection")),
            (std::set<std::string>{"status", "error_code", "error_message", "updated_at"}));
  EXPECT_EQ(account.at("connection").at("status"), "connecting");
  EXPECT_TRUE(account.at("connection").at("error_code").is_null());
  EXPECT_TRUE(account.at("connection").at("error_message").is_null());
  EXPECT_TRUE(is_timestamp(account.at("created_at")));
  EXPECT_TRUE(is_timestamp(account.at("updated_at")));
  EXPECT_TRUE(is_timestamp(account.at("connection").at("updated_at")));
}

TEST_F(ResourcesTest, AccountCreateTakesEachSourceAndAFrequency) {
  const std::string user = text(create_user().at("id"));
  EXPECT_EQ(create_account(user, {{"source", parse(R"({"type": "sandbox", "change_probability": 1})")}}).at("source"),
            parse(R"({"type": "sandbox", "change_probability": 1.0})"));
  EXPECT_EQ(create_account(user, {{"source", parse(R"({"type": "push"})")}}).at("source"),
            parse(R"({"type": "push"})"));
  EXPECT_EQ(
      create_account(user, {{"source", parse(R"({"type": "http", "url": "http://127.0.0.1:9/r"})")}}).at("source"),
      parse(R"({"type": "http", "url": "http://127.0.0.1:9/r"})"));
  EXPECT_EQ(create_account(user, {{"refresh_frequency", 1}}).at("refresh_frequency"), 1);
  EXPECT_EQ(create_account(user, {{"refresh_frequency", 2592000}}).at("refresh_frequency"), 2592000);
}

TEST_F(ResourcesTest, AccountGetListAndFilterByUser) {
  const std::string alice = text(create_user().at("id"));
  const std::string bob = text(create_user().at("id"));
  const json::object a1 = create_account(alice);
  const json::object b1 = create_account(bob, {{"employer", "lyft"}});
  const json::object a2 = create_account(alice, {{"employer", "doordash"}});

  EXPECT_EQ(ids_of(get("/v1/accounts").json()),
            (std::vector<std::string>{text(a2.at("id")), text(b1.at("id")), text(a1.at("id"))}));
  EXPECT_EQ(ids_of(get("/v1/accounts?user=" + alice).json()),
            (std::vector<std::string>{text(a2.at("id")), text(a1.at("id"))}));
  EXPECT_EQ(ids_of(get("/v1/accounts?user=" + bob).json()), std::vector<std::string>{text(b1.at("id"))});
  const Response one = get("/v1/accounts/" + text(b1.at("id")));
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.json().at("employer"), "lyft");
  EXPECT_EQ(one.json().at("user"), json::value(bob));

  const Response bad_filter = get("/v1/accounts?user=nobody");
  EXPECT_EQ(bad_filter.status, 400);
  EXPECT_TRUE(bad_filter.json().as_object().contains("user")) << bad_filter.body;
}

TEST_F(ResourcesTest, AccountPatchChangesOngoingRefreshAndFrequency) {
  const std::string user = text(create_user().at("id"));
  const std::string id = text(create_account(user).at("id"));
  wait_for_reputation(id);

  Response response =
      request("PATCH", "/v1/accounts/" + id, R"({"ongoing_refresh": "disabled", "refresh_frequency": 60})");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.json().at("ongoing_refresh"), parse(R"({"status": "disabled"})"));
  EXPECT_EQ(response.json().at("refresh_frequency"), 60);
  EXPECT_EQ(get("/v1/accounts/" + id).json(), response.json());

  response = request("PATCH", "/v1/accounts/" + id, R"({"ongoing_refresh": {"status": "enabled"}})");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.json().at("ongoing_refresh"), parse(R"({"status": "enabled"})"));
  EXPECT_EQ(response.json().at("refresh_frequency"), 60);
  EXPECT_EQ(
      request("PATCH", "/v1/accounts/00000000-0000-4000-8000-000000000000", R"({"refresh_frequency": 60})").status,
      404);
}

TEST_F(ResourcesTest, AccountPatchRefusesWhatCannotChange) {
  const std::string user = text(create_user().at("id"));
  const std::string id = text(create_account(user).at("id"));
  expect_refused(
      "PATCH", "/v1/accounts/" + id,
      {{R"({"employer": "lyft"})", R"({"employer": ["This field cannot be changed."]})"},
       {R"({"user": ")" + user + R"("})", R"({"user": ["This field cannot be changed."]})"},
       {R"({"source": {"type": "push"}})", R"({"source": ["This field cannot be changed."]})"},
       {R"({"ongoing_refresh": "paused"})",
        R"({"ongoing_refresh": ["Must be \"enabled\" or \"disabled\" (or {\"status\": ...})."]})"},
       {R"({"refresh_frequency": 0})",
        R"({"refresh_frequency": ["Ensure this value is an integer number of seconds between 1 and 2592000."]})"},
       {R"({"color": "red"})", R"({"color": ["Unknown field."]})"}});
  const json::value unchanged = get("/v1/accounts/" + id).json();
  EXPECT_EQ(unchanged.at("employer"), "uber");
  EXPECT_EQ(unchanged.at("refresh_frequency"), 21600);
}

TEST_F(ResourcesTest, AccountCreateValidationErrorsAreKeyedByField) {
  const std::string user = text(create_user().at("id"));
  const std::string u = R"("user": ")" + user + R"(", )";
  const std::string frequency_error =
      R"({"refresh_frequency": ["Ensure this value is an integer number of seconds between 1 and 2592000."]})";
  expect_refused(
      "POST", "/v1/accounts",
      {{R"({})", R"({"user": ["This field is required."], "employer": ["This field is required."]})"},
       {R"({"user": "00000000-0000-4000-8000-000000000000", "employer": "uber"})",
        R"({"user": ["Invalid pk \"00000000-0000-4000-8000-000000000000\" - object does not exist."]})"},
       {R"({"user": "someone", "employer": "uber"})", R"({"user": ["Must be a valid UUID."]})"},
       {"{" + u + R"("employer": "  "})", R"({"employer": ["This field may not be blank."]})"},
       {"{" + u + R"("employer": 7})", R"({"employer": ["Not a valid string."]})"},
       {"{" + u + R"("employer": "uber", "source": {"type": "scraper"}})",
        R"({"source": ["type must be one of \"sandbox\", \"http\", \"push\"."]})"},
       {"{" + u + R"("employer": "uber", "source": "sandbox"})", R"({"source": ["Expected a dictionary of items."]})"},
       {"{" + u + R"("employer": "uber", "source": {"type": "http"}})",
        R"({"source": ["url: This field is required."]})"},
       {"{" + u + R"("employer": "uber", "source": {"type": "sandbox", "change_probability": 1.5}})",
        R"({"source": ["change_probability: Ensure this value is a number between 0 and 1."]})"},
       {"{" + u + R"("employer": "uber", "source": {"type": "sandbox", "change_probability": -0.1}})",
        R"({"source": ["change_probability: Ensure this value is a number between 0 and 1."]})"},
       {"{" + u + R"("employer": "uber", "source": {"type": "push", "url": "http://127.0.0.1/"}})",
        R"({"source": ["Unknown key \"url\" for this source type."]})"},
       {"{" + u + R"("employer": "uber", "refresh_frequency": 0})", frequency_error},
       {"{" + u + R"("employer": "uber", "refresh_frequency": 2592001})", frequency_error},
       {"{" + u + R"("employer": "uber", "refresh_frequency": "60"})", frequency_error},
       {"{" + u + R"("employer": "uber", "refresh_frequency": 1.5})", frequency_error},
       {"{" + u + R"("employer": "uber", "scan_now": true})", R"({"scan_now": ["Unknown field."]})"}});
  EXPECT_TRUE(get("/v1/accounts").json().at("results").as_array().empty()) << "nothing refused was written";
}

TEST_F(ResourcesTest, HttpSourceUrlsFollowTheAddressRules) {
  const std::string user = text(create_user().at("id"));
  for (const char* url : {"http://10.0.0.8/r", "http://169.254.169.254/latest", "http://192.168.1.1/"}) {
    const Response response =
        post("/v1/accounts",
             json::object{{"user", user}, {"employer", "uber"}, {"source", {{"type", "http"}, {"url", url}}}});
    EXPECT_EQ(response.status, 400) << url << " " << response.body;
    EXPECT_EQ(keys_of(response.json()), std::set<std::string>{"source"}) << response.body;
  }
  const Response bad_scheme = post(
      "/v1/accounts",
      json::object{{"user", user}, {"employer", "uber"}, {"source", {{"type", "http"}, {"url", "ftp://x.example/"}}}});
  EXPECT_EQ(bad_scheme.status, 400);
}

TEST_F(ResourcesTest, AccountDeleteIs204AndTakesItsReputation) {
  const std::string user = text(create_user().at("id"));
  const std::string id = text(create_account(user).at("id"));
  const std::string reputation = text(wait_for_reputation(id).at("id"));
  EXPECT_EQ(request("DELETE", "/v1/accounts/" + id).status, 204);
  EXPECT_EQ(get("/v1/accounts/" + id).status, 404);
  EXPECT_EQ(get("/v1/reputations/" + reputation).status, 404);
  EXPECT_EQ(request("DELETE", "/v1/accounts/" + id).status, 404);
  EXPECT_EQ(get("/v1/users/" + user).status, 200) << "the user stays";
}

// --- reputations and events ----------------------------------------------------------------------

TEST_F(ResourcesTest, ReputationHasTheArgyleV1ShapeWithDecimalStrings) {
  const std::string user = text(create_user().at("id"));
  const std::string account = text(create_account(user, {{"employer", "doordash"}}).at("id"));
  const json::object reputation = wait_for_reputation(account);
  for (const char* field : {"id", "account", "employer", "rating", "acceptance_rate", "ontime_rate", "achievements",
                            "created_at", "updated_at", "metadata"}) {
    EXPECT_TRUE(reputation.contains(field)) << field;
  }
  EXPECT_EQ(reputation.at("account"), json::value(account));
  EXPECT_EQ(reputation.at("employer"), "doordash");
  for (const char* field : {"rating", "acceptance_rate", "ontime_rate"}) {
    ASSERT_TRUE(reputation.at(field).is_string()) << field << " must be a decimal string: " << reputation.at(field);
    EXPECT_TRUE(std::regex_match(text(reputation.at(field)), kDecimal)) << reputation.at(field);
  }
  EXPECT_LE(std::stod(text(reputation.at("rating"))), 5.0);
  EXPECT_LE(std::stod(text(reputation.at("acceptance_rate"))), 1.0);
  EXPECT_LE(std::stod(text(reputation.at("ontime_rate"))), 1.0);
  ASSERT_FALSE(reputation.at("achievements").as_array().empty());
  for (const json::value& achievement : reputation.at("achievements").as_array()) {
    EXPECT_EQ(keys_of(achievement), (std::set<std::string>{"count", "label", "badge_url", "description", "points"}));
    EXPECT_TRUE(achievement.at("count").is_int64());
    EXPECT_TRUE(achievement.at("points").is_int64());
  }
  EXPECT_TRUE(reputation.at("metadata").is_object());
  EXPECT_TRUE(is_timestamp(reputation.at("created_at")));
  EXPECT_EQ(reputation.at("updated_at"), reputation.at("created_at"));
  EXPECT_EQ(get("/v1/reputations/" + text(reputation.at("id"))).json(), json::value(reputation));
}

TEST_F(ResourcesTest, ReputationsFilterByAccountAndUser) {
  const std::string alice = text(create_user().at("id"));
  const std::string bob = text(create_user().at("id"));
  const std::string a = text(create_account(alice).at("id"));
  const std::string b = text(create_account(bob).at("id"));
  const std::string ra = text(wait_for_reputation(a).at("id"));
  const std::string rb = text(wait_for_reputation(b).at("id"));
  EXPECT_EQ(ids_of(get("/v1/reputations?user=" + alice).json()), std::vector<std::string>{ra});
  EXPECT_EQ(ids_of(get("/v1/reputations?account=" + b).json()), std::vector<std::string>{rb});
  EXPECT_TRUE(ids_of(get("/v1/reputations?account=" + b + "&user=" + alice).json()).empty());
  EXPECT_EQ(get("/v1/reputations").json().at("results").as_array().size(), 2u);
  EXPECT_EQ(get("/v1/reputations?account=x").status, 400);
}

TEST_F(ResourcesTest, EventsHaveTheirDataAndDeliveryCounts) {
  const std::string user = text(create_user().at("id"));
  const std::string account = text(create_account(user).at("id"));
  const std::string reputation = text(wait_for_reputation(account).at("id"));
  const json::value page = get("/v1/events").json();
  ASSERT_EQ(page.at("results").as_array().size(), 1u) << page;
  const json::value& event = page.at("results").at(0);
  EXPECT_EQ(keys_of(event), (std::set<std::string>{"id", "event", "created_at", "data", "deliveries"}));
  EXPECT_TRUE(std::regex_match(text(event.at("id")), kUuid));
  EXPECT_EQ(event.at("event"), "reputations.added");
  EXPECT_TRUE(is_timestamp(event.at("created_at")));
  EXPECT_EQ(event.at("data"), (json::object{{"account", account}, {"user", user}, {"reputation", reputation}}));
  EXPECT_EQ(event.at("deliveries"), parse(R"({"pending": 0, "delivered": 0, "failed": 0})")) << "no subscriptions";
  // One event is the list's item with the delivery it made for each subscription (none here).
  json::object one = get("/v1/events/" + text(event.at("id"))).json().as_object();
  EXPECT_EQ(one.at("subscriptions"), json::array{});
  one.erase("subscriptions");
  EXPECT_EQ(one, event);
  EXPECT_EQ(get("/v1/events/00000000-0000-4000-8000-000000000000").status, 404);
}

// --- tenants -------------------------------------------------------------------------------------

TEST_F(ResourcesTest, AnotherTenantCannotSeeOrTouchUsersAccountsReputationsOrEvents) {
  const std::string user = text(create_user().at("id"));
  const std::string account = text(create_account(user).at("id"));
  const std::string reputation = text(wait_for_reputation(account).at("id"));
  const std::string event = text(get("/v1/events").json().at("results").at(0).at("id"));
  const Credentials other = basic(server_.create_key("globex"));
  auto as_other = [&](const std::string& method, const std::string& path, const std::string& body = "") {
    return client_.request(method, path, body, other);
  };

  for (const char* list : {"/v1/users", "/v1/accounts", "/v1/reputations", "/v1/events"}) {
    const Response response = as_other("GET", list);
    ASSERT_EQ(response.status, 200) << list;
    EXPECT_EQ(response.json(), parse(R"({"next": null, "previous": null, "results": []})")) << list;
  }
  EXPECT_TRUE(as_other("GET", "/v1/accounts?user=" + user).json().at("results").as_array().empty());
  EXPECT_TRUE(as_other("GET", "/v1/reputations?account=" + account).json().at("results").as_array().empty());
  for (const Response& response :
       {as_other("GET", "/v1/users/" + user), as_other("GET", "/v1/accounts/" + account),
        as_other("GET", "/v1/reputations/" + reputation), as_other("GET", "/v1/events/" + event),
        as_other("PATCH", "/v1/accounts/" + account, R"({"ongoing_refresh": "disabled"})"),
        as_other("POST", "/v1/accounts/" + account + "/periodic-scan"),
        as_other("POST", "/v1/accounts/" + account + "/scans", R"({"rating": 1})"),
        as_other("DELETE", "/v1/accounts/" + account), as_other("DELETE", "/v1/users/" + user)}) {
    EXPECT_EQ(response.status, 404) << response.body;
    EXPECT_EQ(response.json(), parse(R"({"detail": "Not found."})"));
  }
  // Another tenant's user cannot own this tenant's new account, nor the other way round.
  const Response borrowed =
      as_other("POST", "/v1/accounts", json::serialize(json::object{{"user", user}, {"employer", "uber"}}));
  EXPECT_EQ(borrowed.status, 400);
  EXPECT_EQ(keys_of(borrowed.json()), std::set<std::string>{"user"});

  // Everything is still there for its owner.
  EXPECT_EQ(get("/v1/users/" + user).status, 200);
  EXPECT_EQ(get("/v1/accounts/" + account).json().at("ongoing_refresh"), parse(R"({"status": "enabled"})"));
  EXPECT_EQ(get("/v1/reputations/" + reputation).status, 200);
  EXPECT_EQ(get("/v1/events/" + event).status, 200);
}

}  // namespace
}  // namespace repute::itest
