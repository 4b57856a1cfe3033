// Routing: method and path pattern to a handler with its {params}; 404 for unknown paths, 405 with
// an Allow header for known paths with the wrong method.
#include "api/router.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <optional>
#include <string>

namespace repute::api {
namespace {

namespace json = boost::json;

// What one dispatch did: which route ran with which params, and the one response.
struct Outcome {
  std::string route;
  PathParams params;
  std::optional<HttpResponse> response;
  int responses = 0;
};

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    route("GET", "/healthz");
    route("GET", "/v1/webhooks");
    route("POST", "/v1/webhooks");
    route("GET", "/v1/webhooks/{id}");
    route("PATCH", "/v1/webhooks/{id}");
    route("DELETE", "/v1/webhooks/{id}");
    route("GET", "/v1/webhooks/{id}/deliveries");
    route("POST", "/v1/accounts/{account}/scans/{scan}");
  }

  void route(const std::string& method, const std::string& pattern) {
    router_.add(method, pattern,
                [this, name = method + " " + pattern](const HttpRequest&, const PathParams& params, Respond respond) {
                  outcome_.route = name;
                  outcome_.params = params;
                  respond(HttpResponse{200, "{}", "application/json", {}});
                });
  }

  const Outcome& dispatch(const std::string& method, const std::string& path) {
    outcome_ = Outcome{};
    HttpRequest request;
    request.method = method;
    request.path = path;
    router_.dispatch(request, [this](HttpResponse response) {
      ++outcome_.responses;
      outcome_.response = std::move(response);
    });
    EXPECT_EQ(outcome_.responses, 1) << method << " " << path << ": respond must be called exactly once";
    return outcome_;
  }

  static std::optional<std::string> header(const HttpResponse& response, const std::string& name) {
    for (const auto& [key, value] : response.headers) {
      if (key == name) return value;
    }
    return std::nullopt;
  }

  void expect_not_found(const std::string& method, const std::string& path) {
    const Outcome& got = dispatch(method, path);
    EXPECT_TRUE(got.route.empty()) << method << " " << path << " ran " << got.route;
    ASSERT_TRUE(got.response.has_value());
    EXPECT_EQ(got.response->status, 404) << method << " " << path;
    EXPECT_EQ(json::parse(got.response->body), json::parse(R"({"detail":"Not found."})")) << path;
    EXPECT_EQ(header(*got.response, "Allow"), std::nullopt) << path;
  }

  void expect_not_allowed(const std::string& method, const std::string& path, const std::string& allow) {
    const Outcome& got = dispatch(method, path);
    EXPECT_TRUE(got.route.empty()) << method << " " << path << " ran " << got.route;
    ASSERT_TRUE(got.response.has_value());
    EXPECT_EQ(got.response->status, 405) << method << " " << path;
    EXPECT_EQ(json::parse(got.response->body),
              json::parse("{\"detail\":\"Method \\\"" + method + "\\\" not allowed.\"}"))
        << got.response->body;
    EXPECT_EQ(header(*got.response, "Allow"), std::optional<std::string>(allow)) << method << " " << path;
  }

  Router router_;
  Outcome outcome_;
};

TEST_F(RouterTest, RunsTheMatchingRoute) {
  EXPECT_EQ(dispatch("GET", "/healthz").route, "GET /healthz");
  EXPECT_EQ(dispatch("GET", "/v1/webhooks").route, "GET /v1/webhooks");
  EXPECT_EQ(dispatch("POST", "/v1/webhooks").route, "POST /v1/webhooks");
  EXPECT_EQ(dispatch("DELETE", "/v1/webhooks/x").route, "DELETE /v1/webhooks/{id}");
  const Outcome& got = dispatch("GET", "/healthz");
  ASSERT_TRUE(got.response.has_value());
  EXPECT_EQ(got.response->status, 200);
  EXPECT_TRUE(got.params.empty());
}

TEST_F(RouterTest, PassesPlaceholderValuesInOrder) {
  const Outcome& one = dispatch("GET", "/v1/webhooks/3f1c2b0a-0000-4000-8000-000000000001");
  EXPECT_EQ(one.route, "GET /v1/webhooks/{id}");
  EXPECT_EQ(one.params, PathParams{"3f1c2b0a-0000-4000-8000-000000000001"});

  const Outcome& nested = dispatch("GET", "/v1/webhooks/w1/deliveries");
  EXPECT_EQ(nested.route, "GET /v1/webhooks/{id}/deliveries");
  EXPECT_EQ(nested.params, PathParams{"w1"});

  const Outcome& two = dispatch("POST", "/v1/accounts/acc-1/scans/scan-9");
  EXPECT_EQ(two.route, "POST /v1/accounts/{account}/scans/{scan}");
  EXPECT_EQ(two.params, (PathParams{"acc-1", "scan-9"}));
}

