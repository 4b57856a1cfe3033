// The webhook subscription API over HTTP against the real binary: create, read, list, change,
// delete; validation; the SSRF rules for literal addresses; auth and tenants; pagination.
// Nothing here makes the server contact a subscriber: it only validates and stores.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
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

const std::regex kUuid("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
const std::regex kTimestamp(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$)");

json::value parse(std::string_view text) { return json::parse(text); }

// A body POST /v1/webhooks accepts.
json::object valid_webhook(const std::string& name = "orders") {
  return {{"events", json::array{"reputations.added"}}, {"name", name}, {"url", "https://hooks.example.com/repute"}};
}

json::object with(json::object body, const std::string& field, json::value value) {
  body[field] = std::move(value);
  return body;
}

json::object with(json::object body, const std::string& field, const std::string& value) {
  return with(std::move(body), field, json::value(json::string(value)));
}

json::object with(json::object body, const std::string& field, const char* value) {
  return with(std::move(body), field, json::value(json::string(value)));
}

json::object without(json::object body, const std::string& field) {
  body.erase(field);
  return body;
}

std::string text(const json::value& value) { return std::string(value.as_string()); }

// A request body that must be refused, and the exact error body expected.
struct Refusal {
  std::string label;
  std::string body;
  std::string expected;
};

// The path and query of an absolute URL the server put in a "next"/"previous" link.
std::string path_of(const std::string& url) {
  const std::size_t scheme_end = url.find("://");
  return url.substr(url.find('/', scheme_end + 3));
}

// A server started with --dev, its key, and a keep-alive client.
class WebhooksApiTest : public ::testing::Test {
 protected:
  Response post(const json::value& body, const std::optional<Credentials>& credentials) {
    return client_.request("POST", "/v1/webhooks", json::serialize(body), credentials);
  }
  Response post(const json::value& body) { return post(body, auth_); }
  Response get(const std::string& path) { return client_.request("GET", path, "", auth_); }
  Response patch(const std::string& id, const json::value& body) {
    return client_.request("PATCH", "/v1/webhooks/" + id, json::serialize(body), auth_);
  }
  Response remove(const std::string& id) { return client_.request("DELETE", "/v1/webhooks/" + id, "", auth_); }

  // Creates a webhook and returns the object the server answered.
  json::object create(const json::object& body = valid_webhook()) {
    const Response response = post(body);
    if (response.status != 201)
      throw std::runtime_error("create failed: " + std::to_string(response.status) + " " + response.body);
    return response.json().as_object();
  }

  // Sends each refusal with method to path; each must get 400 and exactly the expected body.
  void expect_refusals(const std::string& method, const std::string& path, const std::vector<Refusal>& refusals) {
    for (const Refusal& refusal : refusals) {
      SCOPED_TRACE(refusal.label + ": " + refusal.body);
      const Response response = client_.request(method, path, refusal.body, auth_);
      EXPECT_EQ(response.status, 400) << response.body;
      EXPECT_EQ(response.header("Content-Type").value_or(""), "application/json");
      EXPECT_EQ(response.json(), parse(refusal.expected));
    }
  }

  ReputeProcess server_;
  HttpClient client_{server_.port()};
  Credentials auth_ = basic(server_.dev_key());
};

// --- create, read, list, change, delete ---------------------------------------------------------

TEST_F(WebhooksApiTest, CreateAnswers201WithEveryField) {
  const json::object body = {{"events", json::array{"reputations.added", "reputations.updated"}},
                             {"name", "Reputation feed"},
                             {"url", "https://hooks.example.com/argyle?x=1"},
                             {"secret", "whsec_c2VjcmV0LXNlY3JldA=="},
                             {"config", json::object{{"include_resource", true}}}};
  const Response response = post(body);
  ASSERT_EQ(response.status, 201) << response.body;
  EXPECT_EQ(response.header("Content-Type").value_or(""), "application/json");
  const json::object created = response.json().as_object();

  std::set<std::string> keys;
  for (const auto& item : created) keys.insert(std::string(item.key()));
  EXPECT_EQ(keys,
            (std::set<std::string>{"id", "events", "name", "url", "secret", "config", "enabled", "disabled_reason",
                                   "last_sent_at", "previous_secret_expires_at", "created_at", "updated_at"}));
  EXPECT_TRUE(std::regex_match(text(created.at("id")), kUuid)) << created.at("id");
  EXPECT_EQ(created.at("events"), parse(R"(["reputations.added", "reputations.updated"])"));
  EXPECT_EQ(created.at("name"), "Reputation feed");
  EXPECT_EQ(created.at("url"), "https://hooks.example.com/argyle?x=1");
  EXPECT_EQ(created.at("secret"), "whsec_c2VjcmV0LXNlY3JldA==");
  EXPECT_EQ(created.at("config"), parse(R"({"include_resource": true})"));
  EXPECT_EQ(created.at("enabled"), true);
  EXPECT_TRUE(created.at("disabled_reason").is_null());
  EXPECT_TRUE(created.at("last_sent_at").is_null());
  EXPECT_TRUE(std::regex_match(text(created.at("created_at")), kTimestamp)) << created.at("created_at");
  EXPECT_EQ(created.at("updated_at"), created.at("created_at"));
}

TEST_F(WebhooksApiTest, CreateWithoutOptionalFieldsHasNoSecretAndNoResource) {
  const json::object created = create();
  EXPECT_TRUE(created.at("secret").is_null());
  EXPECT_EQ(created.at("config"), parse(R"({"include_resource": false})"));
}

TEST_F(WebhooksApiTest, CreateAcceptsTheWildcardEvent) {
  const json::object created = create(with(valid_webhook(), "events", json::array{"*"}));
  EXPECT_EQ(created.at("events"), parse(R"(["*"])"));
}

TEST_F(WebhooksApiTest, CreateGivesEachWebhookItsOwnId) {
  const json::object first = create();
  const json::object second = create();
  EXPECT_NE(first.at("id"), second.at("id"));
}

TEST_F(WebhooksApiTest, GetReturnsTheCreatedObject) {
  const json::object created = create(with(valid_webhook(), "secret", "s3cr3t"));
  const Response response = get("/v1/webhooks/" + text(created.at("id")));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.json(), json::value(created));
}

