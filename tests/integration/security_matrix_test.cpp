// The security matrix (DESIGN §2), against the real binary: every endpoint × every way of not being the owner
// (no credentials, a malformed header, a wrong secret, an unknown key id, a revoked key, another tenant's valid
// key). Bad credentials get exactly 401 {"detail": "Invalid username/password."} and change nothing; another
// tenant's key gets 404 {"detail": "Not found."} on this tenant's ids — the very answer an id that never existed
// gets — and lists that never show this tenant's objects. Then: API key secrets live only as SHA-256 hashes (not a
// byte of any secret in the database file, its -wal or -shm), and no API or webhook secret ever reaches the log.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
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

constexpr const char* kUnauthorized = R"({"detail": "Invalid username/password."})";
constexpr const char* kNotFound = R"({"detail": "Not found."})";
constexpr const char* kNeverExisted = "0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f";
constexpr const char* kWebhookSecret = "whsec_c2VjdXJpdHktbWF0cml4LXdlYmhvb2stc2VjcmV0";
constexpr const char* kRotatedWebhookSecret = "rotated-webhook-secret-7f3a9c";

std::string text(const json::value& value) { return std::string(value.as_string()); }

// Lowercase hex SHA-256 of bytes, computed with OpenSSL here (not with repute's code).
std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    char pair[3];
    std::snprintf(pair, sizeof pair, "%02x", digest[i]);
    hex += pair;
  }
  return hex;
}

// text with every from replaced by to.
std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// Every byte of a file ("" when it does not exist).
std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}


// The api_keys table as "id|secret_hash" lines, read with the sqlite3 or psql command line tool.
std::string api_key_rows(const ReputeProcess& server) {
  return query_database(server.database_url(), "SELECT id, secret_hash FROM api_keys ORDER BY id");
}

// How a route treats another tenant's valid key.
enum class Foreign {
  kNotFound,        // an id route: 404 Not found, like an id that never existed
  kListHidesOwner,  // a list: 200, and none of this tenant's objects in it
  kOwnTenant,       // a create: it happens in the caller's own tenant, never in this one
  kUnknownUser,     // POST /v1/accounts naming this tenant's user: refused like a user that never existed
};

// One endpoint of the API, with a body that would succeed for its owner.
struct Endpoint {
  std::string method;
  std::string path;  // {webhook}, {user}, {account}, {push_account}, {reputation}, {event}, {delivery} are filled in
  std::string body;
  Foreign foreign;
};

// Every authenticated route in src/api/*_routes.cpp. The deletes come last so that every id still exists for
// the rows before them (they are refused anyway; the owner checks afterwards that nothing was touched).
const std::vector<Endpoint>& endpoints() {
  static const std::vector<Endpoint> table = {
      {"POST", "/v1/webhooks", R"({"events": ["*"], "name": "intruder", "url": "http://127.0.0.1:9/h"})",
       Foreign::kOwnTenant},
      {"GET", "/v1/webhooks", "", Foreign::kListHidesOwner},
      {"GET", "/v1/webhooks/{webhook}", "", Foreign::kNotFound},
      {"PATCH", "/v1/webhooks/{webhook}", R"({"name": "hijacked", "url": "http://127.0.0.1:9/steal"})",
       Foreign::kNotFound},
      {"GET", "/v1/webhooks/{webhook}/deliveries", "", Foreign::kNotFound},
      {"POST", "/v1/webhooks/{webhook}/recover", R"({"since": "2020-01-01T00:00:00Z"})", Foreign::kNotFound},
      {"GET", "/v1/deliveries/{delivery}", "", Foreign::kNotFound},
      {"POST", "/v1/deliveries/{delivery}/retry", "", Foreign::kNotFound},
      {"POST", "/v1/users", R"({"external_id": "intruder"})", Foreign::kOwnTenant},
      {"GET", "/v1/users", "", Foreign::kListHidesOwner},
      {"GET", "/v1/users/{user}", "", Foreign::kNotFound},
      {"POST", "/v1/accounts", R"({"user": "{user}", "employer": "lyft"})", Foreign::kUnknownUser},
      {"GET", "/v1/accounts", "", Foreign::kListHidesOwner},
      {"GET", "/v1/accounts?user={user}", "", Foreign::kListHidesOwner},
      {"GET", "/v1/accounts/{account}", "", Foreign::kNotFound},
      {"PATCH", "/v1/accounts/{account}", R"({"ongoing_refresh": "disabled", "refresh_frequency": 60})",
       Foreign::kNotFound},
      {"POST", "/v1/accounts/{account}/periodic-scan", "", Foreign::kNotFound},
      {"POST", "/v1/accounts/{push_account}/scans", R"({"rating": 1.5, "acceptance_rate": 0.1})", Foreign::kNotFound},
      {"GET", "/v1/reputations", "", Foreign::kListHidesOwner},
      {"GET", "/v1/reputations?account={account}", "", Foreign::kListHidesOwner},
      {"GET", "/v1/reputations?user={user}", "", Foreign::kListHidesOwner},
      {"GET", "/v1/reputations/{reputation}", "", Foreign::kNotFound},
      {"GET", "/v1/events", "", Foreign::kListHidesOwner},
      {"GET", "/v1/events/{event}", "", Foreign::kNotFound},
      {"DELETE", "/v1/webhooks/{webhook}", "", Foreign::kNotFound},
      {"DELETE", "/v1/accounts/{account}", "", Foreign::kNotFound},
      {"DELETE", "/v1/users/{user}", "", Foreign::kNotFound},
  };
  return table;
}

