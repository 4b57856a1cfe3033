// Strict JSON request bodies: one object, valid UTF-8, no duplicate keys at any depth, bounded depth,
// a JSON media type; every refusal a JSON error, never a crash.
#include "api/json_body.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>
#include <variant>

namespace repute::api {
namespace {

namespace json = boost::json;

HttpRequest body_request(std::string body, std::string content_type = "application/json") {
  HttpRequest request;
  request.method = "POST";
  request.path = "/v1/webhooks";
  request.content_type = std::move(content_type);
  request.body = std::move(body);
  return request;
}

// The object parse_json_object read; fails the test when it refused the body.
json::object accepted(const HttpRequest& request) {
  auto parsed = parse_json_object(request);
  const auto* object = std::get_if<json::object>(&parsed);
  EXPECT_NE(object, nullptr) << "refused: " << std::get<HttpResponse>(parsed).body;
  return object ? *object : json::object{};
}

// The refusal parse_json_object answered with; fails the test when it accepted the body.
HttpResponse refused(const HttpRequest& request) {
  auto parsed = parse_json_object(request);
  const auto* response = std::get_if<HttpResponse>(&parsed);
  EXPECT_NE(response, nullptr) << "accepted: " << json::serialize(std::get<json::object>(parsed));
  return response ? *response : HttpResponse{};
}

// The "detail" of a refusal with the given status.
std::string detail_of(const HttpRequest& request, int status = 400) {
  const HttpResponse response = refused(request);
  EXPECT_EQ(response.status, status) << response.body;
  EXPECT_EQ(response.content_type, "application/json");
  json::error_code ec;
  json::value body = json::parse(response.body, ec);
  EXPECT_FALSE(ec) << "the error body is not JSON: " << response.body;
  if (ec || !body.is_object() || !body.as_object().contains("detail") || !body.at("detail").is_string()) {
    ADD_FAILURE() << "no detail in " << response.body;
    return {};
  }
  return std::string(body.at("detail").as_string());
}

std::string nested_arrays(int depth) {
  // One object holding depth - 1 nested arrays: `depth` containers in all.
  return "{\"a\":" + std::string(static_cast<std::size_t>(depth - 1), '[') +
         std::string(static_cast<std::size_t>(depth - 1), ']') + "}";
}

std::string nested_objects(int depth) {
  std::string text;
  for (int i = 0; i < depth; ++i) text += "{\"k\":";
  text += "1";
  for (int i = 0; i < depth; ++i) text += "}";
  return text;
}

TEST(ParseJsonObject, ReadsAnObject) {
  const json::object object =
      accepted(body_request(R"({"name":"n","events":["*"],"config":{"include_resource":true}})"));
  EXPECT_EQ(object, json::parse(R"({"name":"n","events":["*"],"config":{"include_resource":true}})").as_object());
}

TEST(ParseJsonObject, AcceptsSurroundingWhitespaceAndAnEmptyObject) {
  EXPECT_EQ(accepted(body_request(" \n\t{\"a\":1}\r\n ")), (json::object{{"a", 1}}));
  EXPECT_EQ(accepted(body_request("{}")), json::object{});
}

TEST(ParseJsonObject, AcceptsEveryJsonMediaType) {
  for (const char* type :
       {"application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8", "Application/JSON",
        "application/json ; charset=utf-8", "application/merge-patch+json", "application/vnd.api+json"}) {
    EXPECT_EQ(accepted(body_request("{\"a\":1}", type)), (json::object{{"a", 1}})) << type;
  }
}

TEST(ParseJsonObject, TreatsAMissingContentTypeAsJson) {
  EXPECT_EQ(accepted(body_request("{\"a\":1}", "")), (json::object{{"a", 1}}));
}

TEST(ParseJsonObject, RefusesOtherMediaTypesWith415) {
  for (const char* type : {"text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded",
                           "multipart/form-data; boundary=x", "application/jsonx", "text/json", "application/xml"}) {
    EXPECT_EQ(detail_of(body_request("{\"a\":1}", type), 415),
              std::string("Unsupported media type \"") + type + "\" in request.")
        << type;
  }
}

// A POST with no fields at all (POST /v1/users) may send no body.
TEST(ParseJsonObject, ReadsAnEmptyBodyAsAnEmptyObject) {
  EXPECT_EQ(accepted(body_request("")), json::object{});
  EXPECT_EQ(accepted(body_request("", "")), json::object{});
  EXPECT_EQ(detail_of(body_request("", "text/plain"), 415), "Unsupported media type \"text/plain\" in request.");
}

TEST(ParseJsonObject, RefusesMalformedJson) {
  for (const char* text : {"{", "{\"a\":}", "{\"a\" 1}", "{'a':1}", "{a:1}", "{\"a\":1,}", "{\"a\":[1,]}",
                           "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":01}", "{\"a\":\"\x01\"}", "{\"a\":1 /* c */}",
                           "{\"a\":1} // c", "   ", "\xef\xbb\xbf{\"a\":1}"}) {
    const std::string detail = detail_of(body_request(text));
    EXPECT_TRUE(detail.starts_with("JSON parse error - ")) << "'" << text << "': " << detail;
  }
}

TEST(ParseJsonObject, RefusesTrailingGarbage) {
  for (const char* text : {"{\"a\":1} x", "{\"a\":1}{\"b\":2}", "{\"a\":1}}", "{\"a\":1},", "{\"a\":1} 1"}) {
    const std::string detail = detail_of(body_request(text));
    EXPECT_TRUE(detail.starts_with("JSON parse error - ")) << "'" << text << "': " << detail;
  }
}

// A number too large for a double has no JSON form to write back, so it is refused rather than read as infinity.
TEST(ParseJsonObject, RefusesNumbersBeyondTheRangeOfADouble) {
  for (const char* text : {R"({"a":1e400})", R"({"a":-1e400})", R"({"a":[1,{"b":2e999}]})"}) {
    EXPECT_EQ(detail_of(body_request(text)), "JSON parse error - a number is out of range.") << text;
  }
  EXPECT_EQ(accepted(body_request(R"({"a":1e300})")).size(), 1u);
}

TEST(ParseJsonObject, RefusesInvalidUtf8) {
  for (const char* text : {"{\"a\":\"\xff\"}", "{\"\xc3\":1}", "{\"a\":\"\xed\xa0\x80\"}" /* a surrogate */,
                           "{\"a\":\"\xc0\xaf\"}" /* overlong */, "{\"a\":\"\xe2\x82\"}" /* truncated */}) {
    const std::string detail = detail_of(body_request(text));
    EXPECT_TRUE(detail.starts_with("JSON parse error - ")) << detail;
  }
}

TEST(ParseJsonObject, AcceptsValidMultibyteUtf8) {
  const json::object object = accepted(body_request("{\"name\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\x89\"}"));
  EXPECT_EQ(object.at("name"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\x89");
}

TEST(ParseJsonObject, RefusesADuplicateKeyAtTheTop) {
  EXPECT_EQ(detail_of(body_request(R"({"name":"a","url":"u","name":"b"})")),
            "JSON parse error - duplicate key \"name\".");
}

TEST(ParseJsonObject, RefusesADuplicateKeyAtAnyDepth) {
  EXPECT_EQ(detail_of(body_request(R"({"config":{"include_resource":true,"include_resource":false}})")),
            "JSON parse error - duplicate key \"include_resource\".");
  EXPECT_EQ(detail_of(body_request(R"({"a":[{"x":1},{"y":1,"y":2}]})")), "JSON parse error - duplicate key \"y\".");
  EXPECT_EQ(detail_of(body_request(R"({"a":{"b":{"c":{"d":1,"e":2,"d":3}}}})")),
            "JSON parse error - duplicate key \"d\".");
}

TEST(ParseJsonObject, ADuplicateSpelledWithEscapesIsStillADuplicate) {
  EXPECT_EQ(detail_of(body_request(R"({"name":"a","n\u0061me":"b"})")), "JSON parse error - duplicate key \"name\".");
}

TEST(ParseJsonObject, TheSameKeyInDifferentObjectsIsNotADuplicate) {
  EXPECT_EQ(accepted(body_request(R"({"a":{"a":1},"b":{"a":2},"c":[{"a":3},{"a":4}]})")).size(), 3u);
  // A key that closes an object and one that opens the next are not mixed up.
  EXPECT_EQ(accepted(body_request(R"({"x":{"k":1},"k":2})")).size(), 2u);
}

TEST(ParseJsonObject, AcceptsThirtyTwoLevelsOfNesting) {
  EXPECT_EQ(accepted(body_request(nested_arrays(32))).size(), 1u);
  EXPECT_EQ(accepted(body_request(nested_objects(32))).size(), 1u);
}

TEST(ParseJsonObject, RefusesDeeperNesting) {
  for (int depth : {33, 100, 10'000}) {
    const std::string arrays = detail_of(body_request(nested_arrays(depth)));
    EXPECT_TRUE(arrays.starts_with("JSON parse error - ")) << depth << ": " << arrays;
    const std::string objects = detail_of(body_request(nested_objects(depth)));
    EXPECT_TRUE(objects.starts_with("JSON parse error - ")) << depth << ": " << objects;
  }
}

TEST(ParseJsonObject, RefusesEveryNonObjectWithNonFieldErrors) {
  for (const char* text : {"[]", "[{\"a\":1}]", "\"text\"", "42", "-1.5", "true", "false", "null"}) {
    const HttpResponse response = refused(body_request(text));
    EXPECT_EQ(response.status, 400) << text;
    const json::value body = json::parse(response.body);
    ASSERT_TRUE(body.is_object()) << response.body;
    ASSERT_TRUE(body.as_object().contains("non_field_errors")) << text << ": " << response.body;
    const json::value& messages = body.at("non_field_errors");
    ASSERT_TRUE(messages.is_array() && messages.as_array().size() == 1u) << response.body;
    EXPECT_TRUE(
        std::string(messages.as_array()[0].as_string()).starts_with("Invalid data. Expected a dictionary, but got "))
        << response.body;
  }
}

}  // namespace
}  // namespace repute::api