TEST_F(WebhooksApiTest, ListIsEmptyAtFirst) {
  const Response response = get("/v1/webhooks");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.json(), parse(R"({"next": null, "previous": null, "results": []})"));
}

TEST_F(WebhooksApiTest, ListIsNewestFirst) {
  const json::object a = create(valid_webhook("a"));
  const json::object b = create(valid_webhook("b"));
  const json::object c = create(valid_webhook("c"));
  const Response response = get("/v1/webhooks");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.json(),
            (json::value{{"next", nullptr}, {"previous", nullptr}, {"results", json::array{c, b, a}}}));
}

TEST_F(WebhooksApiTest, PatchChangesEachFieldAndMovesUpdatedAt) {
  json::object expected = create(with(valid_webhook(), "secret", "first-secret"));
  const std::string id = text(expected.at("id"));
  const std::vector<json::object> changes = {
      {{"events", json::array{"reputations.updated"}}},       {{"name", "renamed"}},
      {{"url", "http://other.example.org:8443/hook"}},        {{"secret", "second-secret"}},
      {{"config", json::object{{"include_resource", true}}}}, {{"events", json::array{"*"}}, {"name", "both at once"}},
  };
  for (const json::object& change : changes) {
    SCOPED_TRACE(json::serialize(change));
    const Response response = patch(id, change);
    ASSERT_EQ(response.status, 200) << response.body;
    const json::object updated = response.json().as_object();
    EXPECT_GT(text(updated.at("updated_at")), text(expected.at("updated_at")));
    EXPECT_TRUE(std::regex_match(text(updated.at("updated_at")), kTimestamp));
    for (const auto& item : change) expected[item.key()] = item.value();
    expected["updated_at"] = updated.at("updated_at");
    EXPECT_EQ(json::value(updated), json::value(expected));
    EXPECT_EQ(get("/v1/webhooks/" + id).json(), json::value(expected));
  }
}

TEST_F(WebhooksApiTest, PatchSecretNullRemovesTheSecret) {
  const json::object created = create(with(valid_webhook(), "secret", "to-be-removed"));
  const Response response = patch(text(created.at("id")), json::object{{"secret", nullptr}});
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_TRUE(response.json().at("secret").is_null());
}

TEST_F(WebhooksApiTest, PatchEnabledFalseIsManualAndReEnablingClearsIt) {
  const json::object created = create();
  const std::string id = text(created.at("id"));

  Response response = patch(id, json::object{{"enabled", false}});
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.json().at("enabled"), false);
  EXPECT_EQ(response.json().at("disabled_reason"), "manual");
  EXPECT_EQ(get("/v1/webhooks/" + id).json().at("disabled_reason"), "manual");

  response = patch(id, json::object{{"enabled", true}});
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.json().at("enabled"), true);
  EXPECT_TRUE(response.json().at("disabled_reason").is_null());
  EXPECT_GT(text(response.json().at("updated_at")), text(created.at("updated_at")));
}

TEST_F(WebhooksApiTest, PatchRefusesBadValuesAndChangesNothing) {
  const json::object created = create();
  const std::string id = text(created.at("id"));
  expect_refusals("PATCH", "/v1/webhooks/" + id,
                  {
                      {"blank name", R"({"name": ""})", R"({"name": ["This field may not be blank."]})"},
                      {"enabled not boolean", R"({"enabled": "no"})", R"({"enabled": ["Must be a valid boolean."]})"},
                      {"events empty", R"({"events": []})", R"({"events": ["This list may not be empty."]})"},
                      {"url null", R"({"url": null})", R"({"url": ["Not a valid string."]})"},
                      {"unknown field", R"({"id": "x"})", R"({"id": ["Unknown field."]})"},
                      {"one good, one bad", R"({"name": "ok", "url": "ftp://x.example/"})",
                       R"({"url": ["Enter a valid URL: the scheme must be http or https."]})"},
                  });
  EXPECT_EQ(get("/v1/webhooks/" + id).json(), json::value(created));
}

