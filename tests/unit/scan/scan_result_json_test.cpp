// Reading a scan result (a push, or an http source's answer): numbers or decimal strings in range, stored as
// canonical strings; nulls mean unknown; achievements item by item; unknown fields refused; problems keyed by
// field so a push gets a 400 that names what to fix.
#include "scan/scan_result_json.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

namespace repute::scan {
namespace {

namespace json = boost::json;

// Reads text (a JSON object) and returns the result; errors receives the problems.
std::optional<core::ScanResult> read(std::string_view text, core::FieldErrors& errors) {
  return read_scan_result(json::parse(text).as_object(), errors);
}

// Reads text that must be accepted.
core::ScanResult accepted(std::string_view text) {
  core::FieldErrors errors;
  auto result = read(text, errors);
  EXPECT_TRUE(errors.empty()) << text;
  for (const auto& [field, messages] : errors) {
    for (const auto& message : messages) ADD_FAILURE() << field << ": " << message;
  }
  return result.value_or(core::ScanResult{});
}

// Reads text that must be refused and returns the problems.
core::FieldErrors refused(std::string_view text) {
  core::FieldErrors errors;
  auto result = read(text, errors);
  EXPECT_FALSE(result.has_value()) << text;
  EXPECT_FALSE(errors.empty()) << text;
  return errors;
}

TEST(ReadScanResult, TakesNumbersAndWritesCanonicalStrings) {
  const core::ScanResult result = accepted(R"({"rating": 4.5, "acceptance_rate": 0.93, "ontime_rate": 1})");
  EXPECT_EQ(result.rating, "4.5");
  EXPECT_EQ(result.acceptance_rate, "0.93");
  EXPECT_EQ(result.ontime_rate, "1");
}

TEST(ReadScanResult, TakesDecimalStringsAndCanonicalisesThem) {
  const core::ScanResult result = accepted(R"({"rating": "4.50", "acceptance_rate": "0.930", "ontime_rate": "1.0"})");
  EXPECT_EQ(result.rating, "4.5");
  EXPECT_EQ(result.acceptance_rate, "0.93");
  EXPECT_EQ(result.ontime_rate, "1");
}

TEST(ReadScanResult, NumberAndStringSpellingsOfOneValueAreTheSameResult) {
  EXPECT_EQ(accepted(R"({"rating": 4.8, "acceptance_rate": 0.9, "ontime_rate": 0})"),
            accepted(R"({"rating": "4.80", "acceptance_rate": "0.90", "ontime_rate": "0.0"})"));
}

TEST(ReadScanResult, TakesTheBoundsOfEachRange) {
  const core::ScanResult low = accepted(R"({"rating": 0, "acceptance_rate": 0, "ontime_rate": "0"})");
  EXPECT_EQ(low.rating, "0");
  EXPECT_EQ(low.acceptance_rate, "0");
  EXPECT_EQ(low.ontime_rate, "0");
  const core::ScanResult high = accepted(R"({"rating": 5, "acceptance_rate": "1", "ontime_rate": 1.0})");
  EXPECT_EQ(high.rating, "5");
  EXPECT_EQ(high.acceptance_rate, "1");
  EXPECT_EQ(high.ontime_rate, "1");
}

TEST(ReadScanResult, RatingAbove5IsARangeError) {
  EXPECT_EQ(refused(R"({"rating": 5.01})"), (core::FieldErrors{{"rating", {"Ensure this value is between 0 and 5."}}}));
  EXPECT_EQ(refused(R"({"rating": "6"})"), (core::FieldErrors{{"rating", {"Ensure this value is between 0 and 5."}}}));
}

TEST(ReadScanResult, RatesAbove1AreRangeErrors) {
  EXPECT_EQ(refused(R"({"acceptance_rate": 1.5, "ontime_rate": "1.01"})"),
            (core::FieldErrors{{"acceptance_rate", {"Ensure this value is between 0 and 1."}},
                               {"ontime_rate", {"Ensure this value is between 0 and 1."}}}));
}

// A negative number is a number: the client must hear that it is out of range, not that it is not a number.
TEST(ReadScanResult, NegativeNumbersAreRangeErrors) {
  EXPECT_EQ(refused(R"({"rating": -1})"), (core::FieldErrors{{"rating", {"Ensure this value is between 0 and 5."}}}));
  EXPECT_EQ(refused(R"({"ontime_rate": -0.5})"),
            (core::FieldErrors{{"ontime_rate", {"Ensure this value is between 0 and 1."}}}));
}

TEST(ReadScanResult, NonNumbersAreRefusedPerField) {
  for (const char* value : {"true", "[]", "{}", R"("abc")", R"("")", R"("4,5")", R"("1e0")", R"(" 4")"}) {
    SCOPED_TRACE(value);
    EXPECT_EQ(refused(std::string(R"({"rating": )") + value + "}"),
              (core::FieldErrors{{"rating", {"A valid number is required."}}}));
  }
}

TEST(ReadScanResult, NullOrAbsentMeansUnknown) {
  const core::ScanResult nulls =
      accepted(R"({"rating": null, "acceptance_rate": null, "ontime_rate": null, "achievements": null,
                   "metadata": null})");
  EXPECT_EQ(nulls.rating, std::nullopt);
  EXPECT_EQ(nulls.acceptance_rate, std::nullopt);
  EXPECT_EQ(nulls.ontime_rate, std::nullopt);
  EXPECT_TRUE(nulls.achievements.empty());
  EXPECT_EQ(nulls.metadata, "{}");
  EXPECT_EQ(accepted("{}"), nulls);
}

TEST(ReadScanResult, ReadsAchievementsWithEveryField) {
  const core::ScanResult result = accepted(R"({"achievements": [
      {"count": 12, "label": "Top Dasher", "badge_url": "https://x.example/b.png", "description": "Great", "points": 40},
      {"count": null, "label": null, "badge_url": null, "description": null, "points": null},
      {}]})");
  ASSERT_EQ(result.achievements.size(), 3u);
  EXPECT_EQ(result.achievements[0], (core::Achievement{12, "Top Dasher", "https://x.example/b.png", "Great", 40}));
  EXPECT_EQ(result.achievements[1], core::Achievement{});
  EXPECT_EQ(result.achievements[2], core::Achievement{});
}