// One way of calling that is not the owner's.
struct Caller {
  std::string name;
  std::optional<Credentials> credentials;
  Headers headers;
};

class SecurityMatrixTest : public ::testing::Test {
 protected:
  SecurityMatrixTest() {
    receiver_.on("/hook", [](const Delivered&) { return reply(200); });
  }

  Response owner(const std::string& method, const std::string& path, const std::string& body = "") {
    return client_->request(method, path, body, owner_auth_);
  }

  // Replaces each {name} in text with this tenant's id of that name.
  std::string fill(std::string text, const std::map<std::string, std::string>& ids) const {
    for (const auto& [name, id] : ids) {
      const std::string placeholder = "{" + name + "}";
      text = replace_all(std::move(text), placeholder, id);
    }
    return text;
  }

  // Makes one of everything for the owner and returns the ids by placeholder name.
  std::map<std::string, std::string> make_owner_objects() {
    std::map<std::string, std::string> ids;
    const json::object webhook{
        {"events", json::array{"*"}}, {"name", "owner"}, {"url", receiver_.url("/hook")}, {"secret", kWebhookSecret}};
    ids["webhook"] = text(owner("POST", "/v1/webhooks", json::serialize(webhook)).json().at("id"));
    ids["user"] = text(owner("POST", "/v1/users", R"({"external_id": "owner"})").json().at("id"));
    const std::string user_ref = R"({"user": ")" + ids["user"] + R"(", "employer": "uber")";
    ids["account"] = text(owner("POST", "/v1/accounts", user_ref + "}").json().at("id"));
    ids["push_account"] =
        text(owner("POST", "/v1/accounts", user_ref + R"(, "source": {"type": "push"}})").json().at("id"));
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline && (!ids.count("reputation") || !ids.count("delivery"))) {
      const json::value reputations = owner("GET", "/v1/reputations?account=" + ids["account"]).json();
      if (!reputations.at("results").as_array().empty()) {
        ids["reputation"] = text(reputations.at("results").at(0).at("id"));
      }
      const json::value deliveries = owner("GET", "/v1/webhooks/" + ids["webhook"] + "/deliveries").json();
      for (const json::value& delivery : deliveries.at("results").as_array()) {
        if (delivery.at("state") == "delivered") {
          ids["delivery"] = text(delivery.at("id"));
          ids["event"] = text(delivery.at("event"));
        }
      }
      std::this_thread::sleep_for(20ms);
    }
    return ids;
  }

  // Starts the server; the owner is tenant (a key made with `repute keys create`), or the --dev key when dev.
  void start(bool dev, const std::string& tenant) {
    std::vector<std::string> args = {"--log-level", "debug", "--retry-time-scale", "0.001"};
    if (!dev) args.insert(args.end(), {"--allow-cidr", "127.0.0.0/8"});  // the receiver, as a deployment would
    server_ = std::make_unique<ReputeProcess>(dev ? dev_options(args) : guarded_options(args));
    client_ = std::make_unique<HttpClient>(server_->port());
    owner_key_ = dev ? server_->dev_key() : server_->create_key(tenant);
    owner_auth_ = basic(owner_key_);
    tenant_ = tenant;
  }

  Receiver receiver_;
  std::unique_ptr<ReputeProcess> server_;
  std::unique_ptr<HttpClient> client_;
  ApiKey owner_key_;
  Credentials owner_auth_;
  std::string tenant_;
};