TEST_F(WebhooksApiTest, PatchOfAnUnknownIdIs404) {
  const Response response = patch("0b6f1a4e-3c1d-4e8f-9a7b-2c5d6e7f8a9b", json::object{{"name", "x"}});
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.json(), parse(R"({"detail": "Not found."})"));
}

TEST_F(WebhooksApiTest, DeleteAnswers204ThenTheWebhookIsGone) {
  const json::object kept = create(valid_webhook("kept"));
  const std::string id = text(create(valid_webhook("deleted")).at("id"));

  const Response deleted = remove(id);
  EXPECT_EQ(deleted.status, 204);
  EXPECT_EQ(deleted.body, "");

  for (const Response& response : {get("/v1/webhooks/" + id), remove(id), patch(id, json::object{{"name", "x"}})}) {
    EXPECT_EQ(response.status, 404);
    EXPECT_EQ(response.json(), parse(R"({"detail": "Not found."})"));
  }
  EXPECT_EQ(get("/v1/webhooks").json().at("results"), json::value(json::array{kept}));
}

TEST_F(WebhooksApiTest, IdsThatAreNotUuidsAre404) {
  for (const std::string id : {"not-a-uuid", "123", "0b6f1a4e-3c1d-4e8f-9a7b-2c5d6e7f8a9", "%00", "..%2F..%2Fetc"}) {
    SCOPED_TRACE(id);
    for (const std::string method : {"GET", "PATCH", "DELETE"}) {
      const Response response =
          client_.request(method, "/v1/webhooks/" + id, method == "PATCH" ? R"({"name": "x"})" : "", auth_);
      EXPECT_EQ(response.status, 404) << method << " " << response.body;
      EXPECT_EQ(response.json(), parse(R"({"detail": "Not found."})"));
    }
  }
}

// --- validation ------------------------------------------------------------------------------------

TEST_F(WebhooksApiTest, MissingRequiredFieldsAreEachNamed) {
  expect_refusals(
      "POST", "/v1/webhooks",
      {
          {"empty object", "{}",
           R"({"events": ["This field is required."], "name": ["This field is required."], "url": ["This field is required."]})"},
          {"no events", json::serialize(without(valid_webhook(), "events")),
           R"({"events": ["This field is required."]})"},
          {"no name", json::serialize(without(valid_webhook(), "name")), R"({"name": ["This field is required."]})"},
          {"no url", json::serialize(without(valid_webhook(), "url")), R"({"url": ["This field is required."]})"},
      });
  EXPECT_EQ(get("/v1/webhooks").json().at("results"), json::array{});
}

TEST_F(WebhooksApiTest, WrongTypesAreRefusedPerField) {
  auto body = [](const std::string& field, json::value value) {
    return json::serialize(with(valid_webhook(), field, value));
  };
  expect_refusals(
      "POST", "/v1/webhooks",
      {
          {"events string", body("events", "reputations.added"),
           R"({"events": ["Expected a list of items but got type \"string\"."]})"},
          {"events null", body("events", nullptr),
           R"({"events": ["Expected a list of items but got type \"null\"."]})"},
          {"events object", body("events", json::object{}),
           R"({"events": ["Expected a list of items but got type \"object\"."]})"},
          {"event not a string", body("events", json::array{1}), R"({"events": ["Each event must be a string."]})"},
          {"name number", body("name", 5), R"({"name": ["Not a valid string."]})"},
          {"name null", body("name", nullptr), R"({"name": ["Not a valid string."]})"},
          {"url number", body("url", 5), R"({"url": ["Not a valid string."]})"},
          {"url array", body("url", json::array{"https://hooks.example.com/"}), R"({"url": ["Not a valid string."]})"},
          {"secret number", body("secret", 42), R"({"secret": ["Not a valid string."]})"},
          {"secret boolean", body("secret", true), R"({"secret": ["Not a valid string."]})"},
          {"config array", body("config", json::array{}),
           R"({"config": ["Expected a dictionary of items but got type \"array\"."]})"},
          {"include_resource string", body("config", json::object{{"include_resource", "yes"}}),
           R"({"config": ["include_resource: Must be a valid boolean."]})"},
          {"two fields wrong", json::serialize(with(with(valid_webhook(), "name", 1), "url", false)),
           R"({"name": ["Not a valid string."], "url": ["Not a valid string."]})"},
      });
  EXPECT_EQ(get("/v1/webhooks").json().at("results"), json::array{});
}

TEST_F(WebhooksApiTest, EventsMustBeKnownAndNonEmpty) {
  auto events = [](json::array list) { return json::serialize(with(valid_webhook(), "events", std::move(list))); };
  expect_refusals("POST", "/v1/webhooks",
                  {
                      {"empty", events({}), R"({"events": ["This list may not be empty."]})"},
                      {"unknown", events({"reputations.deleted"}),
                       R"({"events": ["\"reputations.deleted\" is not a valid choice."]})"},
                      {"known and unknown", events({"reputations.added", "users.added"}),
                       R"({"events": ["\"users.added\" is not a valid choice."]})"},
                      {"case matters", events({"Reputations.Added"}),
                       R"({"events": ["\"Reputations.Added\" is not a valid choice."]})"},
                      {"empty name", events({""}), R"({"events": ["\"\" is not a valid choice."]})"},
                  });
}

