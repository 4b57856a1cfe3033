// List pages over HTTP: ?limit= and ?cursor= checked with field-keyed messages; opaque cursors that
// round-trip; next/previous URLs that keep the caller's filters.
#include "api/pagination.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <variant>

#include "core/base64.hpp"

namespace repute::api {
namespace {

namespace json = boost::json;
using store::Cursor;

HttpRequest request_with(std::vector<std::pair<std::string, std::string>> query) {
  HttpRequest request;
  request.method = "GET";
  request.path = "/v1/webhooks";
  request.host = "api.example.com";
  request.query = std::move(query);
  return request;
}

// The 400 body read_page_request answered with; fails the test when it accepted the request.
json::object refusal(const HttpRequest& request) {
  auto read = read_page_request(request);
  const auto* response = std::get_if<HttpResponse>(&read);
  EXPECT_NE(response, nullptr) << "the request was accepted";
  if (!response) return {};
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(response->content_type, "application/json");
  return json::parse(response->body).as_object();
}

store::PageRequest accepted(const HttpRequest& request) {
  auto read = read_page_request(request);
  const auto* page = std::get_if<store::PageRequest>(&read);
  EXPECT_NE(page, nullptr) << "refused: " << std::get<HttpResponse>(read).body;
  return page ? *page : store::PageRequest{};
}

TEST(Cursor, RoundTripsBothDirectionsAndAnyPosition) {
  for (const auto direction : {Cursor::Direction::kAfter, Cursor::Direction::kBefore}) {
    for (const std::int64_t position : {std::int64_t{0}, std::int64_t{1}, std::int64_t{42}, std::int64_t{1} << 40,
                                        std::numeric_limits<std::int64_t>::max()}) {
      const std::string text = encode_cursor(Cursor{direction, position});
      const auto decoded = decode_cursor(text);
      ASSERT_TRUE(decoded.has_value()) << text;
      EXPECT_EQ(decoded->direction, direction) << text;
      EXPECT_EQ(decoded->position, position) << text;
    }
  }
}

TEST(Cursor, IsSafeInAQueryStringWithoutEscaping) {
  for (const std::int64_t position : {std::int64_t{0}, std::int64_t{62}, std::int64_t{63}, std::int64_t{1} << 62}) {
    for (const auto direction : {Cursor::Direction::kAfter, Cursor::Direction::kBefore}) {
      const std::string text = encode_cursor(Cursor{direction, position});
      EXPECT_FALSE(text.empty());
      EXPECT_EQ(text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                std::string::npos)
          << text;
    }
  }
}

TEST(Cursor, DifferentCursorsHaveDifferentText) {
  EXPECT_NE(encode_cursor({Cursor::Direction::kAfter, 5}), encode_cursor({Cursor::Direction::kBefore, 5}));
  EXPECT_NE(encode_cursor({Cursor::Direction::kAfter, 5}), encode_cursor({Cursor::Direction::kAfter, 6}));
}

TEST(Cursor, RefusesTextThisServerDidNotMake) {
  const std::string encoded_garbage[] = {
      "b:",                      // no position
      "a5",                      // no separator
      "c:5",                     // unknown direction
      "A:5",                     // directions are lowercase
      "a:-1",                    // negative
      "a:+5",                    // signed
      "a: 5",                    // space
      "a:5x",                    // trailing text
      "a:5:6",                   // two positions
      "a:0x10",                  // hex
      "a:99999999999999999999",  // beyond int64
      "",
  };
  for (const std::string& inner : encoded_garbage) {
    const std::string text = core::base64url_encode(inner);
    EXPECT_FALSE(decode_cursor(text).has_value()) << "'" << inner << "' as " << text;
  }
  for (const std::string text : {"", "!!!!", "not a cursor", "YTo1!", "%59%54%6f%31", "YTo1 ", "a:5", "+/+/"}) {
    EXPECT_FALSE(decode_cursor(text).has_value()) << "'" << text << "'";
  }
}

TEST(ReadPageRequest, DefaultsToTenWithoutACursor) {
  const auto page = accepted(request_with({}));
  EXPECT_EQ(page.limit, kDefaultPageSize);
  EXPECT_EQ(page.limit, 10);
  EXPECT_FALSE(page.cursor.has_value());
}

TEST(ReadPageRequest, AcceptsLimitsFromOneToTwoHundred) {
  for (const char* limit : {"1", "10", "199", "200"}) {
    EXPECT_EQ(accepted(request_with({{"limit", limit}})).limit, std::stoi(limit)) << limit;
  }
}

TEST(ReadPageRequest, ReadsTheCursor) {
  const auto page = accepted(request_with({{"cursor", encode_cursor({Cursor::Direction::kBefore, 77})}}));
  ASSERT_TRUE(page.cursor.has_value());
  EXPECT_EQ(page.cursor->direction, Cursor::Direction::kBefore);
  EXPECT_EQ(page.cursor->position, 77);
}

TEST(ReadPageRequest, RefusesLimitsBelowOne) {
  for (const char* limit : {"0", "-1", "-200"}) {
    EXPECT_EQ(refusal(request_with({{"limit", limit}})),
              (json::object{{"limit", json::array{"Ensure this value is greater than or equal to 1."}}}))
        << limit;
  }
}

TEST(ReadPageRequest, RefusesLimitsAboveTwoHundred) {
  for (const char* limit : {"201", "1000", "2147483648"}) {
    EXPECT_EQ(refusal(request_with({{"limit", limit}})),
              (json::object{{"limit", json::array{"Ensure this value is less than or equal to 200."}}}))
        << limit;
  }
}

TEST(ReadPageRequest, RefusesLimitsThatAreNotIntegers) {
  for (const char* limit : {"", "abc", "10abc", "1.5", " 5", "5 ", "+5", "1e2", "0x10", "ten"}) {
    EXPECT_EQ(refusal(request_with({{"limit", limit}})),
              (json::object{{"limit", json::array{"A valid integer is required."}}}))
        << "'" << limit << "'";
  }
}

TEST(ReadPageRequest, RefusesABadCursor) {
  EXPECT_EQ(refusal(request_with({{"cursor", "garbage"}})), (json::object{{"cursor", json::array{"Invalid cursor."}}}));
  EXPECT_EQ(refusal(request_with({{"cursor", ""}})), (json::object{{"cursor", json::array{"Invalid cursor."}}}));
}

TEST(ReadPageRequest, ReportsEveryBadParameterAtOnce) {
  EXPECT_EQ(refusal(request_with({{"limit", "0"}, {"cursor", "garbage"}})),
            (json::object{{"limit", json::array{"Ensure this value is greater than or equal to 1."}},
                          {"cursor", json::array{"Invalid cursor."}}}));
}

TEST(ReadPageRequest, UsesTheFirstValueOfARepeatedParameter) {
  EXPECT_EQ(accepted(request_with({{"limit", "3"}, {"limit", "500"}})).limit, 3);
}

// The cursor a page URL carries, decoded; also checks the rest of the URL.
std::optional<Cursor> cursor_in(const json::value& link, const std::string& expected_prefix, int expected_limit) {
  EXPECT_TRUE(link.is_string()) << link;
  if (!link.is_string()) return std::nullopt;
  const std::string text(link.as_string());
  EXPECT_TRUE(text.starts_with(expected_prefix)) << text;
  auto url = boost::urls::parse_absolute_uri(text);
  EXPECT_TRUE(url.has_value()) << text;
  if (!url) return std::nullopt;
  std::optional<Cursor> cursor;
  int limits = 0;
  int cursors = 0;
  for (const auto& param : url->params()) {
    if (param.key == "limit") {
      ++limits;
      EXPECT_EQ(param.value, std::to_string(expected_limit)) << text;
    } else if (param.key == "cursor") {
      ++cursors;
      cursor = decode_cursor(param.value);
    }
  }
  EXPECT_EQ(limits, 1) << text;
  EXPECT_EQ(cursors, 1) << text;
  return cursor;
}

TEST(PageBody, HasNullLinksWhenThereAreNoNeighbours) {
  const json::object body =
      page_body(request_with({}), store::PageRequest{}, std::nullopt, std::nullopt, json::array{1, 2});
  EXPECT_EQ(body, (json::object{{"next", nullptr}, {"previous", nullptr}, {"results", json::array{1, 2}}}));
}

TEST(PageBody, LinksCarryTheNeighbouringCursorsAndTheLimit) {
  const store::PageRequest asked{25, Cursor{Cursor::Direction::kAfter, 100}};
  const json::object body =
      page_body(request_with({{"limit", "25"}, {"cursor", encode_cursor(*asked.cursor)}}), asked,
                Cursor{Cursor::Direction::kAfter, 75}, Cursor{Cursor::Direction::kBefore, 99}, json::array{});
  ASSERT_TRUE(body.contains("next") && body.contains("previous") && body.contains("results"));
  const auto next = cursor_in(body.at("next"), "http://api.example.com/v1/webhooks?", 25);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->direction, Cursor::Direction::kAfter);
  EXPECT_EQ(next->position, 75);
  const auto previous = cursor_in(body.at("previous"), "http://api.example.com/v1/webhooks?", 25);
  ASSERT_TRUE(previous.has_value());
  EXPECT_EQ(previous->direction, Cursor::Direction::kBefore);
  EXPECT_EQ(previous->position, 99);
  EXPECT_EQ(body.at("results"), json::array{});
}

TEST(PageBody, LinksKeepTheCallersOtherParametersEscaped) {
  const json::object body = page_body(request_with({{"account", "a b&c=d"}, {"user", "u/1"}}), store::PageRequest{},
                                      Cursor{Cursor::Direction::kAfter, 3}, std::nullopt, json::array{});
  const std::string next(body.at("next").as_string());
  auto url = boost::urls::parse_absolute_uri(next);
  ASSERT_TRUE(url.has_value()) << next;
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& param : url->params()) params.emplace_back(param.key, param.value);
  ASSERT_EQ(params.size(), 4u) << next;
  EXPECT_EQ(params[0], (std::pair<std::string, std::string>{"account", "a b&c=d"})) << next;
  EXPECT_EQ(params[1], (std::pair<std::string, std::string>{"user", "u/1"})) << next;
  EXPECT_EQ(params[2], (std::pair<std::string, std::string>{"limit", "10"})) << next;
  EXPECT_EQ(params[3].first, "cursor");
  EXPECT_TRUE(body.at("previous").is_null());
}

TEST(PageBody, FallsBackToLocalhostWithoutAHostHeader) {
  HttpRequest request = request_with({});
  request.host.clear();
  const json::object body =
      page_body(request, store::PageRequest{}, Cursor{Cursor::Direction::kAfter, 3}, std::nullopt, json::array{});
  EXPECT_TRUE(std::string(body.at("next").as_string()).starts_with("http://localhost/v1/webhooks?")) << body.at("next");
}

}  // namespace
}  // namespace repute::api