TEST_F(RouterTest, AcceptsOneTrailingSlash) {
  EXPECT_EQ(dispatch("GET", "/v1/webhooks/").route, "GET /v1/webhooks");
  const Outcome& got = dispatch("GET", "/v1/webhooks/abc/");
  EXPECT_EQ(got.route, "GET /v1/webhooks/{id}");
  EXPECT_EQ(got.params, PathParams{"abc"});
  EXPECT_EQ(dispatch("GET", "/healthz/").route, "GET /healthz");
}

TEST_F(RouterTest, AnswersUnknownPathsWith404) {
  expect_not_found("GET", "/");
  expect_not_found("GET", "");
  expect_not_found("GET", "/nope");
  expect_not_found("GET", "/v1");
  expect_not_found("GET", "/v2/webhooks");
  expect_not_found("GET", "/v1/webhooks/a/b");
  expect_not_found("GET", "/v1/webhooks/a/deliveries/b");
  expect_not_found("GET", "/V1/WEBHOOKS");
  expect_not_found("GET", "/v1/webhooks//");
  expect_not_found("GET", "//v1/webhooks");
  expect_not_found("POST", "/v1/accounts/a/scans");
  expect_not_found("BREW", "/coffee");
}

TEST_F(RouterTest, APlaceholderNeedsANonEmptySegment) {
  expect_not_found("GET", "/v1/webhooks//deliveries");
  expect_not_found("POST", "/v1/accounts//scans/s");
}

TEST_F(RouterTest, AnswersAKnownPathWithTheWrongMethodWith405) {
  expect_not_allowed("POST", "/healthz", "GET");
  expect_not_allowed("PUT", "/v1/webhooks", "GET, POST");
  expect_not_allowed("DELETE", "/v1/webhooks/", "GET, POST");
  expect_not_allowed("POST", "/v1/webhooks/abc", "GET, PATCH, DELETE");
  expect_not_allowed("PUT", "/v1/webhooks/abc/deliveries", "GET");
  expect_not_allowed("GET", "/v1/accounts/a/scans/s", "POST");
}

TEST_F(RouterTest, MethodsAreCaseSensitive) { expect_not_allowed("get", "/healthz", "GET"); }

TEST_F(RouterTest, TheFirstRouteAddedWins) {
  router_.add("GET", "/v1/webhooks/special", [this](const HttpRequest&, const PathParams&, Respond respond) {
    outcome_.route = "special";
    respond(HttpResponse{});
  });
  EXPECT_EQ(dispatch("GET", "/v1/webhooks/special").route, "GET /v1/webhooks/{id}");
}

TEST_F(RouterTest, PassesTheHandlersResponseThrough) {
  Router router;
  router.add("GET", "/teapot", [](const HttpRequest& request, const PathParams&, Respond respond) {
    respond(HttpResponse{418, "{\"path\":\"" + request.path + "\"}", "application/json", {{"X-Tea", "earl grey"}}});
  });
  std::optional<HttpResponse> got;
  HttpRequest request;
  request.method = "GET";
  request.path = "/teapot";
  router.dispatch(request, [&](HttpResponse response) { got = std::move(response); });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status, 418);
  EXPECT_EQ(got->body, "{\"path\":\"/teapot\"}");
  EXPECT_EQ(header(*got, "X-Tea"), std::optional<std::string>("earl grey"));
}

TEST_F(RouterTest, AnEmptyRouterAnswers404) {
  Router empty;
  std::optional<HttpResponse> got;
  HttpRequest request;
  request.method = "GET";
  request.path = "/anything";
  empty.dispatch(request, [&](HttpResponse response) { got = std::move(response); });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status, 404);
}

// HttpRequest::path reaches the router percent-encoded ("percent-decoding left to the router",
// api/http.hpp), so the router must decode the values it hands to handlers.
TEST_F(RouterTest, DecodesPercentEncodedPlaceholderValues) {
  const Outcome& got = dispatch("GET", "/v1/webhooks/3f1c2b0a%2D0000-4000-8000-00000000000%31");
  EXPECT_EQ(got.route, "GET /v1/webhooks/{id}");
  EXPECT_EQ(got.params, PathParams{"3f1c2b0a-0000-4000-8000-000000000001"});
}

}  // namespace
}  // namespace repute::api