TEST_F(WebhooksApiTest, NameMustBeNonBlankAndAtMost255Characters) {
  auto name = [](const std::string& value) { return json::serialize(valid_webhook(value)); };
  const std::string too_long = R"({"name": ["Ensure this field has no more than 255 characters."]})";
  expect_refusals("POST", "/v1/webhooks",
                  {
                      {"empty", name(""), R"({"name": ["This field may not be blank."]})"},
                      {"blank", name(" \t\n "), R"({"name": ["This field may not be blank."]})"},
                      {"256 characters", name(std::string(256, 'n')), too_long},
                  });
  EXPECT_EQ(text(create(valid_webhook(std::string(255, 'n'))).at("name")), std::string(255, 'n'));
}

TEST_F(WebhooksApiTest, NameLimitCountsCharactersNotBytes) {
  // 255 characters of two bytes each in UTF-8: 255 characters, within the documented limit.
  std::string name;
  for (int i = 0; i < 255; ++i) name += "\xC3\xA9";  // é
  const Response response = post(valid_webhook(name));
  EXPECT_EQ(response.status, 201) << response.body;
}

TEST_F(WebhooksApiTest, UrlMustBeAnAbsoluteHttpUrlWithAHost) {
  auto url = [](const std::string& value) { return json::serialize(with(valid_webhook(), "url", value)); };
  const std::string invalid = R"({"url": ["Enter a valid URL."]})";
  const std::string bad_scheme = R"({"url": ["Enter a valid URL: the scheme must be http or https."]})";
  const std::string no_host = R"({"url": ["Enter a valid URL: it has no host."]})";
  expect_refusals("POST", "/v1/webhooks",
                  {
                      {"empty", url(""), invalid},
                      {"words", url("not a url"), invalid},
                      {"relative", url("/hooks/repute"), invalid},
                      {"no scheme", url("hooks.example.com/repute"), invalid},
                      {"ftp", url("ftp://hooks.example.com/"), bad_scheme},
                      {"javascript", url("javascript:alert(1)"), bad_scheme},
                      {"file", url("file:///etc/passwd"), bad_scheme},
                      {"empty host", url("http:///repute"), no_host},
                      {"no authority", url("http:repute"), no_host},
                      {"port only", url("https://:443/"), no_host},
                      {"space in host", url("http://hooks example.com/"), invalid},
                      {"header injection", url("https://hooks.example.com/\r\nX-Injected: 1"), invalid},
                      {"2049 characters", url("https://hooks.example.com/" + std::string(2049 - 26, 'a')),
                       R"({"url": ["Ensure this field has no more than 2048 characters."]})"},
                  });
  const std::string longest = "https://hooks.example.com/" + std::string(2048 - 26, 'a');
  ASSERT_EQ(longest.size(), 2048u);
  EXPECT_EQ(text(create(with(valid_webhook(), "url", longest)).at("url")), longest);
  EXPECT_EQ(create(with(valid_webhook(), "url", "HTTPS://Hooks.Example.COM:8443/Path")).at("url"),
            "HTTPS://Hooks.Example.COM:8443/Path");
}

TEST_F(WebhooksApiTest, UnknownFieldsAndConfigKeysAreRefused) {
  expect_refusals(
      "POST", "/v1/webhooks",
      {
          {"unknown field", json::serialize(with(valid_webhook(), "colour", "red")),
           R"({"colour": ["Unknown field."]})"},
          {"enabled is not settable at creation", json::serialize(with(valid_webhook(), "enabled", true)),
           R"({"enabled": ["Unknown field."]})"},
          {"id is read-only", json::serialize(with(valid_webhook(), "id", "x")), R"({"id": ["Unknown field."]})"},
          {"unknown config key", json::serialize(with(valid_webhook(), "config", json::object{{"retries", 3}})),
           R"({"config": ["Unknown key \"retries\"."]})"},
      });
}

TEST_F(WebhooksApiTest, DuplicateKeysAreRefused) {
  for (
      const std::string body : {
          R"({"name": "a", "name": "b", "events": ["*"], "url": "https://hooks.example.com/"})",
          R"({"name": "a", "events": ["*"], "url": "https://hooks.example.com/", "config": {"include_resource": true, "include_resource": false}})",
          R"({"name": "a", "events": ["*"], "url": "https://hooks.example.com/", "\u006eame": "b"})",
      }) {
    SCOPED_TRACE(body);
    const Response response = client_.request("POST", "/v1/webhooks", body, auth_);
    EXPECT_EQ(response.status, 400) << response.body;
    const json::value error = response.json();
    ASSERT_TRUE(error.is_object() && error.as_object().contains("detail")) << response.body;
    EXPECT_NE(text(error.at("detail")).find("duplicate key"), std::string::npos) << response.body;
  }
  EXPECT_EQ(get("/v1/webhooks").json().at("results"), json::array{});
}

