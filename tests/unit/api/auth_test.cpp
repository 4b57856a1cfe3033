// HTTP Basic auth against a real SQLite store: a valid key reaches the route as its tenant; anything
// else is the same 401, and the route never runs.
#include "unit/support/temp_dir.hpp"
#include "api/auth.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

#include "core/base64.hpp"
#include "core/tenant.hpp"
#include "support/test_database.hpp"

namespace repute::api {
namespace {

namespace json = boost::json;

constexpr core::Micros kNow = 1'795'773'600'000'000;

using repute::test_support::TempDir;

std::string basic(const std::string& user, const std::string& password) {
  return "Basic " + core::base64_encode(user + ":" + password);
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open_store(repute::testing::database_url((dir_.path() / "repute.db").string()), {.synchronous_full = false});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
    acme_ = issue("acme");
    globex_ = issue("globex");
  }

  struct Issued {
    std::string tenant_id;
    core::IssuedKey key;
  };

  Issued issue(const std::string& tenant_name) {
    Issued issued;
    const core::Status status = store_->write_and_wait([&](store::WriteTx& tx) -> core::Status {
      auto tenant = tx.ensure_tenant(tenant_name, kNow);
      if (!tenant) return tenant.error();
      issued.tenant_id = tenant->id;
      issued.key = core::issue_api_key(tenant->id, kNow);
      return tx.insert_api_key(issued.key.key);
    });
    EXPECT_TRUE(status.ok()) << status.error().message;
    return issued;
  }

  // Runs one request through authenticated(); records what the route saw, if it ran.
  HttpResponse call(const std::string& authorization, const PathParams& params = {"p1"}) {
    HttpRequest request;
    request.method = "GET";
    request.path = "/v1/webhooks/p1";
    request.authorization = authorization;
    caller_.reset();
    seen_params_.clear();
    int responses = 0;
    HttpResponse answered;
    const RouteHandler handler = authenticated(
        *store_, [this](const HttpRequest&, const Caller& caller, const PathParams& params, Respond respond) {
          caller_ = caller;
          seen_params_ = params;
          respond(HttpResponse{200, "{\"ok\":true}", "application/json", {}});
        });
    handler(request, params, [&](HttpResponse response) {
      ++responses;
      answered = std::move(response);
    });
    EXPECT_EQ(responses, 1) << "respond must be called exactly once";
    return answered;
  }

  void expect_unauthorized(const std::string& authorization) {
    const HttpResponse response = call(authorization);
    EXPECT_EQ(response.status, 401) << "'" << authorization << "'";
    EXPECT_EQ(json::parse(response.body), json::parse(R"({"detail":"Invalid username/password."})"))
        << "'" << authorization << "'";
    bool challenged = false;
    for (const auto& [name, value] : response.headers) {
      if (name == "WWW-Authenticate" && value.starts_with("Basic")) challenged = true;
    }
    EXPECT_TRUE(challenged) << "no WWW-Authenticate: Basic challenge";
    EXPECT_FALSE(caller_.has_value()) << "the route ran for '" << authorization << "'";
  }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
  Issued acme_;
  Issued globex_;
  std::optional<Caller> caller_;
  PathParams seen_params_;
};

TEST_F(AuthTest, AValidKeyReachesTheRouteAsItsTenant) {
  const HttpResponse response = call(basic(acme_.key.key.id, acme_.key.secret), {"abc", "def"});
  EXPECT_EQ(response.status, 200) << response.body;
  ASSERT_TRUE(caller_.has_value());
  EXPECT_EQ(caller_->tenant_id, acme_.tenant_id);
  EXPECT_EQ(caller_->key_id, acme_.key.key.id);
  EXPECT_EQ(seen_params_, (PathParams{"abc", "def"}));

  call(basic(globex_.key.key.id, globex_.key.secret));
  ASSERT_TRUE(caller_.has_value());
  EXPECT_EQ(caller_->tenant_id, globex_.tenant_id);
  EXPECT_NE(globex_.tenant_id, acme_.tenant_id);
}

TEST_F(AuthTest, TheSchemeIsCaseInsensitive) {
  const std::string encoded = core::base64_encode(acme_.key.key.id + ":" + acme_.key.secret);
  for (const std::string scheme : {"basic ", "BASIC ", "bAsIc ", "Basic   "}) {
    EXPECT_EQ(call(scheme + encoded).status, 200) << "'" << scheme << "'";
  }
}

TEST_F(AuthTest, AWrongSecretIsRefused) {
  expect_unauthorized(basic(acme_.key.key.id, "wrong"));
  expect_unauthorized(basic(acme_.key.key.id, ""));
  expect_unauthorized(basic(acme_.key.key.id, acme_.key.secret + "x"));
  expect_unauthorized(basic(acme_.key.key.id, acme_.key.key.secret_hash));
}

TEST_F(AuthTest, AnotherKeysSecretIsRefused) { expect_unauthorized(basic(acme_.key.key.id, globex_.key.secret)); }

TEST_F(AuthTest, AnUnknownKeyIsRefused) {
  expect_unauthorized(basic("00000000-0000-4000-8000-000000000000", acme_.key.secret));
  expect_unauthorized(basic("", acme_.key.secret));
  expect_unauthorized(basic("' OR '1'='1", "x"));
}

TEST_F(AuthTest, ARevokedKeyIsRefused) {
  ASSERT_EQ(call(basic(acme_.key.key.id, acme_.key.secret)).status, 200);
  const core::Status revoked = store_->write_and_wait([&](store::WriteTx& tx) -> core::Status {
    auto done = tx.revoke_api_key(acme_.key.key.id, kNow + 1);
    if (!done) return done.error();
    return *done ? core::ok_status() : core::internal_error("not revoked");
  });
  ASSERT_TRUE(revoked.ok()) << revoked.error().message;
  expect_unauthorized(basic(acme_.key.key.id, acme_.key.secret));
  // Other keys keep working.
  EXPECT_EQ(call(basic(globex_.key.key.id, globex_.key.secret)).status, 200);
}

TEST_F(AuthTest, MalformedHeadersAreRefused) {
  const std::string encoded = core::base64_encode(acme_.key.key.id + ":" + acme_.key.secret);
  for (const std::string& header : {
           std::string(), std::string("Basic"), std::string("Basic "), "Bearer " + encoded,
           "Basic" + encoded,  // no space after the scheme
           "Digest " + encoded,
           "Basic !!!" + encoded,                                                // not base64
           "Basic " + encoded.substr(0, encoded.size() - 1),                     // truncated
           "Basic " + core::base64_encode(acme_.key.key.id + acme_.key.secret),  // no colon
           "Basic " + core::base64url_encode(acme_.key.key.id + ":" + acme_.key.secret) + "~",
           acme_.key.key.id + ":" + acme_.key.secret,  // not encoded
       }) {
    expect_unauthorized(header);
  }
}

// The colon separates the key id from the secret; only the first colon counts.
TEST_F(AuthTest, OnlyTheFirstColonSeparates) {
  expect_unauthorized(basic(acme_.key.key.id + ":" + acme_.key.secret, ""));
  expect_unauthorized("Basic " + core::base64_encode(acme_.key.key.id + ":" + acme_.key.secret + ":"));
}

}  // namespace
}  // namespace repute::api