TEST_F(SecurityMatrixTest, EveryEndpointRefusesEveryoneButItsOwner) {
  start(true, "sandbox");
  const std::map<std::string, std::string> ids = make_owner_objects();
  for (const char* name : {"webhook", "user", "account", "push_account", "reputation", "event", "delivery"}) {
    ASSERT_TRUE(ids.count(name)) << "setup did not make a " << name;
  }

  // A second key of the owner's tenant that works, and then is revoked with the CLI.
  const ApiKey revoked = server_->create_key(tenant_);
  ASSERT_EQ(client_->request("GET", "/v1/webhooks/" + ids.at("webhook"), "", basic(revoked)).status, 200)
      << "the second key does not belong to the --dev tenant";
  const CommandResult revoke = server_->run_cli({"keys", "revoke", revoked.id});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  const ApiKey other_tenant = server_->create_key("globex");

  const std::vector<Caller> refused = {
      {"no credentials", std::nullopt, {}},
      {"bearer token", std::nullopt, {"Authorization: Bearer " + owner_key_.secret}},
      {"basic without colon", std::nullopt, {"Authorization: Basic Zm9vYmFy"}},
      {"basic not base64", std::nullopt, {"Authorization: Basic !!!not-base64!!!"}},
      {"wrong secret", Credentials{owner_key_.id, owner_key_.secret + "x"}, {}},
      {"empty secret", Credentials{owner_key_.id, ""}, {}},
      {"unknown key id", Credentials{"key_does_not_exist", owner_key_.secret}, {}},
      {"another key's secret", Credentials{owner_key_.id, other_tenant.secret}, {}},
      {"revoked key", basic(revoked), {}},
  };

  int cells = 0;
  for (const Endpoint& endpoint : endpoints()) {
    const std::string path = fill(endpoint.path, ids);
    const std::string body = fill(endpoint.body, ids);
    for (const Caller& caller : refused) {
      SCOPED_TRACE(endpoint.method + " " + path + " as " + caller.name);
      const Response response = client_->request(endpoint.method, path, body, caller.credentials, caller.headers);
      EXPECT_EQ(response.status, 401) << response.body;
      EXPECT_EQ(response.json(), json::parse(kUnauthorized));
      EXPECT_EQ(response.header("WWW-Authenticate").value_or(""), "Basic realm=\"repute\"");
      ++cells;
      // Credentials are checked before the body: a malformed body is still only a 401.
      if (!body.empty()) {
        EXPECT_EQ(client_->request(endpoint.method, path, "{", caller.credentials, caller.headers).status, 401);
      }
    }

    SCOPED_TRACE(endpoint.method + " " + path + " as another tenant");
    const Credentials foreign = basic(other_tenant);
    const Response response = client_->request(endpoint.method, path, body, foreign);
    ++cells;
    switch (endpoint.foreign) {
      case Foreign::kNotFound: {
        EXPECT_EQ(response.status, 404) << response.body;
        EXPECT_EQ(response.json(), json::parse(kNotFound));
        // Indistinguishable from an id that never existed.
        std::map<std::string, std::string> missing = ids;
        for (auto& [name, id] : missing) id = kNeverExisted;
        const Response never = client_->request(endpoint.method, fill(endpoint.path, missing), body, foreign);
        EXPECT_EQ(never.status, response.status);
        EXPECT_EQ(never.body, response.body);
        break;
      }
      case Foreign::kListHidesOwner: {
        ASSERT_EQ(response.status, 200) << response.body;
        const json::value page = response.json();
        for (const json::value& item : page.at("results").as_array()) {
          for (const auto& [name, id] : ids) EXPECT_NE(text(item.at("id")), id) << "owner's " << name << " shown";
        }
        break;
      }
      case Foreign::kOwnTenant: {
        ASSERT_EQ(response.status, 201) << response.body;
        const std::string created = text(response.json().at("id"));
        const std::string collection = path.substr(0, path.find('?'));
        EXPECT_EQ(owner("GET", collection + "/" + created).status, 404) << "created in the owner's tenant";
        break;
      }
      case Foreign::kUnknownUser: {
        EXPECT_EQ(response.status, 400) << response.body;
        std::map<std::string, std::string> missing = ids;
        missing["user"] = kNeverExisted;
        const Response never = client_->request(endpoint.method, path, fill(endpoint.body, missing), foreign);
        EXPECT_EQ(never.status, 400);
        EXPECT_EQ(replace_all(never.body, kNeverExisted, ids.at("user")), response.body);
        EXPECT_EQ(response.json().as_object().size(), 1u);
        EXPECT_TRUE(response.json().as_object().contains("user")) << response.body;
        break;
      }
    }
  }

  // The public routes answer anyone the same way.
  for (const char* route : {"/healthz", "/readyz", "/metrics"}) {
    for (const Caller& caller : refused) {
      EXPECT_EQ(client_->request("GET", route, "", caller.credentials, caller.headers).status, 200) << route;
      ++cells;
    }
  }

  // Nothing the intruders sent changed anything of the owner's.
  const json::value webhook = owner("GET", "/v1/webhooks/" + ids.at("webhook")).json();
  EXPECT_EQ(webhook.at("name"), "owner");
  EXPECT_EQ(text(webhook.at("url")), receiver_.url("/hook"));
  EXPECT_EQ(owner("GET", "/v1/users/" + ids.at("user")).status, 200);
  EXPECT_EQ(owner("GET", "/v1/accounts/" + ids.at("account")).json().at("ongoing_refresh"),
            json::parse(R"({"status": "enabled"})"));
  EXPECT_EQ(owner("GET", "/v1/accounts/" + ids.at("push_account")).json().at("scanned_at"), nullptr);
  EXPECT_EQ(owner("GET", "/v1/reputations/" + ids.at("reputation")).status, 200);
  EXPECT_EQ(owner("GET", "/v1/events/" + ids.at("event")).status, 200);
  EXPECT_EQ(owner("GET", "/v1/deliveries/" + ids.at("delivery")).json().at("state"), "delivered");
  EXPECT_EQ(owner("GET", "/v1/users").json().at("results").as_array().size(), 1u);
  EXPECT_EQ(owner("GET", "/v1/webhooks").json().at("results").as_array().size(), 1u);
  // --dev keeps its own key's secret in the settings table so that every start can print it again (a sandbox
  // convenience, DESIGN §2 notwithstanding); the api_keys table holds only its hash. A deployed server (below) has
  // no such row.
  const std::string rows = api_key_rows(*server_);
  EXPECT_NE(rows.find(owner_key_.id + "|" + sha256_hex(owner_key_.secret)), std::string::npos) << rows;
  EXPECT_EQ(rows.find(owner_key_.secret), std::string::npos) << rows;

  std::printf("[ matrix   ] %zu endpoints x %zu refused callers + another tenant: %d cells\n", endpoints().size(),
              refused.size(), cells);
}