TEST_F(WebhooksApiTest, BadJsonIsA400WithADetail) {
  const std::vector<std::string> bodies = {R"({"name": )",     "{'name': 'x'}",
                                           "not json",         R"({"name": "x"} trailing)",
                                           "{\"a\":\"\x01\"}", std::string(100, '[') + std::string(100, ']')};
  for (const std::string& body : bodies) {
    SCOPED_TRACE(body);
    for (const std::string method : {"POST", "PATCH"}) {
      const std::string path = method == "POST" ? "/v1/webhooks" : "/v1/webhooks/" + text(create().at("id"));
      const Response response = client_.request(method, path, body, auth_);
      EXPECT_EQ(response.status, 400) << method << " " << response.body;
      const json::value error = response.json();
      ASSERT_TRUE(error.is_object() && error.as_object().size() == 1 && error.as_object().contains("detail"))
          << response.body;
      EXPECT_TRUE(text(error.at("detail")).starts_with("JSON parse error")) << response.body;
    }
  }
  const Response empty = client_.request("POST", "/v1/webhooks", "", auth_, {"Content-Type: application/json"});
  EXPECT_EQ(empty.status, 400) << empty.body;
  EXPECT_TRUE(empty.json().is_object()) << empty.body;
}

TEST_F(WebhooksApiTest, JsonThatIsNotAnObjectIsRefused) {
  expect_refusals(
      "POST", "/v1/webhooks",
      {
          {"array", "[]", R"({"non_field_errors": ["Invalid data. Expected a dictionary, but got array."]})"},
          {"string", R"("webhook")",
           R"({"non_field_errors": ["Invalid data. Expected a dictionary, but got string."]})"},
          {"null", "null", R"({"non_field_errors": ["Invalid data. Expected a dictionary, but got null."]})"},
      });
  const Response number = client_.request("POST", "/v1/webhooks", "42", auth_);
  EXPECT_EQ(number.status, 400) << number.body;
  EXPECT_TRUE(number.json().as_object().contains("non_field_errors")) << number.body;
}

TEST_F(WebhooksApiTest, WrongContentTypeIs415) {
  const std::string body = json::serialize(valid_webhook());
  for (const std::string type :
       {"text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data"}) {
    SCOPED_TRACE(type);
    const Response response = client_.request("POST", "/v1/webhooks", body, auth_, {"Content-Type: " + type});
    EXPECT_EQ(response.status, 415) << response.body;
    EXPECT_EQ(response.json(), (json::value{{"detail", "Unsupported media type \"" + type + "\" in request."}}));
  }
  EXPECT_EQ(get("/v1/webhooks").json().at("results"), json::array{});
  for (const std::string type : {"application/json; charset=utf-8", "Application/JSON"}) {
    SCOPED_TRACE(type);
    EXPECT_EQ(client_.request("POST", "/v1/webhooks", body, auth_, {"Content-Type: " + type}).status, 201);
  }
}

// --- SSRF rules for literal addresses --------------------------------------------------------------

// URLs whose host is a literal loopback, private, link-local, metadata or otherwise internal address.
const std::vector<std::string> kInternalUrls = {
    "http://127.0.0.1/",
    "http://127.0.0.1:8080/hook",
    "http://localhost/",
    "http://LOCALHOST:9000/",
    "http://api.localhost/",
    "http://[::1]/",
    "http://10.0.0.5/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.100.100.200/",
    "http://[fe80::1]/",
    "http://[fd00:ec2::254]/",
    "http://0.0.0.0/",
    "http://0/",
    "http://2130706433/",
    "http://0x7f.0.0.1/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://%31%32%37.0.0.1/",
    "http://127.0.0.1./",
    "http://224.0.0.1/",
};

void expect_url_refused(const Response& response, const std::string& url) {
  SCOPED_TRACE(url);
  EXPECT_EQ(response.status, 400) << response.body;
  const json::value error = response.json();
  ASSERT_TRUE(error.is_object() && error.as_object().size() == 1 && error.as_object().contains("url")) << response.body;
  ASSERT_EQ(error.at("url").as_array().size(), 1u) << response.body;
  EXPECT_TRUE(text(error.at("url").at(0)).starts_with("This URL is not allowed: ")) << response.body;
}

// A server without --dev: the SSRF guard refuses every internal literal address.
class WebhooksSsrfTest : public ::testing::Test {
 protected:
  ReputeProcess guarded_{guarded_options()};
  HttpClient guarded_client_{guarded_.port()};
  Credentials guarded_auth_ = basic(guarded_.create_key("acme"));

  Response post_guarded(const std::string& url) {
    return guarded_client_.request("POST", "/v1/webhooks", json::serialize(with(valid_webhook(), "url", url)),
                                   guarded_auth_);
  }
};

TEST_F(WebhooksSsrfTest, InternalLiteralAddressesAreRefusedWithoutDev) {
  for (const std::string& url : kInternalUrls) expect_url_refused(post_guarded(url), url);
  EXPECT_EQ(guarded_client_.request("GET", "/v1/webhooks", "", guarded_auth_).json().at("results"), json::array{});
}

TEST_F(WebhooksSsrfTest, PublicNamesAreAcceptedWithoutBeingContacted) {
  // Only RFC 2606 documentation names: nothing here may ever reach a real host, even if a later
  // version contacted targets at subscription time.
  for (const std::string url : {"https://hooks.example.com/repute", "http://receiver.example.net:8080/x",
                                "https://EXAMPLE.ORG/", "http://example.com./trailing-dot"}) {
    SCOPED_TRACE(url);
    const Response response = post_guarded(url);
    EXPECT_EQ(response.status, 201) << response.body;
  }
}