TEST(ReadScanResult, AchievementsMustBeAList) {
  EXPECT_EQ(refused(R"({"achievements": {"count": 1}})"),
            (core::FieldErrors{{"achievements", {"Expected a list of items."}}}));
  EXPECT_EQ(refused(R"({"achievements": "badge"})"),
            (core::FieldErrors{{"achievements", {"Expected a list of items."}}}));
}

TEST(ReadScanResult, EachBadAchievementIsNamedByItsIndex) {
  const core::FieldErrors errors = refused(R"({"achievements": [
      {"count": 1}, 7, {"count": -1}, {"points": 1.5}, {"label": 3}, {"colour": "red"}, {"badge_url": []}]})");
  EXPECT_EQ(errors, (core::FieldErrors{{"achievements",
                                        {"Item 1: expected an object.", "Item 2: count must be a non-negative integer.",
                                         "Item 3: points must be a non-negative integer.",
                                         "Item 4: label must be a string of at most 2048 characters.",
                                         "Item 5: unknown key \"colour\".",
                                         "Item 6: badge_url must be a string of at most 2048 characters."}}}));
}

TEST(ReadScanResult, AchievementTextIsLimitedTo2048Characters) {
  const std::string fits = std::string(2048, 'a');
  EXPECT_EQ(accepted(R"({"achievements": [{"description": ")" + fits + R"("}]})").achievements.at(0).description, fits);
  EXPECT_EQ(
      refused(R"({"achievements": [{"description": ")" + fits + R"(a"}]})"),
      (core::FieldErrors{{"achievements", {"Item 0: description must be a string of at most 2048 characters."}}}));
}

TEST(ReadScanResult, AtMost200Achievements) {
  json::array items;
  for (int i = 0; i < 200; ++i) items.push_back(json::object{{"count", i}});
  EXPECT_EQ(accepted(json::serialize(json::object{{"achievements", items}})).achievements.size(), 200u);
  items.push_back(json::object{{"count", 200}});
  EXPECT_EQ(refused(json::serialize(json::object{{"achievements", items}})),
            (core::FieldErrors{{"achievements", {"Ensure this list has no more than 200 items."}}}));
}