// On a server as deployed (no --dev), with keys made by `repute keys create`.
TEST_F(SecurityMatrixTest, SecretsAreStoredHashedAndNeverLogged) {
  start(false, "acme");
  // Exercise everything that touches a secret: keys made, used, revoked and mistyped; a webhook with a secret that
  // signs deliveries, then a rotated secret that signs more.
  const std::map<std::string, std::string> ids = make_owner_objects();
  ASSERT_TRUE(ids.count("delivery"));
  const ApiKey second = server_->create_key(tenant_);
  const ApiKey other = server_->create_key("globex");
  EXPECT_EQ(client_->request("GET", "/v1/users", "", basic(second)).status, 200);
  EXPECT_EQ(client_->request("GET", "/v1/users", "", basic(other)).status, 200);
  EXPECT_EQ(client_->request("GET", "/v1/users", "", Credentials{other.id, second.secret}).status, 401);
  ASSERT_EQ(server_->run_cli({"keys", "revoke", second.id}).exit_code, 0);
  EXPECT_EQ(client_->request("GET", "/v1/users", "", basic(second)).status, 401);
  const json::object rotate{{"secret", kRotatedWebhookSecret}};
  ASSERT_EQ(owner("PATCH", "/v1/webhooks/" + ids.at("webhook"), json::serialize(rotate)).status, 200);
  ASSERT_EQ(owner("POST", "/v1/accounts/" + ids.at("account") + "/periodic-scan").status, 202);
  ASSERT_EQ(owner("POST", "/v1/accounts/" + ids.at("push_account") + "/scans", R"({"rating": 4})").status, 200);
  ASSERT_EQ(owner("POST", "/v1/deliveries/" + ids.at("delivery") + "/retry").status, 202);
  ASSERT_TRUE(receiver_.wait_for("/hook", 3));
  bool rotated_signed = false;
  for (const Delivered& delivery : receiver_.received("/hook")) {
    rotated_signed = rotated_signed || delivery.header("X-Argyle-Signature") ==
                                           expected_argyle_signature(kRotatedWebhookSecret, delivery.body);
  }
  EXPECT_TRUE(rotated_signed) << "no delivery was signed with the rotated secret";

  const std::vector<ApiKey> keys = {owner_key_, second, other};
  const std::string database = server_->folder() + "/repute.db";

  // The api_keys table holds SHA-256 hashes, and no row holds a secret.
  const std::string rows = api_key_rows(*server_);
  for (const ApiKey& key : keys) {
    EXPECT_NE(rows.find(key.id + "|" + sha256_hex(key.secret)), std::string::npos) << rows;
    EXPECT_EQ(rows.find(key.secret), std::string::npos);
  }

  // Not a trace of a key secret in the raw bytes of the database files, while running and after a clean stop.
  auto expect_no_key_secret = [&](const char* when) {
    int files = 0;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      const std::string bytes = file_bytes(database + suffix);
      files += !bytes.empty();
      for (const ApiKey& key : keys) {
        EXPECT_EQ(bytes.find(key.secret), std::string::npos) << "a key secret in repute.db" << suffix << " " << when;
      }
    }
    EXPECT_GE(files, repute::testing::on_postgres() ? 0 : 1) << when;
  };
  expect_no_key_secret("while running");

  // The log at debug level, over the whole run, never shows a secret nor the credentials that carry one.
  EXPECT_EQ(server_->stop(), 0);
  expect_no_key_secret("after a stop");
  const std::string log = server_->stderr_text();
  EXPECT_FALSE(log.empty());
  std::vector<std::string> secrets = {kWebhookSecret, kRotatedWebhookSecret,
                                      "c2VjdXJpdHktbWF0cml4LXdlYmhvb2stc2VjcmV0"};
  for (const ApiKey& key : keys) {
    secrets.push_back(key.secret);
    secrets.push_back(authorization_header(basic(key)));
    const std::string header = authorization_header(basic(key));
    secrets.push_back(header.substr(header.rfind(' ') + 1));  // the base64 token alone
  }
  for (const std::string& secret : secrets) EXPECT_EQ(log.find(secret), std::string::npos) << "logged: " << secret;
}

}  // namespace
}  // namespace repute::itest