TEST_F(WebhooksSsrfTest, PatchToAnInternalAddressIsRefused) {
  const Response created = post_guarded("https://hooks.example.com/repute");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = text(created.json().at("id"));
  for (const std::string url : {"http://169.254.169.254/", "http://2130706433/", "http://[::ffff:127.0.0.1]/"}) {
    expect_url_refused(guarded_client_.request("PATCH", "/v1/webhooks/" + id,
                                               json::serialize(json::object{{"url", url}}), guarded_auth_),
                       url);
  }
  EXPECT_EQ(guarded_client_.request("GET", "/v1/webhooks/" + id, "", guarded_auth_).json().at("url"),
            "https://hooks.example.com/repute");
}

TEST_F(WebhooksApiTest, DevAllowsLoopbackButNothingElseInternal) {
  for (const std::string url : {"http://127.0.0.1:9/hook", "http://localhost:8080/", "http://[::1]:9/",
                                "http://2130706433/", "http://[::ffff:127.0.0.1]/"}) {
    SCOPED_TRACE(url);
    const Response response = post(with(valid_webhook(), "url", url));
    EXPECT_EQ(response.status, 201) << response.body;
  }
  for (const std::string url :
       {"http://10.0.0.5/", "http://192.168.1.1/", "http://169.254.169.254/", "http://[fe80::1]/", "http://0.0.0.0/"}) {
    expect_url_refused(post(with(valid_webhook(), "url", url)), url);
  }
}

TEST(WebhooksAllowList, AllowCidrOpensOnlyThatRange) {
  ReputeProcess server(guarded_options({"--allow-cidr", "10.0.0.0/8"}));
  HttpClient client(server.port());
  const Credentials auth = basic(server.create_key("acme"));
  auto post = [&](const std::string& url) {
    return client.request("POST", "/v1/webhooks", json::serialize(with(valid_webhook(), "url", url)), auth);
  };
  for (const std::string url : {"http://10.1.2.3/hook", "http://10.255.255.254:8080/", "http://[::ffff:10.0.0.1]/"}) {
    SCOPED_TRACE(url);
    const Response response = post(url);
    EXPECT_EQ(response.status, 201) << response.body;
  }
  for (const std::string url :
       {"http://192.168.0.1/", "http://127.0.0.1/", "http://172.16.0.1/", "http://169.254.169.254/"}) {
    expect_url_refused(post(url), url);
  }
}

// --- auth and tenants ------------------------------------------------------------------------------

const char* const kUnauthorized = R"({"detail": "Invalid username/password."})";

TEST_F(WebhooksApiTest, RequestsWithoutValidCredentialsAre401) {
  const std::string id = text(create().at("id"));
  const std::vector<std::pair<std::string, Headers>> attempts = {
      {"no header", {}},
      {"garbage", {"Authorization: Garbage"}},
      {"bearer", {"Authorization: Bearer " + server_.dev_key().secret}},
      {"basic without credentials", {"Authorization: Basic "}},
      {"not base64", {"Authorization: Basic !!!not-base64!!!"}},
      {"no colon", {"Authorization: Basic " + std::string("dXNlcm5hbWU=")}},  // "username"
  };
  for (const auto& [label, headers] : attempts) {
    SCOPED_TRACE(label);
    for (const auto& [method, path] :
         std::vector<std::pair<std::string, std::string>>{{"GET", "/v1/webhooks"},
                                                          {"POST", "/v1/webhooks"},
                                                          {"GET", "/v1/webhooks/" + id},
                                                          {"PATCH", "/v1/webhooks/" + id},
                                                          {"DELETE", "/v1/webhooks/" + id}}) {
      const std::string body = method == "POST"    ? json::serialize(valid_webhook())
                               : method == "PATCH" ? R"({"name": "x"})"
                                                   : "";
      const Response response = client_.request(method, path, body, std::nullopt, headers);
      EXPECT_EQ(response.status, 401) << method << " " << path;
      EXPECT_EQ(response.json(), parse(kUnauthorized)) << method << " " << path;
    }
  }
  const std::vector<std::pair<std::string, Credentials>> wrong = {
      {"wrong secret", {server_.dev_key().id, "not-the-secret"}},
      {"empty secret", {server_.dev_key().id, ""}},
      {"secret with a suffix", {server_.dev_key().id, server_.dev_key().secret + "x"}},
      {"unknown key id", {"0b6f1a4e-3c1d-4e8f-9a7b-2c5d6e7f8a9b", server_.dev_key().secret}},
      {"secret as id", {server_.dev_key().secret, server_.dev_key().id}},
  };
  for (const auto& [label, credentials] : wrong) {
    SCOPED_TRACE(label);
    const Response response = client_.request("GET", "/v1/webhooks/" + id, "", credentials);
    EXPECT_EQ(response.status, 401);
    EXPECT_EQ(response.json(), parse(kUnauthorized));
  }
  // Nothing was changed or removed by the refused requests.
  EXPECT_EQ(get("/v1/webhooks").json().at("results").as_array().size(), 1u);
  EXPECT_EQ(get("/v1/webhooks/" + id).json().at("name"), "orders");
}