TEST(ReadScanResult, CountsBeyondInt64AreRefused) {
  EXPECT_EQ(refused(R"({"achievements": [{"count": 18446744073709551615}]})"),
            (core::FieldErrors{{"achievements", {"Item 0: count must be a non-negative integer."}}}));
  EXPECT_EQ(accepted(R"({"achievements": [{"count": 9223372036854775807}]})").achievements.at(0).count, INT64_MAX);
}

TEST(ReadScanResult, UnknownFieldsAreRefusedByName) {
  EXPECT_EQ(refused(R"({"rating": 4, "stars": 5, "Rating": 4})"),
            (core::FieldErrors{{"Rating", {"Unknown field."}}, {"stars", {"Unknown field."}}}));
}

TEST(ReadScanResult, MetadataMustBeAnObjectAndIsKeptAsJson) {
  const core::ScanResult result = accepted(R"({"metadata": {"city": "Lyon", "trips": 1200, "tags": ["a", "b"]}})");
  EXPECT_EQ(json::parse(result.metadata), json::parse(R"({"city": "Lyon", "trips": 1200, "tags": ["a", "b"]})"));
  for (const char* value : {"[]", R"("x")", "1", "true"}) {
    EXPECT_EQ(refused(std::string(R"({"metadata": )") + value + "}"),
              (core::FieldErrors{{"metadata", {"Expected a dictionary of items."}}}))
        << value;
  }
}

// The same object with its keys in another order is the same information: a source whose serializer does not
// fix key order must not make every rescan a reputations.updated.
TEST(ReadScanResult, MetadataKeyOrderDoesNotChangeTheResult) {
  EXPECT_EQ(accepted(R"({"metadata": {"a": 1, "b": {"x": 1, "y": 2}}})"),
            accepted(R"({"metadata": {"b": {"y": 2, "x": 1}, "a": 1}})"));
}

TEST(ReadScanResult, MetadataWhitespaceDoesNotChangeTheResult) {
  EXPECT_EQ(accepted(R"({"metadata": {"a": 1}})"), accepted("{\"metadata\" : { \"a\" :\n 1 } }"));
}

TEST(ReadScanResult, EveryProblemIsReportedAtOnce) {
  const core::FieldErrors errors =
      refused(R"({"rating": 9, "acceptance_rate": "x", "achievements": [1], "metadata": [], "extra": 1})");
  EXPECT_EQ(errors.size(), 5u);
  for (const char* field : {"rating", "acceptance_rate", "achievements", "metadata", "extra"}) {
    EXPECT_TRUE(errors.contains(field)) << field;
  }
}

TEST(ParseScanResult, ReadsJsonText) {
  core::FieldErrors errors;
  const auto result = parse_scan_result(R"({"rating": "4.90", "achievements": []})", errors);
  ASSERT_TRUE(result);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(result->rating, "4.9");
}

TEST(ParseScanResult, TextThatIsNotJsonIsOneDetail) {
  for (const char* text : {"", "{", "<html>oops</html>", R"({"rating": 4,})", "{'rating': 4}"}) {
    core::FieldErrors errors;
    EXPECT_FALSE(parse_scan_result(text, errors)) << text;
    ASSERT_EQ(errors.size(), 1u) << text;
    ASSERT_TRUE(errors.contains("detail")) << text;
    EXPECT_EQ(errors["detail"].size(), 1u);
    EXPECT_TRUE(errors["detail"][0].starts_with("the answer is not valid JSON")) << errors["detail"][0];
  }
}

TEST(ParseScanResult, JsonThatIsNotAnObjectIsOneDetail) {
  for (const char* text : {"[]", "4.5", R"("rating")", "null"}) {
    core::FieldErrors errors;
    EXPECT_FALSE(parse_scan_result(text, errors)) << text;
    EXPECT_EQ(errors, (core::FieldErrors{{"detail", {"the answer is not a JSON object"}}})) << text;
  }
}

TEST(ParseScanResult, DuplicateKeysAreRefused) {
  core::FieldErrors errors;
  EXPECT_FALSE(parse_scan_result(R"({"rating": 4, "rating": 5})", errors));
  ASSERT_TRUE(errors.contains("detail"));
  EXPECT_NE(errors["detail"].at(0).find("duplicate key \"rating\""), std::string::npos) << errors["detail"].at(0);
}

}  // namespace
}  // namespace repute::scan