TEST_F(WebhooksApiTest, KeyFromKeysCreateWorksWhileTheServerRuns) {
  const ApiKey key = server_.create_key("sandbox");
  const Response response = client_.request("GET", "/v1/webhooks", "", basic(key));
  EXPECT_EQ(response.status, 200) << response.body;
}

TEST_F(WebhooksApiTest, RevokedKeyIs401AtOnce) {
  const ApiKey key = server_.create_key("acme");
  ASSERT_EQ(client_.request("POST", "/v1/webhooks", json::serialize(valid_webhook()), basic(key)).status, 201);

  const CommandResult revoked = server_.run_cli({"keys", "revoke", key.id});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;

  for (const std::string method : {"GET", "POST"}) {
    const Response response =
        client_.request(method, "/v1/webhooks", method == "POST" ? json::serialize(valid_webhook()) : "", basic(key));
    EXPECT_EQ(response.status, 401) << method;
    EXPECT_EQ(response.json(), parse(kUnauthorized));
  }
  EXPECT_EQ(get("/v1/webhooks").status, 200) << "other keys still work";
}

TEST_F(WebhooksApiTest, AnotherTenantCannotSeeOrTouchAWebhook) {
  const json::object mine = create(with(valid_webhook("tenant a"), "secret", "a-secret"));
  const std::string id = text(mine.at("id"));
  const Credentials other = basic(server_.create_key("b"));

  const Response list = client_.request("GET", "/v1/webhooks", "", other);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.json(), parse(R"({"next": null, "previous": null, "results": []})"));
  for (const Response& response : {client_.request("GET", "/v1/webhooks/" + id, "", other),
                                   client_.request("PATCH", "/v1/webhooks/" + id, R"({"name": "stolen"})", other),
                                   client_.request("PATCH", "/v1/webhooks/" + id, R"({"enabled": false})", other),
                                   client_.request("DELETE", "/v1/webhooks/" + id, "", other)}) {
    EXPECT_EQ(response.status, 404) << response.body;
    EXPECT_EQ(response.json(), parse(R"({"detail": "Not found."})"));
  }
  EXPECT_EQ(get("/v1/webhooks/" + id).json(), json::value(mine));

  // Tenant b's own webhooks are its own, and tenant a does not see them either.
  const Response theirs = client_.request("POST", "/v1/webhooks", json::serialize(valid_webhook("tenant b")), other);
  ASSERT_EQ(theirs.status, 201);
  EXPECT_EQ(get("/v1/webhooks").json().at("results"), json::value(json::array{mine}));
  EXPECT_EQ(get("/v1/webhooks/" + text(theirs.json().at("id"))).status, 404);
}

// --- pagination ------------------------------------------------------------------------------------

// Creates count webhooks named "w<i>" and returns their ids, newest first (the list order).
std::vector<std::string> create_many(HttpClient& client, const Credentials& auth, int count,
                                     const std::string& prefix = "w") {
  std::vector<std::string> ids;
  for (int i = 0; i < count; ++i) {
    const Response response =
        client.request("POST", "/v1/webhooks", json::serialize(valid_webhook(prefix + std::to_string(i))), auth);
    if (response.status != 201) throw std::runtime_error("create failed: " + response.body);
    ids.insert(ids.begin(), text(response.json().at("id")));
  }
  return ids;
}

std::vector<std::string> ids_of(const json::value& page) {
  std::vector<std::string> ids;
  for (const json::value& item : page.at("results").as_array()) ids.push_back(text(item.at("id")));
  return ids;
}

TEST_F(WebhooksApiTest, ListDefaultsToTenPerPage) {
  const std::vector<std::string> ids = create_many(client_, auth_, 12);
  const json::value first = get("/v1/webhooks").json();
  EXPECT_EQ(ids_of(first), std::vector<std::string>(ids.begin(), ids.begin() + 10));
  EXPECT_TRUE(first.at("previous").is_null());
  ASSERT_TRUE(first.at("next").is_string());
  EXPECT_TRUE(text(first.at("next")).starts_with(client_.url("/v1/webhooks?"))) << first.at("next");

  const json::value second = get(path_of(text(first.at("next")))).json();
  EXPECT_EQ(ids_of(second), std::vector<std::string>(ids.begin() + 10, ids.end()));
  EXPECT_TRUE(second.at("next").is_null());
  EXPECT_TRUE(second.at("previous").is_string());

  EXPECT_EQ(ids_of(get("/v1/webhooks?limit=200").json()), ids);
  EXPECT_EQ(ids_of(get("/v1/webhooks?limit=1").json()), std::vector<std::string>{ids.front()});
}

TEST_F(WebhooksApiTest, ListReturnsAtMost200) {
  // Two hundred and one webhooks, created over four connections to keep this quick.
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      HttpClient client(server_.port());
      try {
        create_many(client, auth_, w == 0 ? 51 : 50, "t" + std::to_string(w) + "-");
      } catch (const std::exception&) {
        ++failures;
      }
    });
  }
  for (auto& writer : writers) writer.join();
  ASSERT_EQ(failures.load(), 0);
  const json::value page = get("/v1/webhooks?limit=200").json();
  EXPECT_EQ(page.at("results").as_array().size(), 200u);
  ASSERT_TRUE(page.at("next").is_string());
  EXPECT_EQ(get(path_of(text(page.at("next")))).json().at("results").as_array().size(), 1u);
}

TEST_F(WebhooksApiTest, BadLimitIsA400KeyedLimit) {
  const std::string not_integer = R"({"limit": ["A valid integer is required."]})";
  const std::string too_small = R"({"limit": ["Ensure this value is greater than or equal to 1."]})";
  const std::string too_big = R"({"limit": ["Ensure this value is less than or equal to 200."]})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"0", too_small},     {"-1", too_small}, {"201", too_big},     {"99999999999999999999", not_integer},
      {"abc", not_integer}, {"", not_integer}, {"1.5", not_integer}, {"10abc", not_integer},
  };
  for (const auto& [limit, expected] : cases) {
    SCOPED_TRACE(limit);
    const Response response = get("/v1/webhooks?limit=" + limit);
    EXPECT_EQ(response.status, 400) << response.body;
    EXPECT_EQ(response.json(), parse(expected));
  }
}

TEST_F(WebhooksApiTest, BadCursorIsA400KeyedCursor) {
  for (const std::string cursor : {"garbage", "", "%00", "eDox", "YTot", "YTphYmM",
                                   "Yjox"
                                   "Yjox"}) {
    SCOPED_TRACE(cursor);
    const Response response = get("/v1/webhooks?cursor=" + cursor);
    EXPECT_EQ(response.status, 400) << response.body;
    EXPECT_EQ(response.json(), parse(R"({"cursor": ["Invalid cursor."]})"));
  }
}

TEST_F(WebhooksApiTest, WalkingNextNeverSkipsOrRepeatsWhileRowsAreInserted) {
  const std::vector<std::string> existing = create_many(client_, auth_, 45);

  std::atomic<bool> walking{true};
  std::atomic<int> inserted{0};
  std::thread inserter([&] {
    HttpClient client(server_.port());
    while (walking.load()) {
      const Response response =
          client.request("POST", "/v1/webhooks", json::serialize(valid_webhook("concurrent")), auth_);
      if (response.status == 201) ++inserted;
    }
  });

  // Between two pages, at least one insert lands (bounded wait, so a stuck inserter cannot hang the test).
  auto wait_for_an_insert = [&inserted] {
    const int before = inserted.load();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (inserted.load() == before && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  };
  wait_for_an_insert();
  const int inserted_before_walk = inserted.load();
  std::vector<std::string> seen;
  std::string path = "/v1/webhooks?limit=4";
  int pages = 0;
  while (pages++ < 100) {
    const Response response = get(path);
    ASSERT_EQ(response.status, 200) << response.body;
    const json::value page = response.json();
    for (const std::string& id : ids_of(page)) seen.push_back(id);
    if (page.at("next").is_null()) break;
    path = path_of(text(page.at("next")));
    wait_for_an_insert();
  }
  walking = false;
  inserter.join();

  EXPECT_GE(inserted.load() - inserted_before_walk, 10) << "rows were inserted between the pages";
  const std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), seen.size()) << "a row came twice";
  // Rows inserted during the walk are newer than its first page; the walk yields all older rows once, in order.
  std::vector<std::string> older;
  for (const std::string& id : seen) {
    if (std::find(existing.begin(), existing.end(), id) != existing.end()) older.push_back(id);
  }
  EXPECT_EQ(older, existing);
  EXPECT_EQ(std::vector<std::string>(seen.end() - static_cast<std::ptrdiff_t>(existing.size()), seen.end()), existing);
}

TEST_F(WebhooksApiTest, PreviousLinksWalkBackToTheFirstPage) {
  const std::vector<std::string> ids = create_many(client_, auth_, 25);
  std::vector<json::value> forward;
  std::string path = "/v1/webhooks?limit=10";
  for (;;) {
    forward.push_back(get(path).json());
    if (forward.back().at("next").is_null()) break;
    path = path_of(text(forward.back().at("next")));
  }
  ASSERT_EQ(forward.size(), 3u);
  EXPECT_EQ(ids_of(forward[2]), std::vector<std::string>(ids.begin() + 20, ids.end()));

  std::vector<std::vector<std::string>> backward = {ids_of(forward.back())};
  json::value page = forward.back();
  while (!page.at("previous").is_null()) {
    const std::string link = text(page.at("previous"));
    EXPECT_NE(link.find("limit=10"), std::string::npos) << link;
    const Response response = get(path_of(link));
    ASSERT_EQ(response.status, 200) << response.body;
    page = response.json();
    backward.push_back(ids_of(page));
    ASSERT_LT(backward.size(), 10u);
  }
  ASSERT_EQ(backward.size(), 3u);
  EXPECT_EQ(backward[1], ids_of(forward[1]));
  EXPECT_EQ(backward[2], ids_of(forward[0]));
  EXPECT_FALSE(page.at("next").is_null()) << "the first page reached by going back links forward again";
}

}  // namespace
}  // namespace repute::itest
